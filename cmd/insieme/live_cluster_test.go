package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Live sessions on two nodes (two `insieme serve` processes) sharing one `insieme devdb` and
// one Redis: what a host does on one node reaches participants on both, ballots cast on both
// nodes are counted exactly, a client resumes on the other node without loss, and a Redis
// outage loses no acknowledged ballot.

// liveSetup is a started live session hosted by an administrator signed in on node A.
type liveSetup struct {
	t       *testing.T
	c       *cluster
	a, b    string  // the nodes' base URLs
	admin   *client // signed in on node A
	adminB  *client // the same administrator, signed in on node B
	id      string
	code    string
	items   []string // agenda item ids
	voterHC *http.Client
}

func newLiveSetup(t *testing.T) *liveSetup {
	t.Helper()
	c := newCluster(t)
	s := &liveSetup{t: t, c: c, voterHC: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	s.a, s.b = c.node(), c.node()
	// Before the nodes stop (cleanups run last first): a connection the transport dialled
	// and never used holds a node's graceful shutdown for its whole grace (15 s).
	t.Cleanup(s.voterHC.CloseIdleConnections)
	self, _ := os.Executable()
	cmd := exec.Command(self, "admin", "create", "--email", "admin@example.org", "--password-stdin")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "MONGODB_URI="+c.uri, "MONGODB_DATABASE=cluster", "INSIEME_LOG_LEVEL=warn")
	cmd.Stdin = strings.NewReader("a long admin password\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("admin create: %v %s", err, out)
	}
	s.admin, s.adminB = newClient(t, s.a), newClient(t, s.b)
	for _, cl := range []*client{s.admin, s.adminB} {
		if st := cl.call("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.org", "password": "a long admin password"}, nil); st != 200 {
			t.Fatalf("login on %s: %d", cl.base, st)
		}
	}
	var m, f struct{ ID string }
	if st := s.admin.call("POST", "/api/v1/organisations", map[string]any{"kind": "municipality", "name": "Comune"}, &m); st != 201 {
		t.Fatalf("municipality: %d", st)
	}
	if st := s.admin.call("POST", "/api/v1/forums", map[string]any{"municipalityId": m.ID, "title": map[string]string{"it": "Forum"}, "status": "open"}, &f); st != 201 {
		t.Fatalf("forum: %d", st)
	}
	var sess struct {
		ID, Code string
		Agenda   []struct{ ID string }
	}
	if st := s.admin.call("POST", "/api/v1/forums/"+f.ID+"/sessions", map[string]any{
		"title": map[string]string{"it": "Forum dal vivo"}, "scheduledAt": time.Now(), "guestsMayAsk": true,
		"agenda": []map[string]any{
			{"title": map[string]string{"it": "Apertura"}, "minutes": 5},
			{"title": map[string]string{"it": "Proposte"}, "minutes": 30},
			{"title": map[string]string{"it": "Voto"}, "minutes": 10},
		},
	}, &sess); st != 201 || sess.Code == "" || len(sess.Agenda) != 3 {
		t.Fatalf("session: %d %+v", st, sess)
	}
	s.id, s.code = sess.ID, sess.Code
	for _, it := range sess.Agenda {
		s.items = append(s.items, it.ID)
	}
	if st := s.admin.call("POST", "/api/v1/sessions/"+s.id+"/actions", map[string]any{"type": "session.control", "action": "start"}, nil); st != 200 {
		t.Fatalf("start: %d", st)
	}
	return s
}

func (s *liveSetup) room() string { return "session:" + s.id }

// guest joins the session by code on a node and returns the guest's token and id.
func (s *liveSetup) guest(base, name string) (token, id string, err error) {
	var g struct {
		Token     string
		Principal struct{ ID string }
	}
	st, body, err := s.post(base, "/api/v1/join", "", map[string]any{"code": s.code, "name": name}, &g)
	if err != nil || st != 200 || g.Token == "" {
		return "", "", fmt.Errorf("join %s on %s: %d %s %v", name, base, st, body, err)
	}
	return g.Token, g.Principal.ID, nil
}

