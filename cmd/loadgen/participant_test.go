package main

import (
	"context"
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestReconnectDelayFollowsTheWebClient(t *testing.T) {
	// frontend/src/lib/live.ts: 0.5 s doubling to 15 s, between half and all of the ceiling.
	for n, ceiling := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second, 15 * time.Second} {
		low, high := reconnectDelay(n, func() float64 { return 0 }), reconnectDelay(n, func() float64 { return 0.999999 })
		if low != ceiling/2 || high <= ceiling*99/100 || high > ceiling {
			t.Fatalf("attempt %d: %v..%v, want %v..%v", n, low, high, ceiling/2, ceiling)
		}
	}
	if d := reconnectDelay(200, func() float64 { return 0.5 }); d > 15*time.Second {
		t.Fatalf("a late attempt waits %v", d)
	}
}

// A participant that resumes with the missed events replayed keeps its position until they
// arrive, so they are not counted as out of sequence; a snapshot or a resync moves it.
func TestSubscribeAnswersMoveThePositionAsTheWebClientDoes(t *testing.T) {
	p := newParticipant([]string{"a", "b"}, 0, "10.0.0.1")
	p.links = []link{{node: 0, start: 1}}
	p.handle([]byte(`{"type":"subscribed","room":"session:s","epoch":"e","seq":3}`))
	if p.seq != 3 || p.links[0].how != "snapshot" || p.links[0].answered == 0 {
		t.Fatalf("first subscription: seq %d, link %+v", p.seq, p.links[0])
	}
	p.links = append(p.links, link{node: 1, start: 2})
	p.handle([]byte(`{"type":"subscribed","room":"session:s","epoch":"e","seq":5,"recovered":true}`))
	p.handle([]byte(`{"type":"event","room":"session:s","epoch":"e","seq":4,"data":{"type":"x"}}`))
	p.handle([]byte(`{"type":"event","room":"session:s","epoch":"e","seq":5,"data":{"type":"x"}}`))
	if p.gaps != 0 || p.seq != 5 || p.links[1].how != "replayed" {
		t.Fatalf("resumed: gaps %d, seq %d, link %+v", p.gaps, p.seq, p.links[1])
	}
	p.handle([]byte(`{"type":"resync","room":"session:s","epoch":"f","seq":9,"snapshot":{}}`))
	p.handle([]byte(`{"type":"event","room":"session:s","epoch":"f","seq":10,"data":{"type":"x"}}`))
	if p.gaps != 0 || p.seq != 10 || p.links[1].how != "resync" {
		t.Fatalf("resynchronised: gaps %d, seq %d, link %+v", p.gaps, p.seq, p.links[1])
	}
	p.handle([]byte(`{"type":"event","room":"session:s","epoch":"f","seq":12,"data":{"type":"x"}}`))
	if p.gaps != 1 {
		t.Fatalf("a skipped event was not counted: %d", p.gaps)
	}
}

func TestResumedAfterReadsTheConnectionsAroundTheKill(t *testing.T) {
	const kill = 1000
	ms := int64(time.Millisecond)
	cases := []struct {
		name  string
		links []link
		on    bool
		how   string
		after time.Duration
	}{
		{"on another node all along", []link{{node: 0, start: 10, answered: 20}}, false, "", 0},
		{"left the node before the kill", []link{{node: 1, start: 10, end: 500}, {node: 0, start: 600, answered: 700}}, false, "", 0},
		{"joined after the kill", []link{{node: 1, start: kill + 1}}, false, "", 0},
		{"resumed with the events replayed", []link{{node: 1, start: 10, answered: 20, end: kill + 5},
			{node: 0, start: kill + 300*ms, answered: kill + 400*ms, how: "replayed"}}, true, "replayed", 400 * time.Millisecond},
		{"a failed try first", []link{{node: 1, start: 10, answered: 20, end: kill},
			{node: 0, start: kill + 100, end: kill + 200}, {node: 0, start: kill + 2000*ms, answered: kill + 2100*ms, how: "snapshot"}}, true, "snapshot", 2100 * time.Millisecond},
		{"still reconnecting", []link{{node: 1, start: 10, answered: 20, end: kill + 5}}, true, "", 0},
		{"still connected (the kill missed it)", []link{{node: 1, start: 10, answered: 20}}, true, "", 0},
	}
	for _, c := range cases {
		on, how, after := resumedAfter(c.links, 1, kill)
		if on != c.on || how != c.how || after != c.after {
			t.Errorf("%s: %v %q %v, want %v %q %v", c.name, on, how, after, c.on, c.how, c.after)
		}
	}
}

