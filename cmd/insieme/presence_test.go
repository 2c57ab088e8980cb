package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/realtime"
)

// The app tells presence from the hub's joins and leaves.
var _ realtime.PresenceHooks = (*app.App)(nil)

// sessionCookie returns a client's session secret, to open websockets as that person.
func sessionCookie(t *testing.T, c *client) string {
	t.Helper()
	u, _ := http.NewRequest("GET", c.base, nil)
	for _, ck := range c.http.Jar.Cookies(u.URL) {
		if ck.Name == "insieme_session" {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// presenceOf waits for a "presence" event (or a snapshot) saying guests and accounts.
func (l *live) waitPresence(guests, accounts int) {
	l.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m, ok := <-l.msgs:
			if !ok {
				l.t.Fatalf("connection closed (%v) while waiting for presence %d/%d", l.readErr, guests, accounts)
			}
			var p map[string]any
			switch m["type"] {
			case "event":
				if d, _ := m["data"].(map[string]any); d["type"] == "presence" {
					p = d
				}
			case "subscribed":
				if s, _ := m["snapshot"].(map[string]any); s != nil {
					p, _ = s["presence"].(map[string]any)
				}
			}
			if p != nil && p["guests"] == float64(guests) && p["accounts"] == float64(accounts) {
				return
			}
		case <-deadline:
			l.t.Fatalf("no presence %d/%d within 20 s", guests, accounts)
		}
	}
}

// waitList waits for a "presence.list" event naming exactly names (sorted by name).
func (l *live) waitList(names ...string) {
	l.t.Helper()
	want := strings.Join(names, ",")
	deadline := time.After(20 * time.Second)
	last := ""
	for {
		select {
		case m, ok := <-l.msgs:
			if !ok {
				l.t.Fatalf("connection closed (%v) while waiting for the list %s", l.readErr, want)
			}
			var ps []any
			if d, _ := m["data"].(map[string]any); m["type"] == "event" && d["type"] == "presence.list" {
				ps, _ = d["participants"].([]any)
			} else if s, _ := m["snapshot"].(map[string]any); m["type"] == "subscribed" && s != nil {
				ps, _ = s["participants"].([]any)
			} else {
				continue
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.(map[string]any)["name"].(string))
			}
			if last = strings.Join(got, ","); last == want {
				return
			}
		case <-deadline:
			l.t.Fatalf("no presence list %q within 20 s (last %q)", want, last)
		}
	}
}

// waitClose waits until the server closes the connection with code.
func (l *live) waitClose(code int) {
	l.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case _, ok := <-l.msgs:
			if !ok {
				if !websocket.IsCloseError(l.readErr, code) {
					l.t.Fatalf("closed with %v, want %d", l.readErr, code)
				}
				return
			}
		case <-deadline:
			l.t.Fatalf("not closed with %d within 20 s", code)
		}
	}
}

// answer sends a message with a ref and returns its ack or error.
func (l *live) answer(m map[string]any) map[string]any {
	l.t.Helper()
	m["ref"] = "r-" + m["type"].(string)
	l.send(m)
	for {
		got := l.next("ack", "error")
		if got["ref"] == m["ref"] {
			return got
		}
	}
}

