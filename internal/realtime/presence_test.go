package realtime_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
	"github.com/insieme/insieme/internal/realtime"
)

// presenceHooks records Joined and Left and checks that they pair up: per connection and
// room, joined and left alternate, starting with joined.
type presenceHooks struct {
	testHooks
	hub atomic.Pointer[realtime.Hub]

	mu    sync.Mutex
	calls []presenceCall
	in    map[string]bool // conn|room → joined and not left yet
	bad   []string
}

type presenceCall struct {
	joined          bool
	room, who, conn string
}

func newPresenceHooks() *presenceHooks { return &presenceHooks{in: map[string]bool{}} }

func (h *presenceHooks) base() *testHooks { return &h.testHooks }

func (h *presenceHooks) Joined(room string, p *insieme.Principal, conn string) {
	h.record(true, room, p, conn)
}

func (h *presenceHooks) Left(room string, p *insieme.Principal, conn string) {
	h.record(false, room, p, conn)
}

func (h *presenceHooks) record(joined bool, room string, p *insieme.Principal, conn string) {
	// Stats takes every hub lock: if the hook were called under one, it would not return.
	if hub := h.hub.Load(); hub != nil {
		done := make(chan struct{})
		go func() { hub.Stats(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			h.fail("hook called under a hub lock (%s %v)", room, joined)
		}
	}
	who := "anonymous"
	if p != nil {
		who = p.ID
	}
	key := conn + "|" + room
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.in[key] == joined {
		h.bad = append(h.bad, fmt.Sprintf("%s: joined=%v twice in a row", key, joined))
	}
	h.in[key] = joined
	h.calls = append(h.calls, presenceCall{joined, room, who, conn})
}

func (h *presenceHooks) fail(format string, args ...any) {
	h.mu.Lock()
	h.bad = append(h.bad, fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

// present lists who is in room now ("who@conn"), in the order they (last) joined.
func (h *presenceHooks) present(room string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	last := map[string]int{}
	for i, c := range h.calls {
		if c.room == room && c.joined {
			last[c.conn] = i
		}
	}
	var out []string
	for i, c := range h.calls {
		if c.room == room && c.joined && last[c.conn] == i && h.in[c.conn+"|"+room] {
			out = append(out, c.who+"@"+c.conn)
		}
	}
	return out
}

// counts returns the number of Joined and Left calls.
func (h *presenceHooks) counts() (joined, left int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.calls {
		if c.joined {
			joined++
		} else {
			left++
		}
	}
	return joined, left
}

func (h *presenceHooks) check(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, b := range h.bad {
		t.Error(b)
	}
}

// last returns the last call for a connection and room.
func (h *presenceHooks) last(conn, room string) (presenceCall, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.calls) - 1; i >= 0; i-- {
		if c := h.calls[i]; c.conn == conn && c.room == room {
			return c, true
		}
	}
	return presenceCall{}, false
}

func newPresenceEnv(t *testing.T, opts realtime.Options) (*env, *presenceHooks) {
	t.Helper()
	h := newPresenceHooks()
	opts.Hooks = h
	e := newEnv(t, opts)
	h.hub.Store(e.hub)
	t.Cleanup(func() { h.check(t) })
	return e, h
}

func joinedAs(h *presenceHooks, room string, want ...string) func() bool {
	return func() bool {
		got := h.present(room)
		return strings.Join(got, ",") == strings.Join(want, ",")
	}
}

func TestPresenceJoinedAndLeft(t *testing.T) {
	e, h := newPresenceEnv(t, realtime.Options{})
	a := e.dial()
	a.send(map[string]any{"type": "auth", "token": "tok-u1"})
	a.expect("authed")
	a.subscribe("session:1", nil)
	eventually(t, "u1 in session:1", joinedAs(h, "session:1", "u1@"+a.conn))

	// A refused subscribe is no membership.
	a.send(map[string]any{"type": "subscribe", "room": "forbidden"})
	a.expect("error")
	a.sync()
	if got := h.present("forbidden"); len(got) != 0 {
		t.Fatalf("a refused subscribe joined: %v", got)
	}

	// Subscribing again answers afresh: left, then joined again.
	a.subscribe("session:1", nil)
	eventually(t, "u1 in session:1 again", joinedAs(h, "session:1", "u1@"+a.conn))
	if j, l := h.counts(); j != 2 || l != 1 {
		t.Fatalf("%d joined, %d left after subscribing twice", j, l)
	}

	// Unsubscribe leaves; unsubscribing a room not joined calls nothing.
	a.send(map[string]any{"type": "unsubscribe", "room": "session:1"})
	a.expect("unsubscribed")
	a.send(map[string]any{"type": "unsubscribe", "room": "session:1"})
	a.expect("unsubscribed")
	eventually(t, "u1 out of session:1", joinedAs(h, "session:1"))
	if j, l := h.counts(); j != 2 || l != 2 {
		t.Fatalf("%d joined, %d left", j, l)
	}

	// An anonymous connection stays the same person in its rooms after authenticating: Left
	// names whoever Joined named.
	b := e.dial()
	b.subscribe("session:1", nil)
	b.send(map[string]any{"type": "auth", "token": "tok-u2"})
	b.expect("authed")
	b.subscribe("forum:1", nil)
	eventually(t, "b in both rooms", func() bool {
		return joinedAs(h, "session:1", "anonymous@"+b.conn)() && joinedAs(h, "forum:1", "u2@"+b.conn)()
	})
	// Re-authenticating as the same person changes nothing.
	b.send(map[string]any{"type": "auth", "token": "tok-u2"})
	b.expect("authed")
	b.sync()
	if j, l := h.counts(); j != 4 || l != 2 {
		t.Fatalf("%d joined, %d left after re-authenticating", j, l)
	}

	// The client goes away: it leaves every room.
	_ = b.c.Close()
	eventually(t, "b to leave both rooms", func() bool {
		return len(h.present("session:1")) == 0 && len(h.present("forum:1")) == 0
	})
	if c, _ := h.last(b.conn, "session:1"); c.joined || c.who != "anonymous" {
		t.Fatalf("last call for b in session:1: %+v", c)
	}
	if c, _ := h.last(b.conn, "forum:1"); c.joined || c.who != "u2" {
		t.Fatalf("last call for b in forum:1: %+v", c)
	}

	// Disconnected by the server (suspension): it leaves too.
	a.subscribe("session:2", nil)
	eventually(t, "u1 in session:2", joinedAs(h, "session:2", "u1@"+a.conn))
	e.hub.DisconnectPrincipal("u1", realtime.CloseAccountClosed)
	a.expectClose(realtime.CloseAccountClosed)
	eventually(t, "u1 out of session:2", joinedAs(h, "session:2"))
	eventually(t, "connections to end", func() bool { return e.hub.Stats().Connections == 0 })
	if j, l := h.counts(); j != l {
		t.Fatalf("%d joined, %d left once everyone is gone", j, l)
	}
}

func TestPresenceDisconnectFromRoomClosesOnlyThatRoomsConnections(t *testing.T) {
	e, h := newPresenceEnv(t, realtime.Options{})
	inRoom, elsewhere, other := e.dial(), e.dial(), e.dial()
	for _, c := range []*wsClient{inRoom, elsewhere} {
		c.send(map[string]any{"type": "auth", "token": "tok-u1"})
		c.expect("authed")
	}
	other.send(map[string]any{"type": "auth", "token": "tok-u2"})
	other.expect("authed")
	inRoom.subscribe("session:1", nil)
	inRoom.subscribe("forum:1", nil)
	elsewhere.subscribe("forum:1", nil)
	other.subscribe("session:1", nil)
	eventually(t, "both in session:1", joinedAs(h, "session:1", "u1@"+inRoom.conn, "u2@"+other.conn))

	e.hub.DisconnectFromRoom("u1", "session:1", realtime.CloseRemoved)
	e.hub.DisconnectFromRoom("nobody", "session:1", realtime.CloseRemoved)
	e.hub.DisconnectFromRoom("u2", "no-such-room", realtime.CloseRemoved)
	inRoom.expectClose(realtime.CloseRemoved)
	elsewhere.sync()
	other.sync()
	eventually(t, "u1 to leave its rooms", func() bool {
		return joinedAs(h, "session:1", "u2@"+other.conn)() && joinedAs(h, "forum:1", "u1@"+elsewhere.conn)()
	})
}

func TestPresenceLeftOnSlowConsumerAndShutdown(t *testing.T) {
	e, h := newPresenceEnv(t, realtime.Options{QueueSize: 8, CloseGrace: 200 * time.Millisecond})
	slow, fine := e.dial(), e.dial()
	slow.subscribe("session:big", nil) // and never reads again
	fine.subscribe("forum:quiet", nil)
	eventually(t, "slow in the room", joinedAs(h, "session:big", "anonymous@"+slow.conn))
	pad := strings.Repeat("x", 32<<10)
	for i := 0; e.hub.Stats().SlowDropped == 0; i++ {
		if i > 5000 {
			t.Fatal("the slow client was never dropped")
		}
		publish(t, e.hub, "session:big", pad)
	}
	eventually(t, "the slow client to leave", joinedAs(h, "session:big"))
	if c, _ := h.last(slow.conn, "session:big"); c.joined {
		t.Fatalf("last call %+v", c)
	}
	fine.sync()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.hub.Shutdown(ctx)
	if got := h.present("forum:quiet"); len(got) != 0 {
		t.Fatalf("still present after shutdown: %v", got)
	}
	if j, l := h.counts(); j != 2 || l != 2 {
		t.Fatalf("%d joined, %d left", j, l)
	}
}

// Many clients subscribing, unsubscribing, resubscribing and vanishing at once, while events
// flow and the server drops some of them: every Joined gets exactly one Left.
func TestPresencePairsUnderChurn(t *testing.T) {
	e, h := newPresenceEnv(t, realtime.Options{QueueSize: 64})
	rooms := []string{"session:a", "session:b", "forum:c"}
	stop := make(chan struct{})
	var pubs sync.WaitGroup
	pubs.Add(1)
	go func() {
		defer pubs.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = e.hub.Publish(context.Background(), rooms[i%len(rooms)], i)
			time.Sleep(200 * time.Microsecond)
		}
	}()
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.dial()
			c.send(map[string]any{"type": "auth", "token": fmt.Sprint("tok-u", i%5)})
			go func() { // read whatever comes, until the connection ends
				for {
					if _, err := c.read(); err != nil {
						return
					}
				}
			}()
			for range 30 {
				room := rooms[rand.IntN(len(rooms))]
				typ := "subscribe"
				if rand.IntN(3) == 0 {
					typ = "unsubscribe"
				}
				c.wmu.Lock()
				err := c.c.WriteJSON(map[string]any{"type": typ, "room": room})
				c.wmu.Unlock()
				if err != nil {
					return
				}
				time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
			}
			switch i % 3 {
			case 0:
				_ = c.c.Close() // vanishes
			case 1:
				e.hub.DisconnectPrincipal(fmt.Sprint("u", i%5), realtime.ClosePolicy)
			case 2:
				e.hub.DisconnectFromRoom(fmt.Sprint("u", i%5), rooms[0], realtime.CloseRemoved)
			}
		}()
	}
	wg.Wait()
	close(stop)
	pubs.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.hub.Shutdown(ctx)
	j, l := h.counts()
	if j == 0 || j != l {
		t.Fatalf("%d joined, %d left", j, l)
	}
	for _, r := range rooms {
		if got := h.present(r); len(got) != 0 {
			t.Fatalf("%s: still present %v", r, got)
		}
	}
}
