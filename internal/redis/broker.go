// Package redis carries live events between nodes through Redis (pub/sub, and room history in
// streams for exact resume), and keeps shared rate-limit counters.
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/insieme/insieme/internal/realtime"
)

// BrokerOptions configure a Broker. Zero values take the defaults shown.
type BrokerOptions struct {
	Prefix         string        // of every key and channel; "insieme:rt:"
	HistorySize    int           // events kept per room for resume (at least; trimmed with MAXLEN ~); 1000
	HistoryTTL     time.Duration // a room idle this long forgets its history (clients take a snapshot); 24h
	Timeout        time.Duration // of one Redis operation on a request path; 1s
	HealthInterval time.Duration // how often Redis is checked while up and retried while down; 1s
	Logger         *slog.Logger
}

func (o BrokerOptions) withDefaults() BrokerOptions {
	if o.Prefix == "" {
		o.Prefix = "insieme:rt:"
	}
	if o.HistorySize <= 0 {
		o.HistorySize = 1000
	}
	if o.HistoryTTL < time.Second {
		o.HistoryTTL = 24 * time.Hour
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Broker implements realtime.Broker for several nodes sharing one Redis. Each node holds one
// pub/sub connection, subscribed to one channel per room it serves. While Redis is unreachable
// it serves its own node from memory (local epochs); when Redis is back it resubscribes, starts
// a new epoch for every room it serves and resets them.
type Broker struct {
	client *goredis.Client
	opts   BrokerOptions
	log    *slog.Logger
	node   string               // this node's id, to ignore its own reset messages
	local  *realtime.MemHistory // rooms' history while Redis is down

	up       atomic.Bool
	received atomic.Uint64 // room messages the receive loop has read: a late ping while they grow is a busy node

	subMu     sync.Mutex          // orders room subscriptions with recovery
	unsubLate map[string]struct{} // rooms left while down, unsubscribed on recovery; guarded by subMu
	roomsMu   sync.RWMutex
	rooms     map[string]struct{} // rooms this node serves

	ps      *goredis.PubSub
	deliver atomic.Pointer[func(realtime.Event)]
	reset   atomic.Pointer[func(string)]

	waitMu  sync.Mutex
	waiters map[string]chan struct{} // pub/sub ping tokens awaited

	started atomic.Bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

var _ realtime.Broker = (*Broker)(nil)

// NewBroker returns a broker on client. The client should be made with short dial, read and
// write timeouts and ContextTimeoutEnabled, so that an unreachable Redis (not only a refused
// connection) fails within BrokerOptions.Timeout instead of go-redis's 3-5 s defaults.
func NewBroker(client *goredis.Client, opts BrokerOptions) *Broker {
	opts = opts.withDefaults()
	b := &Broker{
		client:    client,
		opts:      opts,
		log:       opts.Logger,
		node:      realtime.NewEpoch(),
		local:     realtime.NewMemHistory(opts.HistorySize),
		rooms:     map[string]struct{}{},
		unsubLate: map[string]struct{}{},
		waiters:   map[string]chan struct{}{},
	}
	if !client.Options().ContextTimeoutEnabled {
		b.log.Warn("redis broker: the client ignores context deadlines; an unresponsive Redis may block up to its ReadTimeout")
	}
	return b
}

func (b *Broker) streamKey(room string) string { return b.opts.Prefix + "{" + room + "}:s" }
func (b *Broker) metaKey(room string) string   { return b.opts.Prefix + "{" + room + "}:m" }
func (b *Broker) channel(room string) string   { return b.opts.Prefix + "ch:" + room }
func (b *Broker) ttl() int64                   { return int64(b.opts.HistoryTTL / time.Second) }

// Start connects the pub/sub connection and starts the receive and health loops, which run
// until ctx ends or Close. A Redis that is down at start is not an error: the broker serves
// the node alone and recovers when Redis comes up.
func (b *Broker) Start(ctx context.Context, deliver func(realtime.Event), reset func(room string)) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("redis broker: started twice")
	}
	b.deliver.Store(&deliver)
	b.reset.Store(&reset)
	b.ctx, b.cancel = context.WithCancel(ctx)
	b.subMu.Lock()
	b.ps = b.client.Subscribe(b.ctx)
	b.subMu.Unlock()
	b.wg.Add(2)
	go b.receiveLoop()
	b.check() // know the state before serving
	go b.healthLoop()
	if !b.up.Load() {
		b.log.Warn("redis broker: Redis unreachable at start; serving this node alone until it is")
	}
	return nil
}

// Close stops the loops and closes the pub/sub connection; the client is the caller's.
func (b *Broker) Close() error {
	if !b.started.Load() {
		return nil
	}
	b.cancel()
	err := b.ps.Close() // unblocks the receive loop's read
	b.wg.Wait()
	return err
}

// State is "up" while Redis carries the events, "down" while the node serves alone.
func (b *Broker) State() string {
	if b.up.Load() {
		return "up"
	}
	return "down"
}

// Publish appends the event to the room's shared history and publishes it, atomically; every
// subscribed node (this one too) delivers it from its pub/sub connection. When Redis cannot be
// reached the event is delivered to this node only, in a local epoch.
func (b *Broker) Publish(ctx context.Context, room string, data []byte) (realtime.Event, error) {
	if b.up.Load() {
		tctx, cancel := context.WithTimeout(ctx, b.opts.Timeout)
		res, err := publishScript.Run(tctx, b.client, []string{b.streamKey(room), b.metaKey(room)},
			data, b.opts.HistorySize, b.ttl(), b.channel(room), realtime.NewEpoch()).Slice()
		cancel()
		if err == nil {
			epoch, seq, err := position(res)
			if err != nil {
				return realtime.Event{}, fmt.Errorf("redis broker: publish to %s: %w", room, err)
			}
			return realtime.Event{Room: room, Epoch: epoch, Seq: seq, Data: data}, nil
		}
		if ctx.Err() != nil {
			return realtime.Event{}, ctx.Err()
		}
		if !unavailable(err) {
			return realtime.Event{}, fmt.Errorf("redis broker: publish to %s: %w", room, err)
		}
		// A slow answer on a busy machine is not an outage: the publish may even have
		// happened. Only a Redis that does not answer a ping either is declared down.
		if (isTimeout(err) || errors.Is(err, context.DeadlineExceeded)) && b.answers(ctx) {
			return realtime.Event{}, fmt.Errorf("redis broker: publish to %s timed out: %w", room, err)
		}
		b.markDown("publish", err)
	}
	return b.local.Append(room, data, func(ev realtime.Event) {
		if d := b.deliver.Load(); d != nil && b.serves(room) {
			(*d)(ev)
		}
	}), nil
}

// History returns the events after since when the room's history still holds them all in the
// same epoch, and the room's position either way.
func (b *Broker) History(ctx context.Context, room string, since realtime.Position) ([]realtime.Event, realtime.Position, bool, error) {
	if b.up.Load() {
		tctx, cancel := context.WithTimeout(ctx, b.opts.Timeout)
		res, err := historyScript.Run(tctx, b.client, []string{b.streamKey(room), b.metaKey(room)},
			since.Epoch, since.Seq, realtime.NewEpoch(), b.ttl()).Slice()
		cancel()
		if err == nil {
			return history(room, res)
		}
		if ctx.Err() != nil {
			return nil, realtime.Position{}, false, ctx.Err()
		}
		if !unavailable(err) {
			return nil, realtime.Position{}, false, fmt.Errorf("redis broker: history of %s: %w", room, err)
		}
		b.markDown("history", err)
	}
	events, pos, ok := b.local.Since(room, since)
	return events, pos, ok, nil
}

// Subscribe makes this node receive the room's events. It returns once the subscription is
// active, so a History read afterwards misses nothing. While Redis is down it only records the
// room; recovery subscribes it.
//
// It works under the broker's context, not the caller's: a client that gives up meanwhile is
// not an outage of Redis.
func (b *Broker) Subscribe(_ context.Context, room string) error {
	b.subMu.Lock()
	b.roomsMu.Lock()
	b.rooms[room] = struct{}{}
	b.roomsMu.Unlock()
	delete(b.unsubLate, room)
	if !b.up.Load() || b.ps == nil {
		b.subMu.Unlock()
		return nil
	}
	tctx, cancel := context.WithTimeout(b.ctx, b.opts.Timeout)
	err := b.ps.Subscribe(tctx, b.channel(room))
	cancel()
	var token string
	var answer chan struct{}
	if err == nil {
		token, answer, err = b.sendPing(b.ctx) // answered after the subscription took effect
	}
	b.subMu.Unlock()
	// The answer may take seconds on a node behind on a busy room (pubsubPing): others'
	// subscriptions do not wait for it.
	if err == nil {
		err = b.awaitPing(b.ctx, token, answer)
	}
	if err != nil && b.ctx.Err() == nil {
		b.markDown("subscribe", err)
	}
	return nil
}

// Unsubscribe stops receiving the room's events.
func (b *Broker) Unsubscribe(ctx context.Context, room string) error {
	b.subMu.Lock()
	defer b.subMu.Unlock()
	b.roomsMu.Lock()
	delete(b.rooms, room)
	b.roomsMu.Unlock()
	b.local.Forget(room)
	if b.ps == nil {
		return nil
	}
	if !b.up.Load() { // no waiting on an unreachable Redis: recovery unsubscribes it
		b.unsubLate[room] = struct{}{}
		return nil
	}
	tctx, cancel := context.WithTimeout(ctx, b.opts.Timeout)
	defer cancel()
	if err := b.ps.Unsubscribe(tctx, b.channel(room)); err != nil {
		b.unsubLate[room] = struct{}{}
		b.markDown("unsubscribe", err)
	}
	return nil
}

func (b *Broker) serves(room string) bool {
	b.roomsMu.RLock()
	defer b.roomsMu.RUnlock()
	_, ok := b.rooms[room]
	return ok
}

func (b *Broker) servedRooms() []string {
	b.roomsMu.RLock()
	defer b.roomsMu.RUnlock()
	rooms := make([]string, 0, len(b.rooms))
	for r := range b.rooms {
		rooms = append(rooms, r)
	}
	return rooms
}

// markDown switches the node to serving alone; each outage starts with an empty local history.
func (b *Broker) markDown(during string, err error) {
	if b.up.CompareAndSwap(true, false) {
		b.local.Clear()
		b.log.Warn("redis broker down: serving this node alone", "during", during, "err", err)
	}
}

// answers pings Redis with the operation timeout.
func (b *Broker) answers(ctx context.Context) bool {
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.opts.Timeout)
	defer cancel()
	return b.client.Ping(tctx).Err() == nil
}

