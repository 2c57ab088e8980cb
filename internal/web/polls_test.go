package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
	"github.com/insieme/insieme/internal/mongo"
)

// capLive records what an app publishes, with the data: tests read the room events, and
// feed one node's LiveRoom events to another node (what the broker does between nodes).
type capLive struct {
	mu     sync.Mutex
	events []capEvent
}

type capEvent struct {
	room string
	data []byte
}

func (c *capLive) Publish(_ context.Context, room string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.events = append(c.events, capEvent{room: room, data: b})
	c.mu.Unlock()
	return nil
}

func (c *capLive) DisconnectPrincipal(string, int) {}

// in returns the events published to a room so far.
func (c *capLive) in(room string) []capEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []capEvent
	for _, e := range c.events {
		if e.room == room {
			out = append(out, e)
		}
	}
	return out
}

// feedFrom applies the LiveRoom events a node published after *mark to another node.
func (c *capLive) feed(to *app.App, mark *int) {
	c.mu.Lock()
	evs := slices.Clone(c.events[*mark:])
	*mark = len(c.events)
	c.mu.Unlock()
	for _, e := range evs {
		if e.room == app.LiveRoom {
			to.ApplyLiveEvent(context.Background(), e.data)
		}
	}
}

// pollEnv is a forum with a live session hosted by the municipality's staff member, with a
// co-host, whose app records every event it publishes.
type pollEnv struct {
	*forumEnv
	live          *capLive
	staff, cohost person
	host          *insieme.Principal
	sid, code     string
}

