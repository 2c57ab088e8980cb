package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

const shardCount = 32

// Hub serves live rooms on one node: it owns the websocket connections and the node's rooms,
// and talks to the other nodes through a Broker. Room state is sharded by room name; each
// connection has its own reader and writer goroutines.
type Hub struct {
	opts   Options
	broker Broker
	hooks  Hooks
	log    *slog.Logger

	presence     PresenceHooks   // nil unless Hooks implements it
	perPrincipal principalLimits // message budgets per person, across their connections

	ctx    context.Context // the hub's lifetime: cancelled by Shutdown
	cancel context.CancelFunc

	seed   maphash.Seed
	shards [shardCount]shard

	hmu      sync.RWMutex
	handlers map[string]Handler

	cmu         sync.Mutex
	clients     map[*client]struct{}
	byPrincipal map[string]map[*client]struct{}
	closing     bool

	slowDropped atomic.Uint64
	writeSlots  chan struct{} // a token per writer writing: at most Options.WriteSlots at once (see writeLoop)
	pingOnce    sync.Once     // starts pingLoop with the first served connection
	nextSlot    int           // the ping slot of the next connection, guarded by cmu

	lmu       sync.RWMutex
	listeners map[string][]*listening // rooms followed inside the node (Listen)
	// lresetMu serialises resets of every listener after an outage; lastListenersReset is when
	// the last one ended.
	lresetMu           sync.Mutex
	lastListenersReset time.Time
}

// Stats are a hub's gauges and counters, for metrics.
type Stats struct {
	Connections int    // open websocket connections
	Rooms       int    // rooms with local clients (one broker subscription each)
	SlowDropped uint64 // connections dropped because their queue overflowed (4000)
}

// reserved message types; Handle refuses them.
var reserved = map[string]bool{"auth": true, "subscribe": true, "unsubscribe": true, "ping": true}

// NewHub returns a hub; call Start before serving connections.
func NewHub(opts Options) *Hub {
	if opts.Broker == nil || opts.Hooks == nil {
		panic("realtime: NewHub needs a Broker and Hooks")
	}
	opts = opts.withDefaults()
	h := &Hub{
		opts:         opts,
		broker:       opts.Broker,
		hooks:        opts.Hooks,
		log:          opts.Logger,
		seed:         maphash.MakeSeed(),
		perPrincipal: newPrincipalLimits(opts.RatePerPrincipal),
		handlers:     map[string]Handler{},
		clients:      map[*client]struct{}{},
		byPrincipal:  map[string]map[*client]struct{}{},
		writeSlots:   make(chan struct{}, opts.WriteSlots),
	}
	h.presence, _ = opts.Hooks.(PresenceHooks)
	h.ctx, h.cancel = context.WithCancel(context.Background())
	for i := range h.shards {
		h.shards[i].rooms = map[string]*room{}
	}
	return h
}

// Start starts the broker, which delivers events and room resets to this hub until ctx ends.
func (h *Hub) Start(ctx context.Context) error {
	if err := h.broker.Start(ctx, h.deliver, h.reset); err != nil {
		return fmt.Errorf("realtime: starting the broker: %w", err)
	}
	return nil
}

// Handle registers the handler of a domain message type (e.g. "poll.vote"). Registering a
// reserved type (auth, subscribe, unsubscribe, ping) or one twice panics: both are wiring bugs.
func (h *Hub) Handle(msgType string, handler Handler) {
	h.hmu.Lock()
	defer h.hmu.Unlock()
	if reserved[msgType] || msgType == "" {
		panic("realtime: message type " + msgType + " is reserved")
	}
	if _, dup := h.handlers[msgType]; dup {
		panic("realtime: message type " + msgType + " registered twice")
	}
	h.handlers[msgType] = handler
}

func (h *Hub) handler(msgType string) Handler {
	h.hmu.RLock()
	defer h.hmu.RUnlock()
	return h.handlers[msgType]
}

// Publish JSON-encodes data once and publishes it to room through the broker, which delivers
// it to every node with clients in the room (this one included).
func (h *Hub) Publish(ctx context.Context, room string, data any) (Event, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("realtime: encoding an event for %s: %w", room, err)
	}
	return h.broker.Publish(ctx, room, b)
}

