package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// The cluster tests run real processes: this test binary re-executed as `insieme` (TestMain
// hands such a run to run()), an `insieme devdb` store, and a redis-server of their own on a free
// port, so stopping it disturbs no other test.

const runMainEnv = "INSIEME_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// proc is a child process whose first matching output line the test waits for.
type proc struct {
	cmd  *exec.Cmd
	line string
}

func spawn(t *testing.T, name string, args []string, env []string, prefix string) *proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = &testLog{t: t, name: args[0]}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{cmd: cmd}
	t.Cleanup(func() { p.kill() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), prefix) {
				select {
				case found <- sc.Text():
				default:
				}
			}
		}
	}()
	select {
	case p.line = <-found:
	case <-time.After(90 * time.Second):
		t.Fatalf("%s %v did not print %q", name, args, prefix)
	}
	return p
}

func (p *proc) kill() {
	if p.cmd.Process != nil && p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
	}
}

// testLog shows a child's warnings and errors in the test output.
type testLog struct {
	t    *testing.T
	name string
	mu   sync.Mutex
}

func (l *testLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) {
			l.t.Logf("[%s] %s", l.name, line)
		}
	}
	return len(b), nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// redisServer is a redis-server of the test's own.
type redisServer struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

func startRedis(t *testing.T, port int) *redisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not installed; CI must run these tests (.ci/run installs it)")
		}
		t.Skip("redis-server is not installed (.ci/run installs it)")
	}
	if port == 0 {
		port = freePort(t)
	}
	cmd := exec.Command(path, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &redisServer{t: t, port: port, cmd: cmd}
	t.Cleanup(r.stop)
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
	return nil
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) stop() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

// cluster is a devdb store, a Redis and nodes sharing them.
type cluster struct {
	t     *testing.T
	uri   string
	redis *redisServer
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	self, _ := os.Executable()
	db := spawn(t, self, []string{"devdb", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()},
		[]string{runMainEnv + "=1", "INSIEME_LOG_LEVEL=warn"}, "MONGODB_URI=")
	return &cluster{t: t, uri: strings.TrimPrefix(db.line, "MONGODB_URI="), redis: startRedis(t, 0)}
}

// node starts `insieme serve` and returns its base URL.
func (c *cluster) node() string {
	c.t.Helper()
	self, _ := os.Executable()
	p := spawn(c.t, self, []string{"serve"}, []string{runMainEnv + "=1", "INSIEME_ADDR=127.0.0.1:0",
		"INSIEME_METRICS_ADDR=off", "INSIEME_LOG_LEVEL=warn", "MONGODB_URI=" + c.uri, "MONGODB_DATABASE=cluster",
		"REDIS_URL=" + c.redis.url(), "INSIEME_DATA_DIR=" + c.t.TempDir()}, "Insieme is serving on ")
	return strings.TrimPrefix(p.line, "Insieme is serving on ")
}

// live is a websocket client of the live-room protocol.
type live struct {
	t       *testing.T
	conn    *websocket.Conn
	msgs    chan map[string]any
	readErr error // why reading stopped; set before msgs is closed
}

func dial(t *testing.T, base string, header http.Header) (*live, *http.Response, error) {
	t.Helper()
	if header == nil {
		header = http.Header{"Origin": {base}}
	}
	conn, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", header)
	if err != nil {
		return nil, res, err
	}
	l := &live{t: t, conn: conn, msgs: make(chan map[string]any, 1000)}
	go func() {
		defer close(l.msgs)
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				l.readErr = err
				return
			}
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				l.msgs <- m
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return l, res, nil
}

func (l *live) send(m map[string]any) {
	l.t.Helper()
	if err := l.conn.WriteJSON(m); err != nil {
		l.t.Fatalf("send: %v", err)
	}
}

// next returns the next message of one of the given types, skipping others (hello, pong).
func (l *live) next(types ...string) map[string]any {
	l.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m, ok := <-l.msgs:
			if !ok {
				l.t.Fatalf("connection closed while waiting for %v", types)
			}
			for _, ty := range types {
				if m["type"] == ty {
					return m
				}
			}
		case <-deadline:
			l.t.Fatalf("no %v within 20 s", types)
		}
	}
}

func (l *live) subscribe(room string, since map[string]any) map[string]any {
	l.t.Helper()
	m := map[string]any{"type": "subscribe", "room": room}
	if since != nil {
		m["since"] = since
	}
	l.send(m)
	return l.next("subscribed", "error")
}

// orgName is the organisation name an event carries.
func orgName(ev map[string]any) string {
	data, _ := ev["data"].(map[string]any)
	org, _ := data["organisation"].(map[string]any)
	name, _ := org["name"].(string)
	return name
}

// snapshotName is the organisation name in a resync's snapshot.
func snapshotName(m map[string]any) string {
	snap, _ := m["snapshot"].(map[string]any)
	name, _ := snap["name"].(string)
	return name
}

