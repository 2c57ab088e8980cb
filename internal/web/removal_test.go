package web

import (
	"slices"
	"testing"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// Hosts remove a guest (their token stops working) and an account (barred from the session);
// guests and participants cannot remove anyone.
func TestHostsRemoveParticipants(t *testing.T) {
	se := newSessionEnv(t)
	id := se.session.ID
	token, g := se.joinAsGuest("Disturbo")
	calm, _ := se.joinAsGuest("Calma")
	guest := g.Principal.ID
	remove := func(secret, who string, headers ...string) resp {
		t.Helper()
		return se.action(secret, map[string]any{"type": "participant.remove", "participant": who}, headers...)
	}
	kicked := func() []string {
		se.live.mu.Lock()
		defer se.live.mu.Unlock()
		return slices.Clone(se.live.kicked)
	}

	// A guest and a participant account may not remove anyone; anonymous people must sign in.
	if r := remove("", se.member.id, bearer(calm)...); r.status != 403 || r.errorOf(t).Code != insieme.EFORBIDDEN {
		t.Fatalf("a guest removes: %d %s", r.status, r.body)
	}
	if r := remove(se.member.secret, guest); r.status != 403 || r.errorOf(t).Code != insieme.EFORBIDDEN {
		t.Fatalf("a participant removes: %d %s", r.status, r.body)
	}
	if r := remove("", guest); r.status != 401 {
		t.Fatalf("anonymous removes: %d %s", r.status, r.body)
	}
	if r := se.do("GET", "/api/v1/sessions/"+id, "", nil, bearer(token)...); r.status != 200 || len(kicked()) != 0 {
		t.Fatalf("refused removals changed something: %d, kicked %v", r.status, kicked())
	}

	// Bad input: nobody named, nobody known, a guest of another session, oneself, a host.
	var other app.SessionView
	se.do("POST", "/api/v1/forums/"+se.forum+"/sessions", se.admin.secret, map[string]any{
		"title": map[string]string{"it": "Altra"}, "scheduledAt": se.clock.Now()}).json(t, &other)
	r := se.do("POST", "/api/v1/join", "", map[string]any{"code": other.Code, "name": "Altrove"})
	var elsewhere app.JoinResult
	r.json(t, &elsewhere)
	co := se.register("Cohost")
	if r := se.do("PATCH", "/api/v1/sessions/"+id, se.admin.secret, map[string]any{"coHosts": []string{co.id}}); r.status != 200 {
		t.Fatalf("naming a co-host: %d %s", r.status, r.body)
	}
	for name, tc := range map[string]struct {
		who    string
		status int
	}{
		"nobody":                    {"", 400},
		"an unknown account":        {"0123456789abcdef0123456789abcdef", 404},
		"an unknown guest":          {"g0123456789abcdef0123", 404},
		"another session's guest":   {elsewhere.Principal.ID, 404},
		"oneself":                   {se.admin.id, 400},
		"a co-host":                 {co.id, 409},
		"a co-host, by a co-host":   {se.admin.id, 409},
		"a guest of this, by guest": {guest, 403},
	} {
		secret := se.admin.secret
		var headers []string
		switch name {
		case "a co-host, by a co-host":
			secret = co.secret
		case "a guest of this, by guest":
			secret, headers = "", bearer(calm)
		}
		if r := remove(secret, tc.who, headers...); r.status != tc.status {
			t.Errorf("removing %s: %d %s, want %d", name, r.status, r.body, tc.status)
		}
	}
	if r := se.do("GET", "/api/v1/sessions/"+other.ID, "", nil, bearer(elsewhere.Token)...); r.status != 200 {
		t.Fatalf("another session's guest was revoked: %d", r.status)
	}

	// Both raise their hands before they are removed.
	if r := se.action(se.admin.secret, map[string]any{"type": "session.control", "action": "start"}); r.status != 200 {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	for _, raise := range []resp{
		se.action("", map[string]any{"type": "hand.raise"}, bearer(token)...),
		se.action(se.member.secret, map[string]any{"type": "hand.raise"}),
	} {
		if raise.status != 200 {
			t.Fatalf("raising a hand: %d %s", raise.status, raise.body)
		}
	}

	// The host removes the guest: their token stops working, their connections are closed.
	if r := remove(se.admin.secret, guest); r.status != 204 {
		t.Fatalf("removing the guest: %d %s", r.status, r.body)
	}
	if r := se.do("GET", "/api/v1/sessions/"+id, "", nil, bearer(token)...); r.status != 401 {
		t.Fatalf("the removed guest's token: %d %s", r.status, r.body)
	}
	if r := se.action("", map[string]any{"type": "hand.raise"}, bearer(token)...); r.status != 401 {
		t.Fatalf("the removed guest acts: %d %s", r.status, r.body)
	}
	if _, err := se.app.AuthenticateGuest(t.Context(), token); insieme.ErrorCode(err) != insieme.EUNAUTHORIZED {
		t.Fatalf("the removed guest authenticates (as over the websocket): %v", err)
	}
	if !slices.Contains(kicked(), guest) {
		t.Fatalf("the guest's connections were not closed: %v", kicked())
	}

	// A co-host removes the member: barred from the session, its room and its actions.
	if r := remove(co.secret, se.member.id); r.status != 204 {
		t.Fatalf("removing the member: %d %s", r.status, r.body)
	}
	if r := remove(se.admin.secret, se.member.id); r.status != 204 {
		t.Fatalf("removing the member again: %d %s", r.status, r.body)
	}
	if r := se.do("GET", "/api/v1/sessions/"+id, se.member.secret, nil); r.status != 403 {
		t.Fatalf("the removed member reads the session: %d %s", r.status, r.body)
	}
	if r := se.do("POST", "/api/v1/join", se.member.secret, map[string]any{"code": se.session.Code}); r.status != 403 {
		t.Fatalf("the removed member joins again: %d %s", r.status, r.body)
	}
	if r := se.action(se.member.secret, map[string]any{"type": "hand.raise"}); r.status != 403 {
		t.Fatalf("the removed member acts: %d %s", r.status, r.body)
	}
	mp := se.principal(se.member)
	for _, room := range []string{"session:" + id, "session-host:" + id} {
		if err := se.app.Authorize(t.Context(), mp, room); insieme.ErrorCode(err) != insieme.EFORBIDDEN {
			t.Fatalf("the removed member may join %s: %v", room, err)
		}
	}
	if _, err := se.app.Snapshot(t.Context(), mp, "session:"+id); insieme.ErrorCode(err) != insieme.EFORBIDDEN {
		t.Fatalf("the removed member reads the room's state: %v", err)
	}
	if !slices.Contains(kicked(), se.member.id) {
		t.Fatalf("the member's connections were not closed: %v", kicked())
	}
	// The others are untouched: the other guest, and the member elsewhere in the forum. The
	// removed people's hands are down.
	if r := se.do("GET", "/api/v1/sessions/"+id, "", nil, bearer(calm)...); r.status != 200 {
		t.Fatalf("the other guest: %d", r.status)
	}
	r = se.action("", map[string]any{"type": "hand.raise"}, bearer(calm)...)
	var queue []app.HandView
	r.json(t, &queue)
	if r.status != 200 || len(queue) != 1 || queue[0].Name != "Calma" {
		t.Fatalf("the queue after the removals: %d %s", r.status, r.body)
	}
	if r := se.do("GET", "/api/v1/forums/"+se.forum, se.member.secret, nil); r.status != 200 {
		t.Fatalf("the removed member reads the forum: %d", r.status)
	}
	// Hosts still see the session; once it ended nobody more can be removed.
	if r := se.do("GET", "/api/v1/sessions/"+id, se.admin.secret, nil); r.status != 200 {
		t.Fatalf("the host: %d", r.status)
	}
	if r := se.action(se.admin.secret, map[string]any{"type": "session.control", "action": "end"}); r.status != 200 {
		t.Fatalf("end: %d %s", r.status, r.body)
	}
	if r := remove(se.admin.secret, co.id); r.status != 409 {
		t.Fatalf("removing after the end: %d %s", r.status, r.body)
	}
}
