package redis_test

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	fastws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/insieme/insieme/internal/insieme"
	"github.com/insieme/insieme/internal/realtime"
	"github.com/insieme/insieme/internal/redis"
)

// End to end through two hubs ("nodes") sharing a Redis: cross-node events, resume on the other
// node from the shared history, and the outage seen by a browser: a resync to the local epoch,
// then a resync to the new shared epoch when Redis is back.
func TestHubsAcrossNodes(t *testing.T) {
	srv := startServer(t)
	p := prefix(t)
	a, b := startHub(t, srv.options(), p), startHub(t, srv.options(), p)

	x := a.dial(t)
	sub := x.subscribe(t, "session:1", nil)
	b.publish(t, "session:1", 1)
	x.expectEvent(t, "session:1", sub.Epoch, 1)
	_ = x.c.Close()
	b.publish(t, "session:1", 2)
	a.publish(t, "session:1", 3)

	y := b.dial(t) // reconnects to the other node and resumes
	got := y.subscribe(t, "session:1", &realtime.Position{Epoch: sub.Epoch, Seq: 1})
	if !got.Recovered || got.Seq != 3 {
		t.Fatalf("subscribed %+v", got)
	}
	y.expectEvent(t, "session:1", sub.Epoch, 2)
	y.expectEvent(t, "session:1", sub.Epoch, 3)
	z := a.dial(t)
	z.subscribe(t, "session:1", nil)

	srv.stop()
	eventually(t, "the brokers to go down", func() bool {
		return a.hub.BrokerState() == "down" && b.hub.BrokerState() == "down"
	})
	local := a.publish(t, "session:1", "during")
	m := z.expect(t, "resync") // the local epoch replaces the shared one
	if m.Epoch != local.Epoch || m.Seq != 1 {
		t.Fatalf("resync %+v, local event %+v", m, local)
	}

	srv.start()
	for _, c := range []*wsClient{y, z} {
		m := c.expect(t, "resync")
		if m.Epoch == sub.Epoch || m.Epoch == local.Epoch {
			t.Fatalf("resync after the outage %+v", m)
		}
	}
	eventually(t, "the brokers to come back", func() bool {
		return a.hub.BrokerState() == "up" && b.hub.BrokerState() == "up"
	})
	after := b.publish(t, "session:1", "after")
	for _, c := range []*wsClient{y, z} {
		for {
			m := c.expect(t, "")
			if m.Type == "resync" { // both nodes may renew; the last epoch wins
				continue
			}
			if m.Type != "event" || m.Epoch != after.Epoch || m.Seq != after.Seq {
				t.Fatalf("got %+v, want the event %+v", m, after)
			}
			break
		}
	}
}

type hubNode struct {
	hub *realtime.Hub
	url string
}

type snapHooks struct{}

func (snapHooks) Authenticate(context.Context, string) (*insieme.Principal, error) {
	return nil, insieme.Errorf(insieme.EUNAUTHORIZED, "no")
}
func (snapHooks) Authorize(context.Context, *insieme.Principal, string) error { return nil }
func (snapHooks) Snapshot(context.Context, *insieme.Principal, string) (json.RawMessage, error) {
	return json.RawMessage(`{}`), nil
}

func startHub(t *testing.T, o *goredis.Options, prefix string) *hubNode {
	t.Helper()
	oc := *o
	broker := redis.NewBroker(newClient(t, &oc), redis.BrokerOptions{Prefix: prefix,
		HealthInterval: 50 * time.Millisecond, Timeout: 300 * time.Millisecond, Logger: testLogger(t)})
	hub := realtime.NewHub(realtime.Options{Broker: broker, Hooks: snapHooks{}, Logger: testLogger(t)})
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
		_ = broker.Close()
		cancel()
	})
	return &hubNode{hub: hub, url: "ws://" + ln.Addr().String() + "/ws"}
}

func (n *hubNode) publish(t *testing.T, room string, data any) realtime.Event {
	t.Helper()
	ev, err := n.hub.Publish(context.Background(), room, data)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

type wsMsg struct {
	Type      string          `json:"type"`
	Room      string          `json:"room"`
	Epoch     string          `json:"epoch"`
	Seq       uint64          `json:"seq"`
	Recovered bool            `json:"recovered"`
	Snapshot  json.RawMessage `json:"snapshot"`
}

type wsClient struct{ c *fastws.Conn }

func (n *hubNode) dial(t *testing.T) *wsClient {
	t.Helper()
	c, _, err := fastws.DefaultDialer.Dial(n.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	w := &wsClient{c: c}
	w.expect(t, "hello")
	return w
}

// expect reads the next message, of type typ unless typ is "".
func (w *wsClient) expect(t *testing.T, typ string) wsMsg {
	t.Helper()
	_ = w.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m wsMsg
	if err := w.c.ReadJSON(&m); err != nil {
		t.Fatalf("waiting for %q: %v", typ, err)
	}
	if typ != "" && m.Type != typ {
		t.Fatalf("got %+v, want %s", m, typ)
	}
	return m
}

func (w *wsClient) subscribe(t *testing.T, room string, since *realtime.Position) wsMsg {
	t.Helper()
	msg := map[string]any{"type": "subscribe", "room": room}
	if since != nil {
		msg["since"] = since
	}
	if err := w.c.WriteJSON(msg); err != nil {
		t.Fatal(err)
	}
	return w.expect(t, "subscribed")
}

func (w *wsClient) expectEvent(t *testing.T, room, epoch string, seq uint64) {
	t.Helper()
	m := w.expect(t, "event")
	if m.Room != room || m.Epoch != epoch || m.Seq != seq {
		t.Fatalf("event %+v, want %s %s #%d", m, room, epoch, seq)
	}
}
