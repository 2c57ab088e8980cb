package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/mongo"
)

// A workshop's board on two nodes (two `insieme serve` processes) sharing one `insieme devdb`
// and one Redis: participants on both nodes move the same cards at once; every node, every
// websocket client and a node started afterwards (reading the store) end with, for each card
// and field, the edit with the greatest key among all acknowledged ones: the last writer wins
// per field and no acknowledged edit is lost.

// fieldValue is one field as a client shows it: the key of the edit that set it, and its value.
type fieldValue struct {
	version string
	value   string // the field's JSON
}

// boardFields merges a card's view into what a client shows: a field changes only when its
// version is greater than the one shown (the client rule of docs/WORKSHOPS.md).
func boardFields(into map[string]map[string]fieldValue, card map[string]any) {
	id, _ := card["id"].(string)
	versions, _ := card["versions"].(map[string]any)
	if into[id] == nil {
		into[id] = map[string]fieldValue{}
	}
	for field, v := range versions {
		version, _ := v.(string)
		if version <= into[id][field].version {
			continue
		}
		value, _ := json.Marshal(card[field])
		into[id][field] = fieldValue{version, string(value)}
	}
}

// clientBoard is the board a websocket client shows after its snapshot and events.
func (r *rec) clientBoard(room string) map[string]map[string]fieldValue {
	r.mu.Lock()
	defer r.mu.Unlock()
	board := map[string]map[string]fieldValue{}
	for _, m := range r.msgs {
		if m["room"] != room {
			continue
		}
		var cards []any
		switch m["type"] {
		case "subscribed", "resync":
			snap, _ := m["snapshot"].(map[string]any)
			cards, _ = snap["cards"].([]any)
		case "event":
			d, _ := m["data"].(map[string]any)
			switch d["type"] {
			case "board.state", "board.changes":
				cards, _ = d["cards"].([]any)
			}
		}
		for _, c := range cards {
			if cm, ok := c.(map[string]any); ok {
				boardFields(board, cm)
			}
		}
	}
	return board
}

// apiBoard is the board GET /api/v1/workshops/{id} shows on a node.
func apiBoard(t *testing.T, base, id, secret string) map[string]map[string]fieldValue {
	t.Helper()
	status, body := get(t, base, "/api/v1/workshops/"+id, secret, "")
	if status != 200 {
		t.Fatalf("workshop on %s: %d %s", base, status, body)
	}
	var st struct{ Cards []map[string]any }
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	board := map[string]map[string]fieldValue{}
	for _, c := range st.Cards {
		boardFields(board, c)
	}
	return board
}

// sameFields compares the moved fields of two boards; "" when they agree.
func sameFields(want, got map[string]map[string]fieldValue) string {
	for id, fields := range want {
		for _, f := range []string{"pos", "cluster"} {
			if w, g := fields[f], got[id][f]; w != g {
				return fmt.Sprintf("card %s field %s: want %+v, got %+v", id, f, w, g)
			}
		}
	}
	return ""
}

