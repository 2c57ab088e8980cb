package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Workshops over real websockets on one node: during the brainstorm no one (the facilitator
// included) receives another person's card text, in any event, snapshot, resumed history or
// API answer; the reveal shows every card to everyone.

// workshopNode is a node with an admin (a facilitator of every forum) and an open forum.
type workshopNode struct {
	t     *testing.T
	n     *node
	admin *client
	forum string
}

func newWorkshopNode(t *testing.T) *workshopNode {
	t.Helper()
	env := map[string]string{"INSIEME_DATA_DIR": t.TempDir(), "INSIEME_LOG_LEVEL": "warn"}
	if err := run(context.Background(), []string{"admin", "create", "--email", "admin@example.org", "--password-stdin"},
		func(k string) string { return env[k] }, strings.NewReader("a long admin password\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	wn := &workshopNode{t: t, n: start(t, env)}
	wn.admin = newClient(t, wn.n.base)
	if s := wn.admin.call("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.org", "password": "a long admin password"}, nil); s != 200 {
		t.Fatalf("login: %d", s)
	}
	var m, f struct{ ID string }
	wn.admin.call("POST", "/api/v1/organisations", map[string]any{"kind": "municipality", "name": "Comune"}, &m)
	if s := wn.admin.call("POST", "/api/v1/forums", map[string]any{"municipalityId": m.ID, "title": map[string]string{"it": "Forum"}, "status": "open"}, &f); s != 201 {
		t.Fatalf("forum: %d", s)
	}
	wn.forum = f.ID
	return wn
}

// workshop creates a workshop and returns its id and join code.
func (wn *workshopNode) workshop(settings map[string]any) (id, code string) {
	wn.t.Helper()
	var w struct{ ID, JoinCode string }
	if s := wn.admin.call("POST", "/api/v1/forums/"+wn.forum+"/workshops", map[string]any{"title": "Laboratorio",
		"brief": map[string]string{"it": "Che cosa manca?"}, "scheduledAt": time.Now(), "settings": settings}, &w); s != 201 {
		wn.t.Fatalf("workshop: %d", s)
	}
	return w.ID, w.JoinCode
}

// account registers someone and returns their session secret and id.
func (wn *workshopNode) account(name string) (*client, string, string) {
	wn.t.Helper()
	c := newClient(wn.t, wn.n.base)
	var u struct{ ID string }
	if s := c.call("POST", "/api/v1/auth/register", map[string]any{"email": strings.ToLower(name) + "@example.org", "password": "a long enough password",
		"displayName": name, "language": "it"}, &u); s != 201 {
		wn.t.Fatalf("register %s: %d", name, s)
	}
	return c, sessionCookie(wn.t, c), u.ID
}

// guest joins by code and returns the guest's token and id.
func (wn *workshopNode) guest(code, name string) (string, string) {
	wn.t.Helper()
	var g struct {
		Token     string
		Principal struct{ ID string }
	}
	if s := newClient(wn.t, wn.n.base).call("POST", "/api/v1/join", map[string]any{"code": code, "name": name}, &g); s != 200 || g.Token == "" {
		wn.t.Fatalf("join %s: %d", name, s)
	}
	return g.Token, g.Principal.ID
}

// frames is everything a recorder received, as JSON text.
func (r *rec) frames(from int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, m := range r.msgs[from:] {
		j, _ := json.Marshal(m)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// event waits for an event of a type in a room from index from on.
func (r *rec) event(from int, room, typ string, ok func(data map[string]any) bool) (map[string]any, int) {
	r.t.Helper()
	m, i := r.must(r.wait(from, func(m map[string]any) bool {
		d := eventData(m, room, typ)
		return d != nil && (ok == nil || ok(d))
	}))
	return eventData(m, room, typ), i
}

// get reads an API path with a cookie secret or a guest token and returns the body.
func get(t *testing.T, base, path, secret, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	if secret != "" {
		req.Header.Set("Cookie", "insieme_session="+secret)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestBrainstormStaysPrivateOverWebsockets(t *testing.T) {
	wn := newWorkshopNode(t)
	id, code := wn.workshop(nil)
	room := "workshop:" + id
	base := wn.n.base
	_, aliceSecret, aliceID := wn.account("Alessia")
	adminSecret := sessionCookie(t, wn.admin)
	gTok, gID := wn.guest(code, "Gentiana")
	hTok, _ := wn.guest(code, "Hamid")

	fac := openRec(t, "facilitator", base, adminSecret, "")
	alice := openRec(t, "alice", base, aliceSecret, "")
	gent := openRec(t, "gentiana", base, "", gTok)
	ham := openRec(t, "hamid", base, "", hTok)
	for _, r := range []*rec{fac, alice, gent, ham} {
		r.subscribe(room, nil)
	}
	alice.subscribe("participant:"+aliceID, nil)
	gent.subscribe("participant:"+gID, nil)
	// Nobody else joins the room or the authors' private rooms.
	stranger := openRec(t, "anonymous", base, "", "")
	otherID, otherCode := wn.workshop(nil)
	otherTok, _ := wn.guest(otherCode, "Altrove")
	elsewhere := openRec(t, "another workshop's guest", base, "", otherTok)
	for _, c := range []struct {
		r          *rec
		room, code string
	}{{stranger, room, "unauthorized"}, {elsewhere, room, "not_found"}, {ham, "participant:" + aliceID, "forbidden"},
		{ham, "participant:" + gID, "forbidden"}, {gent, "workshop:" + otherID, "not_found"}} {
		if ans, err := c.r.request(map[string]any{"type": "subscribe", "room": c.room}); err != nil || ans["type"] != "error" || ans["code"] != c.code {
			t.Fatalf("%s subscribing to %s: %v %v", c.r.name, c.room, ans, err)
		}
	}
	// Presence counts everyone in the room, the facilitator too.
	fac.event(0, room, "presence", func(d map[string]any) bool { return d["guests"] == 2.0 && d["accounts"] == 2.0 })
	start := fac.position(room)
	fac.ack(map[string]any{"type": "workshop.phase", "workshop": id, "phase": "brainstorm"})

	secretA, secretA2, secretG := "SEGRETO-ALESSIA-1", "SEGRETO-ALESSIA-2", "SEGRETO-GENTIANA"
	card := alice.ack(map[string]any{"type": "card.create", "workshop": id, "text": secretA, "colour": "pink"})
	if card["text"] != secretA || card["mine"] != true {
		t.Fatalf("alice's card: %v", card)
	}
	cardA, _ := card["id"].(string)
	gent.ack(map[string]any{"type": "card.create", "workshop": id, "text": secretG})
	alice.ack(map[string]any{"type": "card.edit", "workshop": id, "card": cardA, "text": secretA2})
	// Another person cannot edit Alessia's card, nor see it by moving or hiding it.
	if ans, _ := gent.request(map[string]any{"type": "card.edit", "workshop": id, "card": cardA, "text": "mio"}); ans["type"] != "error" || ans["code"] != "forbidden" {
		t.Fatalf("another's card edited: %v", ans)
	}
	if ans, _ := fac.request(map[string]any{"type": "card.move", "workshop": id, "card": cardA, "x": 10, "y": 10}); ans["type"] != "error" || ans["code"] != "conflict" {
		t.Fatalf("a move in the brainstorm: %v", ans)
	}
	// Everyone in the room learns the count, and the authors their own cards.
	for _, r := range []*rec{fac, ham} {
		r.event(0, room, "cards.count", func(d map[string]any) bool { return d["total"] == 2.0 })
	}
	alice.event(0, "participant:"+aliceID, "card.state", func(d map[string]any) bool {
		c, _ := d["card"].(map[string]any)
		return c["text"] == secretA2
	})
	// A late joiner's snapshot, a resume of the whole history, and the API.
	late := openRec(t, "late", base, "", hTok)
	snap := late.subscribe(room, nil)
	resumed := openRec(t, "resumed", base, adminSecret, "")
	res := resumed.subscribe(room, start)
	if res["recovered"] != true {
		t.Fatalf("no resume from the start: %v", res)
	}
	resumed.event(0, room, "cards.count", func(d map[string]any) bool { return d["total"] == 2.0 })
	_, apiFac := get(t, base, "/api/v1/workshops/"+id, adminSecret, "")
	_, apiHam := get(t, base, "/api/v1/workshops/"+id, "", hTok)
	status, exportFac := get(t, base, "/api/v1/workshops/"+id+"/export.json", adminSecret, "")
	if status != 200 {
		t.Fatalf("the facilitator's export: %d", status)
	}
	_, apiAlice := get(t, base, "/api/v1/workshops/"+id, aliceSecret, "")
	snapJSON, _ := json.Marshal(snap)
	everything := map[string]string{"the facilitator's frames": fac.frames(0), "Hamid's frames": ham.frames(0), "a late snapshot": string(snapJSON),
		"a resumed history": resumed.frames(0), "the facilitator's API": apiFac, "Hamid's API": apiHam, "the facilitator's export": exportFac}
	for what, text := range everything {
		for _, s := range []string{secretA, secretA2, secretG} {
			if strings.Contains(text, s) {
				t.Errorf("%s hold %q during the brainstorm", what, s)
			}
		}
	}
	if a := alice.frames(0); strings.Contains(a, secretG) || !strings.Contains(a, secretA2) {
		t.Errorf("Alessia's frames: her card %v, Gentiana's %v", strings.Contains(a, secretA2), strings.Contains(a, secretG))
	}
	if g := gent.frames(0); strings.Contains(g, secretA) || strings.Contains(g, secretA2) || !strings.Contains(g, secretG) {
		t.Errorf("Gentiana's frames leak or lack cards")
	}
	if !strings.Contains(apiAlice, secretA2) || strings.Contains(apiAlice, secretG) {
		t.Errorf("Alessia's API view: %s", apiAlice)
	}
	// The reveal shows both cards to everyone, with their authors.
	from := ham.mark()
	fac.ack(map[string]any{"type": "workshop.phase", "workshop": id, "phase": "reveal"})
	board, _ := ham.event(from, room, "board.state", nil)
	bj, _ := json.Marshal(board)
	if !strings.Contains(string(bj), secretA2) || !strings.Contains(string(bj), secretG) || !strings.Contains(string(bj), "Gentiana") {
		t.Fatalf("the reveal: %s", bj)
	}
	// From now on the author's edits go to the room, in batches.
	from = ham.mark()
	alice.ack(map[string]any{"type": "card.edit", "workshop": id, "card": cardA, "text": "Casa per tutti"})
	ham.event(from, room, "board.changes", func(d map[string]any) bool {
		cards, _ := d["cards"].([]any)
		for _, c := range cards {
			if cm, _ := c.(map[string]any); cm["text"] == "Casa per tutti" {
				return true
			}
		}
		return false
	})
}

// An anonymous workshop never shows who wrote a card, not even to its facilitator, and still
// tells authors their own cards.
func TestAnonymousCardsHaveNoAuthor(t *testing.T) {
	wn := newWorkshopNode(t)
	id, _ := wn.workshop(map[string]any{"anonymous": true})
	room := "workshop:" + id
	adminSecret := sessionCookie(t, wn.admin)
	_, aliceSecret, aliceID := wn.account("Alessia")
	fac := openRec(t, "facilitator", wn.n.base, adminSecret, "")
	alice := openRec(t, "alice", wn.n.base, aliceSecret, "")
	fac.subscribe(room, nil)
	alice.subscribe(room, nil)
	fac.ack(map[string]any{"type": "workshop.phase", "workshop": id, "phase": "brainstorm"})
	alice.ack(map[string]any{"type": "card.create", "workshop": id, "text": "una idea"})
	fac.ack(map[string]any{"type": "workshop.phase", "workshop": id, "phase": "reveal"})
	board, _ := fac.event(0, room, "board.state", nil)
	_, apiFac := get(t, wn.n.base, "/api/v1/workshops/"+id, adminSecret, "")
	_, export := get(t, wn.n.base, "/api/v1/workshops/"+id+"/export.md", adminSecret, "")
	bj, _ := json.Marshal(board)
	for what, text := range map[string]string{"the reveal": string(bj), "the facilitator's API": apiFac, "the export": export} {
		if !strings.Contains(text, "una idea") {
			t.Fatalf("%s lacks the card: %s", what, text)
		}
		if strings.Contains(text, aliceID) || strings.Contains(text, "Alessia") || strings.Contains(text, `"author"`) {
			t.Errorf("%s names the author: %s", what, text)
		}
	}
	_, apiAlice := get(t, wn.n.base, "/api/v1/workshops/"+id, aliceSecret, "")
	if !strings.Contains(apiAlice, `"mine":true`) {
		t.Errorf("Alessia's view does not mark her card: %s", apiAlice)
	}
}
