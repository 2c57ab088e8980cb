package main

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
)

// Two nodes: participants on one, the host on the other. The host sees everyone connected to
// either node, and removing someone on the other node closes their connection there.
func TestPresenceAndRemovalAcrossNodes(t *testing.T) {
	c := newCluster(t)
	nodeA, nodeB := c.node(), c.node()
	self, _ := os.Executable()
	cmd := exec.Command(self, "admin", "create", "--email", "admin@example.org", "--password-stdin")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "MONGODB_URI="+c.uri, "MONGODB_DATABASE=cluster", "INSIEME_LOG_LEVEL=warn")
	cmd.Stdin = strings.NewReader("a long admin password\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("admin create: %v %s", err, out)
	}
	admin := newClient(t, nodeA)
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
	member := newClient(t, nodeB)
	var u struct{ ID string }
	if st := member.call("POST", "/api/v1/auth/register", map[string]any{"email": "p@example.org", "password": "a long enough password", "displayName": "Paola", "language": "it"}, &u); st != 201 {
		t.Fatalf("register: %d", st)
	}
	var g struct{ Token string }
	if st := newClient(t, nodeB).call("POST", "/api/v1/join", map[string]any{"code": s.Code, "name": "Amina"}, &g); st != 200 {
		t.Fatalf("join: %d", st)
	}

	open := func(base, secret, token string) *live {
		t.Helper()
		h := http.Header{"Origin": {base}}
		if secret != "" {
			h.Set("Cookie", "insieme_session="+secret)
		}
		l, _, err := dial(t, base, h)
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
	room := "session:" + s.ID
	host := open(nodeA, sessionCookie(t, admin), "")
	if got := host.subscribe("session-host:"+s.ID, nil); got["type"] != "subscribed" {
		t.Fatalf("host room: %v", got)
	}
	watcher := open(nodeA, sessionCookie(t, admin), "")
	watcher.subscribe(room, nil)
	guest := open(nodeB, "", g.Token)
	guest.subscribe(room, nil)
	paola := open(nodeB, sessionCookie(t, member), "")
	paola.subscribe(room, nil)
	paolaElsewhere := open(nodeB, sessionCookie(t, member), "")
	paolaElsewhere.subscribe("participant:"+u.ID, nil)
	watcher.waitPresence(1, 2)
	host.waitList("Admin", "Amina", "Paola")

	// Removed on node A, disconnected on node B.
	if got := host.answer(map[string]any{"type": "participant.remove", "session": s.ID, "participant": u.ID}); got["type"] != "ack" {
		t.Fatalf("removing Paola: %v", got)
	}
	paola.waitClose(app.CloseRemoved)
	watcher.waitPresence(1, 1)
	host.waitList("Admin", "Amina")
	paolaElsewhere.send(map[string]any{"type": "ping", "ref": "still"})
	paolaElsewhere.next("pong")
	if got := paolaElsewhere.subscribe(room, nil); got["type"] != "error" || got["code"] != "forbidden" {
		t.Fatalf("Paola subscribes again on node B: %v", got)
	}

	// The guest leaves node B: node A's clients see it.
	guest.conn.Close()
	watcher.waitPresence(0, 1)
	host.waitList("Admin")
}