// DisconnectPrincipal closes every connection of a principal with code (4003 when an account
// is suspended or signs out everywhere, 1008 when its authentication is revoked).
func (h *Hub) DisconnectPrincipal(principalID string, code int) {
	h.cmu.Lock()
	var cs []*client
	for c := range h.byPrincipal[principalID] {
		cs = append(cs, c)
	}
	h.cmu.Unlock()
	for _, c := range cs {
		c.drop(code)
	}
}

// DisconnectFromRoom closes with code the connections of a principal that are in room (or
// joining it), e.g. someone a host removed from a live session; their other connections stay.
func (h *Hub) DisconnectFromRoom(principalID, room string, code int) {
	h.cmu.Lock()
	var cs []*client
	for c := range h.byPrincipal[principalID] {
		cs = append(cs, c)
	}
	h.cmu.Unlock()
	if len(cs) == 0 {
		return
	}
	sh := h.shardFor(room)
	sh.mu.Lock()
	var in []*client
	if r := sh.rooms[room]; r != nil {
		for _, c := range cs {
			if s := r.subs[c]; s != nil && !s.gone {
				in = append(in, c)
			}
		}
	}
	sh.mu.Unlock()
	for _, c := range in {
		c.drop(code)
	}
}

// Shutdown closes every connection with 1001 (going away), refuses new ones, and waits until
// they have ended or ctx ends. The broker is the caller's to close.
func (h *Hub) Shutdown(ctx context.Context) {
	h.cmu.Lock()
	h.closing = true
	cs := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		cs = append(cs, c)
	}
	h.cmu.Unlock()
	for _, c := range cs {
		c.drop(CloseGoingAway)
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		h.cmu.Lock()
		n := len(h.clients)
		h.cmu.Unlock()
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			h.log.Warn("realtime: shutdown ended with connections open", "connections", n)
			h.cancel()
			return
		case <-t.C:
		}
	}
	h.cancel()
}

// Stats returns the hub's gauges and counters.
func (h *Hub) Stats() Stats {
	h.cmu.Lock()
	s := Stats{Connections: len(h.clients), SlowDropped: h.slowDropped.Load()}
	h.cmu.Unlock()
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		s.Rooms += len(sh.rooms)
		sh.mu.Unlock()
	}
	return s
}

// BrokerState is the broker's state: "up", or "down" while the shared transport is unreachable.
func (h *Hub) BrokerState() string { return h.broker.State() }

// register adds a connection; false once the hub is shutting down.
func (h *Hub) register(c *client) bool {
	h.cmu.Lock()
	defer h.cmu.Unlock()
	if h.closing {
		return false
	}
	c.pingSlot = h.nextSlot
	h.nextSlot = (h.nextSlot + 1) % pingSlots
	h.clients[c] = struct{}{}
	if p := c.principal(); p != nil {
		h.indexPrincipal(c, p.ID)
	}
	return true
}

func (h *Hub) unregister(c *client) {
	h.cmu.Lock()
	defer h.cmu.Unlock()
	delete(h.clients, c)
	if p := c.principal(); p != nil {
		h.unindexPrincipal(c, p.ID)
	}
}

// setPrincipal records a connection's new principal for DisconnectPrincipal.
func (h *Hub) setPrincipal(c *client, old, p *insieme.Principal) {
	h.cmu.Lock()
	defer h.cmu.Unlock()
	if old != nil {
		h.unindexPrincipal(c, old.ID)
	}
	c.setPrincipal(p)
	if _, ok := h.clients[c]; ok {
		h.indexPrincipal(c, p.ID)
	}
}

func (h *Hub) indexPrincipal(c *client, id string) {
	m := h.byPrincipal[id]
	if m == nil {
		m = map[*client]struct{}{}
		h.byPrincipal[id] = m
	}
	m[c] = struct{}{}
}

func (h *Hub) unindexPrincipal(c *client, id string) {
	if m := h.byPrincipal[id]; m != nil {
		delete(m, c)
		if len(m) == 0 {
			delete(h.byPrincipal, id)
		}
	}
}
