package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"unicode/utf8"

	"github.com/insieme/insieme/internal/insieme"
)

const maxRoomName = 200

// dispatch serves one client message. Messages of a connection are served one at a time, in
// order, so a client's actions and their acks keep their order.
func (c *client) dispatch(data []byte) {
	var m inMsg
	if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
		c.enqueue(errorFrame(errMalformed, peekRef(data), ""))
		return
	}
	m.Ref = validRef(m.Ref)
	switch m.Type {
	case "auth":
		c.auth(m)
	case "subscribe":
		c.subscribe(m)
	case "unsubscribe":
		c.leave(m.Room)
		c.enqueue(mustEncode(refMsg{Type: "unsubscribed", Room: m.Room, Ref: m.Ref}))
	case "ping":
		c.enqueue(mustEncode(refMsg{Type: "pong", Ref: m.Ref}))
	default:
		c.action(m, data)
	}
}

// peekRef returns the ref of a message that may not be valid otherwise, so that even a refusal
// answers the right request.
func peekRef(data []byte) json.RawMessage {
	var m struct {
		Ref json.RawMessage `json:"ref"`
	}
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	return validRef(m.Ref)
}

// validRef keeps an echoed ref valid UTF-8, as a text frame must be: encoding/json accepts
// invalid bytes inside strings (the only place they can be in valid JSON) and a RawMessage
// keeps them, so each becomes U+FFFD, as decoding the string would make it.
func validRef(ref json.RawMessage) json.RawMessage {
	if utf8.Valid(ref) {
		return ref
	}
	out := make(json.RawMessage, 0, len(ref)+8)
	for len(ref) > 0 {
		r, n := utf8.DecodeRune(ref)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, ref[:n]...)
		}
		ref = ref[n:]
	}
	return out
}

func (c *client) auth(m inMsg) {
	if m.Token == "" {
		c.fail(errNoToken, m.Ref, "")
		return
	}
	ctx, cancel := c.actionCtx()
	defer cancel()
	p, err := c.h.hooks.Authenticate(ctx, m.Token)
	if err == nil && p == nil {
		err = errUnauth
	}
	if err != nil {
		c.fail(err, m.Ref, "")
		return
	}
	// Rooms joined so far stay joined; switching to another person would keep the first
	// one's private rooms, so it is refused.
	old := c.principal()
	if old != nil && old.ID != p.ID {
		c.fail(errOtherAuth, m.Ref, "")
		return
	}
	c.h.setPrincipal(c, old, p)
	c.enqueue(mustEncode(authedMsg{Type: "authed", Principal: p, Ref: m.Ref}))
}

// subscribe joins a room: register first (live events are buffered), then read the position,
// then answer with the missed events or a snapshot read after the position, then release the
// buffered events that follow the position.
func (c *client) subscribe(m inMsg) {
	name := m.Room
	if name == "" || len(name) > maxRoomName {
		c.fail(errBadRoom, m.Ref, "")
		return
	}
	ctx, cancel := c.actionCtx()
	defer cancel()
	p := c.principal()
	if err := c.h.hooks.Authorize(ctx, p, name); err != nil {
		c.fail(err, m.Ref, name)
		return
	}
	c.leave(name) // subscribing again answers afresh
	if len(c.rooms) >= c.h.opts.MaxRooms {
		c.fail(errTooManyRoom, m.Ref, name)
		return
	}
	r, err := c.h.acquire(ctx, name)
	if err != nil {
		c.h.log.Warn("realtime: broker subscribe", "room", name, "err", err)
		c.fail(errUnavailable, m.Ref, name)
		return
	}
	s := &sub{c: c, room: r, p: p}
	sh := c.h.shardFor(name)
	sh.mu.Lock()
	r.subs[c] = s
	sh.mu.Unlock()
	c.rooms[name] = s

	var since Position
	if m.Since != nil {
		since = *m.Since
	}
	events, pos, ok, err := c.h.broker.History(ctx, name, since)
	if err != nil {
		c.leave(name)
		c.h.log.Warn("realtime: broker history", "room", name, "err", err)
		c.fail(errUnavailable, m.Ref, name)
		return
	}
	recovered := ok && since.Epoch != ""
	answer := subscribedMsg{Type: "subscribed", Room: name, Epoch: pos.Epoch, Seq: pos.Seq, Ref: m.Ref, Recovered: recovered}
	if !recovered {
		events = nil
		snap, err := c.h.hooks.Snapshot(ctx, p, name)
		if err != nil {
			c.leave(name)
			c.fail(err, m.Ref, name)
			return
		}
		if len(snap) == 0 {
			snap = json.RawMessage("null")
		}
		answer.Snapshot = snap
	}
	c.activate(s, mustEncode(answer), pos, since, events)
}

