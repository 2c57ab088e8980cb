package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// qaBroker stands in for the broker between nodes in the tests of questions and the queue: it
// records everything the nodes publish, and delivers the events of app.LiveRoom to every node,
// in one order, from a goroutine of its own (as Redis does).
type qaBroker struct {
	mu      sync.Mutex
	cond    *sync.Cond
	events  []qaEvent
	pending [][]byte // LiveRoom events not delivered yet
	busy    bool
	held    bool // delivery paused (hold, release)
	closed  bool
	nodes   []*app.App
}

type qaEvent struct {
	room string
	data []byte
}

func newQABroker(t *testing.T) *qaBroker {
	b := &qaBroker{}
	b.cond = sync.NewCond(&b.mu)
	go b.deliver()
	t.Cleanup(func() {
		b.mu.Lock()
		b.closed = true
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	return b
}

func (b *qaBroker) deliver() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		for (len(b.pending) == 0 || b.held) && !b.closed {
			b.cond.Wait()
		}
		if b.closed {
			return
		}
		ev := b.pending[0]
		b.pending = b.pending[1:]
		b.busy = true
		nodes := b.nodes
		b.mu.Unlock()
		for _, n := range nodes {
			n.ApplyLiveEvent(context.Background(), ev)
		}
		b.mu.Lock()
		b.busy = false
		b.cond.Broadcast()
	}
}

// hold pauses the delivery between nodes (a slow broker); release resumes it.
func (b *qaBroker) hold() {
	b.mu.Lock()
	b.held = true
	b.mu.Unlock()
}

func (b *qaBroker) release() {
	b.mu.Lock()
	b.held = false
	b.cond.Broadcast()
	b.mu.Unlock()
}

// settle waits until every LiveRoom event published so far was delivered.
func (b *qaBroker) settle() {
	b.mu.Lock()
	for (len(b.pending) > 0 || b.busy) && !b.closed {
		b.cond.Wait()
	}
	b.mu.Unlock()
}

// node is the Live of one node.
func (b *qaBroker) node() app.Live { return qaLive{b} }

type qaLive struct{ b *qaBroker }

func (l qaLive) Publish(_ context.Context, room string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	l.b.mu.Lock()
	l.b.events = append(l.b.events, qaEvent{room, raw})
	if room == app.LiveRoom {
		l.b.pending = append(l.b.pending, raw)
		l.b.cond.Broadcast()
	}
	l.b.mu.Unlock()
	return nil
}

func (qaLive) DisconnectPrincipal(string, int) {}

// published returns the events of a room (every room but LiveRoom for ""), oldest first.
func (b *qaBroker) published(room string) []qaEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []qaEvent
	for _, e := range b.events {
		if (room == "" && e.room != app.LiveRoom) || e.room == room {
			out = append(out, e)
		}
	}
	return out
}

// ofType keeps the events whose data.type is typ, decoded.
func ofType(t *testing.T, evs []qaEvent, typ string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range evs {
		var m map[string]any
		if err := json.Unmarshal(e.data, &m); err != nil {
			t.Fatal(err)
		}
		if m["type"] == typ {
			out = append(out, m)
		}
	}
	return out
}

// qaEnv is a municipality (staff), an open forum of it, a co-host, and two participants, with
// the app's live events recorded by a qaBroker.
type qaEnv struct {
	*env
	broker                              *qaBroker
	nodes                               []*app.App
	admin, staff, cohost, member, other person
	forum                               string
}