// guests joins n guests, half on each node (even ones on A), in parallel.
func (s *liveSetup) guests(prefix string, n int) []*voter {
	s.t.Helper()
	vs := make([]*voter, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			home := s.a
			if i%2 == 1 {
				home = s.b
			}
			tok, id, err := s.guest(home, fmt.Sprintf("%s %d", prefix, i))
			if err != nil {
				errs <- err
				return
			}
			vs[i] = &voter{name: fmt.Sprintf("%s %d", prefix, i), id: id, token: tok, home: home, choice: -1}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		s.t.Fatal(err)
	}
	return vs
}

// post sends a JSON POST without cookies, with a guest's token when given.
func (s *liveSetup) post(base, path, token string, body, out any) (int, []byte, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.voterHC.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(rb, out); err != nil {
			return res.StatusCode, rb, err
		}
	}
	return res.StatusCode, rb, nil
}

// hostAction sends a host's live message over HTTP to a node.
func (s *liveSetup) hostAction(cl *client, msg map[string]any, out any) {
	s.t.Helper()
	if st := cl.call("POST", "/api/v1/sessions/"+s.id+"/actions", msg, out); st != 200 && st != 204 {
		s.t.Fatalf("%v on %s: %d", msg, cl.base, st)
	}
}

// voter is a participant who votes in a single-choice poll and remembers its latest
// acknowledged ballot.
type voter struct {
	name, id, token string
	home            string // the node it joined on
	ws              *rec   // set for voters over the websocket
	mu              sync.Mutex
	choice          int // latest acknowledged choice, -1 for none
	version         int64
	acks            int
}