func TestBoardConvergesAcrossNodes(t *testing.T) {
	c := newCluster(t)
	a, b := c.node(), c.node()
	self, _ := os.Executable()
	cmd := exec.Command(self, "admin", "create", "--email", "admin@example.org", "--password-stdin")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "MONGODB_URI="+c.uri, "MONGODB_DATABASE=cluster", "INSIEME_LOG_LEVEL=warn")
	cmd.Stdin = strings.NewReader("a long admin password\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("admin create: %v %s", err, out)
	}
	adminA, adminB := newClient(t, a), newClient(t, b)
	for _, cl := range []*client{adminA, adminB} {
		if st := cl.call("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.org", "password": "a long admin password"}, nil); st != 200 {
			t.Fatalf("login on %s: %d", cl.base, st)
		}
	}
	var m, f, w struct{ ID, JoinCode string }
	adminA.call("POST", "/api/v1/organisations", map[string]any{"kind": "municipality", "name": "Comune"}, &m)
	adminA.call("POST", "/api/v1/forums", map[string]any{"municipalityId": m.ID, "title": map[string]string{"it": "Forum"}, "status": "open"}, &f)
	if st := adminA.call("POST", "/api/v1/forums/"+f.ID+"/workshops", map[string]any{"title": "Laboratorio",
		"brief": map[string]string{"it": "Idee"}, "scheduledAt": time.Now()}, &w); st != 201 {
		t.Fatalf("workshop: %d", st)
	}
	id, room := w.ID, "workshop:"+w.ID
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	t.Cleanup(hc.CloseIdleConnections)
	post := func(base, token string, body map[string]any) (int, map[string]any, error) {
		req, _ := http.NewRequest("POST", base+"/api/v1/workshops/"+id+"/actions", strings.NewReader(mustJSON(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := hc.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out, nil
	}

	// Twelve guests, half on each node, write a card each in the brainstorm.
	type guest struct{ token, home string }
	var guests []guest
	for i := range 12 {
		home := a
		if i%2 == 1 {
			home = b
		}
		var g struct{ Token string }
		if st := newClient(t, home).call("POST", "/api/v1/join", map[string]any{"code": w.JoinCode, "name": fmt.Sprintf("Ospite %d", i)}, &g); st != 200 {
			t.Fatalf("join: %d", st)
		}
		guests = append(guests, guest{g.Token, home})
	}
	adminA.call("POST", "/api/v1/workshops/"+id+"/actions", map[string]any{"type": "workshop.phase", "phase": "brainstorm"}, nil)
	var cards []string
	for i, g := range guests {
		st, card, err := post(g.home, g.token, map[string]any{"type": "card.create", "text": fmt.Sprintf("idea %d", i)})
		if err != nil || st != 200 {
			t.Fatalf("card: %d %v %v", st, card, err)
		}
		cards = append(cards, card["id"].(string))
	}
	if st := adminB.call("POST", "/api/v1/workshops/"+id+"/actions", map[string]any{"type": "workshop.phase", "phase": "cluster"}, nil); st != 200 {
		t.Fatalf("to the cluster phase on B: %d", st)
	}
	var clusters []string
	for i, base := range []string{a, b} {
		var cl struct{ ID string }
		st := newClientAs(t, base, adminA).call("POST", "/api/v1/workshops/"+id+"/actions", map[string]any{"type": "cluster.create", "name": fmt.Sprintf("Tema %d", i)}, &cl)
		if st != 200 || cl.ID == "" {
			t.Fatalf("cluster on %s: %d", base, st)
		}
		clusters = append(clusters, cl.ID)
	}
	recA := openRec(t, "facilitator on A", a, sessionCookie(t, adminA), "")
	recB := openRec(t, "facilitator on B", b, sessionCookie(t, adminB), "")
	recA.subscribe(room, nil)
	recB.subscribe(room, nil)

	// Everyone moves the same few cards at once, on both nodes; some moves put a card in a
	// cluster too. Each acknowledgement shows the card as that node had it after storing.
	hot := cards[:4]
	var mu sync.Mutex
	moves, clustered := 0, 0 // acknowledged edits of pos and of cluster
	var wg sync.WaitGroup
	errs := make(chan error, len(guests))
	for gi, g := range guests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(gi), 7))
			for k := range 8 {
				msg := map[string]any{"type": "card.move", "card": hot[rng.IntN(len(hot))], "x": float64(rng.IntN(10000)), "y": float64(k * 10)}
				if rng.IntN(3) == 0 {
					msg["cluster"] = clusters[rng.IntN(len(clusters))]
				}
				st, card, err := post(g.home, g.token, msg)
				if err != nil || st != 200 {
					errs <- fmt.Errorf("move on %s: %d %v %v", g.home, st, card, err)
					return
				}
				mu.Lock()
				moves++
				if msg["cluster"] != nil {
					clustered++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Every acknowledged edit is in the store, and each field's greatest edit there is what
	// every node, every client and a node that reads the store afresh show.
	db, err := mongo.Open(t.Context(), mongo.Options{URI: c.uri, Database: "cluster"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(t.Context())
	stored, err := db.Board(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	acked := map[string]map[string]fieldValue{}
	counted := map[string]int{}
	for _, e := range stored.Edits {
		if e.Field != "pos" && e.Field != "cluster" {
			continue
		}
		counted[e.Field]++
		value := mustJSON(e.Text)
		if e.Field == "pos" {
			value = mustJSON(map[string]float64{"x": e.X, "y": e.Y})
		}
		if acked[e.Item] == nil {
			acked[e.Item] = map[string]fieldValue{}
		}
		if e.ID > acked[e.Item][e.Field].version {
			acked[e.Item][e.Field] = fieldValue{e.ID, value}
		}
	}
	if counted["pos"] != moves || counted["cluster"] != clustered {
		t.Fatalf("stored %d moves and %d cluster changes, acknowledged %d and %d", counted["pos"], counted["cluster"], moves, clustered)
	}
	adminSecret := sessionCookie(t, adminA)
	for name, board := range map[string]func() map[string]map[string]fieldValue{
		"node A's API":    func() map[string]map[string]fieldValue { return apiBoard(t, a, id, adminSecret) },
		"node B's API":    func() map[string]map[string]fieldValue { return apiBoard(t, b, id, sessionCookie(t, adminB)) },
		"the client on A": func() map[string]map[string]fieldValue { return recA.clientBoard(room) },
		"the client on B": func() map[string]map[string]fieldValue { return recB.clientBoard(room) },
	} {
		var diff string
		waitFor(t, name+" to converge", func() bool {
			diff = sameFields(acked, board())
			return diff == ""
		})
	}
	fresh := c.node()
	freshAdmin := newClient(t, fresh)
	freshAdmin.call("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.org", "password": "a long admin password"}, nil)
	if diff := sameFields(acked, apiBoard(t, fresh, id, sessionCookie(t, freshAdmin))); diff != "" {
		t.Fatalf("a node reading the store: %s", diff)
	}
	if len(acked) != len(hot) {
		t.Fatalf("moved %d cards, want %d", len(acked), len(hot))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// newClientAs is a client on base that shares another client's cookies (the same person).
func newClientAs(t *testing.T, base string, as *client) *client {
	c := newClient(t, base)
	u, _ := http.NewRequest("GET", as.base, nil)
	v, _ := http.NewRequest("GET", base, nil)
	c.http.Jar.SetCookies(v.URL, as.http.Jar.Cookies(u.URL))
	return c
}