// unavailable tells a Redis that cannot serve (network, timeout, loading, failover) from a
// command Redis refused, which is a bug to report rather than an outage.
func unavailable(err error) bool {
	var rerr goredis.Error
	if !errors.As(err, &rerr) {
		return true
	}
	msg := rerr.Error()
	for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// position parses a script's {epoch, seq}.
func position(res []any) (string, uint64, error) {
	if len(res) < 2 {
		return "", 0, fmt.Errorf("unexpected script reply %v", res)
	}
	epoch, ok1 := res[0].(string)
	seq, ok2 := res[1].(int64)
	if !ok1 || !ok2 || seq < 0 {
		return "", 0, fmt.Errorf("unexpected script reply %v", res)
	}
	return epoch, uint64(seq), nil
}

// history parses historyScript's reply.
func history(room string, res []any) ([]realtime.Event, realtime.Position, bool, error) {
	epoch, seq, err := position(res)
	if err != nil {
		return nil, realtime.Position{}, false, fmt.Errorf("redis broker: history of %s: %w", room, err)
	}
	pos := realtime.Position{Epoch: epoch, Seq: seq}
	if len(res) < 3 {
		return nil, pos, false, nil
	}
	entries, _ := res[2].([]any)
	events := make([]realtime.Event, 0, len(entries))
	for _, e := range entries {
		ev, err := entry(room, epoch, e)
		if err != nil {
			return nil, pos, false, fmt.Errorf("redis broker: history of %s: %w", room, err)
		}
		events = append(events, ev)
	}
	return events, pos, true, nil
}

// entry parses one stream entry {"<seq>-0", {"d", data}}.
func entry(room, epoch string, e any) (realtime.Event, error) {
	parts, _ := e.([]any)
	if len(parts) != 2 {
		return realtime.Event{}, fmt.Errorf("unexpected stream entry %v", e)
	}
	id, _ := parts[0].(string)
	fields, _ := parts[1].([]any)
	seqStr, _, _ := strings.Cut(id, "-")
	seq, err := strconv.ParseUint(seqStr, 10, 64)
	if err != nil || len(fields) != 2 {
		return realtime.Event{}, fmt.Errorf("unexpected stream entry %v", e)
	}
	data, _ := fields[1].(string)
	return realtime.Event{Room: room, Epoch: epoch, Seq: seq, Data: []byte(data)}, nil
}
