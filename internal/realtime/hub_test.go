package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	fastws "github.com/fasthttp/websocket"

	"github.com/insieme/insieme/internal/inmem"
	"github.com/insieme/insieme/internal/insieme"
	"github.com/insieme/insieme/internal/realtime"
)

func TestSubscribeSnapshotThenEventsInOrder(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	c := e.dial()
	sub := c.subscribe("forum:1", nil)
	if sub.Recovered || sub.Seq != 0 || !strings.Contains(string(sub.Snapshot), `"room":"forum:1"`) {
		t.Fatalf("subscribed: %+v snapshot %s", sub, sub.Snapshot)
	}
	for i := 1; i <= 200; i++ {
		publish(t, e.hub, "forum:1", map[string]int{"i": i})
	}
	publish(t, e.hub, "forum:2", "another room") // not followed: never sent
	for i := 1; i <= 200; i++ {
		m := c.expectEvent("forum:1", uint64(i))
		if m.Epoch != sub.Epoch || string(m.Data) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("event %d: %+v data %s", i, m, m.Data)
		}
	}
	c.sync()
	if s := e.hub.Stats(); s.Connections != 1 || s.Rooms != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// Frames of every length encoding (7-bit, 16-bit and 64-bit) reach the client intact.
func TestFrameSizes(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	c := e.dial()
	c.subscribe("forum:big", nil)
	sizes := []int{0, 90, 123, 200, 65000, 65600, 300000}
	for _, n := range sizes {
		publish(t, e.hub, "forum:big", strings.Repeat("y", n))
	}
	for i, n := range sizes {
		m := c.expectEvent("forum:big", uint64(i+1))
		if len(m.Data) != n+2 {
			t.Fatalf("event of %d bytes arrived with %d", n, len(m.Data)-2)
		}
	}
}

func TestResumeSendsExactlyTheMissedEvents(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	a := e.dial()
	sub := a.subscribe("session:1", nil)
	for i := 1; i <= 3; i++ {
		publish(t, e.hub, "session:1", i)
	}
	for i := 1; i <= 3; i++ {
		a.expectEvent("session:1", uint64(i))
	}
	_ = a.c.Close()
	for i := 4; i <= 6; i++ { // while away
		publish(t, e.hub, "session:1", i)
	}

	b := e.dial()
	got := b.subscribe("session:1", &realtime.Position{Epoch: sub.Epoch, Seq: 3})
	if !got.Recovered || got.Snapshot != nil || got.Epoch != sub.Epoch || got.Seq != 6 {
		t.Fatalf("subscribed: %+v", got)
	}
	for i := 4; i <= 6; i++ {
		if m := b.expectEvent("session:1", uint64(i)); string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("event %d data %s", i, m.Data)
		}
	}
	publish(t, e.hub, "session:1", 7)
	b.expectEvent("session:1", 7)
	b.sync() // nothing else: no duplicates

	// Resuming at the current position: recovered, nothing to send.
	c := e.dial()
	got = c.subscribe("session:1", &realtime.Position{Epoch: sub.Epoch, Seq: 7})
	if !got.Recovered || got.Seq != 7 {
		t.Fatalf("subscribed: %+v", got)
	}
	c.sync()
}

func TestResumeFallsBackToSnapshot(t *testing.T) {
	e := newEnv(t, realtime.Options{Broker: inmem.NewBroker(4)})
	c := e.dial()
	sub := c.subscribe("workshop:1", nil)
	for i := 1; i <= 10; i++ {
		publish(t, e.hub, "workshop:1", i)
	}
	for name, since := range map[string]realtime.Position{
		"unknown epoch":        {Epoch: "0123456789abcdef", Seq: 9},
		"beyond the history":   {Epoch: sub.Epoch, Seq: 2},
		"ahead of the room":    {Epoch: sub.Epoch, Seq: 99},
		"empty epoch, seq set": {Seq: 9},
	} {
		t.Run(name, func(t *testing.T) {
			d := e.dial()
			got := d.subscribe("workshop:1", &since)
			if got.Recovered || got.Snapshot == nil || got.Epoch != sub.Epoch || got.Seq != 10 {
				t.Fatalf("subscribed: %+v", got)
			}
			d.sync() // the snapshot stands for everything: no events follow
		})
	}
}

