package realtime

import (
	"context"
	"encoding/json"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// shard holds part of the node's rooms. Its mutex guards the rooms map and every room's refs
// and subs, and every sub's fields. Nothing that blocks runs under it: sends only enqueue.
type shard struct {
	mu    sync.Mutex
	rooms map[string]*room
}

// room is a room with local clients. The node holds one broker subscription per room while
// refs > 0, whatever the number of clients.
type room struct {
	name string
	refs int // clients in the room or joining it
	subs map[*client]*sub

	brokerMu sync.Mutex // serialises broker Subscribe/Unsubscribe of this room
	brokerOn bool       // guarded by brokerMu
}

// sub is one client's membership of one room. A sub is live when events go straight to the
// client's queue; otherwise (joining, resynchronising) they wait in pending.
type sub struct {
	c    *client
	room *room
	p    *insieme.Principal // who subscribed, as told to PresenceHooks

	joined bool // PresenceHooks.Joined was called; the reader's own, like client.rooms

	live      bool
	activated bool // the "subscribed" answer was queued
	gone      bool // left the room
	resyncing bool
	again     bool // a reset came while answering: answer again

	epoch   string
	old     []string // recent earlier epochs: late events of these are stale, not news
	last    uint64   // seq of the last event queued
	pending []pendingEvent
}

type pendingEvent struct {
	epoch string
	seq   uint64
	frame []byte
}

func (h *Hub) shardFor(name string) *shard {
	return &h.shards[maphash.String(h.seed, name)%shardCount]
}

// acquire joins the node to a room, subscribing the broker when it is the room's first client.
func (h *Hub) acquire(ctx context.Context, name string) (*room, error) {
	sh := h.shardFor(name)
	sh.mu.Lock()
	r := sh.rooms[name]
	if r == nil {
		r = &room{name: name, subs: map[*client]*sub{}}
		sh.rooms[name] = r
	}
	r.refs++
	sh.mu.Unlock()

	r.brokerMu.Lock()
	var err error
	if !r.brokerOn {
		if err = h.broker.Subscribe(ctx, name); err == nil {
			r.brokerOn = true
		}
	}
	r.brokerMu.Unlock()
	if err != nil {
		h.release(r)
		return nil, err
	}
	return r, nil
}

// release undoes acquire; the last client out unsubscribes the broker and removes the room.
// The room stays in the map until its broker subscription is gone, so a client joining in the
// meantime reuses it and its Subscribe is ordered after the Unsubscribe.
func (h *Hub) release(r *room) {
	sh := h.shardFor(r.name)
	sh.mu.Lock()
	r.refs--
	sh.mu.Unlock()

	r.brokerMu.Lock()
	defer r.brokerMu.Unlock()
	sh.mu.Lock()
	empty := r.refs == 0
	sh.mu.Unlock()
	if !empty {
		return
	}
	if r.brokerOn {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(h.ctx), h.opts.ActionTimeout)
		if err := h.broker.Unsubscribe(ctx, r.name); err != nil {
			h.log.Warn("realtime: broker unsubscribe", "room", r.name, "err", err)
		}
		cancel()
		r.brokerOn = false
	}
	sh.mu.Lock()
	if r.refs == 0 && sh.rooms[r.name] == r {
		delete(sh.rooms, r.name)
	}
	sh.mu.Unlock()
}

// deliver is the broker's delivery function: it encodes the event once and queues the same
// frame for every live local client of the room.
func (h *Hub) deliver(ev Event) {
	h.tellListeners(ev)
	frame := eventFrame(ev)
	pe := pendingEvent{epoch: ev.Epoch, seq: ev.Seq, frame: frame}
	sh := h.shardFor(ev.Room)
	sh.mu.Lock()
	r := sh.rooms[ev.Room]
	if r == nil {
		sh.mu.Unlock()
		return
	}
	var stale []*sub
	for _, s := range r.subs {
		switch {
		case !s.live:
			h.buffer(s, pe)
		case ev.Epoch != s.epoch:
			if slices.Contains(s.old, ev.Epoch) {
				continue // a late event of an epoch this client already left
			}
			// A new epoch without a reset (e.g. another node restarted the room): resync.
			s.live = false
			stale = append(stale, s)
		case ev.Seq <= s.last:
			// already sent (recovered from history or flushed from pending)
		case ev.Seq != s.last+1:
			// a gap: events were lost on the way (e.g. a dropped broker connection)
			s.live = false
			stale = append(stale, s)
		default:
			s.last = ev.Seq
			s.c.enqueue(frame)
		}
	}
	sh.mu.Unlock()
	if len(stale) > 0 {
		go h.resync(r, stale)
	}
}

// buffer keeps an event for a client that is being answered; one that piles up more than a
// queue's worth meanwhile is dropped like a slow consumer. Called with the shard locked.
func (h *Hub) buffer(s *sub, pe pendingEvent) {
	if len(s.pending) >= h.opts.QueueSize {
		s.c.drop(CloseSlowConsumer)
		return
	}
	s.pending = append(s.pending, pe)
}

