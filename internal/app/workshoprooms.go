package app

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// WorkshopRoom carries every node's writes on workshops to the other nodes (see
// ApplyWorkshopEvent); clients never join it.
const WorkshopRoom = "system:workshops"

// Each node keeps the workshops it serves in memory: the facilitators' document and the whole
// board, read once from the store (a scan by workshop), then kept current by every node's
// writes, which travel in WorkshopRoom. Applying an event twice changes nothing (inserts are
// keyed; a field keeps its greatest edit), so a node applies its own events again harmlessly.

const (
	maxWorkshopRooms    = 200
	workshopLoadTimeout = 30 * time.Second
)

// workshopEvent is one node's write on a workshop.
type workshopEvent struct {
	Workshop string                    `json:"workshop"`
	Kind     string                    `json:"kind"` // workshop, board, group, dot, action, reload
	Node     string                    `json:"node"`
	Version  int64                     `json:"version,omitempty"`
	Cards    []*insieme.Card           `json:"cards,omitempty"`
	Clusters []*insieme.Cluster        `json:"clusters,omitempty"`
	Edits    []*insieme.BoardEdit      `json:"edits,omitempty"`
	Group    *insieme.GroupChoice      `json:"group,omitempty"`
	Dot      *insieme.Dot              `json:"dot,omitempty"`
	Removed  bool                      `json:"removed,omitempty"` // the dot was taken off
	Action   *insieme.WorkshopAction   `json:"action,omitempty"`
	Actions  []*insieme.WorkshopAction `json:"actions,omitempty"`
}

// workshopRooms is this node's copy of the workshops it serves.
type workshopRooms struct {
	mu      sync.Mutex
	rooms   map[string]*workshopRoom
	tick    uint64
	batch   boardBatch
	micros  int64  // the last edit version this node drew (microseconds)
	counter uint64 // tells this node's edits apart within one microsecond
}

// workshopRoom is one workshop on this node; its fields are guarded by workshopRooms.mu.
type workshopRoom struct {
	id      string
	ready   chan struct{}
	err     error
	loading bool
	early   []workshopEvent
	used    uint64

	w        *insieme.Workshop // never modified: replaced by a newer version
	cards    map[string]*insieme.Card
	clusters map[string]*insieme.Cluster
	fields   map[string]map[string]*insieme.BoardEdit // item → field → the winning edit
	groups   map[string]*insieme.GroupChoice          // participant → their latest choice
	dots     map[string]*insieme.Dot                  // by key
	actions  map[string]*insieme.WorkshopAction

	countsPending, progressPending bool
	countsAt, progressAt           time.Time // when this node last published them

	changedItems   map[string]bool // cards (false) and clusters (true) for the next board.changes
	changesPending bool
}

// workshopRoom returns this node's copy of a workshop, reading it the first time; callers
// read its fields under a.workshops.mu.
func (a *App) workshopRoom(ctx context.Context, id string) (*workshopRoom, error) {
	ws := &a.workshops
	ws.mu.Lock()
	r := ws.rooms[id]
	ws.tick++
	if r != nil {
		r.used = ws.tick
		ws.mu.Unlock()
	} else {
		r = &workshopRoom{id: id, ready: make(chan struct{}), loading: true, used: ws.tick}
		ws.keep(r)
		ws.mu.Unlock()
		a.loadWorkshopRoom(ctx, r)
	}
	select {
	case <-r.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	return r, nil
}

// keep adds a room, forgetting the least recently used one past the bound.
func (ws *workshopRooms) keep(r *workshopRoom) {
	if ws.rooms == nil {
		ws.rooms = map[string]*workshopRoom{}
	}
	for len(ws.rooms) >= maxWorkshopRooms {
		var oldest *workshopRoom
		for _, o := range ws.rooms {
			if !o.loading && (oldest == nil || o.used < oldest.used) {
				oldest = o
			}
		}
		if oldest == nil {
			break
		}
		delete(ws.rooms, oldest.id)
	}
	ws.rooms[r.id] = r
}

// loadWorkshopRoom reads a workshop and its board, then applies the events that arrived
// meanwhile.
func (a *App) loadWorkshopRoom(ctx context.Context, r *workshopRoom) {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), workshopLoadTimeout)
	defer cancel()
	w, err := a.store.Workshop(lctx, r.id)
	var b *insieme.Board
	if err == nil {
		b, err = a.store.Board(lctx, r.id)
	}
	ws := &a.workshops
	ws.mu.Lock()
	defer ws.mu.Unlock()
	defer close(r.ready)
	r.loading = false
	if err != nil {
		r.err = err
		if ws.rooms[r.id] == r {
			delete(ws.rooms, r.id)
		}
		return
	}
	r.w = w
	r.cards, r.clusters = map[string]*insieme.Card{}, map[string]*insieme.Cluster{}
	r.fields, r.groups = map[string]map[string]*insieme.BoardEdit{}, map[string]*insieme.GroupChoice{}
	r.dots, r.actions = map[string]*insieme.Dot{}, map[string]*insieme.WorkshopAction{}
	r.applyBoard(b.Cards, b.Clusters, b.Edits)
	for _, g := range b.Groups {
		r.applyGroup(g)
	}
	for _, d := range b.Dots {
		r.dots[d.ID()] = d
	}
	for _, act := range b.Actions {
		r.applyAction(act)
	}
	early := r.early
	r.early = nil
	for _, ev := range early {
		a.applyWorkshopEventLocked(r, ev)
	}
}