// Clients subscribing while events flow each see every event after their position exactly
// once, in order: the subscribe path buffers live events while it reads position and snapshot.
func TestSubscribeDuringPublishingHasNoGapsNorDuplicates(t *testing.T) {
	e := newEnv(t, realtime.Options{QueueSize: 8192})
	const total = 1500
	var wg sync.WaitGroup
	start := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		for i := 1; i <= total; i++ {
			if _, err := e.hub.Publish(context.Background(), "forum:busy", i); err != nil {
				t.Error(err)
				return
			}
			if i%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	clients := make([]*wsClient, 8)
	for i := range clients {
		clients[i] = e.dial()
	}
	close(start)
	for i, c := range clients {
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.send(map[string]any{"type": "subscribe", "room": "forum:busy"})
			m, err := c.read()
			if err != nil || m.Type != "subscribed" {
				t.Errorf("client %d: %v %+v", i, err, m)
				return
			}
			next := m.Seq + 1
			for next <= total {
				m, err := c.read()
				if err != nil {
					t.Errorf("client %d: %v", i, err)
					return
				}
				if m.Type != "event" || m.Seq != next || string(m.Data) != fmt.Sprint(next) {
					t.Errorf("client %d: got %s #%d, want event #%d", i, m.Type, m.Seq, next)
					return
				}
				next++
			}
		}()
	}
	wg.Wait()
}

func TestSlowClientIsDroppedAndFastClientIsNot(t *testing.T) {
	e := newEnv(t, realtime.Options{QueueSize: 16, CloseGrace: 20 * time.Second})
	fast, slow := e.dial(), e.dial()
	fast.subscribe("session:big", nil)
	slow.subscribe("session:big", nil) // and never reads again until dropped

	got := make(chan uint64, 1<<16)
	go func() {
		for {
			m, err := fast.read()
			if err != nil {
				close(got)
				return
			}
			if m.Type == "event" {
				got <- m.Seq
			}
		}
	}()
	pad := strings.Repeat("x", 16<<10)
	wait := func(seq uint64) {
		t.Helper()
		select {
		case s, ok := <-got:
			if !ok || s != seq {
				t.Fatalf("fast client got #%d (open %v), want #%d", s, ok, seq)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("fast client waited 10 s for #%d", seq)
		}
	}
	// Publish in step with the fast client: the slow one's socket buffers fill, then its
	// queue, and it is dropped; the publisher never waits for it.
	var seq uint64
	for e.hub.Stats().SlowDropped == 0 {
		if seq > 5000 {
			t.Fatal("the slow client was never dropped")
		}
		seq = publish(t, e.hub, "session:big", pad).Seq
		wait(seq)
	}
	for range 20 {
		seq = publish(t, e.hub, "session:big", "after").Seq
		wait(seq)
	}
	t.Logf("slow client dropped after %d events of 16 KiB", seq-20)
	// The slow client finally reads: what was buffered, then close code 4000.
	slow.expectClose(realtime.CloseSlowConsumer)
	eventually(t, "the slow connection to end", func() bool { return e.hub.Stats().Connections == 1 })
	if s := e.hub.Stats(); s.SlowDropped != 1 {
		t.Fatalf("stats %+v", s)
	}
	seq = publish(t, e.hub, "session:big", "still there").Seq
	wait(seq)
}

func TestMalformedMessagesGetErrorsAndTheConnectionStays(t *testing.T) {
	e := newEnv(t, realtime.Options{MaxMessageBytes: 1024})
	c := e.dial()
	for _, tc := range []struct {
		name, send, code, ref string
	}{
		{"not JSON", "not json", insieme.EINVALID, ""},
		{"no type", `{"ref":7}`, insieme.EINVALID, "7"},
		{"not an object", `[1,2]`, insieme.EINVALID, ""},
		{"unknown type", `{"type":"nope","ref":"r1"}`, insieme.EINVALID, `"r1"`},
		{"no room", `{"type":"subscribe","ref":"r2"}`, insieme.EINVALID, `"r2"`},
		{"forbidden room", `{"type":"subscribe","room":"forbidden","ref":"r3"}`, insieme.EFORBIDDEN, `"r3"`},
		{"private room, anonymous", `{"type":"subscribe","room":"participant:u1"}`, insieme.EUNAUTHORIZED, ""},
		{"auth without token", `{"type":"auth","ref":"r4"}`, insieme.EINVALID, `"r4"`},
		{"auth, bad token", `{"type":"auth","token":"nope"}`, insieme.EUNAUTHORIZED, ""},
		{"oversized", `{"type":"ping","pad":"` + strings.Repeat("x", 5000) + `"}`, insieme.EINVALID, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			c.sendRaw(fastws.TextMessage, []byte(tc.send))
			m := c.expect("error")
			if m.Code != tc.code || string(m.Ref) != tc.ref || m.Message == "" {
				t.Fatalf("error %+v (ref %s)", m, m.Ref)
			}
			c.sync()
		})
	}
	c.t = t
	c.sendRaw(fastws.BinaryMessage, []byte{1, 2, 3})
	if m := c.expect("error"); m.Code != insieme.EINVALID {
		t.Fatalf("binary: %+v", m)
	}
	c.sync()

	// Far beyond the limit (64x) the connection is closed with 1009.
	c.sendRaw(fastws.TextMessage, []byte(strings.Repeat("x", 64*1024+1)))
	c.expectClose(realtime.CloseTooBig)
}