func newPollEnv(t *testing.T) *pollEnv {
	t.Helper()
	fe := newForumEnv(t)
	pe := &pollEnv{forumEnv: fe, live: &capLive{}}
	pe.useApp(pe.node(fe.db, pe.live))
	ctx := context.Background()
	f, err := fe.db.Forum(ctx, fe.forum)
	if err != nil {
		t.Fatal(err)
	}
	pe.staff, pe.cohost = fe.register("Staff"), fe.register("Cohost")
	if err := fe.db.AddMember(ctx, &insieme.Membership{OrgID: f.MunicipalityID, AccountID: pe.staff.id, Role: insieme.MemberStaff, CreatedAt: fe.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	pe.host = fe.principal(pe.staff)
	pe.sid, pe.code = pe.newSession(true)
	return pe
}

// node is an app on a store, as another Insieme process would be.
func (pe *pollEnv) node(st app.Store, live app.Live) *app.App {
	return app.New(app.Deps{Store: st, Live: live, Clock: pe.clock, Hasher: testHasher})
}

// useApp serves HTTP with a.
func (pe *pollEnv) useApp(a *app.App) {
	pe.t.Helper()
	cfg, err := loadTestConfig()
	if err != nil {
		pe.t.Fatal(err)
	}
	srv, err := NewServer(Deps{App: a, Config: cfg, Logger: discard(), StorePing: pe.db.Ping})
	if err != nil {
		pe.t.Fatal(err)
	}
	pe.env.app, pe.env.srv = a, srv
}

// newSession schedules a session hosted by the staff member, with the co-host named, and
// starts it when live.
func (pe *pollEnv) newSession(live bool) (id, code string) {
	pe.t.Helper()
	ctx := context.Background()
	title, at, cohosts := insieme.Texts{"it": "Forum dal vivo"}, pe.clock.Now().Add(time.Hour), []string{pe.cohost.id}
	v, err := pe.app.CreateSession(ctx, pe.host, pe.forum, app.SessionInput{Title: &title, ScheduledAt: &at, CoHosts: &cohosts})
	if err != nil {
		pe.t.Fatal(err)
	}
	if live {
		if _, err := pe.app.ControlSession(ctx, pe.host, v.ID, app.SessionAction{Action: "start"}); err != nil {
			pe.t.Fatal(err)
		}
	}
	return v.ID, v.Code
}

// guestOf joins a session by its code as a guest: the principal and the token.
func (pe *pollEnv) guestOf(code, name string) (*insieme.Principal, string) {
	pe.t.Helper()
	res, err := pe.app.Join(context.Background(), nil, app.JoinInput{Code: code, Name: name})
	if err != nil {
		pe.t.Fatalf("join: %v", err)
	}
	return res.Principal, res.Token
}

// actOn sends a live message to a node as the websocket does (the same handlers).
func actOn(a *app.App, p *insieme.Principal, sid, typ string, fields map[string]any) (any, error) {
	msg := map[string]any{"type": typ, "session": sid}
	for k, v := range fields {
		msg[k] = v
	}
	b, _ := json.Marshal(msg)
	return a.LiveActions()[typ](context.Background(), p, b)
}

func (pe *pollEnv) act(p *insieme.Principal, typ string, fields map[string]any) (any, error) {
	return actOn(pe.app, p, pe.sid, typ, fields)
}

// must sends a host's message that must succeed and returns the poll acknowledged.
func (pe *pollEnv) must(typ string, fields map[string]any) *app.PollView {
	pe.t.Helper()
	res, err := pe.act(pe.host, typ, fields)
	if err != nil {
		pe.t.Fatalf("%s: %v", typ, err)
	}
	v, _ := res.(*app.PollView)
	return v
}

func (pe *pollEnv) draft(poll map[string]any) *app.PollView {
	pe.t.Helper()
	return pe.must("poll.create", map[string]any{"poll": poll})
}

func (pe *pollEnv) opened(poll map[string]any) *app.PollView {
	pe.t.Helper()
	return pe.must("poll.open", map[string]any{"poll": pe.draft(poll).ID})
}

func (pe *pollEnv) vote(p *insieme.Principal, fields map[string]any) (int64, error) {
	res, err := pe.act(p, "poll.vote", fields)
	if err != nil {
		return 0, err
	}
	return res.(*app.VoteResult).Version, nil
}

// stateOn is p's snapshot of the session's room on a node.
func stateOn(t *testing.T, a *app.App, p *insieme.Principal, sid string) app.SessionState {
	t.Helper()
	raw, err := a.Snapshot(context.Background(), p, "session:"+sid)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	var st app.SessionState
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// pollOf finds a poll in a snapshot, or nil.
func pollOf(st app.SessionState, id string) *app.PollView {
	for _, p := range st.Polls {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func texts(s ...string) []map[string]string {
	out := make([]map[string]string, len(s))
	for i, x := range s {
		out[i] = map[string]string{"it": x}
	}
	return out
}

func codeOf(err error) string { return insieme.ErrorCode(err) }

func TestPollsFromDraftToFinalTally(t *testing.T) {
	pe := newPollEnv(t)
	ctx := context.Background()
	member := pe.principal(pe.member)
	guest, token := pe.guestOf(pe.code, "Amina")

	d := pe.draft(map[string]any{"kind": "single", "title": map[string]string{"it": "Quale piazza?", "ar": "أي ساحة؟"},
		"options": texts("Piazza Salandra", "Villa comunale"), "guestsMayVote": true, "showResults": "closed"})
	if d.Status != insieme.PollDraft || d.MaxChoices != 1 || d.Title["ar"] != "أي ساحة؟" {
		t.Fatalf("draft: %+v", d)
	}
	// Drafts are the hosts' own: participants do not see them.
	if st := stateOn(t, pe.app, member, pe.sid); pollOf(st, d.ID) != nil {
		t.Fatalf("a participant sees a draft: %+v", st.Polls)
	}
	if st := stateOn(t, pe.app, pe.host, pe.sid); pollOf(st, d.ID) == nil {
		t.Fatal("the host does not see the draft")
	}
	if len(pe.live.in("session-host:"+pe.sid)) == 0 {
		t.Fatal("no poll.state for the hosts")
	}
	// A draft can change, kind included; then it opens.
	d = pe.must("poll.update", map[string]any{"poll": map[string]any{"id": d.ID, "kind": "words", "title": map[string]string{"it": "Una parola per la piazza"}}})
	if d.Kind != insieme.PollWords || d.Options != nil || d.Title["ar"] != "" {
		t.Fatalf("updated: %+v", d)
	}
	open := pe.must("poll.open", map[string]any{"poll": d.ID})
	if open.Status != insieme.PollOpen || open.OpenedAt == nil {
		t.Fatalf("opened: %+v", open)
	}
	if _, err := pe.act(pe.host, "poll.update", map[string]any{"poll": map[string]any{"id": d.ID, "title": map[string]string{"it": "x"}}}); codeOf(err) != insieme.ECONFLICT {
		t.Fatalf("update of an open poll: %v", err)
	}
	if _, err := pe.act(pe.host, "poll.delete", map[string]any{"poll": d.ID}); codeOf(err) != insieme.ECONFLICT {
		t.Fatalf("delete of an open poll: %v", err)
	}

	// A signed-in participant votes over HTTP with their cookie, a guest with their token.
	r := pe.do("POST", "/api/v1/sessions/"+pe.sid+"/actions", pe.member.secret, map[string]any{"type": "poll.vote", "poll": d.ID, "words": []string{" Alberi ", "panchine!"}})
	var ack app.VoteResult
	if r.status != 200 {
		t.Fatalf("member votes: %d %s", r.status, r.body)
	}
	r.json(t, &ack)
	if ack.Version == 0 {
		t.Fatalf("ack without a version: %s", r.body)
	}
	r = pe.do("POST", "/api/v1/sessions/"+pe.sid+"/actions", "", map[string]any{"type": "poll.vote", "poll": d.ID, "words": []string{"ALBERI"}}, bearer(token)...)
	if r.status != 200 {
		t.Fatalf("guest votes: %d %s", r.status, r.body)
	}
	// Results are shown at close: participants see their own ballot only; hosts see all.
	st := stateOn(t, pe.app, member, pe.sid)
	mine := pollOf(st, d.ID)
	if mine == nil || mine.Results != nil || mine.Mine == nil || !reflect.DeepEqual(mine.Mine.Words, []string{"alberi", "panchine"}) || mine.Mine.Version != ack.Version {
		t.Fatalf("participant's view of an open poll: %+v %+v", mine, mine.Mine)
	}
	hv := pollOf(stateOn(t, pe.app, pe.host, pe.sid), d.ID)
	if hv.Results == nil || hv.Results.Voters != 2 || hv.Results.Guests != 1 || hv.Results.Accounts != 1 ||
		!reflect.DeepEqual(hv.Results.Words, []app.WordView{{Word: "alberi", Count: 2}, {Word: "panchine", Count: 1}}) {
		t.Fatalf("host's view: %+v", hv.Results)
	}
	// While hidden, results go to the hosts' room, never to everyone's.
	waitFor(t, "results for the hosts", func() bool { return resultsEvents(pe.live, "session-host:"+pe.sid, d.ID) > 0 })
	if n := resultsEvents(pe.live, "session:"+pe.sid, d.ID); n != 0 {
		t.Fatalf("%d hidden results published to everyone", n)
	}

	closed := pe.must("poll.close", map[string]any{"poll": d.ID})
	if closed.Status != insieme.PollClosed || closed.Results == nil || !closed.Results.Final || closed.Results.Voters != 2 {
		t.Fatalf("closed: %+v %+v", closed, closed.Results)
	}
	mine = pollOf(stateOn(t, pe.app, guest, pe.sid), d.ID)
	if mine.Results == nil || !mine.Results.Final || mine.Results.Words[0] != (app.WordView{Word: "alberi", Count: 2}) || mine.Mine == nil {
		t.Fatalf("guest's view of the closed poll: %+v", mine)
	}
	stored, err := pe.db.Poll(ctx, d.ID)
	if err != nil || stored.Final == nil || stored.Final.Voters != 2 || stored.Final.Ballots != 2 {
		t.Fatalf("stored final tally: %+v %v", stored, err)
	}
	if !slices.ContainsFunc(pe.live.in("session:"+pe.sid), func(e capEvent) bool {
		var m struct {
			Type string       `json:"type"`
			Poll app.PollView `json:"poll"`
		}
		return json.Unmarshal(e.data, &m) == nil && m.Type == "poll.state" && m.Poll.ID == d.ID && m.Poll.Results != nil && m.Poll.Results.Final
	}) {
		t.Fatal("no poll.state with the final tally")
	}
	// Closing again changes nothing; a closed poll does not reopen.
	if again := pe.must("poll.close", map[string]any{"poll": d.ID}); again.Version != closed.Version {
		t.Fatalf("closed twice: version %d then %d", closed.Version, again.Version)
	}
	if _, err := pe.act(pe.host, "poll.open", map[string]any{"poll": d.ID}); codeOf(err) != insieme.ECONFLICT {
		t.Fatalf("reopened: %v", err)
	}

	// A draft can be deleted.
	gone := pe.draft(map[string]any{"kind": "scale", "title": map[string]string{"it": "Quanto?"}})
	if res, err := pe.act(pe.host, "poll.delete", map[string]any{"poll": gone.ID}); err != nil || res != nil {
		t.Fatalf("delete: %v %v", res, err)
	}
	if pollOf(stateOn(t, pe.app, pe.host, pe.sid), gone.ID) != nil {
		t.Fatal("the deleted poll is still shown")
	}
	if _, err := pe.db.Poll(ctx, gone.ID); codeOf(err) != insieme.ENOTFOUND {
		t.Fatalf("deleted poll stored: %v", err)
	}
}

func TestPollKindsAreTallied(t *testing.T) {
	pe := newPollEnv(t)
	people := []*insieme.Principal{pe.principal(pe.member)}
	for i := range 3 {
		g, _ := pe.guestOf(pe.code, fmt.Sprint("G", i))
		people = append(people, g)
	}
	cases := []struct {
		poll    map[string]any
		ballots []map[string]any
		check   func(r *app.ResultsView) bool
	}{
		{map[string]any{"kind": "multiple", "options": texts("a", "b", "c"), "maxChoices": 2},
			[]map[string]any{{"choices": []int{0, 1}}, {"choices": []int{1}}, {"choices": []int{2, 1}}, {"choices": []int{0}}},
			func(r *app.ResultsView) bool { return reflect.DeepEqual(r.Counts, []int{2, 3, 1}) }},
		{map[string]any{"kind": "ranking", "options": texts("a", "b", "c")},
			[]map[string]any{{"ranking": []int{0, 1, 2}}, {"ranking": []int{1, 0, 2}}, {"ranking": []int{1}}, {"ranking": []int{2, 1, 0}}},
			func(r *app.ResultsView) bool {
				return reflect.DeepEqual(r.Points, []int{3 + 2 + 1, 2 + 3 + 3 + 2, 1 + 1 + 3}) && reflect.DeepEqual(r.Counts, []int{1, 2, 1})
			}},
		{map[string]any{"kind": "scale"},
			[]map[string]any{{"scale": 5}, {"scale": 4}, {"scale": 1}, {"scale": 4}},
			func(r *app.ResultsView) bool {
				return reflect.DeepEqual(r.Distribution, []int{1, 0, 0, 2, 1}) && r.Average != nil && *r.Average == 3.5
			}},
	}
	for _, c := range cases {
		c.poll["title"] = map[string]string{"it": "Domanda"}
		c.poll["guestsMayVote"] = true
		p := pe.opened(c.poll)
		for i, b := range c.ballots {
			b["poll"] = p.ID
			if _, err := pe.vote(people[i], b); err != nil {
				t.Fatalf("%s ballot %d: %v", p.Kind, i, err)
			}
		}
		live := pollOf(stateOn(t, pe.app, people[0], pe.sid), p.ID).Results
		final := pe.must("poll.close", map[string]any{"poll": p.ID}).Results
		for _, r := range []*app.ResultsView{live, final} {
			if r == nil || r.Voters != 4 || r.Guests != 3 || r.Accounts != 1 || !c.check(r) {
				t.Errorf("%s: %+v", p.Kind, r)
			}
		}
	}
	// Bad definitions are refused with the field at fault.
	for name, poll := range map[string]map[string]any{
		"one option":   {"kind": "single", "title": map[string]string{"it": "x"}, "options": texts("solo")},
		"no title":     {"kind": "scale"},
		"unknown kind": {"kind": "dice", "title": map[string]string{"it": "x"}},
		"13 options":   {"kind": "single", "title": map[string]string{"it": "x"}, "options": texts("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13")},
	} {
		if _, err := pe.act(pe.host, "poll.create", map[string]any{"poll": poll}); codeOf(err) != insieme.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// resultsEvents counts the poll.results of a poll published to a room.
func resultsEvents(l *capLive, room, pollID string) int {
	n := 0
	for _, e := range l.in(room) {
		var m struct {
			Type string `json:"type"`
			Poll string `json:"poll"`
		}
		if json.Unmarshal(e.data, &m) == nil && m.Type == "poll.results" && m.Poll == pollID {
			n++
		}
	}
	return n
}

// lastResults is the last poll.results of a poll published to a room.
func lastResults(l *capLive, room, pollID string) *app.ResultsView {
	var last *app.ResultsView
	for _, e := range l.in(room) {
		var m struct {
			Type    string           `json:"type"`
			Poll    string           `json:"poll"`
			Results *app.ResultsView `json:"results"`
		}
		if json.Unmarshal(e.data, &m) == nil && m.Type == "poll.results" && m.Poll == pollID {
			last = m.Results
		}
	}
	return last
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// 500 voters (accounts and guests) vote at once and change their ballots; half of them send
// both versions without waiting for the first answer. The count in memory, the results
// published and the recount at close all count exactly each voter's latest acknowledged
// ballot.
func TestFiveHundredConcurrentVotersAreCountedExactly(t *testing.T) {
	pe := newPollEnv(t)
	ctx := context.Background()
	const accounts, guests, options = 50, 450, 5
	poll := pe.opened(map[string]any{"kind": "multiple", "title": map[string]string{"it": "Priorità del quartiere"},
		"options": texts("casa", "lavoro", "scuola", "salute", "documenti"), "maxChoices": 2, "guestsMayVote": true})
	voters := make([]*insieme.Principal, 0, accounts+guests)
	for i := range accounts {
		voters = append(voters, pe.principal(pe.register(fmt.Sprint("Voter", i))))
	}
	for i := range guests {
		g, _ := pe.guestOf(pe.code, fmt.Sprint("Ospite ", i))
		voters = append(voters, g)
	}
	r := rand.New(rand.NewPCG(4, 2))
	ballots := make([][2][]int, len(voters))
	for i := range ballots {
		for k := range 2 {
			ballots[i][k] = r.Perm(options)[:1+r.IntN(2)]
		}
	}
	latest := make([][]int, len(voters)) // each voter's latest acknowledged ballot
	var wg sync.WaitGroup
	for i, v := range voters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 { // one after the other
				var prev int64
				for k := range 2 {
					ver, err := pe.vote(v, map[string]any{"poll": poll.ID, "choices": ballots[i][k]})
					if err != nil {
						t.Errorf("voter %d: %v", i, err)
						return
					}
					if ver <= prev {
						t.Errorf("voter %d: version %d after %d", i, ver, prev)
					}
					prev, latest[i] = ver, ballots[i][k]
				}
				return
			}
			// Both at once: the one acknowledged with the higher version counts.
			var versions [2]int64
			var inner sync.WaitGroup
			for k := range 2 {
				inner.Add(1)
				go func() {
					defer inner.Done()
					ver, err := pe.vote(v, map[string]any{"poll": poll.ID, "choices": ballots[i][k]})
					if err != nil {
						t.Errorf("voter %d: %v", i, err)
					}
					versions[k] = ver
				}()
			}
			inner.Wait()
			if versions[1] > versions[0] {
				latest[i] = ballots[i][1]
			} else {
				latest[i] = ballots[i][0]
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	want := make([]int, options)
	for _, b := range latest {
		for _, o := range b {
			want[o]++
		}
	}
	check := func(where string, res *app.ResultsView) {
		t.Helper()
		if res == nil || res.Voters != accounts+guests || res.Accounts != accounts || res.Guests != guests || !reflect.DeepEqual(res.Counts, want) {
			t.Fatalf("%s: %+v, want counts %v", where, res, want)
		}
	}
	check("in memory", pollOf(stateOn(t, pe.app, pe.host, pe.sid), poll.ID).Results)
	for _, i := range []int{0, 1, accounts, len(voters) - 1} {
		mine := pollOf(stateOn(t, pe.app, voters[i], pe.sid), poll.ID).Mine
		if mine == nil || !reflect.DeepEqual(mine.Choices, sortedCopy(latest[i])) {
			t.Fatalf("voter %d's own ballot: %+v, want %v", i, mine, latest[i])
		}
	}
	// Results were published coalesced, and the last one is exact.
	waitFor(t, "the last results", func() bool {
		res := lastResults(pe.live, "session:"+pe.sid, poll.ID)
		return res != nil && reflect.DeepEqual(res.Counts, want) && res.Voters == accounts+guests
	})
	if n := resultsEvents(pe.live, "session:"+pe.sid, poll.ID); n > (accounts+guests)/2 {
		t.Fatalf("%d results events for %d ballots: not coalesced", n, 2*(accounts+guests))
	}
	stored, err := pe.db.Ballots(ctx, poll.ID)
	if err != nil || len(stored) != 2*(accounts+guests) {
		t.Fatalf("stored ballots: %d %v", len(stored), err)
	}
	closed := pe.must("poll.close", map[string]any{"poll": poll.ID})
	if !closed.Results.Final {
		t.Fatalf("close did not recount: %+v", closed.Results)
	}
	check("recounted at close", closed.Results)
	final, err := pe.db.Poll(ctx, poll.ID)
	if err != nil || final.Final == nil || !reflect.DeepEqual(final.Final.Counts, want) || final.Final.Ballots != 2*(accounts+guests) {
		t.Fatalf("stored final: %+v %v", final.Final, err)
	}
	if _, err := pe.vote(voters[0], map[string]any{"poll": poll.ID, "choices": []int{0}}); codeOf(err) != insieme.ECONFLICT {
		t.Fatalf("ballot after the close: %v", err)
	}
}

func sortedCopy(xs []int) []int {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}

// Every refused ballot says why, and nothing of it is stored.
func TestBallotsAreRefusedWithAReason(t *testing.T) {
	pe := newPollEnv(t)
	ctx := context.Background()
	member := pe.principal(pe.member)
	guest, token := pe.guestOf(pe.code, "Ospite")
	accountsOnly := pe.opened(map[string]any{"kind": "single", "title": map[string]string{"it": "Solo iscritti"}, "options": texts("sì", "no")})
	draft := pe.draft(map[string]any{"kind": "single", "title": map[string]string{"it": "Bozza"}, "options": texts("sì", "no"), "guestsMayVote": true})
	closed := pe.opened(map[string]any{"kind": "scale", "title": map[string]string{"it": "Chiuso"}, "guestsMayVote": true})
	pe.must("poll.close", map[string]any{"poll": closed.ID})
	// Another live session, with an open poll of its own.
	otherSID, otherCode := pe.newSession(true)
	other, err := actOn(pe.app, pe.host, otherSID, "poll.create", map[string]any{"poll": map[string]any{"kind": "single",
		"title": map[string]string{"it": "Altrove"}, "options": texts("a", "b"), "guestsMayVote": true}})
	if err != nil {
		t.Fatal(err)
	}
	otherPoll := other.(*app.PollView)
	if _, err := actOn(pe.app, pe.host, otherSID, "poll.open", map[string]any{"poll": otherPoll.ID}); err != nil {
		t.Fatal(err)
	}
	otherGuest, _ := pe.guestOf(otherCode, "Altro ospite")
	// A session not started yet: its polls cannot open, nor take ballots.
	laterSID, _ := pe.newSession(false)
	later, err := actOn(pe.app, pe.host, laterSID, "poll.create", map[string]any{"poll": map[string]any{"kind": "scale", "title": map[string]string{"it": "Dopo"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := actOn(pe.app, pe.host, laterSID, "poll.open", map[string]any{"poll": later.(*app.PollView).ID}); codeOf(err) != insieme.ECONFLICT {
		t.Fatalf("a poll opened before its session started: %v", err)
	}

	removed := pe.principal(pe.register("Allontanato"))
	if _, err := pe.act(pe.host, "participant.remove", map[string]any{"participant": removed.ID}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		p    *insieme.Principal
		sid  string
		msg  map[string]any
		code string
	}{
		{"a draft poll", member, pe.sid, map[string]any{"poll": draft.ID, "choices": []int{0}}, insieme.ECONFLICT},
		{"a closed poll", member, pe.sid, map[string]any{"poll": closed.ID, "scale": 3}, insieme.ECONFLICT},
		{"another session's poll", member, pe.sid, map[string]any{"poll": otherPoll.ID, "choices": []int{0}}, insieme.ENOTFOUND},
		{"a guest's ballot for another session's poll", guest, pe.sid, map[string]any{"poll": otherPoll.ID, "choices": []int{0}}, insieme.ENOTFOUND},
		{"a guest in a session they did not join", guest, otherSID, map[string]any{"poll": otherPoll.ID, "choices": []int{0}}, insieme.ENOTFOUND},
		{"an unknown poll", member, pe.sid, map[string]any{"poll": "nope", "choices": []int{0}}, insieme.ENOTFOUND},
		{"no poll", member, pe.sid, map[string]any{"choices": []int{0}}, insieme.EINVALID},
		{"a guest where only accounts vote", guest, pe.sid, map[string]any{"poll": accountsOnly.ID, "choices": []int{0}}, insieme.EFORBIDDEN},
		{"an option out of range", member, pe.sid, map[string]any{"poll": accountsOnly.ID, "choices": []int{2}}, insieme.EINVALID},
		{"two options of a single choice", member, pe.sid, map[string]any{"poll": accountsOnly.ID, "choices": []int{0, 1}}, insieme.EINVALID},
		{"a session not live", member, laterSID, map[string]any{"poll": later.(*app.PollView).ID, "scale": 3}, insieme.ECONFLICT},
		{"someone a host removed", removed, pe.sid, map[string]any{"poll": accountsOnly.ID, "choices": []int{0}}, insieme.EFORBIDDEN},
		{"nobody", nil, pe.sid, map[string]any{"poll": accountsOnly.ID, "choices": []int{0}}, insieme.EUNAUTHORIZED},
	}
	for _, c := range cases {
		_, err := actOn(pe.app, c.p, c.sid, "poll.vote", c.msg)
		if codeOf(err) != c.code || insieme.ErrorMessage(err) == "" || insieme.ErrorMessage(err) == "Internal error." {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	// The same over HTTP: statuses and the error body.
	for _, c := range []struct {
		name, secret string
		headers      []string
		msg          map[string]any
		status       int
		code         string
	}{
		{"closed", pe.member.secret, nil, map[string]any{"poll": closed.ID, "scale": 3}, 409, insieme.ECONFLICT},
		{"guests may not", "", bearer(token), map[string]any{"poll": accountsOnly.ID, "choices": []int{1}}, 403, insieme.EFORBIDDEN},
		{"another session's", pe.member.secret, nil, map[string]any{"poll": otherPoll.ID, "choices": []int{0}}, 404, insieme.ENOTFOUND},
		{"bad ballot", pe.member.secret, nil, map[string]any{"poll": accountsOnly.ID, "choices": []int{}}, 400, insieme.EINVALID},
		{"anonymous", "", nil, map[string]any{"poll": accountsOnly.ID, "choices": []int{1}}, 401, insieme.EUNAUTHORIZED},
	} {
		c.msg["type"] = "poll.vote"
		r := pe.do("POST", "/api/v1/sessions/"+pe.sid+"/actions", c.secret, c.msg, c.headers...)
		if r.status != c.status || r.errorOf(t).Code != c.code {
			t.Errorf("HTTP %s: %d %s", c.name, r.status, r.body)
		}
	}
	for _, p := range []*insieme.Principal{member, guest, otherGuest, removed} {
		if bs, err := pe.db.BallotsBy(ctx, p.ID); err != nil || len(bs) != 0 {
			t.Fatalf("refused ballots were stored: %+v %v", bs, err)
		}
	}
	// A valid ballot goes through; once the session ends, the poll is closed and recounted.
	if _, err := pe.vote(member, map[string]any{"poll": accountsOnly.ID, "choices": []int{1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := pe.app.ControlSession(ctx, pe.host, pe.sid, app.SessionAction{Action: "end"}); err != nil {
		t.Fatal(err)
	}
	if _, err := pe.vote(member, map[string]any{"poll": accountsOnly.ID, "choices": []int{0}}); codeOf(err) != insieme.ECONFLICT {
		t.Fatalf("ballot after the session ended: %v", err)
	}
	ended, err := pe.db.Poll(ctx, accountsOnly.ID)
	if err != nil || ended.Status != insieme.PollClosed || ended.Final == nil || !reflect.DeepEqual(ended.Final.Counts, []int{0, 1}) {
		t.Fatalf("poll of the ended session: %+v %v", ended, err)
	}
	if d, _ := pe.db.Poll(ctx, draft.ID); d.Status != insieme.PollDraft {
		t.Fatalf("the session's end opened or closed a draft: %s", d.Status)
	}
	if _, err := pe.act(pe.host, "poll.create", map[string]any{"poll": map[string]any{"kind": "scale", "title": map[string]string{"it": "Tardi"}}}); codeOf(err) != insieme.ECONFLICT {
		t.Fatalf("poll created in an ended session: %v", err)
	}
}

// Only the session's hosts (its municipality's staff, named co-hosts, admins) manage polls:
// each host action, for each kind of person, over HTTP as the frontend sends them.
func TestPollHostActionsPermissionMatrix(t *testing.T) {
	pe := newPollEnv(t)
	ctx := context.Background()
	_, token := pe.guestOf(pe.code, "Ospite")
	who := []struct {
		name    string
		secret  string
		headers []string
		allowed bool
	}{
		{"guest", "", bearer(token), false},
		{"participant", pe.member.secret, nil, false},
		{"host", pe.staff.secret, nil, true},
		{"co-host", pe.cohost.secret, nil, true},
		{"admin", pe.admin.secret, nil, true},
	}
	newDraft := func() string {
		return pe.draft(map[string]any{"kind": "single", "title": map[string]string{"it": "Bozza"}, "options": texts("a", "b")}).ID
	}
	newOpen := func() string {
		return pe.opened(map[string]any{"kind": "single", "title": map[string]string{"it": "Aperto"}, "options": texts("a", "b")}).ID
	}
	actions := []struct {
		typ    string
		target func() string
		msg    func(id string) map[string]any
		status int
		done   func(id string) bool // whether the action took effect
	}{
		{"poll.create", func() string { return "" }, func(string) map[string]any {
			return map[string]any{"poll": map[string]any{"kind": "scale", "title": map[string]string{"it": "Nuovo"}}}
		}, 200, nil},
		{"poll.update", newDraft, func(id string) map[string]any {
			return map[string]any{"poll": map[string]any{"id": id, "title": map[string]string{"it": "Cambiato"}}}
		}, 200, func(id string) bool { p, _ := pe.db.Poll(ctx, id); return p.Title["it"] == "Cambiato" }},
		{"poll.delete", newDraft, func(id string) map[string]any { return map[string]any{"poll": id} }, 204,
			func(id string) bool { _, err := pe.db.Poll(ctx, id); return codeOf(err) == insieme.ENOTFOUND }},
		{"poll.open", newDraft, func(id string) map[string]any { return map[string]any{"poll": id} }, 200,
			func(id string) bool { p, _ := pe.db.Poll(ctx, id); return p.Status == insieme.PollOpen }},
		{"poll.close", newOpen, func(id string) map[string]any { return map[string]any{"poll": id} }, 200,
			func(id string) bool {
				p, _ := pe.db.Poll(ctx, id)
				return p.Status == insieme.PollClosed && p.Final != nil
			}},
	}
	for _, act := range actions {
		for _, w := range who {
			id := act.target()
			before, _ := pe.db.PollsOf(ctx, pe.sid)
			msg := act.msg(id)
			msg["type"] = act.typ
			r := pe.do("POST", "/api/v1/sessions/"+pe.sid+"/actions", w.secret, msg, w.headers...)
			after, _ := pe.db.PollsOf(ctx, pe.sid)
			switch {
			case w.allowed && r.status != act.status:
				t.Errorf("%s by %s: %d %s, want %d", act.typ, w.name, r.status, r.body, act.status)
			case !w.allowed && (r.status != 403 || r.errorOf(t).Code != insieme.EFORBIDDEN):
				t.Errorf("%s by %s: %d %s, want 403", act.typ, w.name, r.status, r.body)
			case act.done != nil && act.done(id) != w.allowed:
				t.Errorf("%s by %s: took effect %v", act.typ, w.name, !w.allowed)
			case act.done == nil && (len(after) > len(before)) != w.allowed:
				t.Errorf("%s by %s: %d polls before, %d after", act.typ, w.name, len(before), len(after))
			}
		}
	}
}

// flakyBallots is a store whose ballot inserts fail: all of them while down, or those of one
// voter (a partly stored batch).
type flakyBallots struct {
	*mongo.DB
	down   atomic.Bool
	refuse atomic.Value // a voter id
}

func (f *flakyBallots) InsertBallots(ctx context.Context, bs []*insieme.Ballot) error {
	if f.down.Load() {
		return errors.New("store: connection refused")
	}
	refuse, _ := f.refuse.Load().(string)
	var keep []*insieme.Ballot
	failed := map[int]error{}
	for i, b := range bs {
		if b.VoterID == refuse {
			failed[i] = errors.New("store: write error")
		} else {
			keep = append(keep, b)
		}
	}
	if err := f.DB.InsertBallots(ctx, keep); err != nil {
		return err
	}
	if len(failed) > 0 {
		return &insieme.BatchError{Failed: failed}
	}
	return nil
}

// When the store fails, no ballot of the batch is acknowledged, counted or announced.
func TestBallotsAreNeverAcknowledgedUnlessStored(t *testing.T) {
	pe := newPollEnv(t)
	ctx := context.Background()
	flaky := &flakyBallots{DB: pe.db}
	pe.useApp(pe.node(flaky, pe.live))
	poll := pe.opened(map[string]any{"kind": "single", "title": map[string]string{"it": "Sì o no?"}, "options": texts("sì", "no"), "guestsMayVote": true})
	const n = 30
	guests := make([]*insieme.Principal, n)
	tokens := make([]string, n)
	for i := range guests {
		guests[i], tokens[i] = pe.guestOf(pe.code, fmt.Sprint("Ospite ", i))
	}
	flaky.down.Store(true)
	var wg sync.WaitGroup
	for i, g := range guests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ver, err := pe.vote(g, map[string]any{"poll": poll.ID, "choices": []int{i % 2}}); codeOf(err) != insieme.EUNAVAILABLE || ver != 0 {
				t.Errorf("ballot %d while the store is down: %d %v", i, ver, err)
			}
		}()
	}
	wg.Wait()
	r := pe.do("POST", "/api/v1/sessions/"+pe.sid+"/actions", "", map[string]any{"type": "poll.vote", "poll": poll.ID, "choices": []int{0}}, bearer(tokens[0])...)
	if r.status != 503 || r.errorOf(t).Code != insieme.EUNAVAILABLE {
		t.Fatalf("HTTP ballot while the store is down: %d %s", r.status, r.body)
	}
	if bs, _ := pe.db.Ballots(ctx, poll.ID); len(bs) != 0 {
		t.Fatalf("%d ballots stored", len(bs))
	}
	if res := pollOf(stateOn(t, pe.app, pe.host, pe.sid), poll.ID).Results; res.Voters != 0 {
		t.Fatalf("unstored ballots counted: %+v", res)
	}
	if mine := pollOf(stateOn(t, pe.app, guests[0], pe.sid), poll.ID).Mine; mine != nil {
		t.Fatalf("an unstored ballot shown as the guest's own: %+v", mine)
	}
	for _, e := range pe.live.in(app.LiveRoom) {
		var ev struct{ Kind string }
		if json.Unmarshal(e.data, &ev) == nil && ev.Kind == "ballots" {
			t.Fatalf("unstored ballots announced to the other nodes: %s", e.data)
		}
	}

	// A batch stored in part: the ballot that failed is refused, the others acknowledged.
	flaky.down.Store(false)
	flaky.refuse.Store(guests[0].ID)
	acked := make([]bool, n)
	for i, g := range guests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := pe.vote(g, map[string]any{"poll": poll.ID, "choices": []int{i % 2}})
			acked[i] = err == nil
			if (i == 0) != (codeOf(err) == insieme.EUNAVAILABLE) {
				t.Errorf("ballot %d of a partly stored batch: %v", i, err)
			}
		}()
	}
	wg.Wait()
	bs, _ := pe.db.Ballots(ctx, poll.ID)
	if len(bs) != n-1 || slices.ContainsFunc(bs, func(b *insieme.Ballot) bool { return b.VoterID == guests[0].ID }) {
		t.Fatalf("stored %d ballots, want %d without the refused one", len(bs), n-1)
	}
	if res := pollOf(stateOn(t, pe.app, pe.host, pe.sid), poll.ID).Results; res.Voters != n-1 {
		t.Fatalf("counted %d voters, want %d", res.Voters, n-1)
	}

	// A node whose connection to the store is gone refuses ballots too.
	nodeDB := store.Node(t, pe.db.Name())
	node := pe.node(nodeDB, &capLive{})
	if _, err := actOn(node, guests[0], pe.sid, "poll.vote", map[string]any{"poll": poll.ID, "choices": []int{1}}); err != nil {
		t.Fatal(err) // loads the session and the poll on this node
	}
	if err := nodeDB.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := actOn(node, guests[1], pe.sid, "poll.vote", map[string]any{"poll": poll.ID, "choices": []int{1}}); codeOf(err) != insieme.EUNAVAILABLE {
		t.Fatalf("ballot on a node without its store: %v", err)
	}
	if bs, _ := pe.db.BallotsBy(ctx, guests[1].ID); len(bs) != 1 {
		t.Fatalf("guest 1 has %d stored ballots, want the 1 acknowledged before", len(bs))
	}
}

// Two nodes share one store: each counts its own batches and the other's events, so both
// count every ballot exactly, voters who switch nodes included; the recount at close agrees.
func TestTwoNodesCountEveryBallotExactly(t *testing.T) {
	pe := newPollEnv(t)
	ctx := context.Background()
	liveA, liveB := pe.live, &capLive{}
	nodeA, nodeB := pe.app, pe.node(store.Node(t, pe.db.Name()), liveB)
	poll := pe.opened(map[string]any{"kind": "ranking", "title": map[string]string{"it": "In ordine"},
		"options": texts("casa", "lavoro", "scuola", "salute"), "guestsMayVote": true})
	var markA, markB int
	liveA.feed(nodeB, &markA) // B has loaded nothing yet: events of sessions it does not serve are skipped
	const n, options = 120, 4
	voters := make([]*insieme.Principal, n)
	for i := range voters {
		voters[i], _ = pe.guestOf(pe.code, fmt.Sprint("Ospite ", i))
	}
	r := rand.New(rand.NewPCG(9, 9))
	rankings := make([][2][]int, n)
	for i := range rankings {
		for k := range 2 {
			rankings[i][k] = r.Perm(options)[:1+r.IntN(options)]
		}
	}
	nodes := []*app.App{nodeA, nodeB}
	latest := make([][]int, n)
	var wg sync.WaitGroup
	for i, v := range voters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 2 {
				node := nodes[i%2]
				if i%3 == 0 && k == 1 {
					node = nodes[(i+1)%2] // a reconnection to the other node
				}
				if _, err := actOn(node, v, pe.sid, "poll.vote", map[string]any{"poll": poll.ID, "ranking": rankings[i][k]}); err != nil {
					t.Errorf("voter %d: %v", i, err)
					return
				}
				latest[i] = rankings[i][k]
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	wantPoints, wantFirsts := make([]int, options), make([]int, options)
	for _, rk := range latest {
		for pos, o := range rk {
			wantPoints[o] += options - pos
		}
		wantFirsts[rk[0]]++
	}
	resultsOn := func(a *app.App) *app.ResultsView {
		return pollOf(stateOn(t, a, pe.host, pe.sid), poll.ID).Results
	}
	if res := resultsOn(nodeA); res.Voters == n {
		t.Fatalf("node A counted every voter before hearing from B: the test proves nothing")
	}
	liveA.feed(nodeB, &markA)
	liveB.feed(nodeA, &markB)
	for name, a := range map[string]*app.App{"A": nodeA, "B": nodeB} {
		res := resultsOn(a)
		if res.Voters != n || res.Guests != n || !reflect.DeepEqual(res.Points, wantPoints) || !reflect.DeepEqual(res.Counts, wantFirsts) {
			t.Fatalf("node %s: %+v, want points %v, firsts %v", name, res, wantPoints, wantFirsts)
		}
	}
	// Applying the same events again changes nothing.
	markA, markB = 0, 0
	liveA.feed(nodeB, &markA)
	liveB.feed(nodeA, &markB)
	if res := resultsOn(nodeA); res.Voters != n || !reflect.DeepEqual(res.Points, wantPoints) {
		t.Fatalf("events applied twice: %+v", res)
	}
	// A node that lost the broker reads the poll again from the store.
	nodeB.ResetLive()
	if res := resultsOn(nodeB); res.Voters != n || !reflect.DeepEqual(res.Points, wantPoints) {
		t.Fatalf("node B after a reset: %+v", res)
	}
	// B closes; its recount agrees; A shows the final tally once it hears of it.
	res, err := actOn(nodeB, pe.host, pe.sid, "poll.close", map[string]any{"poll": poll.ID})
	if err != nil {
		t.Fatal(err)
	}
	if final := res.(*app.PollView).Results; !final.Final || !reflect.DeepEqual(final.Points, wantPoints) || final.Voters != n {
		t.Fatalf("final tally: %+v", final)
	}
	liveB.feed(nodeA, &markB)
	ra := pollOf(stateOn(t, nodeA, voters[0], pe.sid), poll.ID)
	if ra.Status != insieme.PollClosed || ra.Results == nil || !ra.Results.Final || !reflect.DeepEqual(ra.Results.Points, wantPoints) {
		t.Fatalf("node A after the close: %+v %+v", ra, ra.Results)
	}
	if _, err := actOn(nodeA, voters[1], pe.sid, "poll.vote", map[string]any{"poll": poll.ID, "ranking": []int{0}}); codeOf(err) != insieme.ECONFLICT {
		t.Fatalf("node A took a ballot after B closed the poll: %v", err)
	}
	stored, err := pe.db.Poll(ctx, poll.ID)
	if err != nil || !reflect.DeepEqual(stored.Final.Points, wantPoints) || stored.Final.Ballots != 2*n {
		t.Fatalf("stored final: %+v %v", stored.Final, err)
	}
}

// An account's ballots are in its data download and go with it; closed polls keep their
// final tallies.
func TestBallotsAreInTheDataDownloadAndErased(t *testing.T) {
	pe := newPollEnv(t)
	ctx := context.Background()
	x := pe.register("Votante")
	px := pe.principal(x)
	other := pe.principal(pe.member)
	closed := pe.opened(map[string]any{"kind": "scale", "title": map[string]string{"it": "Chiuso"}})
	open := pe.opened(map[string]any{"kind": "words", "title": map[string]string{"it": "Aperto"}})
	for _, v := range []struct {
		p   *insieme.Principal
		msg map[string]any
	}{
		{px, map[string]any{"poll": closed.ID, "scale": 2}}, {px, map[string]any{"poll": closed.ID, "scale": 4}},
		{other, map[string]any{"poll": closed.ID, "scale": 5}},
		{px, map[string]any{"poll": open.ID, "words": []string{"piazza"}}}, {other, map[string]any{"poll": open.ID, "words": []string{"parco"}}},
	} {
		if _, err := pe.vote(v.p, v.msg); err != nil {
			t.Fatal(err)
		}
	}
	final := pe.must("poll.close", map[string]any{"poll": closed.ID}).Results
	data, err := pe.app.Export(ctx, px)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(data["ballots"])
	var ballots []map[string]any
	_ = json.Unmarshal(b, &ballots)
	if len(ballots) != 3 || ballots[0]["pollId"] != closed.ID || ballots[0]["scale"] != 2.0 || ballots[2]["words"] == nil {
		t.Fatalf("ballots in the download: %s", b)
	}
	if err := pe.app.DeleteAccount(ctx, px, x.password); err != nil {
		t.Fatal(err)
	}
	if bs, err := pe.db.BallotsBy(ctx, x.id); err != nil || len(bs) != 0 {
		t.Fatalf("ballots after the erasure: %d %v", len(bs), err)
	}
	if bs, _ := pe.db.BallotsBy(ctx, other.ID); len(bs) != 2 {
		t.Fatalf("someone else's ballots went too: %d left", len(bs))
	}
	st := stateOn(t, pe.app, pe.host, pe.sid)
	if got := pollOf(st, closed.ID).Results; !reflect.DeepEqual(got, final) || got.Voters != 2 {
		t.Fatalf("closed poll's tally changed: %+v, was %+v", got, final)
	}
	if got := pollOf(st, open.ID).Results; got.Voters != 1 || !reflect.DeepEqual(got.Words, []app.WordView{{Word: "parco", Count: 1}}) {
		t.Fatalf("open poll still counts the erased account: %+v", got)
	}
	erased := slices.ContainsFunc(pe.live.in(app.LiveRoom), func(e capEvent) bool {
		var ev struct{ Kind string }
		return json.Unmarshal(e.data, &ev) == nil && ev.Kind == "ballots.erased"
	})
	if !erased {
		t.Fatal("the other nodes were not told to forget the erased account's ballots")
	}
}

// gatedBallots holds ballot inserts until the test opens the gate.
type gatedBallots struct {
	*mongo.DB
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedBallots) InsertBallots(ctx context.Context, bs []*insieme.Ballot) error {
	g.entered <- struct{}{}
	<-g.gate
	return g.DB.InsertBallots(ctx, bs)
}

// A ballot one node accepted while the poll was open, and stored only after another node
// closed the poll and recounted it, is still in the final tally: the node that stored it
// late recounts.
func TestABallotStoredAfterAnotherNodeClosedThePollIsRecounted(t *testing.T) {
	pe := newPollEnv(t)
	ctx := context.Background()
	gated := &gatedBallots{DB: store.Node(t, pe.db.Name()), entered: make(chan struct{}), gate: make(chan struct{})}
	liveB := &capLive{}
	nodeA, nodeB := pe.app, pe.node(gated, liveB)
	poll := pe.opened(map[string]any{"kind": "single", "title": map[string]string{"it": "Sì o no?"}, "options": texts("sì", "no"), "guestsMayVote": true})
	g1, _ := pe.guestOf(pe.code, "Uno")
	g2, _ := pe.guestOf(pe.code, "Due")
	if _, err := pe.vote(g1, map[string]any{"poll": poll.ID, "choices": []int{0}}); err != nil {
		t.Fatal(err)
	}
	acked := make(chan error, 1)
	go func() {
		_, err := actOn(nodeB, g2, pe.sid, "poll.vote", map[string]any{"poll": poll.ID, "choices": []int{1}})
		acked <- err
	}()
	<-gated.entered // B accepted the ballot and is storing it
	closed := pe.must("poll.close", map[string]any{"poll": poll.ID})
	if closed.Results.Voters != 1 {
		t.Fatalf("A's recount: %+v", closed.Results)
	}
	var markA int
	pe.live.feed(nodeB, &markA) // B hears of the close while its insert is under way
	close(gated.gate)
	if err := <-acked; err != nil {
		t.Fatalf("B's ballot, stored: %v", err)
	}
	nodeB.Wait() // its recount
	final, err := pe.db.Poll(ctx, poll.ID)
	if err != nil || final.Final == nil || final.Final.Voters != 2 || !reflect.DeepEqual(final.Final.Counts, []int{1, 1}) {
		t.Fatalf("final tally after the late ballot: %+v %v", final.Final, err)
	}
	var markB int
	liveB.feed(nodeA, &markB)
	if res := pollOf(stateOn(t, nodeA, pe.host, pe.sid), poll.ID).Results; !res.Final || res.Voters != 2 {
		t.Fatalf("node A's final tally: %+v", res)
	}
}

// A node that did not hear of another node's close (the broker down, the event late) may
// still take a ballot: once stored it reads the poll, finds it closed and recounts, so the
// acknowledged ballot is in the final tally; a node loading the session recounts a closed
// poll whose stored ballots outnumber its final tally.
func TestPollBallotAcknowledgedAfterAnUnheardCloseIsInTheFinalTally(t *testing.T) {
	pe := newPollEnv(t)
	ctx := context.Background()
	nodeA, nodeB := pe.app, pe.node(store.Node(t, pe.db.Name()), &capLive{})
	poll := pe.opened(map[string]any{"kind": "single", "title": map[string]string{"it": "Sì o no?"}, "options": texts("sì", "no"), "guestsMayVote": true})
	g1, _ := pe.guestOf(pe.code, "Uno")
	g2, _ := pe.guestOf(pe.code, "Due")
	g3, _ := pe.guestOf(pe.code, "Tre")
	if _, err := pe.vote(g1, map[string]any{"poll": poll.ID, "choices": []int{0}}); err != nil {
		t.Fatal(err)
	}
	if p := pollOf(stateOn(t, nodeB, g2, pe.sid), poll.ID); p == nil || p.Status != insieme.PollOpen {
		t.Fatalf("node B loaded the poll: %+v", p)
	}
	if closed := pe.must("poll.close", map[string]any{"poll": poll.ID}); closed.Results.Voters != 1 {
		t.Fatalf("A's recount: %+v", closed.Results)
	}
	// B never hears of the close.
	if _, err := actOn(nodeB, g2, pe.sid, "poll.vote", map[string]any{"poll": poll.ID, "choices": []int{1}}); err != nil {
		t.Fatalf("B's ballot: %v", err)
	}
	nodeB.Wait()
	final, err := pe.db.Poll(ctx, poll.ID)
	if err != nil || final.Final == nil || final.Final.Voters != 2 || final.Final.Ballots != 2 || !reflect.DeepEqual(final.Final.Counts, []int{1, 1}) {
		t.Fatalf("final tally after B's acknowledged ballot: %+v %v", final.Final, err)
	}
	if _, err := actOn(nodeB, g3, pe.sid, "poll.vote", map[string]any{"poll": poll.ID, "choices": []int{1}}); codeOf(err) != insieme.ECONFLICT {
		t.Fatalf("B took a ballot after learning of the close: %v", err)
	}
	nodeA.Wait()

	// A ballot stored by a node that went away before its recount: the next node to load the
	// session recounts.
	if err := pe.db.InsertBallots(ctx, []*insieme.Ballot{{PollID: poll.ID, SessionID: pe.sid, VoterID: g3.ID, Guest: true,
		Version: time.Now().UnixNano(), Choices: []int{1}, CreatedAt: pe.clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	nodeC := pe.node(store.Node(t, pe.db.Name()), &capLive{})
	stateOn(t, nodeC, pe.host, pe.sid)
	nodeC.Wait()
	final, err = pe.db.Poll(ctx, poll.ID)
	if err != nil || final.Final == nil || final.Final.Voters != 3 || final.Final.Ballots != 3 || !reflect.DeepEqual(final.Final.Counts, []int{1, 2}) {
		t.Fatalf("final tally after a load: %+v %v", final.Final, err)
	}
}

// A voter's ballot versions only grow, even on a node whose clock is behind the node that
// took the voter's previous ballot.
func TestPollBallotVersionsGrowAcrossNodesWithSkewedClocks(t *testing.T) {
	pe := newPollEnv(t)
	ctx := context.Background()
	poll := pe.opened(map[string]any{"kind": "scale", "title": map[string]string{"it": "Quanto?"}, "guestsMayVote": true})
	g, _ := pe.guestOf(pe.code, "Uno")
	ahead := time.Now().Add(time.Hour).UnixNano() // taken by a node an hour ahead
	if err := pe.db.InsertBallots(ctx, []*insieme.Ballot{{PollID: poll.ID, SessionID: pe.sid, VoterID: g.ID, Guest: true,
		Version: ahead, Scale: 1, CreatedAt: pe.clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	nodeB := pe.node(store.Node(t, pe.db.Name()), &capLive{})
	res, err := actOn(nodeB, g, pe.sid, "poll.vote", map[string]any{"poll": poll.ID, "scale": 5})
	if err != nil {
		t.Fatal(err)
	}
	if v := res.(*app.VoteResult).Version; v <= ahead {
		t.Fatalf("version %d after %d", v, ahead)
	}
	if mine := pollOf(stateOn(t, nodeB, g, pe.sid), poll.ID).Mine; mine == nil || mine.Scale != 5 {
		t.Fatalf("the newer ballot does not count: %+v", mine)
	}
}
