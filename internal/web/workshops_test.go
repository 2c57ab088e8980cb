package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// workshopEnv is a forum with an admin, an association member (a participant), an account
// given the forum role facilitator, another signed-in participant, and a workshop.
type workshopEnv struct {
	*forumEnv
	facilitator, other person
	ws                 app.WorkshopView
}

func newWorkshopEnv(t *testing.T, settings map[string]any) *workshopEnv {
	t.Helper()
	we := &workshopEnv{forumEnv: newForumEnv(t)}
	we.facilitator, we.other = we.register("Facilitatrice"), we.register("Residente")
	if r := we.do("POST", "/api/v1/forums/"+we.forum+"/facilitators", we.admin.secret, map[string]any{"email": we.facilitator.email}); r.status != 202 {
		t.Fatalf("name a facilitator: %d %s", r.status, r.body)
	}
	body := map[string]any{"title": "Casa per tutti", "brief": map[string]string{"it": "Come trovare casa?\nIdee.", "ar": "كيف نجد سكنا؟"},
		"scheduledAt": we.clock.Now().Add(time.Hour), "groups": []map[string]any{{"name": "Tavolo 1"}, {"name": "Tavolo 2"}}}
	if settings != nil {
		body["settings"] = settings
	}
	r := we.do("POST", "/api/v1/forums/"+we.forum+"/workshops", we.facilitator.secret, body)
	if r.status != 201 {
		t.Fatalf("create workshop: %d %s", r.status, r.body)
	}
	r.json(t, &we.ws)
	return we
}

func (we *workshopEnv) act(secret string, body map[string]any, headers ...string) resp {
	we.t.Helper()
	return we.do("POST", "/api/v1/workshops/"+we.ws.ID+"/actions", secret, body, headers...)
}

// move moves the workshop as its facilitator and fails the test when refused.
func (we *workshopEnv) move(phase string) {
	we.t.Helper()
	if r := we.act(we.facilitator.secret, map[string]any{"type": "workshop.phase", "phase": phase}); r.status != 200 {
		we.t.Fatalf("move to %s: %d %s", phase, r.status, r.body)
	}
}

func (we *workshopEnv) joinAsGuest(name string) (string, app.JoinResult) {
	we.t.Helper()
	r := we.do("POST", "/api/v1/join", "", map[string]any{"code": we.ws.JoinCode, "name": name})
	if r.status != 200 {
		we.t.Fatalf("join: %d %s", r.status, r.body)
	}
	var res app.JoinResult
	r.json(we.t, &res)
	if res.Kind != insieme.JoinWorkshop || res.ID != we.ws.ID || res.Token == "" || !res.Principal.Guest {
		we.t.Fatalf("guest join: %+v", res)
	}
	return res.Token, res
}

func (we *workshopEnv) state(secret string, headers ...string) app.WorkshopState {
	we.t.Helper()
	r := we.do("GET", "/api/v1/workshops/"+we.ws.ID, secret, nil, headers...)
	if r.status != 200 {
		we.t.Fatalf("workshop state: %d %s", r.status, r.body)
	}
	var st app.WorkshopState
	r.json(we.t, &st)
	return st
}