func TestHandlersAckOrErrorWithRef(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	e.hub.Handle("echo", func(_ context.Context, p *insieme.Principal, raw json.RawMessage) (any, error) {
		var m struct{ X int }
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		who := ""
		if p != nil {
			who = p.ID
		}
		return map[string]any{"x": m.X, "who": who}, nil
	})
	e.hub.Handle("nothing", func(context.Context, *insieme.Principal, json.RawMessage) (any, error) { return nil, nil })
	e.hub.Handle("refuse", func(context.Context, *insieme.Principal, json.RawMessage) (any, error) {
		return nil, insieme.Errorf(insieme.ECONFLICT, "The poll is closed.")
	})
	e.hub.Handle("leak", func(context.Context, *insieme.Principal, json.RawMessage) (any, error) {
		return nil, errors.New("mongo: connection refused at 10.0.0.3")
	})
	e.hub.Handle("panic", func(context.Context, *insieme.Principal, json.RawMessage) (any, error) { panic("boom") })
	for _, reserved := range []string{"auth", "subscribe", "unsubscribe", "ping", "echo"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q) did not panic", reserved)
				}
			}()
			e.hub.Handle(reserved, nil)
		}()
	}

	c := e.dial()
	c.send(map[string]any{"type": "auth", "token": "tok-u1", "ref": 1})
	if m := c.expect("authed"); m.Principal == nil || m.Principal.ID != "u1" || string(m.Ref) != "1" {
		t.Fatalf("authed %+v", m)
	}
	c.send(map[string]any{"type": "echo", "X": 42, "ref": "a"})
	if m := c.expect("ack"); string(m.Ref) != `"a"` || string(m.Data) != `{"who":"u1","x":42}` {
		t.Fatalf("ack %+v data %s", m, m.Data)
	}
	c.send(map[string]any{"type": "nothing", "ref": "b"})
	if m := c.expect("ack"); string(m.Ref) != `"b"` || m.Data != nil {
		t.Fatalf("ack %+v", m)
	}
	c.send(map[string]any{"type": "refuse", "ref": "c"})
	if m := c.expect("error"); string(m.Ref) != `"c"` || m.Code != insieme.ECONFLICT || m.Message != "The poll is closed." {
		t.Fatalf("error %+v", m)
	}
	for _, typ := range []string{"leak", "panic"} {
		c.send(map[string]any{"type": typ, "ref": typ})
		m := c.expect("error")
		if m.Code != insieme.EINTERNAL || strings.Contains(m.Message, "mongo") || strings.Contains(m.Message, "boom") {
			t.Fatalf("%s: %+v", typ, m)
		}
	}
	c.sync()
}

