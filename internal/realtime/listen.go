package realtime

import (
	"context"
	"sync"
	"time"
)

// Listener follows a room inside the node (not over a websocket): the app uses one to keep
// its per-node read model current with the writes of every node. OnEvent gets the room's
// events in order; OnReset is called when events may have been missed (a new epoch, a gap,
// a broker outage), so the listener rebuilds its state from the store.
type Listener struct {
	OnEvent func(Event)
	OnReset func()
}

// listening is a listener and where it is in its room's stream.
type listening struct {
	l     Listener
	mu    sync.Mutex
	epoch string
	last  uint64
}

// Listen makes the node follow a room for as long as the hub runs. It holds the room's
// broker subscription like a client does.
func (h *Hub) Listen(ctx context.Context, room string, l Listener) error {
	if _, err := h.acquire(ctx, room); err != nil {
		return err
	}
	h.lmu.Lock()
	if h.listeners == nil {
		h.listeners = map[string][]*listening{}
	}
	h.listeners[room] = append(h.listeners[room], &listening{l: l})
	h.lmu.Unlock()
	return nil
}

// tellListeners hands an event to the room's listeners, resetting those that missed some.
func (h *Hub) tellListeners(ev Event) {
	h.lmu.RLock()
	ls := h.listeners[ev.Room]
	h.lmu.RUnlock()
	for _, x := range ls {
		x.mu.Lock()
		if ev.Epoch == x.epoch && ev.Seq <= x.last {
			x.mu.Unlock()
			continue // already seen
		}
		missed := x.epoch != "" && (ev.Epoch != x.epoch || ev.Seq > x.last+1)
		x.epoch, x.last = ev.Epoch, ev.Seq
		x.mu.Unlock()
		if missed && x.l.OnReset != nil {
			x.l.OnReset()
		}
		x.l.OnEvent(ev)
	}
}

// listenerResetWindow: after a broker outage the broker resets its rooms one by one; the
// first of those resets every listener, and the others within this window do not again.
const listenerResetWindow = 2 * time.Second

// resetAllListeners resets every room's listeners, unless that was done just now.
func (h *Hub) resetAllListeners() {
	h.lresetMu.Lock()
	defer h.lresetMu.Unlock() // later resets wait for this one: no snapshot before it
	if time.Since(h.lastListenersReset) < listenerResetWindow {
		return
	}
	h.lmu.RLock()
	rooms := make([]string, 0, len(h.listeners))
	for room := range h.listeners {
		rooms = append(rooms, room)
	}
	h.lmu.RUnlock()
	for _, room := range rooms {
		h.resetListeners(room)
	}
	h.lastListenersReset = time.Now()
}

// resetListeners tells a room's listeners that events may have been missed.
func (h *Hub) resetListeners(room string) {
	h.lmu.RLock()
	ls := h.listeners[room]
	h.lmu.RUnlock()
	for _, x := range ls {
		x.mu.Lock()
		x.epoch, x.last = "", 0
		x.mu.Unlock()
		if x.l.OnReset != nil {
			x.l.OnReset()
		}
	}
}