func TestWorkshopsAreCreatedWithDefaultsAndValidated(t *testing.T) {
	we := newWorkshopEnv(t, nil)
	w := we.ws
	if len(w.JoinCode) != insieme.JoinCodeLength || !w.Facilitator || w.Phase != insieme.PhaseLobby || len(w.Groups) != 2 ||
		w.Settings.Dots != insieme.DefaultDots || w.Settings.MaxDotsPerCard != insieme.DefaultMaxDotsPerCard || w.Settings.Anonymous ||
		w.Brief["it"] != "Come trovare casa?\nIdee." {
		t.Fatalf("created: %+v", w)
	}
	// The forum page lists it with its phase; participants never see the join code.
	var list []app.WorkshopSummary
	we.do("GET", "/api/v1/forums/"+we.forum+"/workshops", "", nil).json(t, &list)
	if len(list) != 1 || list[0].ID != w.ID || list[0].Phase != insieme.PhaseLobby {
		t.Fatalf("list: %+v", list)
	}
	if st := we.state(we.member.secret); st.Workshop.JoinCode != "" || st.Facilitator {
		t.Fatalf("a participant's view: %+v", st.Workshop)
	}
	for name, c := range map[string]struct {
		body  map[string]any
		field string
	}{
		"no title":        {map[string]any{"brief": map[string]string{"it": "x"}, "scheduledAt": time.Now()}, "title"},
		"no brief":        {map[string]any{"title": "x", "scheduledAt": time.Now()}, "brief"},
		"long title":      {map[string]any{"title": strings.Repeat("a", insieme.MaxWorkshopTitle+1), "brief": map[string]string{"it": "x"}, "scheduledAt": time.Now()}, "title"},
		"long brief":      {map[string]any{"title": "x", "brief": map[string]string{"it": strings.Repeat("b", insieme.MaxWorkshopBrief+1)}, "scheduledAt": time.Now()}, "brief"},
		"too many dots":   {map[string]any{"title": "x", "brief": map[string]string{"it": "x"}, "scheduledAt": time.Now(), "settings": map[string]any{"dots": 21}}, "dots"},
		"max above dots":  {map[string]any{"title": "x", "brief": map[string]string{"it": "x"}, "scheduledAt": time.Now(), "settings": map[string]any{"dots": 2, "maxDotsPerCard": 3}}, "maxDotsPerCard"},
		"long table name": {map[string]any{"title": "x", "brief": map[string]string{"it": "x"}, "scheduledAt": time.Now(), "groups": []map[string]any{{"name": strings.Repeat("t", 61)}}}, "groups"},
	} {
		r := we.do("POST", "/api/v1/forums/"+we.forum+"/workshops", we.admin.secret, c.body)
		if r.status != 400 || r.errorOf(t).Fields[c.field] == "" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	// Fewer dots than the default maximum per card: the maximum follows.
	var few app.WorkshopView
	we.do("POST", "/api/v1/forums/"+we.forum+"/workshops", we.admin.secret, map[string]any{"title": "x", "brief": map[string]string{"it": "x"},
		"scheduledAt": time.Now(), "settings": map[string]any{"dots": 2}}).json(t, &few)
	if few.Settings.Dots != 2 || few.Settings.MaxDotsPerCard != 2 {
		t.Fatalf("two dots: %+v", few.Settings)
	}
	// Markup and control characters are kept as plain text.
	r := we.do("POST", "/api/v1/forums/"+we.forum+"/workshops", we.admin.secret, map[string]any{"title": "<b>T</b>\x07", "brief": map[string]string{"it": "x"}, "scheduledAt": time.Now()})
	var plain app.WorkshopView
	r.json(t, &plain)
	if r.status != 201 || plain.Title != "<b>T</b>" {
		t.Fatalf("plain title: %d %+v", r.status, plain)
	}
}

// The phase machine through the routes: only facilitators move it, forward only, skipping
// allowed, closed final; each move clears the timer and the spotlight.
func TestWorkshopPhaseMachine(t *testing.T) {
	we := newWorkshopEnv(t, nil)
	token, _ := we.joinAsGuest("Ospite")
	for name, try := range map[string]func() resp{
		"a participant": func() resp {
			return we.act(we.member.secret, map[string]any{"type": "workshop.phase", "phase": "brainstorm"})
		},
		"a guest": func() resp {
			return we.act("", map[string]any{"type": "workshop.phase", "phase": "brainstorm"}, bearer(token)...)
		},
		"another person": func() resp { return we.act(we.other.secret, map[string]any{"type": "workshop.timer", "minutes": 5}) },
	} {
		if r := try(); r.status != 403 {
			t.Errorf("%s moves the workshop: %d %s", name, r.status, r.body)
		}
	}
	if r := we.act("", map[string]any{"type": "workshop.phase", "phase": "brainstorm"}); r.status != 401 {
		t.Errorf("anonymous: %d", r.status)
	}
	we.move(insieme.PhaseBrainstorm)
	// The timer and lock, then a move clears the timer.
	if r := we.act(we.facilitator.secret, map[string]any{"type": "workshop.timer", "minutes": 181}); r.status != 400 {
		t.Fatalf("a timer over 180 minutes: %d", r.status)
	}
	var v app.WorkshopView
	we.act(we.facilitator.secret, map[string]any{"type": "workshop.timer", "minutes": 10}).json(t, &v)
	if v.TimerEndsAt == nil || !v.TimerEndsAt.Equal(we.clock.Now().Add(10*time.Minute)) {
		t.Fatalf("timer: %+v", v.TimerEndsAt)
	}
	for _, back := range []string{insieme.PhaseLobby, insieme.PhaseBrainstorm} {
		r := we.act(we.admin.secret, map[string]any{"type": "workshop.phase", "phase": back})
		e := r.errorOf(t)
		if r.status != 409 || e.Fields["phase"] != insieme.PhaseBrainstorm || e.Fields["to"] != back {
			t.Fatalf("brainstorm → %s: %d %s", back, r.status, r.body)
		}
	}
	if r := we.act(we.admin.secret, map[string]any{"type": "workshop.phase", "phase": "party"}); r.status != 400 {
		t.Fatalf("an unknown phase: %d", r.status)
	}
	// The municipality's staff (here the admin) may move it too; a short workshop skips.
	if r := we.act(we.admin.secret, map[string]any{"type": "workshop.phase", "phase": insieme.PhaseVote}); r.status != 200 {
		t.Fatalf("skip to the vote: %d %s", r.status, r.body)
	}
	st := we.state(we.member.secret)
	if st.Workshop.Phase != insieme.PhaseVote || st.Workshop.TimerEndsAt != nil || st.Workshop.Spotlight != "" {
		t.Fatalf("after the move: %+v", st.Workshop)
	}
	we.move(insieme.PhaseClosed)
	r := we.act(we.facilitator.secret, map[string]any{"type": "workshop.phase", "phase": insieme.PhaseClosed})
	if r.status != 409 || r.errorOf(t).Fields["phase"] != insieme.PhaseClosed {
		t.Fatalf("after closed: %d %s", r.status, r.body)
	}
	if r := we.do("PATCH", "/api/v1/workshops/"+we.ws.ID, we.facilitator.secret, map[string]any{"title": "x"}); r.status != 409 {
		t.Fatalf("editing a closed workshop: %d", r.status)
	}
	// Closing ends the code: no one joins any more.
	if r := we.do("POST", "/api/v1/join", "", map[string]any{"code": we.ws.JoinCode, "name": "Tardi"}); r.status != 404 {
		t.Fatalf("join a closed workshop: %d %s", r.status, r.body)
	}
}

// Who may use which route, before the workshop closes.
func TestWorkshopRoutesPermissionMatrix(t *testing.T) {
	we := newWorkshopEnv(t, nil)
	token, _ := we.joinAsGuest("Ospite")
	id := we.ws.ID
	type who struct {
		secret  string
		headers []string
	}
	people := map[string]who{"anonymous": {}, "guest": {headers: bearer(token)}, "participant": {secret: we.member.secret},
		"facilitator": {secret: we.facilitator.secret}, "admin": {secret: we.admin.secret}}
	create := map[string]any{"title": "Altro", "brief": map[string]string{"it": "x"}, "scheduledAt": time.Now()}
	cases := []struct {
		name, method, path string
		body               any
		want               map[string]int
	}{
		{"list", "GET", "/api/v1/forums/" + we.forum + "/workshops", nil,
			map[string]int{"anonymous": 200, "guest": 200, "participant": 200, "facilitator": 200, "admin": 200}},
		{"create", "POST", "/api/v1/forums/" + we.forum + "/workshops", create,
			map[string]int{"anonymous": 401, "guest": 401, "participant": 403, "facilitator": 201, "admin": 201}},
		{"read", "GET", "/api/v1/workshops/" + id, nil,
			map[string]int{"anonymous": 401, "guest": 200, "participant": 200, "facilitator": 200, "admin": 200}},
		{"edit", "PATCH", "/api/v1/workshops/" + id, map[string]any{"title": "Casa"},
			map[string]int{"anonymous": 401, "guest": 401, "participant": 403, "facilitator": 200, "admin": 200}},
		{"lock", "POST", "/api/v1/workshops/" + id + "/actions", map[string]any{"type": "workshop.lock", "locked": false},
			map[string]int{"anonymous": 401, "guest": 403, "participant": 403, "facilitator": 200, "admin": 200}},
		{"sit at a table", "POST", "/api/v1/workshops/" + id + "/actions", map[string]any{"type": "workshop.group", "group": we.ws.Groups[0].ID},
			map[string]int{"anonymous": 401, "guest": 200, "participant": 200, "facilitator": 200, "admin": 200}},
		{"export before closing", "GET", "/api/v1/workshops/" + id + "/export.md", nil,
			map[string]int{"anonymous": 401, "guest": 403, "participant": 403, "facilitator": 200, "admin": 200}},
		{"facilitators", "GET", "/api/v1/forums/" + we.forum + "/facilitators", nil,
			map[string]int{"anonymous": 401, "guest": 401, "participant": 403, "facilitator": 403, "admin": 200}},
		{"an unknown workshop", "GET", "/api/v1/workshops/nope", nil,
			map[string]int{"anonymous": 401, "guest": 404, "participant": 404, "facilitator": 404, "admin": 404}},
	}
	for _, c := range cases {
		for role, p := range people {
			r := we.do(c.method, c.path, p.secret, c.body, p.headers...)
			if r.status != c.want[role] {
				t.Errorf("%s as %s: %d, want %d (%s)", c.name, role, r.status, c.want[role], r.body)
			}
		}
	}
	// A guest of this workshop sees no other.
	var other app.WorkshopView
	we.do("POST", "/api/v1/forums/"+we.forum+"/workshops", we.admin.secret, create).json(t, &other)
	if r := we.do("GET", "/api/v1/workshops/"+other.ID, "", nil, bearer(token)...); r.status != 404 {
		t.Fatalf("a guest reads another workshop: %d", r.status)
	}
	// Taking the role away takes the rights away.
	if r := we.do("DELETE", "/api/v1/forums/"+we.forum+"/facilitators/"+we.facilitator.id, we.admin.secret, nil); r.status != 204 {
		t.Fatalf("remove the facilitator: %d", r.status)
	}
	if r := we.act(we.facilitator.secret, map[string]any{"type": "workshop.lock", "locked": true}); r.status != 403 {
		t.Fatalf("a former facilitator locks: %d", r.status)
	}
}

func TestWorkshopJoinByCode(t *testing.T) {
	we := newWorkshopEnv(t, nil)
	loose := strings.ToLower(we.ws.JoinCode[:4]) + "-" + we.ws.JoinCode[4:]
	r := we.do("POST", "/api/v1/join", "", map[string]any{"code": loose, "name": "  Amina\x07 "})
	var res app.JoinResult
	r.json(t, &res)
	if r.status != 200 || res.Kind != insieme.JoinWorkshop || res.ID != we.ws.ID || res.Token == "" || res.Principal.Name != "Amina" {
		t.Fatalf("guest join: %d %+v", r.status, res)
	}
	st := we.state("", bearer(res.Token)...)
	if st.Me == nil || !st.Me.Guest || st.Me.ID != res.Principal.ID || st.Workshop.JoinCode != "" {
		t.Fatalf("the guest's view: %+v", st)
	}
	// A signed-in person joins as themselves, without a token.
	var acct app.JoinResult
	we.do("POST", "/api/v1/join", we.other.secret, map[string]any{"code": we.ws.JoinCode}).json(t, &acct)
	if acct.Token != "" || acct.Kind != insieme.JoinWorkshop || acct.Principal.ID != we.other.id {
		t.Fatalf("account join: %+v", acct)
	}
	if r := we.do("POST", "/api/v1/join", "", map[string]any{"code": we.ws.JoinCode, "name": ""}); r.status != 400 {
		t.Fatalf("a guest without a name: %d", r.status)
	}
}

// An anonymous workshop stays anonymous: once past the lobby the setting cannot be turned off
// (that would show every card's author), nor on.
func TestAnonymityIsFixedAfterTheLobby(t *testing.T) {
	we := newWorkshopEnv(t, map[string]any{"anonymous": true})
	we.move(insieme.PhaseBrainstorm)
	if r := we.act(we.member.secret, map[string]any{"type": "card.create", "text": "Un segreto"}); r.status != 200 {
		t.Fatalf("card: %d %s", r.status, r.body)
	}
	we.move(insieme.PhaseReveal)
	for _, anonymous := range []bool{false, true} {
		r := we.do("PATCH", "/api/v1/workshops/"+we.ws.ID, we.facilitator.secret, map[string]any{"settings": map[string]any{"anonymous": anonymous}})
		if anonymous && r.status != 200 || !anonymous && (r.status != 409 || r.errorOf(t).Fields["phase"] != insieme.PhaseReveal) {
			t.Fatalf("anonymous %v after the lobby: %d %s", anonymous, r.status, r.body)
		}
	}
	st := we.state(we.facilitator.secret)
	if !st.Workshop.Settings.Anonymous || len(st.Cards) != 1 || st.Cards[0].Author != nil {
		t.Fatalf("after the refused change: %+v %+v", st.Workshop.Settings, st.Cards)
	}
	// In the lobby of another workshop it may still change.
	other := newWorkshopEnv(t, nil)
	if r := other.do("PATCH", "/api/v1/workshops/"+other.ws.ID, other.facilitator.secret, map[string]any{"settings": map[string]any{"anonymous": true}}); r.status != 200 {
		t.Fatalf("in the lobby: %d %s", r.status, r.body)
	}
}

// A person writes at most MaxCardsPerPerson cards in a workshop; others still write theirs.
func TestCardsPerPersonAreBounded(t *testing.T) {
	we := newWorkshopEnv(t, nil)
	we.move(insieme.PhaseBrainstorm)
	// Through the app (each HTTP request in these tests waits for the room's pending counts).
	member := we.principal(we.member)
	for i := range insieme.MaxCardsPerPerson {
		text := fmt.Sprintf("idea %d", i)
		if _, err := we.app.CreateCard(t.Context(), member, we.ws.ID, app.CardInput{Text: &text}); err != nil {
			t.Fatalf("card %d: %v", i, err)
		}
	}
	r := we.act(we.member.secret, map[string]any{"type": "card.create", "text": "una di troppo"})
	if r.status != 409 || r.errorOf(t).Limits["cards"] != insieme.MaxCardsPerPerson {
		t.Fatalf("one card too many: %d %s", r.status, r.body)
	}
	if r := we.act(we.other.secret, map[string]any{"type": "card.create", "text": "la mia"}); r.status != 200 {
		t.Fatalf("another person's card: %d %s", r.status, r.body)
	}
	if st := we.state(we.member.secret); len(st.Cards) != insieme.MaxCardsPerPerson {
		t.Fatalf("the member's cards: %d", len(st.Cards))
	}
}
