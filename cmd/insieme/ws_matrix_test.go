package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestWebsocketAuthorisationMatrix sends every websocket message type as every role of the
// authorisation matrix and checks the answer.
func TestWebsocketAuthorisationMatrix(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"INSIEME_DATA_DIR": dir, "INSIEME_LOG_LEVEL": "warn"}
	if err := run(context.Background(), []string{"admin", "create", "--email", "admin@example.org", "--password-stdin"},
		func(k string) string { return env[k] }, strings.NewReader("a long admin password\n"), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	n := start(t, env)

	people := map[string]*client{}
	ids := map[string]string{}
	secrets := map[string]string{}
	signUp := func(role, email string) {
		c := newClient(t, n.base)
		var u struct{ ID string }
		if s := c.call("POST", "/api/v1/auth/register", map[string]any{"email": email, "password": "a long enough password", "displayName": role, "language": "it"}, &u); s != 201 {
			t.Fatalf("register %s: %d", role, s)
		}
		people[role], ids[role] = c, u.ID
	}
	for _, r := range []string{"participant", "member", "owner", "staff", "otherStaff", "suspended"} {
		signUp(r, strings.ToLower(r)+"@example.org")
	}
	adminC := newClient(t, n.base)
	var ad struct{ ID string }
	if s := adminC.call("POST", "/api/v1/auth/login", map[string]any{"email": "admin@example.org", "password": "a long admin password"}, &ad); s != 200 {
		t.Fatalf("admin login: %d", s)
	}
	people["admin"], ids["admin"] = adminC, ad.ID
	var a, m1, m2 struct{ ID string }
	people["owner"].call("POST", "/api/v1/organisations", map[string]any{"kind": "association", "name": "A"}, &a)
	adminC.call("POST", "/api/v1/organisations", map[string]any{"kind": "municipality", "name": "M1"}, &m1)
	adminC.call("POST", "/api/v1/organisations", map[string]any{"kind": "municipality", "name": "M2"}, &m2)
	// Real memberships, through invitations accepted with the mailed token (read from the
	// development outbox, as an admin would).
	join := func(by *client, org, role, who string) {
		email := strings.ToLower(who) + "@example.org"
		if s := by.call("POST", "/api/v1/organisations/"+org+"/invitations", map[string]any{"email": email, "role": role}, nil); s != 202 {
			t.Fatalf("invite %s: %d", who, s)
		}
		var mails []struct{ To, Body string }
		adminC.call("GET", "/api/v1/admin/outbox", nil, &mails)
		token := ""
		for _, m := range mails {
			if i := strings.Index(m.Body, "/invite?token="); m.To == email && i >= 0 && token == "" {
				token = strings.Fields(m.Body[i+len("/invite?token="):])[0]
			}
		}
		if s := people[who].call("POST", "/api/v1/invitations/accept", map[string]any{"token": token}, nil); s != 200 {
			t.Fatalf("%s accepting: %d", who, s)
		}
	}
	join(people["owner"], a.ID, "member", "member")
	join(adminC, m1.ID, "staff", "staff")
	join(adminC, m2.ID, "staff", "otherStaff")
	for r, c := range people {
		u, _ := http.NewRequest("GET", n.base, nil)
		for _, ck := range c.http.Jar.Cookies(u.URL) {
			if ck.Name == "insieme_session" {
				secrets[r] = ck.Value
			}
		}
	}
	adminC.call("POST", "/api/v1/admin/accounts/"+ids["suspended"]+"/suspend", map[string]any{"suspended": true}, nil)

	roles := []string{"anonymous", "participant", "member", "owner", "staff", "otherStaff", "admin", "suspended"}
	// connect opens a socket as the role: by cookie at the upgrade.
	connect := func(role string) *live {
		h := http.Header{"Origin": {n.base}}
		if s, ok := secrets[role]; ok {
			h.Set("Cookie", "insieme_session="+s)
		}
		l, _, err := dial(t, n.base, h)
		if err != nil {
			t.Fatalf("%s: dial: %v", role, err)
		}
		l.next("hello")
		return l
	}
	type msgCase struct {
		name   string
		msg    func(role string) map[string]any
		expect map[string]string // role → the answer's type, or "error:<code>"
	}
	everyone := func(v string) map[string]string {
		m := map[string]string{}
		for _, r := range roles {
			m[r] = v
		}
		return m
	}
	accounts := func(ok, other string) map[string]string {
		m := everyone(ok)
		m["anonymous"], m["suspended"] = other, other
		return m
	}
	idOr := func(role string) string {
		if id, ok := ids[role]; ok {
			return id
		}
		return "nobody"
	}
	cases := []msgCase{
		{"ping", func(string) map[string]any { return map[string]any{"type": "ping", "ref": "1"} }, everyone("pong")},
		{"auth with a valid session token", func(r string) map[string]any {
			return map[string]any{"type": "auth", "token": secrets[r]}
		}, func() map[string]string {
			m := everyone("authed")
			m["anonymous"] = "error:invalid" // no token at all
			m["suspended"] = "error:unauthorized"
			return m
		}()},
		{"auth with a bad token", func(string) map[string]any { return map[string]any{"type": "auth", "token": "bogus"} }, everyone("error:unauthorized")},
		{"subscribe to my private room", func(r string) map[string]any {
			return map[string]any{"type": "subscribe", "room": "participant:" + idOr(r)}
		}, accounts("subscribed", "error:unauthorized")},
		{"subscribe to someone else's private room", func(r string) map[string]any {
			return map[string]any{"type": "subscribe", "room": "participant:" + ids["participant"]}
		}, func() map[string]string {
			m := accounts("error:forbidden", "error:unauthorized")
			m["participant"] = "subscribed"
			return m
		}()},
		{"subscribe to an association's room", func(string) map[string]any { return map[string]any{"type": "subscribe", "room": "org:" + a.ID} }, everyone("subscribed")},
		{"subscribe to a municipality's room", func(string) map[string]any { return map[string]any{"type": "subscribe", "room": "org:" + m1.ID} }, everyone("subscribed")},
		{"subscribe to an unknown room", func(string) map[string]any { return map[string]any{"type": "subscribe", "room": "nothing:1"} }, everyone("error:not_found")},
		{"unsubscribe", func(string) map[string]any { return map[string]any{"type": "unsubscribe", "room": "org:" + a.ID} }, everyone("unsubscribed")},
		{"unknown type", func(string) map[string]any { return map[string]any{"type": "no.such.action", "ref": "x"} }, everyone("error:invalid")},
	}
	// Live sessions: a session of M1's open forum, started, with a guest who joined by code,
	// a question waiting for approval and a draft poll. Host actions are for the forum's
	// municipality staff and admins; guests and other accounts are refused.
	var forum, session struct{ ID, Code string }
	if st := adminC.call("POST", "/api/v1/forums", map[string]any{"municipalityId": m1.ID, "title": map[string]string{"it": "F"},
		"status": "open", "languages": []string{"it"}}, &forum); st != 201 {
		t.Fatalf("forum: %d", st)
	}
	if st := people["staff"].call("POST", "/api/v1/forums/"+forum.ID+"/sessions", map[string]any{"title": map[string]string{"it": "Dal vivo"},
		"scheduledAt": "2026-12-01T18:00:00Z", "guestsMayAsk": true}, &session); st != 201 {
		t.Fatalf("session: %d", st)
	}
	people["staff"].call("POST", "/api/v1/sessions/"+session.ID+"/actions", map[string]any{"type": "session.control", "action": "start"}, nil)
	var joined struct{ Token string }
	if st := newClient(t, n.base).call("POST", "/api/v1/join", map[string]any{"code": session.Code, "name": "Ospite"}, &joined); st != 200 {
		t.Fatalf("join: %d", st)
	}
	roles = append(roles, "guest")
	liveConnect := func(role string) *live {
		if role != "guest" {
			return connect(role)
		}
		l := connect("anonymous")
		l.send(map[string]any{"type": "auth", "token": joined.Token})
		l.next("authed")
		return l
	}
	var pending struct{ ID string }
	people["participant"].call("POST", "/api/v1/sessions/"+session.ID+"/actions", map[string]any{"type": "question.ask", "text": "Quando?"}, &pending)
	var draft struct{ ID string }
	people["staff"].call("POST", "/api/v1/sessions/"+session.ID+"/actions", map[string]any{"type": "poll.create", "poll": map[string]any{"kind": "scale",
		"title": map[string]string{"it": "Quanto?"}, "guestsMayVote": true, "showResults": "live"}}, &draft)
	hostOnly := func() map[string]string {
		m := everyone("error:forbidden")
		m["anonymous"], m["suspended"] = "error:unauthorized", "error:unauthorized"
		m["staff"], m["admin"] = "ack", "ack"
		return m
	}
	participants := func() map[string]string {
		m := everyone("ack")
		m["anonymous"], m["suspended"] = "error:unauthorized", "error:unauthorized"
		return m
	}
	live := []msgCase{
		{"subscribe to a live session", func(string) map[string]any {
			return map[string]any{"type": "subscribe", "room": "session:" + session.ID}
		},
			func() map[string]string {
				m := everyone("subscribed")
				m["anonymous"], m["suspended"] = "error:unauthorized", "error:unauthorized"
				return m
			}()},
		{"subscribe to its hosts' room", func(string) map[string]any {
			return map[string]any{"type": "subscribe", "room": "session-host:" + session.ID}
		},
			func() map[string]string {
				m := hostOnly()
				m["staff"], m["admin"] = "subscribed", "subscribed"
				return m
			}()},
		{"host control", func(string) map[string]any {
			return map[string]any{"type": "session.control", "session": session.ID, "action": "start", "ref": "c"}
		}, hostOnly()},
		{"prepare a poll", func(string) map[string]any {
			return map[string]any{"type": "poll.create", "session": session.ID, "ref": "p", "poll": map[string]any{"kind": "scale",
				"title": map[string]string{"it": "Quanto?"}, "guestsMayVote": true, "showResults": "live"}}
		}, hostOnly()},
		{"moderate a question", func(string) map[string]any {
			return map[string]any{"type": "question.moderate", "session": session.ID, "question": pending.ID, "status": "approved", "ref": "q"}
		}, hostOnly()},
		{"end a turn", func(string) map[string]any {
			return map[string]any{"type": "floor.end", "session": session.ID, "ref": "f"}
		}, hostOnly()},
		{"raise a hand", func(string) map[string]any {
			return map[string]any{"type": "hand.raise", "session": session.ID, "ref": "h"}
		}, participants()},
		{"vote in a draft poll", func(string) map[string]any {
			return map[string]any{"type": "poll.vote", "session": session.ID, "poll": draft.ID, "scale": 3, "ref": "v"}
		}, func() map[string]string {
			m := everyone("error:conflict")
			m["anonymous"], m["suspended"] = "error:unauthorized", "error:unauthorized"
			return m
		}()},
	}
	// Every other host action: hosts are let through (the action may still be refused for what
	// it asks, e.g. a poll already open), everyone else is refused for who they are.
	for _, m := range []map[string]any{
		{"type": "poll.update", "poll": map[string]any{"id": draft.ID, "title": map[string]string{"it": "Quanto ancora?"}}},
		{"type": "poll.open", "poll": draft.ID},
		{"type": "poll.close", "poll": draft.ID},
		{"type": "poll.delete", "poll": draft.ID},
		{"type": "floor.give", "participant": ids["participant"]},
		{"type": "hand.remove", "participant": ids["participant"]},
		{"type": "participant.remove", "participant": ids["member"]},
	} {
		m := m
		m["session"], m["ref"] = session.ID, "h"
		exp := hostOnly()
		exp["staff"], exp["admin"] = "host", "host"
		live = append(live, msgCase{m["type"].(string), func(string) map[string]any { return m }, exp})
	}
	for _, c := range live {
		for _, r := range roles {
			l := liveConnect(r)
			l.send(c.msg(r))
			got := l.next("ack", "subscribed", "error")
			answer, _ := got["type"].(string)
			if answer == "error" {
				answer += ":" + got["code"].(string)
			}
			if c.expect[r] == "host" && answer != "error:forbidden" && answer != "error:unauthorized" {
				answer = "host" // let through as a host
			}
			if answer != c.expect[r] {
				t.Errorf("%s as %s: got %s (%v), want %s", c.name, r, answer, got, c.expect[r])
			}
			l.conn.Close()
		}
	}
	roles = roles[:len(roles)-1]

	for _, c := range cases {
		for _, r := range roles {
			l := connect(r)
			m := c.msg(r)
			if r == "anonymous" && m["type"] == "auth" && m["token"] == "" {
				delete(m, "token")
			}
			l.send(m)
			got := l.next("pong", "authed", "subscribed", "unsubscribed", "error")
			answer, _ := got["type"].(string)
			if answer == "error" {
				answer += ":" + got["code"].(string)
			}
			if answer != c.expect[r] {
				t.Errorf("%s as %s: got %s (%v), want %s", c.name, r, answer, got, c.expect[r])
			}
			l.conn.Close()
		}
	}
}
