// Package realtime is the live-room core: rooms, websocket connections with one reader and one
// writer each, bounded queues, per-room sequence numbers and epochs, and exact resume. Events move
// between nodes through a Broker (internal/inmem for one node, internal/redis for several).
// It never imports internal/app or internal/web: features plug in through Hooks and Handle.
package realtime

import (
	"context"
	"encoding/json"

	"github.com/insieme/insieme/internal/insieme"
)

// Position is a place in a room's stream: the epoch and the sequence number of the last event.
type Position struct {
	Epoch string `json:"epoch"`
	Seq   uint64 `json:"seq"`
}

// Event is one event of a room. Data is the feature's JSON payload.
type Event struct {
	Room  string          `json:"room"`
	Epoch string          `json:"epoch"`
	Seq   uint64          `json:"seq"`
	Data  json.RawMessage `json:"data"`
}

// Broker carries events between nodes and keeps each room's recent history for resume.
//
// Publish appends to the room's history (assigning the epoch and the next seq) and delivers the
// event to every node subscribed to the room, this one included, through the deliver function
// given to Start; delivery to one room is in seq order. History returns the events after since
// when the history still holds all of them in the same epoch (ok=true), and the room's current
// position either way. When the shared history is unreachable a broker keeps serving its own node
// (local epoch, local seqs) and reports itself unhealthy; when it comes back it starts a new epoch
// for every room it serves and calls reset for each, so their clients take a fresh snapshot.
type Broker interface {
	Start(ctx context.Context, deliver func(Event), reset func(room string)) error
	Publish(ctx context.Context, room string, data []byte) (Event, error)
	History(ctx context.Context, room string, since Position) (events []Event, current Position, ok bool, err error)
	Subscribe(ctx context.Context, room string) error
	Unsubscribe(ctx context.Context, room string) error
	// State is "up" or "down" (the shared transport is unreachable), for /readyz and metrics.
	State() string
	Close() error
}

// Hooks are what features supply to the hub.
type Hooks interface {
	// Authenticate turns a token from an "auth" message into a principal.
	Authenticate(ctx context.Context, token string) (*insieme.Principal, error)
	// Authorize says whether p (nil for anonymous) may join room; an *insieme.Error otherwise.
	Authorize(ctx context.Context, p *insieme.Principal, room string) error
	// Snapshot is the room's current state as p may see it, sent on subscribe and resync.
	Snapshot(ctx context.Context, p *insieme.Principal, room string) (json.RawMessage, error)
}

// PresenceHooks is optional: when Options.Hooks also implements it, the hub tells the
// feature who is in which room. Joined is called when a connection's subscription to a room
// becomes active (its "subscribed" answer was queued), Left when that subscription ends
// (unsubscribe, subscribing again, the connection closing for any reason, hub shutdown):
// exactly once each, Left after its Joined, from the connection's own goroutine, never under a
// hub lock. p is the principal the connection had when it subscribed (nil for anonymous) and
// Left gets the same one: a connection is one person (auth as someone else is refused). conn
// is the connection's id. Both must return quickly (update counters, schedule work): they
// hold up that connection's messages.
type PresenceHooks interface {
	Joined(room string, p *insieme.Principal, conn string)
	Left(room string, p *insieme.Principal, conn string)
}

// Handler serves one domain message type (e.g. "poll.vote"). Its result is sent back as an
// "ack" with the message's ref; an error is sent as an "error" with the same ref.
type Handler func(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error)
