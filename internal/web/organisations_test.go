package web

import (
	"context"
	"strings"
	"testing"
)

func TestInvitationFlow(t *testing.T) {
	e := newEnv(t)
	owner := e.register("Owner")
	r := e.do("POST", "/api/v1/organisations", owner.secret, map[string]any{"kind": "association", "name": "  Ponti Solidali ", "territory": "Nardò"})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var org struct {
		ID, Name, MyRole string
		Members          []struct{ ID, DisplayName, Role string }
	}
	r.json(t, &org)
	if org.Name != "Ponti Solidali" || org.MyRole != "owner" || len(org.Members) != 1 || org.Members[0].Role != "owner" {
		t.Fatalf("new association: %+v", org)
	}
	// Inviting a registered and an unregistered address gives the same answer.
	invitee := e.register("Invitee")
	a := e.do("POST", "/api/v1/organisations/"+org.ID+"/invitations", owner.secret, map[string]any{"email": invitee.email, "role": "member"})
	b := e.do("POST", "/api/v1/organisations/"+org.ID+"/invitations", owner.secret, map[string]any{"email": "stranger@example.org", "role": "member"})
	if a.status != 202 || b.status != 202 {
		t.Fatalf("invite: %d %s / %d %s", a.status, a.body, b.status, b.body)
	}
	if strings.Contains(string(a.body), invitee.id) {
		t.Fatal("the answer tells that the address has an account")
	}
	// Until the invitee confirms the address, the invitation is not listed for them.
	var list []map[string]any
	e.do("GET", "/api/v1/me/invitations", invitee.secret, nil).json(t, &list)
	if len(list) != 0 {
		t.Fatalf("listed before confirmation: %v", list)
	}
	e.confirm(invitee)
	e.do("GET", "/api/v1/me/invitations", invitee.secret, nil).json(t, &list)
	if len(list) != 1 || list[0]["organisationName"] != "Ponti Solidali" || list[0]["email"] != nil {
		t.Fatalf("my invitations: %v", list)
	}
	if r := e.do("POST", "/api/v1/invitations/"+list[0]["id"].(string)+"/accept", invitee.secret, nil); r.status != 200 {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/invitations/"+list[0]["id"].(string)+"/accept", invitee.secret, nil); r.status != 409 {
		t.Fatalf("accept twice: %d %s", r.status, r.body)
	}
	// Nobody (the owner neither) is listed publicly until they choose to be.
	org.Members = nil
	e.do("GET", "/api/v1/organisations/"+org.ID, "", nil).json(t, &org)
	if len(org.Members) != 0 {
		t.Fatalf("public members: %+v", org.Members)
	}
	if r := e.do("PATCH", "/api/v1/organisations/"+org.ID+"/members/"+invitee.id, invitee.secret, map[string]any{"listed": true}); r.status != 204 {
		t.Fatalf("list me: %d %s", r.status, r.body)
	}
	e.do("GET", "/api/v1/organisations/"+org.ID, "", nil).json(t, &org)
	if len(org.Members) != 1 || org.Members[0].ID != invitee.id {
		t.Fatalf("public members after listing: %+v", org.Members)
	}
	// The stranger signs up later, confirms, and accepts with the mailed token.
	token := e.lastLink("stranger@example.org", "invitation")
	stranger := e.register("Stranger")
	if r := e.do("POST", "/api/v1/invitations/accept", stranger.secret, map[string]any{"token": token}); r.status != 200 {
		t.Fatalf("accept by token: %d %s", r.status, r.body)
	}
	var ms []map[string]any
	e.do("GET", "/api/v1/me/memberships", stranger.secret, nil).json(t, &ms)
	if len(ms) != 1 || ms[0]["role"] != "member" {
		t.Fatalf("stranger's memberships: %v", ms)
	}
	// The organisation's live room was told.
	found := false
	for _, room := range e.live.rooms {
		found = found || room == "org:"+org.ID
	}
	if !found {
		t.Fatalf("no event in org:%s: %v", org.ID, e.live.rooms)
	}
}

// Erasure: personal data goes from every collection, the membership goes, the data download
// had it all before.
func TestExportAndErase(t *testing.T) {
	e := newEnv(t)
	owner := e.register("Owner")
	p := e.register("Leaving")
	e.confirm(p)
	r := e.do("POST", "/api/v1/organisations", p.secret, map[string]any{"kind": "association", "name": "Mine"})
	var mine struct{ ID string }
	r.json(t, &mine)
	e.do("POST", "/api/v1/organisations/"+mine.ID+"/invitations", p.secret, map[string]any{"email": "friend@example.org", "role": "member"})
	var theirs struct{ ID string }
	e.do("POST", "/api/v1/organisations", owner.secret, map[string]any{"kind": "association", "name": "Theirs"}).json(t, &theirs)
	e.do("POST", "/api/v1/organisations/"+theirs.ID+"/invitations", owner.secret, map[string]any{"email": p.email, "role": "member"})

	var data map[string]any
	ex := e.do("GET", "/api/v1/me/export", p.secret, nil)
	if ex.status != 200 || !strings.Contains(ex.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", ex.status, ex.header)
	}
	ex.json(t, &data)
	for _, k := range []string{"account", "sessions", "links", "memberships", "organisationsCreated", "invitationsSent", "invitationsReceived", "mails"} {
		v, ok := data[k]
		if !ok {
			t.Fatalf("export lacks %s: %v", k, data)
		}
		if l, isList := v.([]any); isList && len(l) == 0 && k != "links" {
			t.Errorf("export has an empty %s", k)
		}
	}
	if strings.Contains(string(ex.body), "token=") || strings.Contains(string(ex.body), "passwordHash") {
		t.Fatal("the export has secrets")
	}
	if r := e.do("DELETE", "/api/v1/me", p.secret, map[string]any{"password": "wrong password!"}); r.status != 400 {
		t.Fatalf("delete with a wrong password: %d", r.status)
	}
	if r := e.do("DELETE", "/api/v1/me", p.secret, map[string]any{"password": p.password}); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	ctx := context.Background()
	acct, _ := e.db.Account(ctx, p.id)
	if acct.Email == p.email || acct.DisplayName != "" || acct.PasswordHash != "" {
		t.Fatalf("account keeps personal data: %+v", acct)
	}
	if ss, _ := e.db.SessionsOf(ctx, p.id); len(ss) != 0 {
		t.Fatal("sessions kept")
	}
	if ms, _ := e.db.MembershipsOf(ctx, p.id); len(ms) != 0 {
		t.Fatal("memberships kept")
	}
	if ms, _ := e.db.MailTo(ctx, p.id, p.email); len(ms) != 0 {
		t.Fatal("mails kept")
	}
	if is, _ := e.db.InvitationsFor(ctx, p.email); len(is) != 0 {
		t.Fatal("invitations to the address kept")
	}
	if is, _ := e.db.InvitationsBy(ctx, p.id); len(is) != 0 {
		t.Fatal("invitations still name their sender")
	}
	// The association they created stays.
	if r := e.do("GET", "/api/v1/organisations/"+mine.ID, "", nil); r.status != 200 {
		t.Fatalf("their association: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": p.email, "password": p.password}); r.status != 401 {
		t.Fatalf("login after erasure: %d", r.status)
	}
}
