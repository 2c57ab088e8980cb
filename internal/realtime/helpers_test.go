package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	fastws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/inmem"
	"github.com/insieme/insieme/internal/insieme"
	"github.com/insieme/insieme/internal/realtime"
)

// testHooks: tokens "tok-<id>" authenticate <id>; "participant:<id>" is <id>'s only; the room
// "forbidden" is nobody's; a snapshot says which call it was.
type testHooks struct{ snaps atomic.Int64 }

func (h *testHooks) Authenticate(_ context.Context, token string) (*insieme.Principal, error) {
	if id, ok := strings.CutPrefix(token, "tok-"); ok {
		return &insieme.Principal{ID: id, Name: id}, nil
	}
	return nil, insieme.Errorf(insieme.EUNAUTHORIZED, "Bad token.")
}

func (h *testHooks) Authorize(_ context.Context, p *insieme.Principal, room string) error {
	if id, ok := strings.CutPrefix(room, "participant:"); ok {
		if p == nil {
			return insieme.Errorf(insieme.EUNAUTHORIZED, "Sign in.")
		}
		if p.ID != id {
			return insieme.Errorf(insieme.EFORBIDDEN, "Not yours.")
		}
	}
	if room == "forbidden" {
		return insieme.Errorf(insieme.EFORBIDDEN, "No.")
	}
	return nil
}

func (h *testHooks) Snapshot(_ context.Context, _ *insieme.Principal, room string) (json.RawMessage, error) {
	return json.Marshal(map[string]any{"room": room, "n": h.snaps.Add(1)})
}

type env struct {
	t      *testing.T
	hub    *realtime.Hub
	hooks  *testHooks
	broker realtime.Broker
	url    string
}

// newEnv serves a hub on a real fiber server on 127.0.0.1:0, as internal/web does.
func newEnv(t *testing.T, opts realtime.Options) *env {
	t.Helper()
	if opts.Broker == nil {
		opts.Broker = inmem.NewBroker(100)
	}
	hooks := &testHooks{}
	if b, ok := opts.Hooks.(interface{ base() *testHooks }); ok {
		hooks = b.base() // a test's own hooks, built on testHooks
	} else {
		opts.Hooks = hooks
	}
	hub := realtime.NewHub(opts)
	ctx, cancel := context.WithCancel(context.Background())
	if err := hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/ws", websocket.New(func(c *websocket.Conn) { hub.Serve(c.Conn, nil) }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		hub.Shutdown(sctx)
		_ = app.ShutdownWithTimeout(2 * time.Second)
		cancel()
	})
	return &env{t: t, hub: hub, hooks: hooks, broker: opts.Broker, url: "ws://" + ln.Addr().String() + "/ws"}
}

// msg is any server message.
type msg struct {
	Type      string             `json:"type"`
	Conn      string             `json:"conn"`
	Heartbeat int                `json:"heartbeat"`
	Principal *insieme.Principal `json:"principal"`
	Room      string             `json:"room"`
	Epoch     string             `json:"epoch"`
	Seq       uint64             `json:"seq"`
	Ref       json.RawMessage    `json:"ref"`
	Recovered bool               `json:"recovered"`
	Snapshot  json.RawMessage    `json:"snapshot"`
	Data      json.RawMessage    `json:"data"`
	Code      string             `json:"code"`
	Message   string             `json:"message"`
	Limits    map[string]int     `json:"limits"`
}

type wsClient struct {
	t    *testing.T
	c    *fastws.Conn
	wmu  sync.Mutex
	conn string
}

// dial connects and reads the hello.
func (e *env) dial() *wsClient {
	e.t.Helper()
	c, _, err := fastws.DefaultDialer.Dial(e.url, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = c.Close() })
	w := &wsClient{t: e.t, c: c}
	hello := w.expect("hello")
	if hello.Conn == "" || hello.Heartbeat < 1 {
		e.t.Fatalf("hello: %+v", hello)
	}
	w.conn = hello.Conn
	return w
}

func (w *wsClient) send(v any) {
	w.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		w.t.Fatal(err)
	}
	w.sendRaw(fastws.TextMessage, b)
}

func (w *wsClient) sendRaw(mt int, b []byte) {
	w.t.Helper()
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if err := w.c.WriteMessage(mt, b); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsClient) read() (msg, error) {
	_ = w.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := w.c.ReadMessage()
	if err != nil {
		return msg{}, err
	}
	var m msg
	if err := json.Unmarshal(b, &m); err != nil {
		w.t.Fatalf("server sent invalid JSON %q: %v", b, err)
	}
	return m, nil
}