func TestTwoNodesShareRoomsAndResume(t *testing.T) {
	c := newCluster(t)
	a, b := c.node(), c.node()

	owner := newClient(t, a)
	if s := owner.call("POST", "/api/v1/auth/register", map[string]any{"email": "owner@example.org", "password": "a long enough password", "displayName": "Owner", "language": "it"}, nil); s != 201 {
		t.Fatalf("register: %d", s)
	}
	var org struct{ ID string }
	if s := owner.call("POST", "/api/v1/organisations", map[string]any{"kind": "association", "name": "name 0"}, &org); s != 201 {
		t.Fatalf("create: %d", s)
	}
	room := "org:" + org.ID
	onA, _, err := dial(t, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	onB, _, err := dial(t, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []*live{onA, onB} {
		if m := l.subscribe(room, nil); m["type"] != "subscribed" || m["snapshot"] == nil {
			t.Fatalf("subscribe: %v", m)
		}
	}
	rename := func(i int) {
		if s := owner.call("PATCH", "/api/v1/organisations/"+org.ID, map[string]any{"name": fmt.Sprintf("name %d", i)}, nil); s != 200 {
			t.Fatalf("rename: %d", s)
		}
	}
	// Events published on node A arrive on both nodes, in order.
	var last map[string]any
	for i := 1; i <= 5; i++ {
		rename(i)
	}
	for _, l := range []*live{onA, onB} {
		var prev float64
		for i := 1; i <= 5; i++ {
			ev := l.next("event")
			if name := orgName(ev); name != fmt.Sprintf("name %d", i) {
				t.Fatalf("event %d: %q", i, name)
			}
			if seq := ev["seq"].(float64); seq != prev+1 && prev != 0 {
				t.Fatalf("seq %v after %v", seq, prev)
			} else {
				prev = seq
			}
			last = ev
		}
	}
	// The client on B drops; three events happen; it resumes on A with exactly those three.
	onB.conn.Close()
	for i := 6; i <= 8; i++ {
		rename(i)
	}
	back, _, err := dial(t, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := back.subscribe(room, map[string]any{"epoch": last["epoch"], "seq": last["seq"]})
	if m["recovered"] != true {
		t.Fatalf("resume: %v", m)
	}
	for i := 6; i <= 8; i++ {
		if ev := back.next("event"); orgName(ev) != fmt.Sprintf("name %d", i) || ev["seq"].(float64) != last["seq"].(float64)+float64(i-5) {
			t.Fatalf("resumed event %d: %v", i, ev)
		}
	}
	select {
	case extra := <-back.msgs:
		if extra["type"] == "event" {
			t.Fatalf("an event too many: %v", extra)
		}
	case <-time.After(300 * time.Millisecond):
	}
	// A cross-origin upgrade is refused.
	_, res, err := dial(t, a, http.Header{"Origin": {"https://evil.example"}})
	if err == nil || res == nil || res.StatusCode != 403 {
		t.Fatalf("cross-origin upgrade: %v %v", err, res)
	}
}

func readyz(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	return res.StatusCode, body
}

func TestRedisOutage(t *testing.T) {
	c := newCluster(t)
	a, b := c.node(), c.node()
	owner := newClient(t, a)
	owner.call("POST", "/api/v1/auth/register", map[string]any{"email": "owner@example.org", "password": "a long enough password", "displayName": "Owner", "language": "it"}, nil)
	var org struct{ ID string }
	owner.call("POST", "/api/v1/organisations", map[string]any{"kind": "association", "name": "before"}, &org)
	room := "org:" + org.ID
	onA, _, _ := dial(t, a, nil)
	onA.subscribe(room, nil)

	c.redis.stop()
	waitFor(t, "broker down on A", func() bool { s, body := readyz(t, a); return s == 200 && body["broker"] == "down" })
	// Node A still serves its own clients.
	if s := owner.call("PATCH", "/api/v1/organisations/"+org.ID, map[string]any{"name": "during"}, nil); s != 200 {
		t.Fatalf("write during the outage: %d", s)
	}
	// The node serves the room alone under a local epoch: the client gets the change as an
	// event, or as a resync to that epoch whose snapshot has it.
	if ev := onA.next("event", "resync"); orgName(ev) != "during" && snapshotName(ev) != "during" {
		t.Fatalf("local change during the outage: %v", ev)
	}
	c.redis = startRedis(t, c.redis.port)
	waitFor(t, "broker up on A and B", func() bool {
		_, ba := readyz(t, a)
		_, bb := readyz(t, b)
		return ba["broker"] == "up" && bb["broker"] == "up"
	})
	// The room starts a new epoch: the client is told to take a fresh snapshot.
	rs := onA.next("resync")
	if rs["room"] != room || rs["snapshot"] == nil {
		t.Fatalf("resync: %v", rs)
	}
	// Events flow between nodes again: a write on B reaches the client on A.
	other := newClient(t, b)
	other.call("POST", "/api/v1/auth/login", map[string]any{"email": "owner@example.org", "password": "a long enough password"}, nil)
	waitFor(t, "cross-node event after the outage", func() bool {
		other.call("PATCH", "/api/v1/organisations/"+org.ID, map[string]any{"name": "after"}, nil)
		select {
		case m := <-onA.msgs:
			return m["type"] == "event" && orgName(m) == "after"
		case <-time.After(time.Second):
			return false
		}
	})
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var _ = context.Background

// A proposal posted on one node is listed on the other, and its count follows supports made on
// either node: each node's read model follows every node's writes.
func TestReadModelFollowsTheOtherNode(t *testing.T) {
	c := newCluster(t)
	a, b := c.node(), c.node()
	self, _ := os.Executable()
	ca, cb := newClient(t, a), newClient(t, b)
	// The administrator, made with the command on the shared store.
	env := []string{runMainEnv + "=1", "MONGODB_URI=" + c.uri, "MONGODB_DATABASE=cluster", "INSIEME_LOG_LEVEL=warn"}
	cmd := exec.Command(self, "admin", "create", "--email", "admin@example.org", "--password-stdin")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("a long admin password\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("admin create: %v %s", err, out)
	}
	ca.call("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.org", "password": "a long admin password"}, nil)
	var m, org struct{ ID string }
	ca.call("POST", "/api/v1/organisations", map[string]any{"kind": "municipality", "name": "Comune"}, &m)
	ca.call("POST", "/api/v1/organisations", map[string]any{"kind": "association", "name": "Assoc"}, &org)
	var f struct{ ID string }
	if s := ca.call("POST", "/api/v1/forums", map[string]any{"municipalityId": m.ID, "title": map[string]string{"it": "Forum"}, "status": "open"}, &f); s != 201 {
		t.Fatalf("forum: %d", s)
	}
	var p struct{ ID string }
	if s := ca.call("POST", "/api/v1/forums/"+f.ID+"/proposals", map[string]any{"organisationId": org.ID, "title": "Sulla piazza", "body": "Panchine.", "language": "it", "category": "culture"}, &p); s != 201 {
		t.Fatalf("proposal: %d", s)
	}
	cb.call("POST", "/api/v1/auth/register", map[string]any{"email": "b@example.org", "password": "a long enough password", "displayName": "B", "language": "it"}, nil)
	cb.call("PUT", "/api/v1/proposals/"+p.ID+"/support", nil, nil)
	waitFor(t, "node B lists the proposal with its support, node A counts it", func() bool {
		var pb, pa struct {
			Items []struct {
				ID       string
				Supports int
			}
		}
		cb.call("GET", "/api/v1/forums/"+f.ID+"/proposals", nil, &pb)
		ca.call("GET", "/api/v1/forums/"+f.ID+"/proposals", nil, &pa)
		return len(pb.Items) == 1 && pb.Items[0].ID == p.ID && pb.Items[0].Supports == 1 && len(pa.Items) == 1 && pa.Items[0].Supports == 1
	})
}

// A suspension on one node closes the person's live connections on the other.
func TestSuspensionClosesSocketsOnEveryNode(t *testing.T) {
	c := newCluster(t)
	a, b := c.node(), c.node()
	self, _ := os.Executable()
	cmd := exec.Command(self, "admin", "create", "--email", "admin@example.org", "--password-stdin")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "MONGODB_URI="+c.uri, "MONGODB_DATABASE=cluster", "INSIEME_LOG_LEVEL=warn")
	cmd.Stdin = strings.NewReader("a long admin password\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("admin create: %v %s", err, out)
	}
	admin := newClient(t, a)
	admin.call("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.org", "password": "a long admin password"}, nil)
	person := newClient(t, b)
	var u struct{ ID string }
	person.call("POST", "/api/v1/auth/register", map[string]any{"email": "p@example.org", "password": "a long enough password", "displayName": "P", "language": "it"}, &u)
	secret := ""
	req, _ := http.NewRequest("GET", b, nil)
	for _, ck := range person.http.Jar.Cookies(req.URL) {
		if ck.Name == "insieme_session" {
			secret = ck.Value
		}
	}
	l, _, err := dial(t, b, http.Header{"Origin": {b}, "Cookie": {"insieme_session=" + secret}})
	if err != nil {
		t.Fatal(err)
	}
	l.next("hello")
	if s := admin.call("POST", "/api/v1/admin/accounts/"+u.ID+"/suspend", map[string]any{"suspended": true}, nil); s != 204 {
		t.Fatalf("suspend: %d", s)
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case _, ok := <-l.msgs:
			if !ok {
				if !websocket.IsCloseError(l.readErr, 4003) {
					t.Fatalf("closed with %v, want 4003", l.readErr)
				}
				return
			}
		case <-deadline:
			t.Fatal("the suspended person's socket on the other node stayed open")
		}
	}
}