func TestAuthPrivateRoomsAndDisconnectPrincipal(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	c, other := e.dial(), e.dial()
	c.send(map[string]any{"type": "auth", "token": "tok-u1"})
	c.expect("authed")
	c.subscribe("participant:u1", nil)
	c.send(map[string]any{"type": "subscribe", "room": "participant:u2", "ref": "x"})
	if m := c.expect("error"); m.Code != insieme.EFORBIDDEN || m.Room != "participant:u2" {
		t.Fatalf("error %+v", m)
	}
	c.send(map[string]any{"type": "auth", "token": "tok-u2", "ref": "y"})
	if m := c.expect("error"); m.Code != insieme.ECONFLICT {
		t.Fatalf("error %+v", m)
	}
	publish(t, e.hub, "participant:u1", "for u1")
	c.expectEvent("participant:u1", 1)

	e.hub.DisconnectPrincipal("u1", realtime.CloseAccountClosed)
	c.expectClose(realtime.CloseAccountClosed)
	other.sync()
	eventually(t, "the connection to end", func() bool { return e.hub.Stats().Connections == 1 })
}

func TestUnsubscribeAndOneBrokerSubscriptionPerRoom(t *testing.T) {
	b := newTestBroker()
	e := newEnv(t, realtime.Options{Broker: b})
	cs := []*wsClient{e.dial(), e.dial(), e.dial()}
	for _, c := range cs {
		c.subscribe("org:1", nil)
	}
	if n := b.nsub.Load(); n != 1 {
		t.Fatalf("%d broker subscriptions for one room", n)
	}
	publish(t, e.hub, "org:1", "hi")
	for _, c := range cs {
		c.expectEvent("org:1", 1)
		c.send(map[string]any{"type": "unsubscribe", "room": "org:1", "ref": 5})
		if m := c.expect("unsubscribed"); m.Room != "org:1" || string(m.Ref) != "5" {
			t.Fatalf("unsubscribed %+v", m)
		}
	}
	if n := b.nunsub.Load(); n != 1 || e.hub.Stats().Rooms != 0 {
		t.Fatalf("%d broker unsubscriptions, stats %+v", n, e.hub.Stats())
	}
	publish(t, e.hub, "org:1", "nobody")
	cs[0].sync()
}

func TestResetAndNewEpochResync(t *testing.T) {
	b := newTestBroker()
	e := newEnv(t, realtime.Options{Broker: b})
	c := e.dial()
	sub := c.subscribe("session:9", nil)
	publish(t, e.hub, "session:9", 1)
	c.expectEvent("session:9", 1)

	// The broker says the room's history was lost: a fresh snapshot at the current position.
	b.callReset("session:9")
	m := c.expect("resync")
	if m.Epoch != sub.Epoch || m.Seq != 1 || !strings.Contains(string(m.Snapshot), `"n":2`) {
		t.Fatalf("resync %+v snapshot %s", m, m.Snapshot)
	}
	publish(t, e.hub, "session:9", 2)
	c.expectEvent("session:9", 2)

	// The room restarts in a new epoch without a reset (as when another node renewed it):
	// the first event of the new epoch triggers a resync, not a confused client.
	b.hist.Forget("session:9")
	ev := publish(t, e.hub, "session:9", "new")
	m = c.expect("resync")
	if m.Epoch != ev.Epoch || m.Epoch == sub.Epoch || m.Seq != 1 {
		t.Fatalf("resync %+v, the new epoch is %s", m, ev.Epoch)
	}
	publish(t, e.hub, "session:9", "next")
	if m := c.expectEvent("session:9", 2); m.Epoch != ev.Epoch {
		t.Fatalf("event %+v", m)
	}
	c.sync()
}

