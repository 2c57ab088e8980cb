package redis_test

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/realtime"
	"github.com/insieme/insieme/internal/realtime/brokertest"
	"github.com/insieme/insieme/internal/redis"
)

func TestTwoNodesDeliverEveryEventInOrder(t *testing.T) {
	o := sharedOptions(t)
	opts := redis.BrokerOptions{Prefix: prefix(t)}
	a, b := startNode(t, o, opts), startNode(t, o, opts)
	for _, n := range []*node{a, b} {
		if n.b.State() != "up" {
			t.Fatalf("state %s", n.b.State())
		}
		n.subscribe(t, "session:1")
	}
	b.subscribe(t, "session:other") // a does not follow it: a never gets its events

	const each = 150
	var wg sync.WaitGroup
	for _, n := range []*node{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := n.b.Publish(context.Background(), "session:1", []byte(data(i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.publish(t, "session:other", `"x"`)
	for name, n := range map[string]*node{"a": a, "b": b} {
		var epoch string
		for seq := uint64(1); seq <= 2*each; seq++ {
			ev := n.next(t)
			if ev.Room != "session:1" || ev.Seq != seq || (epoch != "" && ev.Epoch != epoch) {
				t.Fatalf("node %s: got %s #%d epoch %s, want #%d epoch %s", name, ev.Room, ev.Seq, ev.Epoch, seq, epoch)
			}
			epoch = ev.Epoch
		}
	}
	if ev := b.next(t); ev.Room != "session:other" {
		t.Fatalf("b got %+v", ev)
	}
	a.none(t)
}

func TestHistoryThroughRedis(t *testing.T) {
	o := sharedOptions(t)
	n := startNode(t, o, redis.BrokerOptions{Prefix: prefix(t), HistorySize: 10})
	ctx := context.Background()

	// An empty room has an epoch at seq 0, and resuming from it works.
	_, pos, ok, err := n.b.History(ctx, "forum:1", realtime.Position{})
	if err != nil || ok || pos.Epoch == "" || pos.Seq != 0 {
		t.Fatalf("empty room: %+v %v %v", pos, ok, err)
	}
	epoch := pos.Epoch
	for i := 1; i <= 10; i++ {
		if ev := n.publish(t, "forum:1", data(i)); ev.Epoch != epoch || ev.Seq != uint64(i) {
			t.Fatalf("published %+v", ev)
		}
	}
	for name, tc := range map[string]struct {
		since realtime.Position
		ok    bool
		first uint64
	}{
		"from the start":    {realtime.Position{Epoch: epoch, Seq: 0}, true, 1},
		"middle":            {realtime.Position{Epoch: epoch, Seq: 4}, true, 5},
		"up to date":        {realtime.Position{Epoch: epoch, Seq: 10}, true, 11},
		"other epoch":       {realtime.Position{Epoch: "0123456789abcdef", Seq: 4}, false, 0},
		"ahead of the room": {realtime.Position{Epoch: epoch, Seq: 11}, false, 0},
		"no position":       {realtime.Position{}, false, 0},
	} {
		t.Run(name, func(t *testing.T) {
			evs, pos, ok, err := n.b.History(ctx, "forum:1", tc.since)
			if err != nil || ok != tc.ok || pos != (realtime.Position{Epoch: epoch, Seq: 10}) {
				t.Fatalf("history: pos %+v ok %v err %v", pos, ok, err)
			}
			if !ok {
				if len(evs) != 0 {
					t.Fatalf("%d events without resume", len(evs))
				}
				return
			}
			if len(evs) != int(11-tc.first) {
				t.Fatalf("%d events, want %d", len(evs), 11-tc.first)
			}
			for i, ev := range evs {
				seq := tc.first + uint64(i)
				if ev.Seq != seq || ev.Epoch != epoch || ev.Room != "forum:1" || string(ev.Data) != data(int(seq)) {
					t.Fatalf("event %+v, want #%d", ev, seq)
				}
			}
		})
	}

	// Trimmed history (MAXLEN ~ keeps at least HistorySize, in whole stream nodes): an old
	// position cannot resume; a recent one can.
	for i := 11; i <= 400; i++ {
		n.publish(t, "forum:1", data(i))
	}
	if _, _, ok, _ := n.b.History(ctx, "forum:1", realtime.Position{Epoch: epoch, Seq: 1}); ok {
		t.Fatal("resumed from a trimmed position")
	}
	evs, _, ok, err := n.b.History(ctx, "forum:1", realtime.Position{Epoch: epoch, Seq: 392})
	if err != nil || !ok || len(evs) != 8 || evs[0].Seq != 393 {
		t.Fatalf("recent resume: %d events ok %v err %v", len(evs), ok, err)
	}
}

// The outage: Redis stops; each node serves its own clients in a local epoch; Redis comes back
// empty; the nodes resubscribe, rooms restart in a new epoch, and every node resets them.
func TestOutageLocalDeliveryThenNewEpochAndReset(t *testing.T) {
	srv := startServer(t)
	opts := redis.BrokerOptions{Prefix: prefix(t)}
	a, b := startNode(t, srv.options(), opts), startNode(t, srv.options(), opts)
	a.subscribe(t, "workshop:1")
	b.subscribe(t, "workshop:1")
	before := a.publish(t, "workshop:1", `"before"`)
	if ev := a.next(t); ev.Seq != 1 || ev.Epoch != before.Epoch {
		t.Fatalf("a got %+v", ev)
	}
	if ev := b.next(t); ev.Seq != 1 || ev.Epoch != before.Epoch {
		t.Fatalf("b got %+v", ev)
	}

	srv.stop()
	eventually(t, "both nodes down", func() bool { return a.b.State() == "down" && b.b.State() == "down" })
	start := time.Now()
	local, err := a.b.Publish(context.Background(), "workshop:1", []byte(`"during"`))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("publishing while down took %v", d)
	}
	if local.Epoch == before.Epoch || local.Seq != 1 {
		t.Fatalf("local event %+v", local)
	}
	if ev := a.next(t); !same(ev, local) {
		t.Fatalf("a delivered %+v, want %+v", ev, local)
	}
	b.none(t) // nothing crosses nodes while down
	_, pos, _, err := a.b.History(context.Background(), "workshop:1", realtime.Position{})
	if err != nil || pos != (realtime.Position{Epoch: local.Epoch, Seq: 1}) {
		t.Fatalf("local history position %+v, %v", pos, err)
	}
	// Subscribing while down works locally and is restored on recovery.
	a.subscribe(t, "workshop:2")
	b.subscribe(t, "workshop:2")

	srv.start()
	a.waitResets(t, "workshop:1", "workshop:2")
	b.waitResets(t, "workshop:1", "workshop:2")
	eventually(t, "both nodes up", func() bool { return a.b.State() == "up" && b.b.State() == "up" })

	for room, from := range map[string]*node{"workshop:1": a, "workshop:2": b} {
		after := from.publish(t, room, `"after"`)
		if after.Epoch == before.Epoch || after.Epoch == local.Epoch {
			t.Fatalf("%s: epoch %s after the outage, was %s (and %s locally)", room, after.Epoch, before.Epoch, local.Epoch)
		}
		for name, n := range map[string]*node{"a": a, "b": b} {
			if ev := n.next(t); !same(ev, after) {
				t.Fatalf("%s: node %s got %+v, want %+v", room, name, ev, after)
			}
		}
	}
}

// Losing only the pub/sub connections (Redis keeps its data) also forces a new epoch: events
// published meanwhile were never delivered to the nodes.
func TestPubSubLossRenewsEpoch(t *testing.T) {
	srv := startServer(t)
	opts := redis.BrokerOptions{Prefix: prefix(t)}
	a, b := startNode(t, srv.options(), opts), startNode(t, srv.options(), opts)
	a.subscribe(t, "forum:9")
	b.subscribe(t, "forum:9")
	before := a.publish(t, "forum:9", `1`)
	a.next(t)
	b.next(t)

	admin := newClient(t, srv.options())
	if err := admin.Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	a.waitResets(t, "forum:9")
	b.waitResets(t, "forum:9")
	eventually(t, "both nodes up", func() bool { return a.b.State() == "up" && b.b.State() == "up" })
	after := b.publish(t, "forum:9", `2`)
	if after.Epoch == before.Epoch || after.Seq != 1 {
		t.Fatalf("after %+v, before %+v", after, before)
	}
	for _, n := range []*node{a, b} {
		ev := n.next(t)
		for ev.Epoch == before.Epoch { // a late event of the old epoch may still be in flight
			ev = n.next(t)
		}
		if !same(ev, after) {
			t.Fatalf("got %+v, want %+v", ev, after)
		}
	}
}

// A node too busy to keep up with a room (its deliveries take longer than the health check's
// timeout) is not in an outage: it stays up, in the same epoch, delivers every event in order
// with no reset (which would send every client a snapshot on a node short of time), and rooms
// joined meanwhile are subscribed, not an outage either, even when the joiner gives up.
func TestABusyNodeStaysUp(t *testing.T) {
	o := sharedOptions(t)
	opts := redis.BrokerOptions{Prefix: prefix(t), HealthInterval: 20 * time.Millisecond,
		Timeout: 200 * time.Millisecond, Logger: testLogger(t)} // behind by up to 2 s is busy
	busy := startSlowNode(t, o, opts, 25*time.Millisecond)
	busy.subscribe(t, "session:busy")
	publisher := startNode(t, o, redis.BrokerOptions{Prefix: opts.Prefix})
	const n = 60 // 1.5 s of deliveries: the pings wait behind them
	for i := range n {
		publisher.publish(t, "session:busy", data(i))
	}
	joined := make(chan error, 1)
	var epoch string
	for seq := uint64(1); seq <= n; seq++ {
		select {
		case ev := <-busy.events:
			if ev.Seq != seq || (epoch != "" && ev.Epoch != epoch) || string(ev.Data) != data(int(seq-1)) {
				t.Fatalf("got #%d epoch %s %s, want #%d epoch %s", ev.Seq, ev.Epoch, ev.Data, seq, epoch)
			}
			epoch = ev.Epoch
		case r := <-busy.resets:
			t.Fatalf("room %s reset after %d events: the busy node went down", r, seq-1)
		case <-time.After(10 * time.Second):
			t.Fatalf("event #%d not delivered (state %s)", seq, busy.b.State())
		}
		if busy.b.State() != "up" {
			t.Fatalf("down after %d events", seq)
		}
		if seq == 5 { // people join other rooms while the node is behind; one gives up
			go func() { joined <- busy.b.Subscribe(context.Background(), "participant:late") }()
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				defer cancel()
				_ = busy.b.Subscribe(ctx, "participant:gave-up")
			}()
		}
	}
	if err := <-joined; err != nil || busy.b.State() != "up" {
		t.Fatalf("subscribing while behind: %v, state %s", err, busy.b.State())
	}
	ev := publisher.publish(t, "participant:late", `"hi"`)
	select {
	case got := <-busy.events:
		if !same(got, ev) {
			t.Fatalf("got %+v, want %+v", got, ev)
		}
	case r := <-busy.resets:
		t.Fatalf("room %s reset", r)
	case <-time.After(10 * time.Second):
		t.Fatal("the room joined while behind gets no events")
	}
}

// A Redis that stops answering while a node is still working through what it had sent is an
// outage once the node's pings have gone unanswered for lateLimit timeouts, however long the
// backlog would last.
func TestAStoppedRedisIsAnOutageDespiteABacklog(t *testing.T) {
	srv := startServer(t)
	opts := redis.BrokerOptions{Prefix: prefix(t), HealthInterval: 20 * time.Millisecond,
		Timeout: 100 * time.Millisecond, Logger: testLogger(t)} // down after 1 s without an answer
	busy := startSlowNode(t, srv.options(), opts, 25*time.Millisecond)
	busy.subscribe(t, "session:busy")
	publisher := startNode(t, srv.options(), redis.BrokerOptions{Prefix: opts.Prefix})
	const n = 400 // 10 s of deliveries, all sent to the node before Redis stops
	for i := range n {
		publisher.publish(t, "session:busy", data(i))
	}
	eventually(t, "the first deliveries", func() bool { return busy.delivered.Load() > 0 })
	if err := srv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.cmd.Process.Signal(syscall.SIGCONT) }()
	eventually(t, "the busy node to go down", func() bool { return busy.b.State() == "down" })
	if d := busy.delivered.Load(); d >= n {
		t.Fatalf("went down only after the whole backlog (%d events)", d)
	}
}

func TestPing(t *testing.T) {
	o := sharedOptions(t)
	if err := redis.Ping(context.Background(), newClient(t, o)); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t)
	c := newClient(t, srv.options())
	srv.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := redis.Ping(ctx, c); err == nil {
		t.Fatal("ping of a stopped server succeeded")
	}
}

func same(a, b realtime.Event) bool {
	return a.Room == b.Room && a.Epoch == b.Epoch && a.Seq == b.Seq && string(a.Data) == string(b.Data)
}

func TestBrokerContract(t *testing.T) {
	o := sharedOptions(t)
	brokertest.Run(t, func(t *testing.T) realtime.Broker {
		oc := *o
		return redis.NewBroker(newClient(t, &oc), redis.BrokerOptions{Prefix: prefix(t), Logger: testLogger(t)})
	})
}
