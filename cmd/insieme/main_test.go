package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"
)

// node is one Insieme started through run(), as the binary would be.
type node struct {
	t      *testing.T
	base   string
	cancel context.CancelFunc
	done   chan error
}

// start runs `insieme serve` with env on a free port and waits until /healthz answers.
func start(t *testing.T, env map[string]string) *node {
	t.Helper()
	env["INSIEME_ADDR"] = "127.0.0.1:0"
	if _, ok := env["INSIEME_METRICS_ADDR"]; !ok {
		env["INSIEME_METRICS_ADDR"] = "off"
	}
	env["INSIEME_LOG_LEVEL"] = "warn"
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	n := &node{t: t, cancel: cancel, done: make(chan error, 1)}
	go func() {
		n.done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if after, ok := strings.CutPrefix(sc.Text(), "Insieme is serving on "); ok {
				addr <- after
			}
		}
	}()
	select {
	case a := <-addr:
		n.base = a
	case err := <-n.done:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	for i := 0; ; i++ {
		res, err := http.Get(n.base + "/healthz")
		if err == nil && res.StatusCode == 200 {
			res.Body.Close()
			break
		}
		if i > 100 {
			t.Fatalf("healthz: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(n.stop)
	return n
}

// stop shuts the node down gracefully (as SIGTERM does) and waits for it.
func (n *node) stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.cancel = nil
	select {
	case err := <-n.done:
		if err != nil {
			n.t.Errorf("serve ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		n.t.Error("serve did not stop")
	}
}

// client is a browser-like API client with a cookie jar.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (c *client) call(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", c.base)
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return res.StatusCode
}

// The Done-when story: sign up, create an association, restart, sign in again and find it.
func TestSignUpCreateRestartFind(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"INSIEME_DATA_DIR": dir}
	n := start(t, env)
	c := newClient(t, n.base)
	if s := c.call("POST", "/api/v1/auth/register", map[string]any{"email": "amina@example.org", "password": "a long enough password", "displayName": "Amina", "language": "fr"}, nil); s != 201 {
		t.Fatalf("register: %d", s)
	}
	var org struct{ ID, Name string }
	if s := c.call("POST", "/api/v1/organisations", map[string]any{"kind": "association", "name": "Ponti Solidali", "territory": "Bari"}, &org); s != 201 {
		t.Fatalf("create: %d", s)
	}
	n.stop()

	n2 := start(t, env)
	c2 := newClient(t, n2.base)
	if s := c2.call("POST", "/api/v1/auth/login", map[string]any{"email": "amina@example.org", "password": "a long enough password"}, nil); s != 200 {
		t.Fatalf("login after restart: %d", s)
	}
	var ms []struct {
		Organisation struct{ ID, Name string }
		Role         string
	}
	if s := c2.call("GET", "/api/v1/me/memberships", nil, &ms); s != 200 || len(ms) != 1 || ms[0].Organisation.ID != org.ID || ms[0].Role != "owner" {
		t.Fatalf("memberships after restart: %d %+v", s, ms)
	}
	var page struct{ Name string }
	if s := c2.call("GET", "/api/v1/organisations/"+org.ID, nil, &page); s != 200 || page.Name != "Ponti Solidali" {
		t.Fatalf("organisation page: %d %+v", s, page)
	}
	// The SPA is served for app paths, JSON errors for unknown API paths.
	res, err := http.Get(n2.base + "/organisations/" + org.ID)
	if err != nil || res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("SPA route: %v %v", err, res)
	}
	res.Body.Close()
}

func TestAdminCreateAndBackupRestore(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"INSIEME_DATA_DIR": dir, "INSIEME_LOG_LEVEL": "warn"}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"admin", "create", "--email", "Admin@Example.org", "--password-stdin"}, getenv, strings.NewReader("short\n"), &out, io.Discard); err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("a short password should be refused: %v", err)
	}
	if err := run(ctx, []string{"admin", "create", "--email", "Admin@Example.org", "--password-stdin"}, getenv, strings.NewReader("a long admin password\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "created administrator admin@example.org") {
		t.Fatalf("admin create said %q", out.String())
	}
	backupFile := dir + "/backup.jsonl"
	if err := run(ctx, []string{"backup", "--out", backupFile}, getenv, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	// Restore into a fresh data folder, then sign in as the admin there.
	env2 := map[string]string{"INSIEME_DATA_DIR": t.TempDir(), "INSIEME_LOG_LEVEL": "warn"}
	out.Reset()
	if err := run(ctx, []string{"restore", "--in", backupFile}, func(k string) string { return env2[k] }, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "restored ") {
		t.Fatalf("restore said %q", out.String())
	}
	// Restoring twice is refused: the store is not empty any more.
	if err := run(ctx, []string{"restore", "--in", backupFile}, func(k string) string { return env2[k] }, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("a second restore should be refused")
	}
	n := start(t, env2)
	c := newClient(t, n.base)
	var me struct{ Role string }
	if s := c.call("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.org", "password": "a long admin password"}, &me); s != 200 || me.Role != "admin" {
		t.Fatalf("admin login after restore: %d %+v", s, me)
	}
}

