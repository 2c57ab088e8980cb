package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// sessionEnv is a forum with a municipality's staff member (the admin of newForumEnv is an
// admin; staff is the municipality's own) and a scheduled session.
type sessionEnv struct {
	*forumEnv
	session app.SessionView
}

func newSessionEnv(t *testing.T) *sessionEnv {
	t.Helper()
	fe := newForumEnv(t)
	r := fe.do("POST", "/api/v1/forums/"+fe.forum+"/sessions", fe.admin.secret, map[string]any{
		"title": map[string]string{"it": "Forum dal vivo", "ar": "منتدى مباشر"}, "scheduledAt": fe.clock.Now().Add(time.Hour),
		"mode": "hybrid", "place": "Sala consiliare", "streamUrl": "https://example.org/live",
		"agenda": []map[string]any{{"title": map[string]string{"it": "Benvenuto"}, "minutes": 5}, {"title": map[string]string{"it": "Casa"}, "minutes": 20}}})
	if r.status != 201 {
		t.Fatalf("create session: %d %s", r.status, r.body)
	}
	se := &sessionEnv{forumEnv: fe}
	r.json(t, &se.session)
	return se
}

func (se *sessionEnv) action(secret string, body map[string]any, headers ...string) resp {
	se.t.Helper()
	return se.do("POST", "/api/v1/sessions/"+se.session.ID+"/actions", secret, body, headers...)
}