// The participant's websocket binds its own port; a port it cannot have (here: a listener's)
// is given up for an ephemeral one on that attempt.
func TestDialBindsTheParticipantsPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	free, err := net.Listen("tcp", "127.0.0.1:0") // a port nobody holds once closed
	if err != nil {
		t.Fatal(err)
	}
	port := free.Addr().(*net.TCPAddr).Port
	free.Close()

	p := newParticipant([]string{"x"}, 0, "10.0.0.1")
	p.port = port
	ctx := context.Background()
	c, err := p.dial(ctx, "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if got := c.LocalAddr().(*net.TCPAddr).Port; got != port || p.portFallbacks.Load() != 0 {
		t.Fatalf("bound %d, want %d (fallbacks %d)", got, port, p.portFallbacks.Load())
	}
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	// Reconnecting reuses the port (the reset left no TIME_WAIT behind).
	c, err = p.dial(ctx, "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if got := c.LocalAddr().(*net.TCPAddr).Port; got != port {
		t.Fatalf("the reconnect bound %d, want %d", got, port)
	}
	c.Close()

	p.port = l.Addr().(*net.TCPAddr).Port // a listener's port cannot be bound
	c, err = p.dial(ctx, "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p.portFallbacks.Load() != 1 || c.LocalAddr().(*net.TCPAddr).Port == p.port {
		t.Fatalf("no fallback: %v, fallbacks %d", c.LocalAddr(), p.portFallbacks.Load())
	}
	// A node that is down is an error, not a fallback.
	down, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := down.Addr().String()
	down.Close()
	p.port = port
	if _, err := p.dial(ctx, "tcp", addr); !errors.Is(err, syscall.ECONNREFUSED) || p.portFallbacks.Load() != 1 {
		t.Fatalf("dialing a closed port: %v, fallbacks %d", err, p.portFallbacks.Load())
	}
}

// A participant records the arrival of session.state versions and of -publish-redis's events,
// each under its own number, and nothing else.
func TestParticipantsRecordBroadcastsByNumber(t *testing.T) {
	p := newParticipant([]string{"a"}, 0, "10.0.0.1")
	p.epoch = "e"
	frame := func(seq int, data string) []byte {
		return []byte(`{"type":"event","room":"session:s","epoch":"e","seq":` + strconv.Itoa(seq) + `,"data":` + data + `}`)
	}
	p.handle(frame(1, `{"session":{"id":"s","version":7,"serverTime":"2026-11-26T00:00:00Z"},"type":"session.state"}`))
	p.handle(frame(2, string(tickEvent(firstTick+3))))
	p.handle(frame(3, `{"tick":5,"type":"question.new"}`))
	p.handle(frame(4, `{"type":"bench.tick","tick":9}`)) // not the publisher's key order: not read
	if len(p.received) != 2 || p.received[7].IsZero() || p.received[firstTick+3].IsZero() || p.gaps != 0 {
		t.Fatalf("received %v, gaps %d", p.received, p.gaps)
	}
	for _, bad := range []string{`{"tick":x,"type":"bench.tick"}`, `{"tick":1,"type":"bench.tock"}`, `{}`} {
		if n, ok := tickNumber([]byte(bad)); ok {
			t.Errorf("%s read as tick %d", bad, n)
		}
	}
}