// applyBoard keeps new cards and clusters and each field's greatest edit.
func (r *workshopRoom) applyBoard(cards []*insieme.Card, clusters []*insieme.Cluster, edits []*insieme.BoardEdit) {
	for _, c := range cards {
		if _, ok := r.cards[c.ID]; !ok {
			r.cards[c.ID] = c
		}
	}
	for _, c := range clusters {
		if _, ok := r.clusters[c.ID]; !ok {
			r.clusters[c.ID] = c
		}
	}
	for _, e := range edits {
		f := r.fields[e.Item]
		if f == nil {
			f = map[string]*insieme.BoardEdit{}
			r.fields[e.Item] = f
		}
		if old := f[e.Field]; old == nil || old.ID < e.ID {
			f[e.Field] = e
		}
	}
}

func (r *workshopRoom) applyGroup(g *insieme.GroupChoice) {
	if old := r.groups[g.ParticipantID]; old == nil || old.N < g.N {
		r.groups[g.ParticipantID] = g
	}
}

func (r *workshopRoom) applyAction(act *insieme.WorkshopAction) {
	if old := r.actions[act.ID]; old == nil || old.Version < act.Version {
		r.actions[act.ID] = act
	}
}

// putWorkshop keeps a newer version of the facilitators' document.
func (r *workshopRoom) putWorkshop(w *insieme.Workshop) {
	if r.w == nil || r.w.Version < w.Version {
		r.w = w
	}
}

// ApplyWorkshopEvent applies any node's write on a workshop (its own included).
func (a *App) ApplyWorkshopEvent(ctx context.Context, data []byte) {
	var ev workshopEvent
	if err := json.Unmarshal(data, &ev); err != nil || ev.Workshop == "" {
		a.log.Warn("workshop event not understood", "err", err)
		return
	}
	ws := &a.workshops
	ws.mu.Lock()
	r := ws.rooms[ev.Workshop]
	if ev.Kind == "reload" { // an erasure changed stored documents: read them again when needed
		if r != nil && !r.loading {
			delete(ws.rooms, ev.Workshop)
		}
		ws.mu.Unlock()
		return
	}
	switch {
	case r == nil:
		ws.mu.Unlock()
		return // not kept here: read from the store when needed, this write included
	case r.loading:
		r.early = append(r.early, ev)
		ws.mu.Unlock()
		return
	case r.err != nil:
		ws.mu.Unlock()
		return
	}
	stale := ev.Kind == "workshop" && (r.w == nil || r.w.Version < ev.Version)
	a.applyWorkshopEventLocked(r, ev)
	ws.mu.Unlock()
	if stale {
		if w, err := a.store.Workshop(ctx, ev.Workshop); err == nil {
			ws.mu.Lock()
			r.putWorkshop(w)
			ws.mu.Unlock()
		} else {
			a.log.Warn("reading a changed workshop", "workshop", ev.Workshop, "err", err)
		}
	}
}

// applyWorkshopEventLocked applies an event to a loaded room (under a.workshops.mu); another
// node's card or dot makes this node publish counts again if it published them lately.
func (a *App) applyWorkshopEventLocked(r *workshopRoom, ev workshopEvent) {
	remote := ev.Node != a.node
	switch ev.Kind {
	case "workshop":
		// The document is read again by ApplyWorkshopEvent (or was, by the loader).
	case "board":
		r.applyBoard(ev.Cards, ev.Clusters, ev.Edits)
		if remote && len(ev.Cards) > 0 && time.Since(r.countsAt) < partsRecentFlush {
			a.scheduleCounts(r)
		}
	case "group":
		if ev.Group != nil {
			r.applyGroup(ev.Group)
		}
	case "dot":
		if ev.Dot == nil {
			return
		}
		id := ev.Dot.ID()
		if ev.Removed {
			if d := r.dots[id]; d != nil && d.Target == ev.Dot.Target && d.K == ev.Dot.K && d.At.Truncate(time.Millisecond).Equal(ev.Dot.At.Truncate(time.Millisecond)) {
				delete(r.dots, id)
			}
		} else {
			r.dots[id] = ev.Dot
		}
		if remote && time.Since(r.progressAt) < partsRecentFlush {
			a.scheduleProgress(r)
		}
	case "action":
		if ev.Action != nil {
			r.applyAction(ev.Action)
		}
		for _, act := range ev.Actions {
			r.applyAction(act)
		}
	default:
		a.log.Warn("workshop event of an unknown kind", "kind", ev.Kind)
	}
}

// workshopWritten tells every node (this one too, at once) about a write.
func (a *App) workshopWritten(ctx context.Context, r *workshopRoom, ev workshopEvent) {
	ev.Workshop, ev.Node = r.id, a.node
	a.workshops.mu.Lock()
	if !r.loading && r.err == nil {
		a.applyWorkshopEventLocked(r, ev)
	}
	a.workshops.mu.Unlock()
	a.publish(ctx, WorkshopRoom, ev)
}

// ResetWorkshops forgets this node's copies after a broker outage: other nodes' writes may
// have been missed, so they are read again from the store when next needed.
func (a *App) ResetWorkshops() {
	a.workshops.mu.Lock()
	a.workshops.rooms = nil
	a.workshops.mu.Unlock()
}