// joinAsGuest joins by code and returns the guest's token.
func (se *sessionEnv) joinAsGuest(name string) (string, app.JoinResult) {
	se.t.Helper()
	r := se.do("POST", "/api/v1/join", "", map[string]any{"code": se.session.Code, "name": name})
	if r.status != 200 {
		se.t.Fatalf("join: %d %s", r.status, r.body)
	}
	var res app.JoinResult
	r.json(se.t, &res)
	if res.Token == "" || !res.Principal.Guest || res.ID != se.session.ID {
		se.t.Fatalf("guest join: %+v", res)
	}
	return res.Token, res
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func TestSessionsAreScheduledAndShown(t *testing.T) {
	se := newSessionEnv(t)
	s := se.session
	if len(s.Code) != insieme.JoinCodeLength || !s.Host || s.Status != insieme.SessionScheduled || len(s.Agenda) != 2 || !s.PreModerate {
		t.Fatalf("created: %+v", s)
	}
	for _, c := range s.Code {
		if !strings.ContainsRune(insieme.JoinCodeAlphabet, c) {
			t.Fatalf("code %q has a letter outside the alphabet", s.Code)
		}
	}
	// Everyone who may see the forum sees the session; only hosts see its code.
	var anon app.SessionView
	if r := se.do("GET", "/api/v1/sessions/"+s.ID, "", nil); r.status != 200 {
		t.Fatalf("anonymous: %d", r.status)
	} else {
		r.json(t, &anon)
	}
	if anon.Code != "" || anon.Host || anon.Title["ar"] != "منتدى مباشر" {
		t.Fatalf("anonymous view: %+v", anon)
	}
	var list []app.SessionView
	se.do("GET", "/api/v1/forums/"+se.forum+"/sessions", se.member.secret, nil).json(t, &list)
	if len(list) != 1 || list[0].Code != "" {
		t.Fatalf("list for a member: %+v", list)
	}
	// Only the municipality's staff (and admins) schedule; bad input changes nothing.
	r := se.do("POST", "/api/v1/forums/"+se.forum+"/sessions", se.member.secret, map[string]any{"title": map[string]string{"it": "x"}, "scheduledAt": time.Now()})
	if r.status != 403 {
		t.Fatalf("member schedules: %d %s", r.status, r.body)
	}
	if r := se.do("POST", "/api/v1/forums/"+se.forum+"/sessions", "", map[string]any{}); r.status != 401 {
		t.Fatalf("anonymous schedules: %d", r.status)
	}
	for name, body := range map[string]map[string]any{
		"no title":     {"scheduledAt": time.Now()},
		"no date":      {"title": map[string]string{"it": "x"}},
		"bad mode":     {"title": map[string]string{"it": "x"}, "scheduledAt": time.Now(), "mode": "moon"},
		"script link":  {"title": map[string]string{"it": "x"}, "scheduledAt": time.Now(), "streamUrl": "javascript:alert(1)"},
		"long agenda":  {"title": map[string]string{"it": "x"}, "scheduledAt": time.Now(), "agenda": make([]map[string]any, insieme.MaxAgendaItems+1)},
		"long title":   {"title": map[string]string{"it": strings.Repeat("a", insieme.MaxSessionTitle+1)}, "scheduledAt": time.Now()},
		"unknown host": {"title": map[string]string{"it": "x"}, "scheduledAt": time.Now(), "coHosts": []string{"nobody"}},
	} {
		r := se.do("POST", "/api/v1/forums/"+se.forum+"/sessions", se.admin.secret, body)
		if r.status != 400 || r.errorOf(t).Code != insieme.EINVALID {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	se.do("GET", "/api/v1/forums/"+se.forum+"/sessions", "", nil).json(t, &list)
	if len(list) != 1 {
		t.Fatalf("refused sessions were stored: %d sessions", len(list))
	}
}

func TestGuestsJoinByCodeAndComeBack(t *testing.T) {
	se := newSessionEnv(t)
	// The code is typed loosely: lower case, spaces, dashes.
	loose := strings.ToLower(se.session.Code[:5]) + " - " + se.session.Code[5:]
	r := se.do("POST", "/api/v1/join", "", map[string]any{"code": loose, "name": "  Amina  "})
	if r.status != 200 {
		t.Fatalf("join: %d %s", r.status, r.body)
	}
	var res app.JoinResult
	r.json(t, &res)
	if res.Token == "" || res.Principal.Name != "Amina" || !res.Principal.Guest || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("join result: %+v", res)
	}
	// The token brings the same guest back (a reload): on HTTP as a bearer token.
	var again app.SessionView
	if r := se.do("GET", "/api/v1/sessions/"+se.session.ID, "", nil, bearer(res.Token)...); r.status != 200 {
		t.Fatalf("guest reads the session: %d %s", r.status, r.body)
	} else {
		r.json(t, &again)
	}
	if again.Code != "" || again.Host {
		t.Fatalf("guest view: %+v", again)
	}
	p, err := se.app.AuthenticateGuest(t.Context(), res.Token)
	if err != nil || p.ID != res.Principal.ID || p.Name != "Amina" {
		t.Fatalf("same guest again: %+v %v", p, err)
	}
	if r := se.do("GET", "/api/v1/sessions/"+se.session.ID, "", nil, bearer("not-a-token")...); r.status != 401 {
		t.Fatalf("a bad token: %d", r.status)
	}
	// A guest sees only the session they joined.
	other := se.do("POST", "/api/v1/forums/"+se.forum+"/sessions", se.admin.secret, map[string]any{
		"title": map[string]string{"it": "Altra"}, "scheduledAt": se.clock.Now()})
	var o app.SessionView
	other.json(t, &o)
	if r := se.do("GET", "/api/v1/sessions/"+o.ID, "", nil, bearer(res.Token)...); r.status != 404 {
		t.Fatalf("guest reads another session: %d", r.status)
	}
	// Bad input.
	for name, body := range map[string]map[string]any{
		"no code":      {"name": "x"},
		"unknown code": {"code": "ZZZZZZZZZZ", "name": "x"},
		"short code":   {"code": "ABC", "name": "x"},
	} {
		r := se.do("POST", "/api/v1/join", "", body)
		if r.status != 400 && r.status != 404 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if r := se.do("POST", "/api/v1/join", "", map[string]any{"code": se.session.Code}); r.status != 400 || r.errorOf(t).Fields["name"] != insieme.FRequired {
		t.Fatalf("guest without a name: %d %s", r.status, r.body)
	}
	if r := se.do("POST", "/api/v1/join", "", map[string]any{"code": se.session.Code, "name": strings.Repeat("n", insieme.MaxGuestName+1)}); r.status != 400 {
		t.Fatalf("long name: %d", r.status)
	}
	// A signed-in person joins as themselves, with no token.
	var mine app.JoinResult
	se.do("POST", "/api/v1/join", se.member.secret, map[string]any{"code": se.session.Code}).json(t, &mine)
	if mine.Token != "" || mine.Principal == nil || mine.Principal.ID != se.member.id {
		t.Fatalf("member join: %+v", mine)
	}
	// The code expires a day after the scheduled start, and the guests' tokens with it.
	se.clock.Add(insieme.GuestTTL + 2*time.Hour)
	if r := se.do("POST", "/api/v1/join", "", map[string]any{"code": se.session.Code, "name": "Late"}); r.status != 404 {
		t.Fatalf("expired code: %d", r.status)
	}
	if r := se.do("GET", "/api/v1/sessions/"+se.session.ID, "", nil, bearer(res.Token)...); r.status != 401 {
		t.Fatalf("expired guest token: %d", r.status)
	}
}

func TestFailedJoinsAreLimitedPerAddress(t *testing.T) {
	se := newSessionEnv(t)
	refused := 0
	for i := 0; i < joinFailuresPerAddress+1; i++ {
		r := se.do("POST", "/api/v1/join", "", map[string]any{"code": fmt.Sprintf("%010d", i), "name": "x"})
		if r.status == 429 {
			refused++
		}
	}
	if refused != 1 {
		t.Fatalf("%d of %d failed joins refused with 429, want the last one", refused, joinFailuresPerAddress+1)
	}
	// The right code is refused too now from this address: the limit counts guesses, and a
	// guesser must not learn which code works.
	if r := se.do("POST", "/api/v1/join", "", map[string]any{"code": se.session.Code, "name": "x"}); r.status != 429 {
		t.Fatalf("after the limit: %d", r.status)
	}
}

func TestHostsControlTheSession(t *testing.T) {
	se := newSessionEnv(t)
	token, _ := se.joinAsGuest("Ospite")
	control := func(secret string, action map[string]any, headers ...string) resp {
		action["type"] = "session.control"
		return se.action(secret, action, headers...)
	}
	// Nobody but a host may: a guest, a participant account, the anonymous.
	for who, try := range map[string]func() resp{
		"guest":     func() resp { return control("", map[string]any{"action": "start"}, bearer(token)...) },
		"member":    func() resp { return control(se.member.secret, map[string]any{"action": "start"}) },
		"anonymous": func() resp { return control("", map[string]any{"action": "start"}) },
	} {
		if r := try(); r.status != 403 && r.status != 401 {
			t.Errorf("%s starts the session: %d %s", who, r.status, r.body)
		}
	}
	var v app.SessionView
	se.do("GET", "/api/v1/sessions/"+se.session.ID, "", nil).json(t, &v)
	if v.Status != insieme.SessionScheduled {
		t.Fatalf("a refused start changed the session: %s", v.Status)
	}
	if r := control(se.admin.secret, map[string]any{"action": "next"}); r.status != 409 {
		t.Fatalf("next before start: %d", r.status)
	}
	if r := control(se.admin.secret, map[string]any{"action": "fly"}); r.status != 400 {
		t.Fatalf("unknown action: %d", r.status)
	}
	if r := se.action(se.admin.secret, map[string]any{"type": "session.nothing"}); r.status != 400 {
		t.Fatalf("unknown type: %d", r.status)
	}
	// Start: the first agenda item becomes current, with its start time for the countdown.
	control(se.admin.secret, map[string]any{"action": "start"}).json(t, &v)
	if v.Status != insieme.SessionLive || v.Current != se.session.Agenda[0].ID || v.CurrentSince == nil {
		t.Fatalf("started: %+v", v)
	}
	se.clock.Add(4 * time.Minute)
	control(se.admin.secret, map[string]any{"action": "next"}).json(t, &v)
	if v.Current != se.session.Agenda[1].ID || !v.CurrentSince.Equal(se.clock.Now()) {
		t.Fatalf("next: %+v", v)
	}
	if r := control(se.admin.secret, map[string]any{"action": "item", "item": "nope"}); r.status != 400 {
		t.Fatalf("unknown item: %d", r.status)
	}
	// A co-host named by staff may control it too.
	co := se.register("Co")
	if r := se.do("PATCH", "/api/v1/sessions/"+se.session.ID, se.admin.secret, map[string]any{"coHosts": []string{co.id}}); r.status != 200 {
		t.Fatalf("name co-host: %d %s", r.status, r.body)
	}
	if r := control(co.secret, map[string]any{"action": "item", "item": se.session.Agenda[0].ID}); r.status != 200 {
		t.Fatalf("co-host control: %d %s", r.status, r.body)
	}
	// A co-host runs the session but does not choose who hosts it.
	if r := se.do("PATCH", "/api/v1/sessions/"+se.session.ID, co.secret, map[string]any{"coHosts": []string{co.id, se.member.id}}); r.status != 403 {
		t.Fatalf("co-host names co-hosts: %d %s", r.status, r.body)
	}
	// End: the code stops working; nothing changes the session any more.
	v = app.SessionView{} // fields left out of the answer must not linger from the last one
	control(se.admin.secret, map[string]any{"action": "end"}).json(t, &v)
	if v.Status != insieme.SessionEnded || v.EndedAt == nil || v.Current != "" || v.Code != "" {
		t.Fatalf("ended: %+v", v)
	}
	if r := se.do("POST", "/api/v1/join", "", map[string]any{"code": se.session.Code, "name": "Late"}); r.status != 404 {
		t.Fatalf("join after the end: %d", r.status)
	}
	if r := se.do("PATCH", "/api/v1/sessions/"+se.session.ID, se.admin.secret, map[string]any{"place": "altrove"}); r.status != 409 {
		t.Fatalf("edit after the end: %d", r.status)
	}
	if r := control(se.admin.secret, map[string]any{"action": "start"}); r.status != 409 {
		t.Fatalf("restart after the end: %d", r.status)
	}
	// The session's room heard every change.
	n := 0
	for _, room := range se.live.rooms {
		if room == "session:"+se.session.ID {
			n++
		}
	}
	if n < 5 {
		t.Fatalf("the session's room heard %d events", n)
	}
	stored, err := se.db.LiveSession(t.Context(), se.session.ID)
	if err != nil || len(stored.Runs) != 3 || stored.Runs[2].EndedAt == nil {
		t.Fatalf("agenda runs: %+v %v", stored, err)
	}
}

// A rescheduled session's code works until a day after its new time.
func TestRescheduledSessionsKeepTheirCode(t *testing.T) {
	se := newSessionEnv(t)
	later := se.clock.Now().Add(72 * time.Hour)
	if r := se.do("PATCH", "/api/v1/sessions/"+se.session.ID, se.admin.secret, map[string]any{"scheduledAt": later}); r.status != 200 {
		t.Fatalf("reschedule: %d %s", r.status, r.body)
	}
	se.clock.Add(71 * time.Hour) // past the old code's day, an hour before the new time
	if r := se.do("POST", "/api/v1/join", "", map[string]any{"code": se.session.Code, "name": "Puntuale"}); r.status != 200 {
		t.Fatalf("join before the new time: %d %s", r.status, r.body)
	}
	se.clock.Add(insieme.GuestTTL + 2*time.Hour)
	if r := se.do("POST", "/api/v1/join", "", map[string]any{"code": se.session.Code, "name": "Tardi"}); r.status != 404 {
		t.Fatalf("join a day after the new time: %d", r.status)
	}
}