// vote casts a ballot for option k over HTTP on base (or over the voter's websocket) and
// records it once acknowledged. Versions of one voter must grow.
func (v *voter) vote(s *liveSetup, base, poll string, k int) error {
	var version int64
	if v.ws != nil {
		ack, err := v.ws.request(map[string]any{"type": "poll.vote", "session": s.id, "poll": poll, "choices": []int{k}})
		if err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
		if ack["type"] != "ack" {
			return fmt.Errorf("%s: ballot refused over the websocket: %v", v.name, ack)
		}
		var r struct{ Version int64 } // through a float64: to 256 ns, plenty to order one voter's
		if err := remarshal(ack["data"], &r); err != nil || r.Version == 0 {
			return fmt.Errorf("%s: ack %v", v.name, ack)
		}
		version = r.Version
	} else {
		var r struct{ Version int64 }
		st, body, err := s.post(base, "/api/v1/sessions/"+s.id+"/actions", v.token, map[string]any{"type": "poll.vote", "poll": poll, "choices": []int{k}}, &r)
		if err != nil || st != 200 || r.Version == 0 {
			return fmt.Errorf("%s: ballot on %s: %d %s %v", v.name, base, st, body, err)
		}
		version = r.Version
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if version <= v.version {
		return fmt.Errorf("%s: ballot version %d after %d", v.name, version, v.version)
	}
	v.choice, v.version = k, version
	v.acks++
	return nil
}

// results is a poll's results as clients see them.
type results struct {
	Voters   int   `json:"voters"`
	Guests   int   `json:"guests"`
	Accounts int   `json:"accounts"`
	Counts   []int `json:"counts"`
	Final    bool  `json:"final"`
}

func (r results) String() string {
	return fmt.Sprintf("{voters %d (guests %d, accounts %d) counts %v final %v}", r.Voters, r.Guests, r.Accounts, r.Counts, r.Final)
}

// sameTally compares the counts, final aside.
func (r results) sameTally(o results) bool {
	return r.Voters == o.Voters && r.Guests == o.Guests && r.Accounts == o.Accounts && reflect.DeepEqual(r.Counts, o.Counts)
}

// tally is what the voters' latest acknowledged ballots make.
func tally(options int, voters []*voter, accounts map[string]bool) results {
	r := results{Counts: make([]int, options)}
	for _, v := range voters {
		v.mu.Lock()
		if v.choice >= 0 {
			r.Voters++
			r.Counts[v.choice]++
			if accounts[v.id] {
				r.Accounts++
			} else {
				r.Guests++
			}
		}
		v.mu.Unlock()
	}
	return r
}

// pollResults finds a poll's results in a message: a poll.results or poll.state event, or
// the snapshot of a subscribe or a resync.
func pollResults(m map[string]any, poll string) (results, bool) {
	var r results
	switch m["type"] {
	case "event":
		d, _ := m["data"].(map[string]any)
		switch d["type"] {
		case "poll.results":
			if d["poll"] == poll && remarshal(d["results"], &r) == nil {
				return r, true
			}
		case "poll.state":
			if p, _ := d["poll"].(map[string]any); p["id"] == poll && p["results"] != nil && remarshal(p["results"], &r) == nil {
				return r, true
			}
		}
	case "subscribed", "resync":
		snap, _ := m["snapshot"].(map[string]any)
		polls, _ := snap["polls"].([]any)
		for _, p := range polls {
			if p, _ := p.(map[string]any); p["id"] == poll && p["results"] != nil && remarshal(p["results"], &r) == nil {
				return r, true
			}
		}
	}
	return r, false
}

// pollStatus finds a poll's status in a poll.state event.
func pollStatus(m map[string]any, poll string) string {
	if m["type"] != "event" {
		return ""
	}
	d, _ := m["data"].(map[string]any)
	if p, _ := d["poll"].(map[string]any); d["type"] == "poll.state" && p["id"] == poll {
		s, _ := p["status"].(string)
		return s
	}
	return ""
}

func remarshal(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// eventData is an event's data when the message is an event of room of the given data type.
func eventData(m map[string]any, room, typ string) map[string]any {
	if m["type"] != "event" || m["room"] != room {
		return nil
	}
	d, _ := m["data"].(map[string]any)
	if d["type"] != typ {
		return nil
	}
	return d
}

// rec is a websocket client that records every message it receives, so that tests can wait
// for one and check the whole stream afterwards.
type rec struct {
	t    *testing.T
	name string
	l    *live
	mu   sync.Mutex
	msgs []map[string]any
	done bool
	wake chan struct{} // closed and replaced at every message
	refs atomic.Int64
}

// openRec connects to a node as a signed-in person (their session secret) or a guest (their
// token), or anonymously.
func openRec(t *testing.T, name, base, secret, token string) *rec {
	t.Helper()
	h := http.Header{"Origin": {base}}
	if secret != "" {
		h.Set("Cookie", "insieme_session="+secret)
	}
	l, _, err := dial(t, base, h)
	if err != nil {
		t.Fatalf("%s: dial %s: %v", name, base, err)
	}
	r := &rec{t: t, name: name, l: l, wake: make(chan struct{})}
	go func() {
		for m := range l.msgs {
			r.mu.Lock()
			r.msgs = append(r.msgs, m)
			close(r.wake)
			r.wake = make(chan struct{})
			r.mu.Unlock()
		}
		r.mu.Lock()
		r.done = true
		close(r.wake)
		r.mu.Unlock()
	}()
	r.must(r.wait(0, func(m map[string]any) bool { return m["type"] == "hello" }))
	if token != "" {
		if m, err := r.request(map[string]any{"type": "auth", "token": token}); err != nil || m["type"] != "authed" {
			t.Fatalf("%s: auth: %v %v", name, m, err)
		}
	}
	return r
}

// mark is the index the next message will have.
func (r *rec) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// wait returns the first message from index from on that ok accepts, and its index.
func (r *rec) wait(from int, ok func(map[string]any) bool) (map[string]any, int, error) {
	deadline := time.After(30 * time.Second)
	for {
		r.mu.Lock()
		for i := from; i < len(r.msgs); i++ {
			if ok(r.msgs[i]) {
				m := r.msgs[i]
				r.mu.Unlock()
				return m, i, nil
			}
		}
		from = len(r.msgs)
		done, wake := r.done, r.wake
		r.mu.Unlock()
		if done {
			return nil, -1, fmt.Errorf("%s: connection closed (%v) while waiting", r.name, r.l.readErr)
		}
		select {
		case <-wake:
		case <-deadline:
			return nil, -1, fmt.Errorf("%s: nothing expected within 30 s", r.name)
		}
	}
}

func (r *rec) must(m map[string]any, i int, err error) (map[string]any, int) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
	return m, i
}

// request sends a message with a fresh ref and returns the answer with that ref. It may be
// called from any goroutine, one request at a time per connection.
func (r *rec) request(m map[string]any) (map[string]any, error) {
	ref := fmt.Sprintf("%s-%d", r.name, r.refs.Add(1))
	m["ref"] = ref
	from := r.mark()
	if err := r.l.conn.WriteJSON(m); err != nil {
		return nil, fmt.Errorf("%s: send: %w", r.name, err)
	}
	ans, _, err := r.wait(from, func(a map[string]any) bool { return a["ref"] == ref && a["type"] != "event" })
	return ans, err
}

// ack sends a message and fails the test unless it is acknowledged; it returns the ack's data.
func (r *rec) ack(m map[string]any) map[string]any {
	r.t.Helper()
	ans, err := r.request(m)
	if err != nil {
		r.t.Fatal(err)
	}
	if ans["type"] != "ack" {
		r.t.Fatalf("%s: %v answered %v", r.name, m, ans)
	}
	d, _ := ans["data"].(map[string]any)
	return d
}

// subscribe joins a room (resuming after since when given) and returns the answer.
func (r *rec) subscribe(room string, since map[string]any) map[string]any {
	r.t.Helper()
	m := map[string]any{"type": "subscribe", "room": room}
	if since != nil {
		m["since"] = since
	}
	ans, err := r.request(m)
	if err != nil {
		r.t.Fatal(err)
	}
	if ans["type"] != "subscribed" {
		r.t.Fatalf("%s: subscribe %s: %v", r.name, room, ans)
	}
	return ans
}

// waitResults waits until the client is sent results of a poll equal to want (in an event or
// a snapshot, from index from on), and returns the index of that message.
func (r *rec) waitResults(from int, poll string, want results, final bool) int {
	r.t.Helper()
	var last results
	seen := false
	_, i, err := r.wait(from, func(m map[string]any) bool {
		res, ok := pollResults(m, poll)
		if !ok {
			return false
		}
		last, seen = res, true
		return res.sameTally(want) && (!final || res.Final)
	})
	if err != nil {
		r.t.Fatalf("%s: results %v (final %v) not seen: last seen %v (any: %v): %v\n%s", r.name, want, final, last, seen, err, r.dump(from, poll))
	}
	return i
}

// dump describes the messages from index from on, with the poll's results they carry.
func (r *rec) dump(from int, poll string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for i := from; i < len(r.msgs); i++ {
		m := r.msgs[i]
		fmt.Fprintf(&b, "\t%s #%d: %v %v %v/%v", r.name, i, m["type"], m["room"], m["epoch"], m["seq"])
		if d, _ := m["data"].(map[string]any); d != nil {
			fmt.Fprintf(&b, " %v", d["type"])
		}
		if res, ok := pollResults(m, poll); ok {
			fmt.Fprintf(&b, " results %v", res)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// position is where the client stands in a room's stream after the messages it has: the
// subscribe answer, resync or event it received last.
func (r *rec) position(room string) map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.msgs) - 1; i >= 0; i-- {
		m := r.msgs[i]
		switch m["type"] {
		case "subscribed", "resync", "event":
			if m["room"] == room {
				return map[string]any{"epoch": m["epoch"], "seq": m["seq"]}
			}
		}
	}
	return nil
}

// checkStream checks the room's stream as the client received it: after each subscribe
// answer or resync, events of the position's epoch with seqs following on one by one (no gap,
// no duplicate); after a resumed subscribe, from the first missed event on (the caller checks
// which that is). It returns the events, by seq.
func (r *rec) checkStream(room string) map[float64]map[string]any {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	events := map[float64]map[string]any{}
	var epoch any
	var seq float64
	joined, resumed := false, false
	for i, m := range r.msgs {
		if m["room"] != room {
			continue
		}
		switch m["type"] {
		case "subscribed", "resync":
			epoch, seq, joined = m["epoch"], m["seq"].(float64), true
			resumed = m["recovered"] == true
		case "event":
			if resumed { // the missed events follow, up to the answer's seq: from the first on
				if m["seq"].(float64) <= seq {
					seq = m["seq"].(float64) - 1
				}
				resumed = false
			}
			if !joined || m["epoch"] != epoch || m["seq"].(float64) != seq+1 {
				r.t.Errorf("%s: message %d in %s: event %v/%v after %v/%v", r.name, i, room, m["epoch"], m["seq"], epoch, seq)
			}
			epoch, seq = m["epoch"], m["seq"].(float64)
			events[seq] = m
		}
	}
	return events
}

func TestLiveSessionAcrossNodes(t *testing.T) {
	s := newLiveSetup(t)
	room := s.room()

	// Paola, signed in on node A, joins by code; Amina joins as a guest on node B.
	paolaC := newClient(t, s.a)
	var paolaID struct{ ID string }
	if st := paolaC.call("POST", "/api/v1/auth/register", map[string]any{"email": "paola@example.org", "password": "a long enough password", "displayName": "Paola", "language": "it"}, &paolaID); st != 201 {
		t.Fatalf("register: %d", st)
	}
	var joined struct{ Kind, ID, Token string }
	if st := paolaC.call("POST", "/api/v1/join", map[string]any{"code": s.code}, &joined); st != 200 || joined.Kind != "session" || joined.ID != s.id || joined.Token != "" {
		t.Fatalf("Paola joins: %d %+v", st, joined)
	}
	aminaToken, aminaID, err := s.guest(s.b, "Amina")
	if err != nil {
		t.Fatal(err)
	}
	adminSecret, paolaSecret := sessionCookie(t, s.admin), sessionCookie(t, paolaC)
	host := openRec(t, "host@A", s.a, adminSecret, "")
	host.subscribe(room, nil)
	host.subscribe("session-host:"+s.id, nil)
	paola := openRec(t, "paola@A", s.a, paolaSecret, "")
	paola.subscribe(room, nil)
	amina := openRec(t, "amina@B", s.b, "", aminaToken)
	amina.subscribe(room, nil)

	func() {
		t.Log("delivery")
		// The host's control on node A reaches the clients on both nodes.
		from := []int{paola.mark(), amina.mark()}
		if got := host.ack(map[string]any{"type": "session.control", "session": s.id, "action": "next"}); got["current"] != s.items[1] {
			t.Fatalf("next: %v", got)
		}
		for i, l := range []*rec{paola, amina} {
			l.must(l.wait(from[i], func(m map[string]any) bool {
				d := eventData(m, room, "session.state")
				ss, _ := d["session"].(map[string]any)
				return ss["current"] == s.items[1]
			}))
		}

		// A question asked on node B waits for the host on node A, who approves it: then both
		// nodes' participants see it, and an upvote on A reaches B.
		hostFrom, paolaFrom := host.mark(), paola.mark()
		q := amina.ack(map[string]any{"type": "question.ask", "session": s.id, "text": "Dove si vota?"})
		qid, _ := q["id"].(string)
		if qid == "" || q["status"] != "pending" {
			t.Fatalf("asked: %v", q)
		}
		host.must(host.wait(hostFrom, func(m map[string]any) bool {
			d := eventData(m, "session-host:"+s.id, "question.pending")
			qq, _ := d["question"].(map[string]any)
			return qq["id"] == qid && qq["text"] == "Dove si vota?"
		}))
		if got := host.ack(map[string]any{"type": "question.moderate", "session": s.id, "question": qid, "status": "approved"}); got["status"] != "approved" {
			t.Fatalf("approve: %v", got)
		}
		approved := func(m map[string]any) bool {
			d := eventData(m, room, "question.state")
			qq, _ := d["question"].(map[string]any)
			return qq["id"] == qid && qq["status"] == "approved" && qq["text"] == "Dove si vota?"
		}
		_, pi := paola.must(paola.wait(paolaFrom, approved))
		amina.must(amina.wait(0, approved))
		// Before its approval the question was nowhere in the session's room.
		paola.mu.Lock()
		for _, m := range paola.msgs[paolaFrom:pi] {
			if d := eventData(m, room, "question.state"); d != nil && d["question"].(map[string]any)["id"] == qid {
				t.Errorf("Paola saw the question before its approval: %v", m)
			}
		}
		paola.mu.Unlock()
		aminaFrom := amina.mark()
		if got := paola.ack(map[string]any{"type": "question.upvote", "session": s.id, "question": qid}); got["votes"] != float64(1) {
			t.Fatalf("upvote: %v", got)
		}
		amina.must(amina.wait(aminaFrom, func(m map[string]any) bool {
			d := eventData(m, room, "question.votes")
			return d["question"] == qid && d["votes"] == float64(1)
		}))
	}()

	func() {
		t.Log("tallies")
		const options = 4
		poll := host.ack(map[string]any{"type": "poll.create", "session": s.id, "poll": map[string]any{
			"kind": "single", "title": map[string]string{"it": "Quale piazza?"}, "guestsMayVote": true, "showResults": "live",
			"options": []map[string]string{{"it": "Piazza Ferrarese"}, {"it": "Piazza Mercantile"}, {"it": "Largo Albicocca"}, {"it": "Piazza Umberto"}},
		}})
		pid, _ := poll["id"].(string)
		if pid == "" || poll["status"] != "draft" {
			t.Fatalf("poll.create: %v", poll)
		}
		from := []int{paola.mark(), amina.mark()}
		if got := host.ack(map[string]any{"type": "poll.open", "session": s.id, "poll": pid}); got["status"] != "open" {
			t.Fatalf("poll.open: %v", got)
		}
		for i, l := range []*rec{paola, amina} {
			l.must(l.wait(from[i], func(m map[string]any) bool { return pollStatus(m, pid) == "open" }))
		}

		// 100 guests joined on both nodes; eight of them, Paola and Amina vote over the
		// websocket, the others over HTTP on alternating nodes. Everyone changes their ballot
		// a few times, all at once.
		voters := s.guests("Ospite", 100)
		for i, v := range voters[:8] {
			v.ws = openRec(t, fmt.Sprintf("voter%d@%s", i, map[bool]string{true: "A", false: "B"}[v.home == s.a]), v.home, "", v.token)
		}
		voters = append(voters, &voter{name: "Paola", id: paolaID.ID, home: s.a, ws: paola, choice: -1},
			&voter{name: "Amina", id: aminaID, home: s.b, ws: amina, choice: -1})
		accounts := map[string]bool{paolaID.ID: true}
		errs := make(chan error, len(voters))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, v := range voters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				rounds := 2 + rand.IntN(3)
				for r := range rounds {
					base := s.a
					if (i+r)%2 == 1 {
						base = s.b
					}
					if err := v.vote(s, base, pid, rand.IntN(options)); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		t0 := time.Now()
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if t.Failed() {
			t.FailNow()
		}
		want := tally(options, voters, accounts)
		acks := 0
		for _, v := range voters {
			acks += v.acks
		}
		t.Logf("%d ballots from %d voters acknowledged in %v; expected tally %v", acks, len(voters), time.Since(t0).Round(time.Millisecond), want)

		// The live results converge on both nodes.
		paola.waitResults(from[0], pid, want, false)
		amina.waitResults(from[1], pid, want, false)

		// Closed on node B: the final tally, recounted from the store, is exactly the latest
		// acknowledged ballot of each voter, and it reaches both nodes' clients.
		from = []int{paola.mark(), amina.mark()}
		var closed struct {
			Status  string
			Results results
		}
		s.hostAction(s.adminB, map[string]any{"type": "poll.close", "poll": pid}, &closed)
		if closed.Status != "closed" || !closed.Results.Final || !closed.Results.sameTally(want) {
			t.Fatalf("poll.close on B: %s %v, want %v", closed.Status, closed.Results, want)
		}
		paola.waitResults(from[0], pid, want, true)
		amina.waitResults(from[1], pid, want, true)
		// Fresh snapshots on both nodes agree.
		for _, n := range []struct {
			name, base, secret, token string
		}{{"snapshot@A", s.a, adminSecret, ""}, {"snapshot@B", s.b, "", aminaToken}} {
			l := openRec(t, n.name, n.base, n.secret, n.token)
			res, ok := pollResults(l.subscribe(room, nil), pid)
			if !ok || !res.Final || !res.sameTally(want) {
				t.Errorf("%s: %v (%v), want %v", n.name, res, ok, want)
			}
			l.l.conn.Close()
		}
	}()

	func() {
		t.Log("resume")
		// Paola's client on node A stops where it stands; Amina's on node B stays and
		// witnesses what happens meanwhile.
		since := paola.position(room)
		if since == nil {
			t.Fatal("Paola has no position")
		}
		paola.l.conn.Close()
		from := amina.mark()
		host.ack(map[string]any{"type": "session.control", "session": s.id, "action": "next"})
		q := amina.ack(map[string]any{"type": "question.ask", "session": s.id, "text": "E il bilancio?"})
		host.ack(map[string]any{"type": "question.moderate", "session": s.id, "question": q["id"], "status": "approved"})
		host.ack(map[string]any{"type": "session.control", "session": s.id, "action": "item", "item": s.items[0]})
		amina.must(amina.wait(from, func(m map[string]any) bool {
			d := eventData(m, room, "session.state")
			ss, _ := d["session"].(map[string]any)
			return ss["current"] == s.items[0]
		}))

		// Paola comes back on node B and gets exactly what she missed.
		back := openRec(t, "paola@B", s.b, paolaSecret, "")
		sub := back.subscribe(room, since)
		if sub["recovered"] != true || sub["snapshot"] != nil || sub["epoch"] != since["epoch"] {
			t.Fatalf("resume from %v: %v", since, sub)
		}
		last := sub["seq"].(float64)
		first := since["seq"].(float64) + 1
		if last < first+2 { // at least the three events above
			t.Fatalf("resumed up to %v from %v", last, first)
		}
		amina.must(amina.wait(0, func(m map[string]any) bool {
			return m["type"] == "event" && m["room"] == room && m["seq"].(float64) >= last
		}))
		back.must(back.wait(0, func(m map[string]any) bool {
			return m["type"] == "event" && m["room"] == room && m["seq"].(float64) >= last
		}))
		witnessed, resumed := amina.checkStream(room), back.checkStream(room)
		for seq := first; seq <= last; seq++ {
			w, r := witnessed[seq], resumed[seq]
			if w == nil || r == nil || !reflect.DeepEqual(w, r) {
				t.Errorf("event %v: witnessed %v, resumed %v", seq, w, r)
			}
		}
		// Live events follow on without a gap or a repeat.
		mark := back.mark()
		host.ack(map[string]any{"type": "session.control", "session": s.id, "action": "next"})
		back.must(back.wait(mark, func(m map[string]any) bool {
			d := eventData(m, room, "session.state")
			ss, _ := d["session"].(map[string]any)
			return ss["current"] == s.items[1]
		}))
		back.checkStream(room)
	}()

	for _, l := range []*rec{host, paola, amina} {
		l.checkStream(room)
	}
}

func TestLiveSessionRedisOutage(t *testing.T) {
	s := newLiveSetup(t)
	room := s.room()
	const options = 3
	var poll struct{ ID, Status string }
	s.hostAction(s.admin, map[string]any{"type": "poll.create", "poll": map[string]any{
		"kind": "single", "title": map[string]string{"it": "Quando?"}, "guestsMayVote": true, "showResults": "live",
		"options": []map[string]string{{"it": "Sabato"}, {"it": "Domenica"}, {"it": "Lunedì"}},
	}}, &poll)
	s.hostAction(s.admin, map[string]any{"type": "poll.open", "poll": poll.ID}, &poll)
	if poll.Status != "open" {
		t.Fatalf("poll: %+v", poll)
	}
	pid := poll.ID

	// Voters of both nodes, over HTTP on their own node; a watcher on each node, who also
	// vote over the websocket.
	voters := s.guests("Ospite", 24)
	early, late := voters[:16], voters[16:] // late ones vote only during the outage
	var watchers []*voter
	for _, home := range []string{s.a, s.b} {
		name := map[bool]string{true: "A", false: "B"}[home == s.a]
		tok, id, err := s.guest(home, "Watcher "+name)
		if err != nil {
			t.Fatal(err)
		}
		w := &voter{name: "watcher@" + name, id: id, token: tok, home: home, choice: -1}
		w.ws = openRec(t, w.name, home, "", tok)
		w.ws.subscribe(room, nil)
		watchers = append(watchers, w)
	}
	wA, wB := watchers[0], watchers[1]
	everyone := append(append([]*voter{}, voters...), watchers...)
	castAll := func(vs []*voter, choose func(i int) int) {
		t.Helper()
		errs := make(chan error, len(vs))
		var wg sync.WaitGroup
		for i, v := range vs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := v.vote(s, v.home, pid, choose(i)); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	castAll(early, func(i int) int { return i % options })
	before := tally(options, everyone, nil)
	wA.ws.waitResults(0, pid, before, false)
	wB.ws.waitResults(0, pid, before, false)

	// Redis goes away. Each node keeps serving its own clients: ballots are acknowledged
	// (so stored), and the node's clients see them counted.
	s.c.redis.stop()
	for _, n := range []string{s.a, s.b} {
		waitFor(t, "broker down on "+n, func() bool { st, body := readyz(t, n); return st == 200 && body["broker"] == "down" })
	}
	outageFrom := []int{wA.ws.mark(), wB.ws.mark()}
	castAll(early[:8], func(i int) int { return (i + 1) % options }) // changed ballots
	castAll(late, func(i int) int { return (i + 2) % options })      // new voters
	castAll(watchers, func(i int) int { return i })                  // over the websocket
	for i, w := range watchers {
		// At least the ballots before the outage, and this node's new voters.
		newHere := 1
		for _, v := range late {
			if v.home == w.home {
				newHere++
			}
		}
		atLeast := before.Voters + newHere
		var last results
		_, _, err := w.ws.wait(outageFrom[i], func(m map[string]any) bool {
			res, ok := pollResults(m, pid)
			if ok {
				last = res
			}
			return ok && res.Voters >= atLeast
		})
		if err != nil {
			t.Fatalf("%s during the outage: %v (last results %v, want at least %d voters)", w.name, err, last, atLeast)
		}
	}
	if st, body := readyz(t, s.a); st != 200 || body["broker"] != "down" {
		t.Fatalf("readyz during the outage: %d %v", st, body)
	}

	// Redis is back: the rooms start a new epoch and clients resynchronise to a state with
	// every ballot acknowledged during the outage, on either node.
	want := tally(options, everyone, nil)
	backFrom := []int{wA.ws.mark(), wB.ws.mark()}
	s.c.redis = startRedis(t, s.c.redis.port)
	for _, n := range []string{s.a, s.b} {
		waitFor(t, "broker up on "+n, func() bool { _, body := readyz(t, n); return body["broker"] == "up" })
	}
	for i, w := range watchers {
		w.ws.must(w.ws.wait(backFrom[i], func(m map[string]any) bool { return m["type"] == "resync" && m["room"] == room }))
	}

	// Events flow between the nodes again: a ballot changed on B is counted on both nodes,
	// in the epoch of the last resync, whose snapshot had every ballot of the outage. (Seen
	// failing about once in ten runs under load, with a resync that lacks the other node's
	// outage ballots: the broker resets a node's rooms one by one in map order, and a session
	// room's resync may read its snapshot before the reset of system:live has made the node
	// drop its copies, app.ResetLive.)
	marks := []int{wA.ws.mark(), wB.ws.mark()}
	castAll(early[1:2], func(int) int { return 0 }) // early[1] is B's
	after := tally(options, everyone, nil)
	for i, w := range watchers {
		at := w.ws.waitResults(marks[i], pid, after, false)
		w.ws.mu.Lock()
		epoch := w.ws.msgs[at]["epoch"]
		var resync map[string]any
		expect := want
		for j := backFrom[i]; j <= at; j++ {
			if m := w.ws.msgs[j]; m["type"] == "resync" && m["room"] == room {
				resync = m
				if j == at { // a resync that came after the ballot shows it
					expect = after
				}
			}
		}
		w.ws.mu.Unlock()
		res, ok := pollResults(resync, pid)
		if resync == nil || resync["epoch"] != epoch || !ok || !res.sameTally(expect) {
			t.Errorf("%s: the resync after the outage (epoch %v) has %v (%v), want %v in epoch %v\n%s",
				w.name, resync["epoch"], res, ok, expect, epoch, w.ws.dump(backFrom[i], pid))
		}
	}
	want = after

	// The final tally, closed on A, counts every acknowledged ballot; both nodes agree.
	var closed struct {
		Status  string
		Results results
	}
	s.hostAction(s.admin, map[string]any{"type": "poll.close", "poll": pid}, &closed)
	if closed.Status != "closed" || !closed.Results.Final || !closed.Results.sameTally(want) {
		t.Fatalf("final tally %v, want %v", closed.Results, want)
	}
	for _, w := range watchers {
		w.ws.waitResults(0, pid, want, true)
		l := openRec(t, "snapshot-"+w.name, w.home, "", w.token)
		if res, ok := pollResults(l.subscribe(room, nil), pid); !ok || !res.Final || !res.sameTally(want) {
			t.Errorf("%s: snapshot %v (%v), want %v", l.name, res, ok, want)
		}
		w.ws.checkStream(room)
	}
}