// reset is the broker's reset function: every local client of the room gets a resync.
func (h *Hub) reset(name string) {
	// Every listener first, whichever room the broker names first: a room's snapshot reads
	// state the listeners keep (the read model, live sessions' copies), which must be read
	// again from the store before any client takes a snapshot.
	h.resetAllListeners()
	sh := h.shardFor(name)
	sh.mu.Lock()
	r := sh.rooms[name]
	var subs []*sub
	if r != nil {
		for _, s := range r.subs {
			subs = append(subs, s)
		}
	}
	sh.mu.Unlock()
	if len(subs) > 0 {
		go h.resync(r, subs)
	}
}

// setEpoch moves a sub to epoch, remembering the previous one.
func (s *sub) setEpoch(epoch string) {
	if s.epoch != "" && s.epoch != epoch {
		s.old = append(s.old, s.epoch)
		if len(s.old) > 4 {
			s.old = s.old[1:]
		}
	}
	s.epoch = epoch
}

// flush queues the pending events that follow the sub's position and makes it live. It
// returns false, leaving the sub not live, when they do not follow on (a new epoch or a gap):
// the sub needs a resync. Called with the shard locked.
func (h *Hub) flush(s *sub) bool {
	for _, pe := range s.pending {
		switch {
		case pe.epoch != s.epoch:
			if slices.Contains(s.old, pe.epoch) {
				continue
			}
			return false
		case pe.seq <= s.last:
			continue
		case pe.seq != s.last+1:
			return false
		}
		s.last = pe.seq
		s.c.enqueue(pe.frame)
	}
	s.pending = nil
	s.live = true
	return true
}

// resync sends each sub a fresh snapshot and the room's current position ("resync"), then
// lets events flow again. Events arriving meanwhile are buffered; a reset arriving meanwhile
// makes the sub go round again. A snapshot is read once per principal.
func (h *Hub) resync(r *room, subs []*sub) {
	sh := h.shardFor(r.name)
	sh.mu.Lock()
	var targets []*sub
	for _, s := range subs {
		switch {
		case s.gone:
		case s.resyncing || !s.activated:
			s.again = true // its ongoing subscribe or resync answers again
		default:
			s.resyncing, s.live, s.pending = true, false, nil
			targets = append(targets, s)
		}
	}
	sh.mu.Unlock()

	for round, failures := 0, 0; len(targets) > 0; round++ {
		if round > 20 {
			h.log.Error("realtime: room keeps changing epochs; closing its clients", "room", r.name)
			h.abandon(sh, targets)
			return
		}
		pos, frames, err := h.resyncFrames(r.name, targets)
		if err != nil {
			failures++
			h.log.Warn("realtime: resync failed", "room", r.name, "attempt", failures, "err", err)
			if failures >= 3 || !sleepCtx(h.ctx, time.Duration(failures)*200*time.Millisecond) {
				h.abandon(sh, targets)
				return
			}
			sh.mu.Lock()
			for _, t := range targets {
				t.pending, t.again = nil, false
			}
			sh.mu.Unlock()
			continue
		}
		sh.mu.Lock()
		var next []*sub
		for _, t := range targets {
			if t.gone {
				continue
			}
			if t.again {
				t.again, t.pending = false, nil
				next = append(next, t)
				continue
			}
			t.c.enqueue(frames[principalKey(t.c)])
			t.setEpoch(pos.Epoch)
			t.last = pos.Seq
			if !h.flush(t) {
				t.pending = nil
				next = append(next, t)
				continue
			}
			t.resyncing = false
		}
		sh.mu.Unlock()
		targets = next
	}
}

// resyncFrames reads the room's position, then (after it, so no event falls between) one
// snapshot per principal, and encodes one resync frame per principal.
func (h *Hub) resyncFrames(room string, targets []*sub) (Position, map[string][]byte, error) {
	ctx, cancel := context.WithTimeout(h.ctx, h.opts.ActionTimeout)
	defer cancel()
	_, pos, _, err := h.broker.History(ctx, room, Position{})
	if err != nil {
		return pos, nil, err
	}
	frames := map[string][]byte{}
	for _, t := range targets {
		key := principalKey(t.c)
		if _, done := frames[key]; done {
			continue
		}
		snap, err := h.hooks.Snapshot(ctx, t.c.principal(), room)
		if err != nil {
			return pos, nil, err
		}
		if len(snap) == 0 {
			snap = json.RawMessage("null")
		}
		frames[key] = mustEncode(resyncMsg{Type: "resync", Room: room, Epoch: pos.Epoch, Seq: pos.Seq, Snapshot: snap})
	}
	return pos, frames, nil
}

// abandon closes the connections whose room could not be resynchronised: they reconnect and
// subscribe afresh, which is better than showing stale state forever.
func (h *Hub) abandon(sh *shard, targets []*sub) {
	sh.mu.Lock()
	for _, t := range targets {
		t.resyncing = false
	}
	sh.mu.Unlock()
	for _, t := range targets {
		t.c.drop(CloseInternal)
	}
}

func principalKey(c *client) string {
	if p := c.principal(); p != nil {
		return "p:" + p.ID
	}
	return "anonymous"
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
