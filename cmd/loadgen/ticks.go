package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/insieme/insieme/internal/realtime"
	"github.com/insieme/insieme/internal/redis"
)

// The saturation run (-publish-redis) measures how many deliveries a second a node's fan-out
// carries, which the host's actions cannot show: each is a stored session update whose
// goroutines wait behind the fan-out of the one before (see docs/BENCHMARKS.md). Instead the
// load generator acts as another node: it publishes small events into the session's room
// through the same Redis broker (internal/redis) the node subscribes to, at -rate a second
// with up to -concurrency in flight, and every participant times each from its publication.

// firstTick numbers the events far above any session version, so that an event's number
// never meets a session.state's version in the participants' records.
const firstTick = int64(1) << 40

// tickPublisher is the -publish-redis source of events.
type tickPublisher struct {
	broker *redis.Broker
	rdb    *goredis.Client
	room   string

	mu    sync.Mutex
	next  int64
	tally // publications numbered from firstTick
}

// newTickPublisher connects to Redis at url (the nodes' REDIS_URL) to publish into session's
// room; Close ends it.
func newTickPublisher(ctx context.Context, url, session string) (*tickPublisher, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("-publish-redis: %w", err)
	}
	opts.ContextTimeoutEnabled = true
	rdb := goredis.NewClient(opts)
	// It only publishes. No health loop (an hour between checks): a broker that went down stays
	// down, so that every publication after the fall-back to local delivery counts as failed,
	// none as published.
	b := redis.NewBroker(rdb, redis.BrokerOptions{HealthInterval: time.Hour})
	// The events it would receive (none: it joins no room) are dropped.
	if err := b.Start(ctx, func(realtime.Event) {}, func(string) {}); err != nil {
		rdb.Close()
		return nil, err
	}
	t := &tickPublisher{broker: b, rdb: rdb, room: "session:" + session, next: firstTick, tally: newTally()}
	if b.State() != "up" {
		t.Close()
		return nil, errors.New("-publish-redis: Redis does not answer at " + url)
	}
	return t, nil
}

// Close stops the broker and closes its connections.
func (t *tickPublisher) Close() {
	_ = t.broker.Close()
	_ = t.rdb.Close()
}

// tickEvent is an event's data: {"tick":N,"type":"bench.tick"} (tickNumber reads it back).
func tickEvent(n int64) []byte {
	return []byte(`{"tick":` + strconv.FormatInt(n, 10) + `,"type":"bench.tick"}`)
}

var (
	tickPrefix = []byte(`{"tick":`)
	tickSuffix = []byte(`,"type":"bench.tick"}`)
)

// tickNumber reads an event's number out of its data; false for anything else.
func tickNumber(data []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(data, tickPrefix)
	if !ok {
		return 0, false
	}
	num, ok := bytes.CutSuffix(rest, tickSuffix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	return n, err == nil
}

// run publishes an event at every tick of rate a second for d, at most k in flight, and
// waits for the last. It returns how long that took.
func (t *tickPublisher) run(ctx context.Context, rate float64, k int, d time.Duration, stderr io.Writer) time.Duration {
	return pace(ctx, rate, k, d, func() {
		t.mu.Lock()
		n := t.next
		t.next++
		t.fired++
		t.mu.Unlock()
		sent := time.Now()
		_, err := t.broker.Publish(ctx, t.room, tickEvent(n))
		if err == nil && t.broker.State() != "up" {
			// The broker fell back to delivering inside this process: nobody got it.
			err = errors.New("Redis went away")
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if err != nil {
			// Not counted as sent: an event that may not have been published is not missing.
			t.errors++
			if t.errors <= 5 {
				fmt.Fprintln(stderr, "publish:", err)
			}
			return
		}
		t.sentAt(n, sent)
	})
}

// figures are what the coordinator reports of the publications.
func (t *tickPublisher) figures() tally {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tally
}