// Presence counts real websocket clients through the hub, and hosts remove a guest and an
// account: their connections close with 4004 and they cannot come back.
func TestPresenceAndRemovalOverWebsockets(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"INSIEME_DATA_DIR": dir, "INSIEME_LOG_LEVEL": "warn"}
	if err := run(context.Background(), []string{"admin", "create", "--email", "admin@example.org", "--password-stdin"},
		func(k string) string { return env[k] }, strings.NewReader("a long admin password\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	n := start(t, env)
	admin := newClient(t, n.base)
	if s := admin.call("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.org", "password": "a long admin password"}, nil); s != 200 {
		t.Fatalf("login: %d", s)
	}
	var m, f, s struct {
		ID   string
		Code string
	}
	admin.call("POST", "/api/v1/organisations", map[string]any{"kind": "municipality", "name": "Comune"}, &m)
	if st := admin.call("POST", "/api/v1/forums", map[string]any{"municipalityId": m.ID, "title": map[string]string{"it": "Forum"}, "status": "open"}, &f); st != 201 {
		t.Fatalf("forum: %d", st)
	}
	if st := admin.call("POST", "/api/v1/forums/"+f.ID+"/sessions", map[string]any{"title": map[string]string{"it": "Dal vivo"}, "scheduledAt": time.Now()}, &s); st != 201 {
		t.Fatalf("session: %d", st)
	}
	if st := admin.call("POST", "/api/v1/sessions/"+s.ID+"/actions", map[string]any{"type": "session.control", "action": "start"}, nil); st != 200 {
		t.Fatalf("start: %d", st)
	}
	member := newClient(t, n.base)
	var u struct{ ID string }
	if st := member.call("POST", "/api/v1/auth/register", map[string]any{"email": "p@example.org", "password": "a long enough password", "displayName": "Paola", "language": "it"}, &u); st != 201 {
		t.Fatalf("register: %d", st)
	}
	var g struct {
		Token     string
		Principal struct{ ID string }
	}
	if st := newClient(t, n.base).call("POST", "/api/v1/join", map[string]any{"code": s.Code, "name": "Amina"}, &g); st != 200 || g.Token == "" {
		t.Fatalf("join: %d", st)
	}

	room, hostRoom := "session:"+s.ID, "session-host:"+s.ID
	open := func(secret, token string) *live {
		t.Helper()
		h := http.Header{"Origin": {n.base}}
		if secret != "" {
			h.Set("Cookie", "insieme_session="+secret)
		}
		l, _, err := dial(t, n.base, h)
		if err != nil {
			t.Fatal(err)
		}
		l.next("hello")
		if token != "" {
			l.send(map[string]any{"type": "auth", "token": token})
			l.next("authed")
		}
		return l
	}
	host := open(sessionCookie(t, admin), "")
	if got := host.subscribe(hostRoom, nil); got["type"] != "subscribed" {
		t.Fatalf("host room: %v", got)
	} else if snap, _ := got["snapshot"].(map[string]any); snap == nil || len(snap["participants"].([]any)) != 0 {
		t.Fatalf("host room snapshot: %v", got) // nobody yet
	}
	watcher := open(sessionCookie(t, admin), "")
	watcher.subscribe(room, nil)
	host.waitList("Admin")
	watcher.waitPresence(0, 1)

	guest := open("", g.Token)
	if got := guest.subscribe(room, nil); got["type"] != "subscribed" {
		t.Fatalf("guest subscribe: %v", got)
	}
	guest2 := open("", g.Token) // a second tab: still one person
	guest2.subscribe(room, nil)
	paola := open(sessionCookie(t, member), "")
	paola.subscribe(room, nil)
	paolaElsewhere := open(sessionCookie(t, member), "")
	paolaElsewhere.subscribe("participant:"+u.ID, nil)
	watcher.waitPresence(1, 2)
	host.waitList("Admin", "Amina", "Paola")
	// A late joiner's snapshot has the counts.
	late := open(sessionCookie(t, admin), "")
	if got := late.subscribe(room, nil); got["type"] != "subscribed" {
		t.Fatalf("late subscribe: %v", got)
	} else if snap, _ := got["snapshot"].(map[string]any); snap == nil ||
		snap["presence"].(map[string]any)["guests"] != float64(1) || snap["presence"].(map[string]any)["accounts"] != float64(2) {
		t.Fatalf("late joiner's snapshot: %v", got["snapshot"])
	}

	// Neither a guest nor a participant may remove anyone.
	for who, l := range map[string]*live{"guest": guest, "participant": paola} {
		got := l.answer(map[string]any{"type": "participant.remove", "session": s.ID, "participant": u.ID})
		if got["type"] != "error" || got["code"] != "forbidden" {
			t.Fatalf("%s removes: %v", who, got)
		}
	}

	// The host removes the guest: both tabs close with 4004, the token is dead.
	if got := host.answer(map[string]any{"type": "participant.remove", "session": s.ID, "participant": g.Principal.ID}); got["type"] != "ack" {
		t.Fatalf("removing the guest: %v", got)
	}
	guest.waitClose(app.CloseRemoved)
	guest2.waitClose(app.CloseRemoved)
	watcher.waitPresence(0, 2)
	host.waitList("Admin", "Paola")
	again, _, err := dial(t, n.base, nil)
	if err != nil {
		t.Fatal(err)
	}
	again.next("hello")
	again.send(map[string]any{"type": "auth", "token": g.Token})
	if got := again.next("authed", "error"); got["code"] != "unauthorized" {
		t.Fatalf("the removed guest authenticates: %v", got)
	}
	req, _ := http.NewRequest("GET", n.base+"/api/v1/sessions/"+s.ID, nil)
	req.Header.Set("Authorization", "Bearer "+g.Token)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 401 {
		t.Fatalf("the removed guest on HTTP: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	// The host removes Paola: her connection in the session closes, her other one stays.
	if got := host.answer(map[string]any{"type": "participant.remove", "session": s.ID, "participant": u.ID}); got["type"] != "ack" {
		t.Fatalf("removing Paola: %v", got)
	}
	paola.waitClose(app.CloseRemoved)
	watcher.waitPresence(0, 1)
	host.waitList("Admin")
	paolaElsewhere.send(map[string]any{"type": "ping", "ref": "still"})
	paolaElsewhere.next("pong")
	if got := paolaElsewhere.subscribe(room, nil); got["type"] != "error" || got["code"] != "forbidden" {
		t.Fatalf("Paola subscribes again: %v", got)
	}

	// Everyone leaves: the count goes to zero (seen through the host room).
	watcher.conn.Close()
	late.conn.Close()
	host.waitList()
}