func TestBadConfigurationIsExplained(t *testing.T) {
	env := map[string]string{"INSIEME_ADDR": "nonsense", "REDIS_URL": "http://x"}
	err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "INSIEME_ADDR") || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Fatalf("bad configuration: %v", err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("an unknown command should fail")
	}
}

var _ = fmt.Sprintf

func TestSeedDemo(t *testing.T) {
	env := map[string]string{"INSIEME_DATA_DIR": t.TempDir(), "INSIEME_LOG_LEVEL": "warn"}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	// A store that already holds an account is refused without --force, and nothing is written.
	if err := run(ctx, []string{"admin", "create", "--email", "you@example.org", "--password-stdin"}, getenv, strings.NewReader("a long admin password\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"seed", "--demo"}, getenv, nil, &out, io.Discard); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("seeding a store with an account: %v (said %q)", err, out.String())
	}
	if err := run(ctx, []string{"seed", "--demo", "--force"}, getenv, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "4 forums, 7 proposals, 1 closed workshop") {
		t.Fatalf("seed said %q", out.String())
	}
	password := demoPasswordIn(t, out.String())
	// Seeding twice is refused, even with --force: the demo accounts are there.
	for _, args := range [][]string{{"seed", "--demo"}, {"seed", "--demo", "--force"}} {
		if err := run(ctx, args, getenv, nil, io.Discard, io.Discard); err == nil {
			t.Fatalf("%v twice should be refused", args)
		}
	}
	n := start(t, env)
	c := newClient(t, n.base)
	var forums []struct{ ID string }
	c.call("GET", "/api/v1/forums", nil, &forums)
	if len(forums) != 4 {
		t.Fatalf("forums: %d", len(forums))
	}
	total := 0
	for _, f := range forums {
		var page struct{ Total int }
		c.call("GET", "/api/v1/forums/"+f.ID+"/proposals", nil, &page)
		total += page.Total
	}
	if total != 7 {
		t.Fatalf("proposals listed after a restart: %d", total)
	}
	// One forum shows a closed workshop, with its output and the proposal that came from it.
	closed := 0
	for _, f := range forums {
		var ws []struct {
			ID           string
			Phase        string
			Participants int
		}
		c.call("GET", "/api/v1/forums/"+f.ID+"/workshops", nil, &ws)
		for _, w := range ws {
			var out struct {
				Clusters []struct {
					Name       string
					ProposalID string
				}
				Results []struct{ Dots int }
				Actions []struct{ Title string }
			}
			c.call("GET", "/api/v1/workshops/"+w.ID+"/export.json", nil, &out)
			proposed := 0
			for _, k := range out.Clusters {
				if k.ProposalID != "" {
					proposed++
				}
			}
			if w.Phase != "closed" || w.Participants != 4 || len(out.Clusters) != 3 || len(out.Results) == 0 || out.Results[0].Dots != 5 ||
				len(out.Actions) != 1 || proposed != 1 {
				t.Fatalf("the demo workshop: %+v, output %+v", w, out)
			}
			closed++
		}
	}
	if closed != 1 {
		t.Fatalf("demo workshops: %d", closed)
	}
	for _, email := range []string{"awa@braccianti.demo", demoAdminEmail} {
		if s := c.call("POST", "/api/v1/auth/login", map[string]any{"email": email, "password": "insieme-demo-2026"}, nil); s != 401 {
			t.Fatalf("%s with the old published password: %d", email, s)
		}
		if s := c.call("POST", "/api/v1/auth/login", map[string]any{"email": email, "password": password}, nil); s != 200 {
			t.Fatalf("demo login %s: %d", email, s)
		}
	}
	// The account that was there before is untouched.
	if s := c.call("POST", "/api/v1/auth/login", map[string]any{"email": "you@example.org", "password": "a long admin password"}, nil); s != 200 {
		t.Fatalf("the earlier admin: %d", s)
	}
}

// demoPasswordIn finds the password that seed --demo printed.
func demoPasswordIn(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if _, after, ok := strings.Cut(line, "password (all of them, new at every run): "); ok {
			return after
		}
	}
	t.Fatalf("no password in %q", out)
	return ""
}

func TestDemoPasswordIsRandomAndReadable(t *testing.T) {
	shape := regexp.MustCompile(`^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$`)
	seen := map[string]bool{}
	for range 20 {
		p, err := newDemoPassword()
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(p) || strings.ContainsAny(p, "01ilo") {
			t.Fatalf("demo password %q", p)
		}
		if seen[p] {
			t.Fatalf("demo password %q drawn twice", p)
		}
		seen[p] = true
	}
}

func TestSeedEmptyStoreNeedsNoForce(t *testing.T) {
	env := map[string]string{"INSIEME_DATA_DIR": t.TempDir(), "INSIEME_LOG_LEVEL": "warn"}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"seed", "--demo"}, func(k string) string { return env[k] }, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "4 forums, 7 proposals, 1 closed workshop") || demoPasswordIn(t, out.String()) == "" {
		t.Fatalf("seed said %q", out.String())
	}
}
