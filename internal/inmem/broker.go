// Package inmem is the in-process broker for a single node: room history in memory, a random
// epoch per room (and so per process), always "up".
package inmem

import (
	"context"
	"sync"
	"time"

	"github.com/insieme/insieme/internal/realtime"
)

// idleTTL is how long the history of a room nobody follows is kept; a client resuming after
// that gets a snapshot (a new epoch), which is always correct.
const idleTTL = time.Hour

// Broker implements realtime.Broker for one node.
type Broker struct {
	hist *realtime.MemHistory

	mu        sync.RWMutex
	subs      map[string]bool
	deliver   func(realtime.Event)
	lastSweep time.Time
}

var _ realtime.Broker = (*Broker)(nil)

// NewBroker keeps up to historySize events per room for resume.
func NewBroker(historySize int) *Broker {
	return &Broker{hist: realtime.NewMemHistory(historySize), subs: map[string]bool{}, lastSweep: time.Now()}
}

// Start records the delivery function; a single node never resets rooms.
func (b *Broker) Start(_ context.Context, deliver func(realtime.Event), _ func(room string)) error {
	b.mu.Lock()
	b.deliver = deliver
	b.mu.Unlock()
	return nil
}

// Publish appends to the room's history and delivers to the node if it follows the room.
// Deliveries to one room happen in seq order (under the room's lock).
func (b *Broker) Publish(_ context.Context, room string, data []byte) (realtime.Event, error) {
	b.sweep()
	return b.hist.Append(room, data, func(ev realtime.Event) {
		// Checked under the room's lock: a Subscribe followed by History is either before
		// this event's position or sees this delivery.
		b.mu.RLock()
		deliver, on := b.deliver, b.subs[room]
		b.mu.RUnlock()
		if on && deliver != nil {
			deliver(ev)
		}
	}), nil
}

// History returns the events after since when the history still holds them.
func (b *Broker) History(_ context.Context, room string, since realtime.Position) ([]realtime.Event, realtime.Position, bool, error) {
	events, pos, ok := b.hist.Since(room, since)
	return events, pos, ok, nil
}

// Subscribe makes Publish deliver the room's events to the node.
func (b *Broker) Subscribe(_ context.Context, room string) error {
	b.mu.Lock()
	b.subs[room] = true
	b.mu.Unlock()
	return nil
}

// Unsubscribe stops delivering the room's events.
func (b *Broker) Unsubscribe(_ context.Context, room string) error {
	b.mu.Lock()
	delete(b.subs, room)
	b.mu.Unlock()
	return nil
}

// State is always "up": there is nothing shared to lose.
func (b *Broker) State() string { return "up" }

// Close does nothing; the history goes with the process.
func (b *Broker) Close() error { return nil }

// sweep forgets, once a minute at most, the history of rooms idle for idleTTL that nobody follows.
func (b *Broker) sweep() {
	now := time.Now()
	b.mu.Lock()
	if now.Sub(b.lastSweep) < time.Minute {
		b.mu.Unlock()
		return
	}
	b.lastSweep = now
	followed := make(map[string]bool, len(b.subs))
	for r := range b.subs {
		followed[r] = true
	}
	b.mu.Unlock()
	b.hist.Sweep(now.Add(-idleTTL), func(room string) bool { return followed[room] })
}