func newQAEnv(t *testing.T) *qaEnv {
	e := newEnv(t)
	b := newQABroker(t)
	a := app.New(app.Deps{Store: e.db, Live: b.node(), Clock: e.clock, Hasher: testHasher})
	cfg, err := loadTestConfig()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(Deps{App: a, Config: cfg, Logger: discard(), StorePing: e.db.Ping})
	if err != nil {
		t.Fatal(err)
	}
	e.app, e.srv = a, srv
	b.nodes = []*app.App{a}
	qe := &qaEnv{env: e, broker: b, nodes: []*app.App{a}, admin: e.register("Admin"), staff: e.register("Staff"),
		cohost: e.register("Cohost"), member: e.register("ZainabQuarzo"), other: e.register("Other")}
	ctx := context.Background()
	if _, _, err := a.CreateAdmin(ctx, qe.admin.email, "", ""); err != nil {
		t.Fatal(err)
	}
	name := "Comune di Lecce"
	m, err := a.CreateOrganisation(ctx, e.principal(qe.admin), app.OrganisationInput{Kind: insieme.KindMunicipality, Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.AddMember(ctx, &insieme.Membership{OrgID: m.ID, AccountID: qe.staff.id, Role: insieme.MemberStaff, CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	title, status := insieme.Texts{"it": "Forum di Lecce"}, insieme.ForumOpen
	f, err := a.CreateForum(ctx, e.principal(qe.staff), app.ForumInput{MunicipalityID: m.ID, Title: &title, Status: &status})
	if err != nil {
		t.Fatal(err)
	}
	qe.forum = f.ID
	return qe
}

// addNode starts another node on the same store (its own connections) and broker.
func (qe *qaEnv) addNode() *app.App {
	qe.t.Helper()
	n := app.New(app.Deps{Store: store.Node(qe.t, qe.db.Name()), Live: qe.broker.node(), Clock: qe.clock, Hasher: testHasher})
	qe.broker.mu.Lock()
	qe.broker.nodes = append(qe.broker.nodes, n)
	qe.broker.mu.Unlock()
	qe.nodes = append(qe.nodes, n)
	return n
}

// quiet waits until every node delivered its events and published its coalesced values.
func (qe *qaEnv) quiet() {
	for range 3 {
		qe.broker.settle()
		for _, n := range qe.nodes {
			n.Wait()
		}
	}
	qe.broker.settle()
}

// session schedules and starts a session of the forum, with the co-host named.
func (qe *qaEnv) session(guestsMayAsk, preModerate bool) (id, code string) {
	qe.t.Helper()
	ctx := context.Background()
	title, at := insieme.Texts{"it": "Assemblea"}, qe.clock.Now().Add(time.Hour)
	cohosts := []string{qe.cohost.id}
	staff := qe.principal(qe.staff)
	v, err := qe.app.CreateSession(ctx, staff, qe.forum, app.SessionInput{Title: &title, ScheduledAt: &at,
		GuestsMayAsk: &guestsMayAsk, PreModerate: &preModerate, CoHosts: &cohosts})
	if err != nil {
		qe.t.Fatal(err)
	}
	if _, err := qe.app.ControlSession(ctx, staff, v.ID, app.SessionAction{Action: "start"}); err != nil {
		qe.t.Fatal(err)
	}
	return v.ID, v.Code
}

// qaGuest is a guest who joined by code.
type qaGuest struct {
	token string
	p     *insieme.Principal
}

// guest joins a session by its code over HTTP.
func (qe *qaEnv) guest(code, name string) qaGuest {
	qe.t.Helper()
	r := qe.do("POST", "/api/v1/join", "", map[string]any{"code": code, "name": name})
	var j app.JoinResult
	if r.status != 200 {
		qe.t.Fatalf("join: %d %s", r.status, r.body)
	}
	r.json(qe.t, &j)
	p, err := qe.app.AuthenticateGuest(context.Background(), j.Token)
	if err != nil {
		qe.t.Fatal(err)
	}
	return qaGuest{token: j.Token, p: p}
}

// act sends a live message over HTTP as an account (a session secret) or a guest (a token).
func (qe *qaEnv) act(session string, who any, msg map[string]any) resp {
	qe.t.Helper()
	path := "/api/v1/sessions/" + session + "/actions"
	switch w := who.(type) {
	case person:
		return qe.do("POST", path, w.secret, msg)
	case qaGuest:
		return qe.do("POST", path, "", msg, "Authorization", "Bearer "+w.token)
	case nil:
		return qe.do("POST", path, "", msg)
	}
	qe.t.Fatalf("act as %T", who)
	return resp{}
}

// state is p's snapshot of the session's room, decoded and raw.
func (qe *qaEnv) state(node *app.App, p *insieme.Principal, session string) (app.SessionState, string) {
	qe.t.Helper()
	raw, err := node.Snapshot(context.Background(), p, "session:"+session)
	if err != nil {
		qe.t.Fatalf("snapshot: %v", err)
	}
	var st app.SessionState
	if err := json.Unmarshal(raw, &st); err != nil {
		qe.t.Fatal(err)
	}
	return st, string(raw)
}

// hostState is p's snapshot of the session's host room.
func (qe *qaEnv) hostState(node *app.App, p *insieme.Principal, session string) (app.HostState, string) {
	qe.t.Helper()
	raw, err := node.Snapshot(context.Background(), p, "session-host:"+session)
	if err != nil {
		qe.t.Fatalf("host snapshot: %v", err)
	}
	var st app.HostState
	if err := json.Unmarshal(raw, &st); err != nil {
		qe.t.Fatal(err)
	}
	return st, string(raw)
}

func findQuestion(qs []app.QuestionView, id string) *app.QuestionView {
	for i := range qs {
		if qs[i].ID == id {
			return &qs[i]
		}
	}
	return nil
}

func (qe *qaEnv) ask(session string, who any, text string, anonymous bool) app.QuestionView {
	qe.t.Helper()
	r := qe.act(session, who, map[string]any{"type": "question.ask", "text": text, "anonymous": anonymous})
	if r.status != 200 {
		qe.t.Fatalf("ask: %d %s", r.status, r.body)
	}
	var v app.QuestionView
	r.json(qe.t, &v)
	return v
}

func (qe *qaEnv) moderate(session string, who any, question, status string) app.QuestionView {
	qe.t.Helper()
	r := qe.act(session, who, map[string]any{"type": "question.moderate", "question": question, "status": status})
	if r.status != 200 {
		qe.t.Fatalf("moderate %s: %d %s", status, r.status, r.body)
	}
	var v app.QuestionView
	r.json(qe.t, &v)
	return v
}

// With pre-moderation, a question reaches the hosts (and its author) only; others and the
// session's room see it once a host approves it.
func TestPreModerationHidesQuestionsUntilApproved(t *testing.T) {
	qe := newQAEnv(t)
	id, code := qe.session(true, true)
	g := qe.guest(code, "Ghita")
	member, other, staff := qe.principal(qe.member), qe.principal(qe.other), qe.principal(qe.staff)

	q := qe.ask(id, qe.member, "  Quando apre la biblioteca?\u0007 ", false)
	if q.Status != insieme.QuestionPending || !q.Mine || q.Text != "Quando apre la biblioteca?" || q.Author == nil || q.Author.ID != qe.member.id {
		t.Fatalf("asked: %+v", q)
	}
	qe.quiet()
	for who, p := range map[string]*insieme.Principal{"other": other, "guest": g.p} {
		if st, _ := qe.state(qe.app, p, id); findQuestion(st.Questions, q.ID) != nil {
			t.Fatalf("%s sees a pending question: %+v", who, st.Questions)
		}
	}
	if st, _ := qe.state(qe.app, member, id); findQuestion(st.Questions, q.ID) == nil || !findQuestion(st.Questions, q.ID).Mine {
		t.Fatalf("the author does not see their pending question: %+v", st.Questions)
	}
	hs, _ := qe.hostState(qe.app, staff, id)
	if len(hs.Pending) != 1 || hs.Pending[0].ID != q.ID || hs.Pending[0].Author.Name != "ZainabQuarzo" {
		t.Fatalf("host room: %+v", hs)
	}
	for _, e := range qe.broker.published("session:" + id) {
		if strings.Contains(string(e.data), q.ID) {
			t.Fatalf("the session's room heard of a pending question: %s", e.data)
		}
	}
	if evs := ofType(t, qe.broker.published("session-host:"+id), "question.pending"); len(evs) != 1 {
		t.Fatalf("question.pending events: %v", evs)
	}
	// Others cannot upvote what they cannot see.
	if r := qe.act(id, qe.other, map[string]any{"type": "question.upvote", "question": q.ID}); r.status != 404 {
		t.Fatalf("upvote of a pending question: %d %s", r.status, r.body)
	}
	// Hosts only: participants may not see the host room.
	for _, p := range []*insieme.Principal{other, g.p} {
		if err := qe.app.Authorize(context.Background(), p, "session-host:"+id); insieme.ErrorCode(err) != insieme.EFORBIDDEN {
			t.Fatalf("host room for a participant: %v", err)
		}
	}

	approved := qe.moderate(id, qe.staff, q.ID, insieme.QuestionApproved)
	if approved.Status != insieme.QuestionApproved {
		t.Fatalf("approved: %+v", approved)
	}
	qe.quiet()
	st, _ := qe.state(qe.app, other, id)
	if v := findQuestion(st.Questions, q.ID); v == nil || v.Status != insieme.QuestionApproved || v.Mine {
		t.Fatalf("other after approval: %+v", st.Questions)
	}
	states := ofType(t, qe.broker.published("session:"+id), "question.state")
	if len(states) != 1 || states[0]["question"].(map[string]any)["status"] != "approved" {
		t.Fatalf("question.state events: %v", states)
	}
	if hs, _ := qe.hostState(qe.app, staff, id); len(hs.Pending) != 0 {
		t.Fatalf("approved question still pending: %+v", hs.Pending)
	}
	qe.moderate(id, qe.staff, q.ID, insieme.QuestionAnswered)
	if st, _ := qe.state(qe.app, g.p, id); findQuestion(st.Questions, q.ID) == nil || findQuestion(st.Questions, q.ID).Status != insieme.QuestionAnswered {
		t.Fatalf("guest after answer: %+v", st.Questions)
	}

	// A dismissed pending question never reaches the session's room; its author is told.
	bad := qe.ask(id, g, "Testo offensivo", false)
	qe.moderate(id, qe.cohost, bad.ID, insieme.QuestionDismissed)
	qe.quiet()
	for _, e := range qe.broker.published("session:" + id) {
		if strings.Contains(string(e.data), bad.ID) || strings.Contains(string(e.data), "offensivo") {
			t.Fatalf("the session's room heard of a dismissed pending question: %s", e.data)
		}
	}
	told := ofType(t, qe.broker.published("participant:"+g.p.ID), "question.state")
	if len(told) != 2 || told[1]["question"].(map[string]any)["status"] != "dismissed" {
		t.Fatalf("the author's events: %v", told)
	}
	if st, _ := qe.state(qe.app, other, id); findQuestion(st.Questions, bad.ID) != nil {
		t.Fatalf("others see a dismissed question: %+v", st.Questions)
	}

	// Without pre-moderation a question is shown at once.
	open, _ := qe.session(true, false)
	q2 := qe.ask(open, qe.member, "Ci sarà un interprete?", false)
	if q2.Status != insieme.QuestionApproved {
		t.Fatalf("unmoderated: %+v", q2)
	}
	if st, _ := qe.state(qe.app, other, open); findQuestion(st.Questions, q2.ID) == nil {
		t.Fatalf("unmoderated question hidden: %+v", st.Questions)
	}
}

// An anonymous question's author is kept in the store (for "mine", upvotes, the data download
// and erasure) and shown to nobody: not to participants, hosts, the host room, or any event.
func TestAnonymousQuestionsNeverRevealTheAuthor(t *testing.T) {
	qe := newQAEnv(t)
	id, code := qe.session(true, true)
	g := qe.guest(code, "Ghita Vento")
	member, other, staff, admin := qe.principal(qe.member), qe.principal(qe.other), qe.principal(qe.staff), qe.principal(qe.admin)
	secrets := []string{qe.member.id, "ZainabQuarzo", g.p.ID, "Ghita", "Vento"}
	reveals := func(where, s string) {
		t.Helper()
		for _, x := range secrets {
			if strings.Contains(s, x) {
				t.Fatalf("%s reveals %q: %s", where, x, s)
			}
		}
	}

	r := qe.act(id, qe.member, map[string]any{"type": "question.ask", "text": "Chi decide i fondi?", "anonymous": true})
	reveals("the ack", string(r.body))
	var mq app.QuestionView
	r.json(t, &mq)
	if !mq.Mine || !mq.Anonymous || mq.Author != nil {
		t.Fatalf("the author's ack: %+v", mq)
	}
	r = qe.act(id, g, map[string]any{"type": "question.ask", "text": "Posso parlare in arabo?", "anonymous": true})
	reveals("the guest's ack", string(r.body))
	var gq app.QuestionView
	r.json(t, &gq)
	qe.quiet()
	for _, p := range []*insieme.Principal{staff, admin} {
		hs, raw := qe.hostState(qe.app, p, id)
		reveals("the host room's snapshot", raw)
		if len(hs.Pending) != 2 {
			t.Fatalf("pending: %+v", hs.Pending)
		}
	}
	for _, q := range []string{mq.ID, gq.ID} {
		r := qe.act(id, qe.cohost, map[string]any{"type": "question.moderate", "question": q, "status": "approved"})
		if r.status != 200 {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		reveals("the host's ack", string(r.body))
	}
	qe.quiet()
	for who, p := range map[string]*insieme.Principal{"other": other, "staff": staff, "admin": admin} {
		st, raw := qe.state(qe.app, p, id)
		reveals(who+"'s snapshot", raw)
		if len(st.Questions) != 2 {
			t.Fatalf("%s sees %+v", who, st.Questions)
		}
	}
	// The author sees it as theirs, still without a name on it, and cannot upvote it.
	st, raw := qe.state(qe.app, member, id)
	if v := findQuestion(st.Questions, mq.ID); v == nil || !v.Mine || v.Author != nil {
		t.Fatalf("the author's view: %s", raw)
	}
	if r := qe.act(id, qe.member, map[string]any{"type": "question.upvote", "question": mq.ID}); r.status != 403 {
		t.Fatalf("upvote of one's own anonymous question: %d %s", r.status, r.body)
	}
	if r := qe.act(id, g, map[string]any{"type": "question.upvote", "question": gq.ID}); r.status != 403 {
		t.Fatalf("a guest's upvote of their own anonymous question: %d %s", r.status, r.body)
	}
	for _, e := range qe.broker.published("") {
		if !strings.HasPrefix(e.room, "participant:") { // the author's own room is theirs
			reveals("the event in "+e.room, string(e.data))
		}
	}
	if err := qe.app.Authorize(context.Background(), staff, app.LiveRoom); err == nil {
		t.Fatal("the nodes' room is open to clients")
	}
	// Public session details and the minutes' list are as blind.
	reveals("GET session", string(qe.do("GET", "/api/v1/sessions/"+id, qe.staff.secret, nil).body))
	all, err := qe.app.SessionQuestions(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(all)
	reveals("the minutes' questions", string(b))

	// The author's data download has it, marked anonymous; their erasure takes it away.
	var data map[string]any
	qe.do("GET", "/api/v1/me/export", qe.member.secret, nil).json(t, &data)
	qs, _ := data["questions"].([]any)
	if len(qs) != 1 || qs[0].(map[string]any)["anonymous"] != true || qs[0].(map[string]any)["text"] != "Chi decide i fondi?" {
		t.Fatalf("the download's questions: %v", data["questions"])
	}
	if r := qe.do("DELETE", "/api/v1/me", qe.member.secret, map[string]any{"password": qe.member.password}); r.status != 204 {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	qe.quiet()
	if left, _ := qe.db.QuestionsBy(context.Background(), qe.member.id); len(left) != 0 {
		t.Fatalf("erased person's questions kept: %+v", left)
	}
	if st, _ := qe.state(qe.app, other, id); findQuestion(st.Questions, mq.ID) != nil || len(st.Questions) != 1 {
		t.Fatalf("erased question still shown: %+v", st.Questions)
	}
	if evs := ofType(t, qe.broker.published("session:"+id), "question.removed"); len(evs) != 1 || evs[0]["question"] != mq.ID {
		t.Fatalf("question.removed events: %v", evs)
	}
}

// One upvote per person and question: repeated and concurrent upvotes count once, one's own
// question cannot be upvoted, and the room hears the count coalesced.
func TestUpvotesCountOnce(t *testing.T) {
	qe := newQAEnv(t)
	id, code := qe.session(false, false)
	g := qe.guest(code, "Ana")
	q := qe.ask(id, qe.member, "Dove si vota?", false)
	if r := qe.act(id, qe.member, map[string]any{"type": "question.upvote", "question": q.ID}); r.status != 403 || r.errorOf(t).Code != insieme.EFORBIDDEN {
		t.Fatalf("own upvote: %d %s", r.status, r.body)
	}
	other := qe.principal(qe.other)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := qe.app.UpvoteQuestion(ctx, other, id, q.ID); err != nil {
				t.Errorf("upvote: %v", err)
			}
		}()
	}
	wg.Wait()
	var v app.VotesView
	r := qe.act(id, qe.other, map[string]any{"type": "question.upvote", "question": q.ID})
	r.json(t, &v)
	if r.status != 200 || v.Votes != 1 {
		t.Fatalf("upvote again: %d %s", r.status, r.body)
	}
	// Guests upvote too (guests may not ask here, but they take part).
	r = qe.act(id, g, map[string]any{"type": "question.upvote", "question": q.ID})
	r.json(t, &v)
	if r.status != 200 || v.Votes != 2 {
		t.Fatalf("guest's upvote: %d %s", r.status, r.body)
	}
	if r := qe.act(id, g, map[string]any{"type": "question.upvote", "question": id + "~nope"}); r.status != 404 {
		t.Fatalf("upvote of an unknown question: %d %s", r.status, r.body)
	}
	qe.quiet()
	if us, _ := qe.db.UpvotesOf(ctx, id); len(us) != 2 {
		t.Fatalf("stored upvotes: %d", len(us))
	}
	st, _ := qe.state(qe.app, other, id)
	if v := findQuestion(st.Questions, q.ID); v == nil || v.Votes != 2 || !v.Upvoted {
		t.Fatalf("other's view: %+v", st.Questions)
	}
	if st, _ := qe.state(qe.app, qe.principal(qe.member), id); findQuestion(st.Questions, q.ID).Upvoted {
		t.Fatal("the author is shown as an upvoter")
	}
	votes := ofType(t, qe.broker.published("session:"+id), "question.votes")
	if len(votes) == 0 || len(votes) > 2 || votes[len(votes)-1]["votes"] != float64(2) {
		t.Fatalf("question.votes events (coalesced, ending at 2): %v", votes)
	}
	// An answered question takes no more upvotes.
	qe.moderate(id, qe.staff, q.ID, insieme.QuestionAnswered)
	if r := qe.act(id, qe.cohost, map[string]any{"type": "question.upvote", "question": q.ID}); r.status != 409 {
		t.Fatalf("upvote of an answered question: %d %s", r.status, r.body)
	}
	// The data download lists the upvote; the erasure takes it back.
	var data map[string]any
	qe.do("GET", "/api/v1/me/export", qe.other.secret, nil).json(t, &data)
	if us, _ := data["upvotes"].([]any); len(us) != 1 {
		t.Fatalf("the download's upvotes: %v", data["upvotes"])
	}
	if r := qe.do("DELETE", "/api/v1/me", qe.other.secret, map[string]any{"password": qe.other.password}); r.status != 204 {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	qe.quiet()
	if st, _ := qe.state(qe.app, g.p, id); findQuestion(st.Questions, q.ID).Votes != 1 {
		t.Fatalf("votes after the erasure: %+v", st.Questions)
	}
}

// 200 participants upvoting at once are counted exactly, in the store, in every snapshot, in
// the last event, and by a node that reads the session afresh.
func TestConcurrentUpvotesAreCountedExactly(t *testing.T) {
	qe := newQAEnv(t)
	id, code := qe.session(false, false)
	q := qe.ask(id, qe.member, "Orari degli uffici?", false)
	ctx := context.Background()
	const n = 200
	guests := make([]*insieme.Principal, n)
	for i := range guests {
		j, err := qe.app.Join(ctx, nil, app.JoinInput{Code: code, Name: fmt.Sprintf("G%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		guests[i] = j.Principal
	}
	var wg sync.WaitGroup
	for _, g := range guests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := qe.app.UpvoteQuestion(ctx, g, id, q.ID); err != nil {
				t.Errorf("upvote: %v", err)
			}
		}()
	}
	wg.Wait()
	qe.quiet()
	if us, _ := qe.db.UpvotesOf(ctx, id); len(us) != n {
		t.Fatalf("stored: %d", len(us))
	}
	st, _ := qe.state(qe.app, guests[0], id)
	if v := findQuestion(st.Questions, q.ID); v.Votes != n || !v.Upvoted {
		t.Fatalf("shown: %+v", v)
	}
	votes := ofType(t, qe.broker.published("session:"+id), "question.votes")
	if len(votes) == 0 || len(votes) >= n/4 || votes[len(votes)-1]["votes"] != float64(n) {
		t.Fatalf("%d question.votes events, the last %v", len(votes), votes[len(votes)-1])
	}
	fresh := qe.addNode()
	st, _ = qe.state(fresh, guests[1], id)
	if v := findQuestion(st.Questions, q.ID); v.Votes != n {
		t.Fatalf("a fresh node counts %d", v.Votes)
	}
}

// Guests ask only where the session lets them; the text is checked.
func TestAskingIsChecked(t *testing.T) {
	qe := newQAEnv(t)
	id, code := qe.session(false, false)
	g := qe.guest(code, "Ana")
	r := qe.act(id, g, map[string]any{"type": "question.ask", "text": "Posso?"})
	if r.status != 403 || r.errorOf(t).Code != insieme.EFORBIDDEN {
		t.Fatalf("a guest asking where guests may not: %d %s", r.status, r.body)
	}
	if qs, _ := qe.db.QuestionsOf(context.Background(), id); len(qs) != 0 {
		t.Fatalf("refused question stored: %+v", qs)
	}
	qe.ask(id, qe.member, "Un account chiede sempre", false)
	r = qe.act(id, qe.member, map[string]any{"type": "question.ask", "text": strings.Repeat("è", insieme.MaxQuestionText+1)})
	if r.status != 400 || r.errorOf(t).Limits["text"] != insieme.MaxQuestionText {
		t.Fatalf("overlong: %d %s", r.status, r.body)
	}
	qe.ask(id, qe.member, strings.Repeat("è", insieme.MaxQuestionText), false)
	if r := qe.act(id, qe.member, map[string]any{"type": "question.ask", "text": " \t "}); r.status != 400 || r.errorOf(t).Fields["text"] != insieme.FRequired {
		t.Fatalf("empty: %d %s", r.status, r.body)
	}
	if r := qe.act(id, nil, map[string]any{"type": "question.ask", "text": "anonimo"}); r.status != 401 {
		t.Fatalf("signed out: %d %s", r.status, r.body)
	}
	// A guest of another session cannot ask here.
	other, code2 := qe.session(true, false)
	if r := qe.act(other, g, map[string]any{"type": "question.ask", "text": "Qui?"}); r.status != 404 {
		t.Fatalf("a guest of another session: %d %s", r.status, r.body)
	}
	g2 := qe.guest(code2, "Bea")
	if v := qe.ask(other, g2, "Qui sì", false); v.Author == nil || v.Author.Name != "Bea" || !v.Author.Guest {
		t.Fatalf("a guest's question: %+v", v)
	}
	// An ended session takes no more questions.
	if _, err := qe.app.ControlSession(context.Background(), qe.principal(qe.staff), id, app.SessionAction{Action: "end"}); err != nil {
		t.Fatal(err)
	}
	if r := qe.act(id, qe.member, map[string]any{"type": "question.ask", "text": "Troppo tardi?"}); r.status != 409 {
		t.Fatalf("after the end: %d %s", r.status, r.body)
	}
}

// hostRoles are who tries each host action: guests and participant accounts are refused with
// forbidden; the municipality's staff, the named co-host and admins may.
func (qe *qaEnv) hostRoles(g qaGuest) []struct {
	name string
	who  any
	ok   bool
} {
	return []struct {
		name string
		who  any
		ok   bool
	}{
		{"guest", g, false}, {"participant", qe.member, false}, {"host", qe.staff, true}, {"co-host", qe.cohost, true}, {"admin", qe.admin, true},
	}
}

func TestModeratingQuestionsIsForHosts(t *testing.T) {
	qe := newQAEnv(t)
	id, code := qe.session(true, true)
	g := qe.guest(code, "Ana")
	for _, role := range qe.hostRoles(g) {
		for _, status := range []string{insieme.QuestionApproved, insieme.QuestionAnswered, insieme.QuestionDismissed} {
			q := qe.ask(id, qe.other, "Domanda per "+role.name, false)
			r := qe.act(id, role.who, map[string]any{"type": "question.moderate", "question": q.ID, "status": status})
			if role.ok {
				var v app.QuestionView
				r.json(t, &v)
				if r.status != 200 || v.Status != status {
					t.Fatalf("%s %s: %d %s", role.name, status, r.status, r.body)
				}
			} else if r.status != 403 || r.errorOf(t).Code != insieme.EFORBIDDEN {
				t.Fatalf("%s %s: %d %s, want forbidden", role.name, status, r.status, r.body)
			}
		}
	}
	// Through the app too, with the guest's principal.
	q := qe.ask(id, qe.other, "Ancora", false)
	if _, err := qe.app.ModerateQuestion(context.Background(), g.p, id, q.ID, insieme.QuestionApproved); insieme.ErrorCode(err) != insieme.EFORBIDDEN {
		t.Fatalf("guest through the app: %v", err)
	}
	if r := qe.act(id, qe.staff, map[string]any{"type": "question.moderate", "question": q.ID, "status": "pending"}); r.status != 400 {
		t.Fatalf("back to pending: %d %s", r.status, r.body)
	}
}

// Two nodes on one store see the same questions, votes and queue: each applies the other's
// events, and the last values published to the room count every node's writes.
func TestTwoNodesShareQuestionsVotesAndQueue(t *testing.T) {
	qe := newQAEnv(t)
	a := qe.app
	b := qe.addNode()
	id, code := qe.session(true, true)
	ctx := context.Background()
	member, other, staff := qe.principal(qe.member), qe.principal(qe.other), qe.principal(qe.staff)
	// Both nodes know the session's (empty) questions before anything is asked.
	qe.state(a, other, id)
	qe.state(b, other, id)

	q1, err := a.AskQuestion(ctx, member, id, app.QuestionInput{Text: "Dal nodo A"})
	if err != nil {
		t.Fatal(err)
	}
	q2, err := b.AskQuestion(ctx, other, id, app.QuestionInput{Text: "Dal nodo B", Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	qe.quiet()
	if hs, _ := qe.hostState(b, staff, id); len(hs.Pending) != 2 {
		t.Fatalf("node B's pending: %+v", hs.Pending)
	}
	if _, err := b.ModerateQuestion(ctx, staff, id, q1.ID, insieme.QuestionApproved); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ModerateQuestion(ctx, staff, id, q2.ID, insieme.QuestionApproved); err != nil {
		t.Fatal(err)
	}
	qe.quiet()

	const n = 60
	guests := make([]*insieme.Principal, n)
	for i := range guests {
		j, err := a.Join(ctx, nil, app.JoinInput{Code: code, Name: fmt.Sprintf("G%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		guests[i] = j.Principal
	}
	var wg sync.WaitGroup
	for i, g := range guests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := []*app.App{a, b}[i%2]
			for _, q := range []string{q1.ID, q2.ID} {
				if _, err := node.UpvoteQuestion(ctx, g, id, q); err != nil {
					t.Errorf("upvote: %v", err)
				}
			}
			if i%3 == 0 {
				if _, err := node.RaiseHand(ctx, g, id); err != nil {
					t.Errorf("raise: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	qe.quiet()

	sa, _ := qe.state(a, guests[0], id)
	sb, _ := qe.state(b, guests[0], id)
	for _, st := range []app.SessionState{sa, sb} {
		if len(st.Questions) != 2 || st.Questions[0].Votes != n || st.Questions[1].Votes != n || len(st.Queue) != (n+2)/3 {
			t.Fatalf("a node's view: %+v, %d hands", st.Questions, len(st.Queue))
		}
	}
	ja, _ := json.Marshal(sa.Queue)
	jb, _ := json.Marshal(sb.Queue)
	if string(ja) != string(jb) {
		t.Fatalf("the nodes' queues differ:\n%s\n%s", ja, jb)
	}
	// The last votes and queue the room heard count both nodes' writes.
	last := map[string]float64{}
	for _, e := range ofType(t, qe.broker.published("session:"+id), "question.votes") {
		last[e["question"].(string)] = e["votes"].(float64)
	}
	if last[q1.ID] != n || last[q2.ID] != n {
		t.Fatalf("the last votes published: %v", last)
	}
	queues := ofType(t, qe.broker.published("session:"+id), "queue.state")
	if len(queues) == 0 || len(queues[len(queues)-1]["queue"].([]any)) != (n+2)/3 {
		t.Fatalf("the last queue published: %v", queues[len(queues)-1])
	}
	// The floor given on one node shows on the other; the hand goes down on both.
	if _, err := b.GiveFloor(ctx, staff, id, guests[0].ID); err != nil {
		t.Fatal(err)
	}
	qe.quiet()
	for _, node := range []*app.App{a, b} {
		st, _ := qe.state(node, other, id)
		if st.Session.Floor == nil || st.Session.Floor.ParticipantID != guests[0].ID || st.Session.Floor.Name != "G0" || len(st.Queue) != (n+2)/3-1 {
			t.Fatalf("after the floor was given: %+v, %d hands", st.Session.Floor, len(st.Queue))
		}
	}
}

// Each node publishes the counts it knows; when another node's upvote or hand reaches a node
// after it published, it publishes again, so the room ends at the total even when both nodes
// published while the other's writes were still on their way.
func TestNodesPublishAgainWhenLateEventsArrive(t *testing.T) {
	qe := newQAEnv(t)
	a := qe.app
	b := qe.addNode()
	id, code := qe.session(false, false)
	ctx := context.Background()
	q, err := a.AskQuestion(ctx, qe.principal(qe.member), id, app.QuestionInput{Text: "Quanto costa?"})
	if err != nil {
		t.Fatal(err)
	}
	qe.quiet()
	g1, _ := a.Join(ctx, nil, app.JoinInput{Code: code, Name: "Uno"})
	g2, _ := a.Join(ctx, nil, app.JoinInput{Code: code, Name: "Due"})
	qe.state(b, g2.Principal, id) // node B keeps the session's questions

	qe.broker.hold()
	if _, err := a.UpvoteQuestion(ctx, g1.Principal, id, q.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.UpvoteQuestion(ctx, g2.Principal, id, q.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RaiseHand(ctx, g1.Principal, id); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RaiseHand(ctx, g2.Principal, id); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	b.Wait() // each published what it knew: one vote, one hand
	qe.broker.release()
	qe.quiet()
	votes := ofType(t, qe.broker.published("session:"+id), "question.votes")
	if len(votes) < 3 || votes[len(votes)-1]["votes"] != float64(2) {
		t.Fatalf("question.votes events: %v", votes)
	}
	queues := ofType(t, qe.broker.published("session:"+id), "queue.state")
	if len(queues) < 3 || len(queues[len(queues)-1]["queue"].([]any)) != 2 {
		t.Fatalf("queue.state events: %v", queues)
	}
}
