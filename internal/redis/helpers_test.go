package redis_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/insieme/insieme/internal/realtime"
	"github.com/insieme/insieme/internal/redis"
)

func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// tune gives a client the short timeouts the broker expects (see redis.NewBroker).
func tune(o *goredis.Options) *goredis.Options {
	o.ContextTimeoutEnabled = true
	o.DialTimeout = 300 * time.Millisecond
	o.ReadTimeout = 500 * time.Millisecond
	o.WriteTimeout = 500 * time.Millisecond
	return o
}

func newClient(t *testing.T, o *goredis.Options) *goredis.Client {
	c := goredis.NewClient(tune(o))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// sharedAddr returns options for REDIS_URL, or for a redis-server started for this test when
// none answers there; it skips only when neither is possible.
func sharedOptions(t *testing.T) *goredis.Options {
	t.Helper()
	o, err := goredis.ParseURL(redisURL())
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	c := goredis.NewClient(tune(o))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err = c.Ping(ctx).Err()
	_ = c.Close()
	if err == nil {
		return o
	}
	t.Logf("no Redis at %s (%v): starting one", redisURL(), err)
	return startServer(t).options()
}

// prefix is unique per test and run, so parallel runs on one Redis do not collide.
func prefix(t *testing.T) string {
	return "insieme-test:" + strings.ReplaceAll(t.Name(), "/", ".") + ":" + realtime.NewEpoch() + ":"
}

// server is a redis-server of the test's own, without persistence, on a fixed port so it can
// be stopped and started again at the same address.
type server struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

func startServer(t *testing.T) *server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no Redis reachable at REDIS_URL and redis-server is not installed; CI must run these tests")
		}
		t.Skip("no Redis reachable at REDIS_URL and redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	s := &server{t: t, port: port}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *server) options() *goredis.Options { return &goredis.Options{Addr: s.addr()} }

func (s *server) start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.t.TempDir())
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	c := goredis.NewClient(tune(s.options()))
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not answer: %v", s.addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// node is one broker as a node sees it: what it delivered and which rooms it reset.
type node struct {
	b         *redis.Broker
	events    chan realtime.Event
	resets    chan string
	delivered atomic.Int64
}

func startNode(t *testing.T, o *goredis.Options, opts redis.BrokerOptions) *node {
	t.Helper()
	return startSlowNode(t, o, opts, 0)
}

// startSlowNode starts a node whose every delivery takes each, like a fan-out to thousands on
// a saturated node: its receive loop falls behind what Redis sends it.
func startSlowNode(t *testing.T, o *goredis.Options, opts redis.BrokerOptions, each time.Duration) *node {
	t.Helper()
	if opts.HealthInterval == 0 {
		opts.HealthInterval = 50 * time.Millisecond
	}
	if opts.Timeout == 0 {
		opts.Timeout = 300 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	oc := *o
	n := &node{
		b:      redis.NewBroker(newClient(t, &oc), opts),
		events: make(chan realtime.Event, 10000),
		resets: make(chan string, 100),
	}
	ctx, cancel := context.WithCancel(context.Background())
	deliver := func(ev realtime.Event) {
		time.Sleep(each)
		n.delivered.Add(1)
		n.events <- ev
	}
	if err := n.b.Start(ctx, deliver, func(r string) { n.resets <- r }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = n.b.Close()
		cancel()
	})
	return n
}

func (n *node) subscribe(t *testing.T, room string) {
	t.Helper()
	if err := n.b.Subscribe(context.Background(), room); err != nil {
		t.Fatal(err)
	}
}

func (n *node) publish(t *testing.T, room string, data string) realtime.Event {
	t.Helper()
	ev, err := n.b.Publish(context.Background(), room, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func (n *node) next(t *testing.T) realtime.Event {
	t.Helper()
	select {
	case ev := <-n.events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event delivered within 10 s")
	}
	return realtime.Event{}
}

// none checks that nothing is delivered for a while.
func (n *node) none(t *testing.T) {
	t.Helper()
	select {
	case ev := <-n.events:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
}

// waitResets waits until each of rooms was reset (in any order).
func (n *node) waitResets(t *testing.T, rooms ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, r := range rooms {
		want[r] = true
	}
	timeout := time.After(10 * time.Second)
	for len(want) > 0 {
		select {
		case r := <-n.resets:
			delete(want, r)
		case <-timeout:
			t.Fatalf("rooms %v were not reset within 10 s", want)
		}
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testLogger logs through t.Log: shown with -v or when the test fails.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func data(i int) string { return fmt.Sprintf(`{"i":%d}`, i) }