func TestFloodIsClosedWith4001(t *testing.T) {
	e := newEnv(t, realtime.Options{RatePerSecond: 5})
	c := e.dial()
	for i := range 200 {
		c.wmu.Lock()
		err := c.c.WriteMessage(fastws.TextMessage, fmt.Appendf(nil, `{"type":"ping","ref":%d}`, i))
		c.wmu.Unlock()
		if err != nil {
			break // closed under us: fine
		}
	}
	pongs, refused := 0, 0
	for {
		m, err := c.read()
		if err != nil {
			var ce *fastws.CloseError
			if !errors.As(err, &ce) || ce.Code != realtime.CloseFlood {
				t.Fatalf("connection ended with %v, want 4001", err)
			}
			break
		}
		switch {
		case m.Type == "pong":
			pongs++
		case m.Type == "error" && m.Code == insieme.ETOOMANY:
			refused++
		default:
			t.Fatalf("unexpected %+v", m)
		}
	}
	if pongs < 10 || pongs > 12 || refused == 0 {
		t.Fatalf("%d pongs (burst is 10), %d refused", pongs, refused)
	}
}

func TestShutdownClosesWithGoingAway(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	a, b := e.dial(), e.dial()
	a.subscribe("forum:1", nil)
	done := make(chan struct{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.hub.Shutdown(ctx)
		close(done)
	}()
	a.expectClose(realtime.CloseGoingAway)
	b.expectClose(realtime.CloseGoingAway)
	<-done
	if s := e.hub.Stats(); s.Connections != 0 || s.Rooms != 0 {
		t.Fatalf("stats after shutdown %+v", s)
	}
	// New connections are refused the same way.
	c, _, err := fastws.DefaultDialer.Dial(e.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	(&wsClient{t: t, c: c}).expectClose(realtime.CloseGoingAway)
}

func TestSilentClientMissesHeartbeatsAndIsDropped(t *testing.T) {
	e := newEnv(t, realtime.Options{Heartbeat: 50 * time.Millisecond})
	live := e.dial()
	silent := e.dial()
	_ = silent  // never reads, so never answers pings
	go func() { // the live one reads, and its library answers pings, until the test ends
		for {
			if _, _, err := live.c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	eventually(t, "the silent client to be dropped", func() bool { return e.hub.Stats().Connections == 1 })
	time.Sleep(300 * time.Millisecond) // six heartbeats: the live one stays
	if n := e.hub.Stats().Connections; n != 1 {
		t.Fatalf("%d connections, want the live one", n)
	}
}

// One person's connections share a budget: opening more connections buys no more messages.
func TestPrincipalsShareOneBudgetAcrossConnections(t *testing.T) {
	e := newEnv(t, realtime.Options{RatePerSecond: 50, RatePerPrincipal: 10})
	conns := []*wsClient{e.dial(), e.dial(), e.dial()}
	for _, c := range conns {
		c.send(map[string]any{"type": "auth", "token": "tok-amina"})
		c.expect("authed")
	}
	// 3 connections × 9 pings at once: within each connection's budget (burst 100), past the
	// person's (burst 20 for the three together), not a flood (fewer strikes than the burst).
	for _, c := range conns {
		for i := range 9 {
			c.send(map[string]any{"type": "ping", "ref": i})
		}
	}
	pongs, refused := 0, 0
	for _, c := range conns {
		for range 9 {
			m, err := c.read()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case m.Type == "pong":
				pongs++
			case m.Type == "error" && m.Code == insieme.ETOOMANY:
				refused++
			default:
				t.Fatalf("unexpected %+v", m)
			}
		}
	}
	if pongs > 22 || refused < 5 || pongs+refused != 27 {
		t.Fatalf("%d pongs, %d refused; want at most the person's burst (20, and a little refill) served", pongs, refused)
	}
	// Someone else is not affected.
	other := e.dial()
	other.send(map[string]any{"type": "auth", "token": "tok-karim"})
	other.expect("authed")
	other.send(map[string]any{"type": "ping", "ref": 1})
	other.expect("pong")
}

// Frames bigger than a socket's buffer (the writer's write waits for the client to read them)
// arrive whole, and the small frames queued behind them follow in order, on every connection.
func TestFramesBiggerThanTheSocketBufferArriveWholeAndInOrder(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	clients := []*wsClient{e.dial(), e.dial(), e.dial()}
	for _, c := range clients {
		c.subscribe("forum:huge", nil)
	}
	big := strings.Repeat("z", 3<<20) // beyond a loopback socket's buffer
	var want []int
	for i := range 6 {
		if i%2 == 0 {
			publish(t, e.hub, "forum:huge", big)
			want = append(want, len(big)+2)
		} else {
			publish(t, e.hub, "forum:huge", i)
			want = append(want, 1)
		}
	}
	for _, c := range clients {
		for i, n := range want {
			m := c.expectEvent("forum:huge", uint64(i+1))
			if len(m.Data) != n {
				t.Fatalf("event %d arrived with %d bytes, want %d", i+1, len(m.Data), n)
			}
		}
	}
}

// A connection whose last blocking write (what its socket did not take at once) ended longer
// than WriteTimeout ago still gets its events: that write's deadline does not outlive it.
func TestIdleConnectionGetsEventsAfterTheWriteTimeout(t *testing.T) {
	e := newEnv(t, realtime.Options{WriteTimeout: 500 * time.Millisecond})
	c := e.dial()
	c.subscribe("forum:quiet", nil) // the snapshot goes through the writer
	// An event bigger than the socket takes at once, read only after a pause: its rest is
	// written the blocking way, under a write deadline.
	big := strings.Repeat("q", 4<<20)
	publish(t, e.hub, "forum:quiet", big)
	time.Sleep(100 * time.Millisecond)
	if m := c.expectEvent("forum:quiet", 1); len(m.Data) != len(big)+2 {
		t.Fatalf("the big event is %d bytes", len(m.Data))
	}
	time.Sleep(time.Second) // idle, well past the deadline of that write
	for i := 2; i <= 4; i++ {
		publish(t, e.hub, "forum:quiet", i)
		c.expectEvent("forum:quiet", uint64(i))
	}
	if s := e.hub.Stats(); s.Connections != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// Events far bigger than a socket's buffers, published while a client is not reading, are
// written partly at once and the rest when the client reads again: it gets each whole, in
// order, and a client that keeps reading is never held up by it.
func TestPartlyWrittenEventsArriveWhole(t *testing.T) {
	e := newEnv(t, realtime.Options{WriteSlots: 1}) // a turn held through a blocking write would stall reading
	paused, reading := e.dial(), e.dial()
	paused.subscribe("session:big", nil)
	reading.subscribe("session:big", nil)
	const n = 12
	want := make([]string, n)
	for i := range want {
		want[i] = strings.Repeat(string(rune('a'+i)), 512<<10+i) // 0.5 MiB: beyond any one write
	}
	for i, data := range want {
		seq := publish(t, e.hub, "session:big", data).Seq
		m := reading.expectEvent("session:big", seq)
		var got string
		if err := json.Unmarshal(m.Data, &got); err != nil || got != data {
			t.Fatalf("reading client: event %d is %d bytes, want %d (%v)", i, len(got), len(data), err)
		}
	}
	time.Sleep(100 * time.Millisecond) // the paused client's writer is stuck in a partial write
	for i, data := range want {
		m := paused.expect("event")
		var got string
		if err := json.Unmarshal(m.Data, &got); err != nil || got != data || m.Seq != uint64(i+1) {
			t.Fatalf("paused client: event #%d is %d bytes, want #%d of %d bytes (%v)", m.Seq, len(got), i+1, len(data), err)
		}
	}
	paused.sync()
}

// The websocket library never writes to the socket itself, not even the close frame it would
// send on a client's protocol error (from the reader, racing the writer, holding the socket
// for up to a second): the connection just ends.
func TestTheLibraryDoesNotWriteOnAProtocolError(t *testing.T) {
	e := newEnv(t, realtime.Options{})
	c := e.dial()
	c.sync()
	// A masked frame with the reserved opcode 3 and no payload.
	if _, err := c.c.UnderlyingConn().Write([]byte{0x83, 0x80, 1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	_, err := c.read()
	var ce *fastws.CloseError
	if err == nil || (errors.As(err, &ce) && ce.Code == fastws.CloseProtocolError) {
		t.Fatalf("after a protocol error: %v, want the connection ended without the library's close frame", err)
	}
	eventually(t, "the connection to end", func() bool { return e.hub.Stats().Connections == 0 })
}