func (w *wsClient) expect(typ string) msg {
	w.t.Helper()
	m, err := w.read()
	if err != nil {
		w.t.Fatalf("waiting for %s: %v", typ, err)
	}
	if m.Type != typ {
		w.t.Fatalf("got %s (%+v), want %s", m.Type, m, typ)
	}
	return m
}

// expectClose reads until the connection ends and checks the close code.
func (w *wsClient) expectClose(code int) {
	w.t.Helper()
	for {
		_, err := w.read()
		if err == nil {
			continue
		}
		var ce *fastws.CloseError
		if !errors.As(err, &ce) {
			w.t.Fatalf("connection ended with %v, want close code %d", err, code)
		}
		if ce.Code != code {
			w.t.Fatalf("close code %d (%q), want %d", ce.Code, ce.Text, code)
		}
		return
	}
}

// subscribe sends a subscribe and returns the answer.
func (w *wsClient) subscribe(room string, since *realtime.Position) msg {
	w.t.Helper()
	m := map[string]any{"type": "subscribe", "room": room, "ref": "s-" + room}
	if since != nil {
		m["since"] = since
	}
	w.send(m)
	got := w.expect("subscribed")
	if got.Room != room || string(got.Ref) != `"s-`+room+`"` || got.Epoch == "" {
		w.t.Fatalf("subscribed: %+v", got)
	}
	return got
}

// sync proves nothing else is queued: a ping's pong comes next.
func (w *wsClient) sync() {
	w.t.Helper()
	w.send(map[string]any{"type": "ping", "ref": "sync"})
	if m := w.expect("pong"); string(m.Ref) != `"sync"` {
		w.t.Fatalf("pong ref %s", m.Ref)
	}
}

func (w *wsClient) expectEvent(room string, seq uint64) msg {
	w.t.Helper()
	m := w.expect("event")
	if m.Room != room || m.Seq != seq {
		w.t.Fatalf("event %s #%d, want %s #%d", m.Room, m.Seq, room, seq)
	}
	return m
}

func publish(t *testing.T, hub *realtime.Hub, room string, data any) realtime.Event {
	t.Helper()
	ev, err := hub.Publish(context.Background(), room, data)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testBroker is a one-node broker whose rooms can be restarted (new epoch) and reset on
// demand, and which counts broker subscriptions.
type testBroker struct {
	hist    *realtime.MemHistory
	mu      sync.Mutex
	subs    map[string]int
	deliver func(realtime.Event)
	reset   func(string)
	nsub    atomic.Int32
	nunsub  atomic.Int32
}

func newTestBroker() *testBroker {
	return &testBroker{hist: realtime.NewMemHistory(100), subs: map[string]int{}}
}

func (b *testBroker) Start(_ context.Context, deliver func(realtime.Event), reset func(string)) error {
	b.mu.Lock()
	b.deliver, b.reset = deliver, reset
	b.mu.Unlock()
	return nil
}

func (b *testBroker) Publish(_ context.Context, room string, data []byte) (realtime.Event, error) {
	return b.hist.Append(room, data, func(ev realtime.Event) {
		b.mu.Lock()
		on, d := b.subs[room] > 0, b.deliver
		b.mu.Unlock()
		if on {
			d(ev)
		}
	}), nil
}

func (b *testBroker) History(_ context.Context, room string, since realtime.Position) ([]realtime.Event, realtime.Position, bool, error) {
	evs, pos, ok := b.hist.Since(room, since)
	return evs, pos, ok, nil
}

func (b *testBroker) Subscribe(_ context.Context, room string) error {
	b.nsub.Add(1)
	b.mu.Lock()
	b.subs[room]++
	b.mu.Unlock()
	return nil
}

func (b *testBroker) Unsubscribe(_ context.Context, room string) error {
	b.nunsub.Add(1)
	b.mu.Lock()
	b.subs[room]--
	b.mu.Unlock()
	return nil
}

func (b *testBroker) State() string { return "up" }
func (b *testBroker) Close() error  { return nil }

func (b *testBroker) callReset(room string) {
	b.mu.Lock()
	r := b.reset
	b.mu.Unlock()
	r(room)
}