// activate queues the subscribe answer and the recovered events, then the buffered live
// events after the position, and makes the sub live.
func (c *client) activate(s *sub, answer []byte, pos, since Position, events []Event) {
	sh := c.h.shardFor(s.room.name)
	sh.mu.Lock()
	if s.gone {
		sh.mu.Unlock()
		return
	}
	c.enqueue(answer)
	s.activated = true
	s.setEpoch(pos.Epoch)
	s.last = pos.Seq
	if events != nil {
		s.last = since.Seq
		for _, ev := range events {
			if ev.Epoch == pos.Epoch && ev.Seq == s.last+1 {
				c.enqueue(eventFrame(ev))
				s.last = ev.Seq
			}
		}
		if s.last != pos.Seq {
			c.h.log.Error("realtime: broker history does not reach its position", "room", s.room.name, "last", s.last, "seq", pos.Seq)
			s.last = pos.Seq
		}
	}
	resync := !c.h.flush(s) || s.again
	s.again = false
	sh.mu.Unlock()
	if c.h.presence != nil {
		s.joined = true
		c.h.tellPresence(true, s.room.name, s.p, c.id)
	}
	if resync {
		go c.h.resync(s.room, []*sub{s})
	}
}

// leave removes the client from a room, if it is in it.
func (c *client) leave(name string) {
	s := c.rooms[name]
	if s == nil {
		return
	}
	delete(c.rooms, name)
	sh := c.h.shardFor(name)
	sh.mu.Lock()
	s.gone = true
	if s.room.subs[c] == s {
		delete(s.room.subs, c)
	}
	sh.mu.Unlock()
	if s.joined {
		s.joined = false
		c.h.tellPresence(false, name, s.p, c.id)
	}
	c.h.release(s.room)
}

// tellPresence calls PresenceHooks.Joined or Left; a panic there is logged, not fatal.
func (h *Hub) tellPresence(joined bool, room string, p *insieme.Principal, conn string) {
	defer func() {
		if v := recover(); v != nil {
			h.log.Error("realtime: presence hook panic", "room", room, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	if joined {
		h.presence.Joined(room, p, conn)
	} else {
		h.presence.Left(room, p, conn)
	}
}

// action serves a domain message with its registered handler: ack with the result, or error.
func (c *client) action(m inMsg, data []byte) {
	hd := c.h.handler(m.Type)
	if hd == nil {
		c.fail(errUnknownType, m.Ref, "")
		return
	}
	ctx, cancel := c.actionCtx()
	defer cancel()
	res, err := callHandler(hd, ctx, c.principal(), data)
	if err != nil {
		c.fail(err, m.Ref, "")
		return
	}
	f, err := encode(ackMsg{Type: "ack", Ref: m.Ref, Data: res})
	if err != nil {
		c.fail(fmt.Errorf("realtime: encoding the ack of %s: %w", m.Type, err), m.Ref, "")
		return
	}
	c.enqueue(f)
}

// callHandler turns a handler's panic into an internal error: one bad message must not take
// down the node.
func callHandler(hd Handler, ctx context.Context, p *insieme.Principal, data []byte) (res any, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("realtime: handler panic: %v\n%s", v, debug.Stack())
		}
	}()
	return hd(ctx, p, json.RawMessage(data))
}
