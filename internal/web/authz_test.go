package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// The roles of the authorisation matrix.
const (
	anon       = "anonymous"
	partic     = "participant"
	member     = "association member"
	owner      = "association owner"
	staff      = "staff of this municipality"
	otherStaff = "staff of another municipality"
	admin      = "admin"
	suspended  = "suspended account"
)

var roles = []string{anon, partic, member, owner, staff, otherStaff, admin, suspended}

// world is the cast of the matrix: an association A (owner, member), municipalities M1 (staff)
// and M2 (other staff).
type world struct {
	*env
	people    map[string]person // every role but anonymous
	a, m1, m2 string
	forum     string // an open forum of M1
	draft     string // a draft forum of M1
	proposal  string // a proposal of A's member in the open forum
	n         int    // for unique addresses
}

// unique returns an address no other case uses.
func (w *world) unique(prefix string) string {
	w.n++
	return fmt.Sprintf("%s-%d@example.org", prefix, w.n)
}

func newWorld(t *testing.T) *world {
	e := newEnv(t)
	w := &world{env: e, people: map[string]person{}}
	ctx := context.Background()
	for _, r := range roles[1:] {
		p := e.register(strings.ReplaceAll(r, " ", ""))
		e.confirm(p)
		w.people[r] = p
	}
	ad := w.people[admin]
	if _, _, err := e.app.CreateAdmin(ctx, ad.email, "", ""); err != nil {
		t.Fatal(err)
	}
	pAdmin := e.principal(ad)
	mk := func(by *insieme.Principal, kind, name string) string {
		o, err := e.app.CreateOrganisation(ctx, by, app.OrganisationInput{Kind: kind, Name: &name})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return o.ID
	}
	w.a = mk(e.principal(w.people[owner]), insieme.KindAssociation, "Associazione A")
	w.m1 = mk(pAdmin, insieme.KindMunicipality, "Comune Uno")
	w.m2 = mk(pAdmin, insieme.KindMunicipality, "Comune Due")
	w.join(w.a, member, insieme.MemberMember)
	w.join(w.m1, staff, insieme.MemberStaff)
	w.join(w.m2, otherStaff, insieme.MemberStaff)
	pStaff := e.principal(w.people[staff])
	for _, f := range []struct {
		id     *string
		status string
	}{{&w.forum, insieme.ForumOpen}, {&w.draft, insieme.ForumDraft}} {
		title, status := insieme.Texts{"it": "Forum " + f.status}, f.status
		v, err := e.app.CreateForum(ctx, pStaff, app.ForumInput{MunicipalityID: w.m1, Title: &title, Status: &status})
		if err != nil {
			t.Fatalf("forum: %v", err)
		}
		*f.id = v.ID
	}
	w.proposal = w.newProposal(member)
	if err := e.app.Suspend(ctx, pAdmin, w.people[suspended].id, true); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) join(org, role, memberRole string) {
	w.t.Helper()
	if err := w.db.AddMember(context.Background(), &insieme.Membership{OrgID: org, AccountID: w.people[role].id, Role: memberRole, CreatedAt: w.clock.Now()}); err != nil {
		w.t.Fatal(err)
	}
}

// newProposal posts a proposal for A, by a member of A, to the open forum.
func (w *world) newProposal(role string) string {
	w.t.Helper()
	title, body, lang, cat := "Una proposta", "Testo della *proposta*", "it", "housing"
	v, err := w.app.CreateProposal(context.Background(), w.principal(w.people[role]), w.forum,
		app.ProposalInput{OrgID: w.a, Title: &title, Body: &body, Language: &lang, Category: &cat})
	if err != nil {
		w.t.Fatalf("proposal: %v", err)
	}
	return v.ID
}

// newComment adds a comment of a role to the fixture proposal.
func (w *world) newComment(role string) string {
	w.t.Helper()
	body := "Sono d'accordo"
	v, err := w.app.AddComment(context.Background(), w.principal(w.people[role]), w.proposal, app.CommentInput{Body: &body})
	if err != nil {
		w.t.Fatalf("comment: %v", err)
	}
	return v.ID
}

// newCase makes a moderation case about a fresh proposal of A's member (reported by someone
// outside the cast); hidden by an admin when hide is set.
func (w *world) newCase(hide bool) string {
	w.t.Helper()
	ctx := context.Background()
	pid := w.newProposal(member)
	if _, err := w.app.Report(ctx, w.principal(w.fresh("Reporter")), app.ReportInput{Kind: insieme.TargetProposal, TargetID: pid, Reason: "spam"}); err != nil {
		w.t.Fatalf("report: %v", err)
	}
	id := insieme.CaseID(insieme.TargetProposal, pid)
	if hide {
		if _, err := w.app.Moderate(ctx, w.principal(w.people[admin]), id, "hide", "Pubblicità"); err != nil {
			w.t.Fatalf("hide: %v", err)
		}
	}
	return id
}

// idOf is a role's account id ("nobody" for anonymous).
func (w *world) idOf(role string) string {
	if p, ok := w.people[role]; ok {
		return p.id
	}
	return "nobody"
}

// fresh makes a new confirmed account (a target that no other case touches).
func (w *world) fresh(name string) person {
	p := w.register(name)
	w.confirm(p)
	return p
}

// invite makes an invitation to a new association of someone outside the cast, and returns its
// id and the token from the mail.
func (w *world) invite(email string) (id, token string) {
	w.t.Helper()
	ctx := context.Background()
	by := w.principal(w.fresh("Inviter"))
	name := "Associazione nuova"
	o, err := w.app.CreateOrganisation(ctx, by, app.OrganisationInput{Kind: insieme.KindAssociation, Name: &name})
	if err != nil {
		w.t.Fatal(err)
	}
	inv, err := w.app.Invite(ctx, by, o.ID, email, insieme.MemberMember)
	if err != nil {
		w.t.Fatal(err)
	}
	return inv.ID, w.lastLink(email, "invitation")
}

type request struct {
	method, path string
	body         any
}

// matrixCase is one route (or one variant of it) and the status each role gets.
type matrixCase struct {
	name   string
	req    func(w *world, role string) request
	expect map[string]int
}

// signedIn returns the statuses for a route any active account may use.
func signedIn(ok int) map[string]int {
	return map[string]int{anon: 401, partic: ok, member: ok, owner: ok, staff: ok, otherStaff: ok, admin: ok, suspended: 401}
}

// only returns the statuses for a route that the listed roles may use (ok), other accounts get
// 403, anonymous and suspended 401.
func only(ok int, allowed ...string) map[string]int {
	m := map[string]int{anon: 401, suspended: 401}
	for _, r := range roles[1:] {
		if r == suspended {
			continue
		}
		m[r] = 403
	}
	for _, r := range allowed {
		m[r] = ok
	}
	return m
}

func all(status int) map[string]int {
	m := map[string]int{}
	for _, r := range roles {
		m[r] = status
	}
	return m
}

func fixed(method, path string, body any) func(*world, string) request {
	return func(*world, string) request { return request{method, path, body} }
}

func matrix() []matrixCase {
	return []matrixCase{
		{"healthz", fixed("GET", "/healthz", nil), all(200)},
		{"readyz", fixed("GET", "/readyz", nil), all(200)},
		{"openapi", fixed("GET", "/api/v1/openapi.json", nil), all(200)},
		{"register", func(w *world, r string) request {
			return request{"POST", "/api/v1/auth/register", map[string]any{"email": w.unique("new"), "password": "a long enough password", "displayName": "New", "language": "fr"}}
		}, all(201)},
		{"login", func(w *world, r string) request {
			if r == anon {
				return request{"POST", "/api/v1/auth/login", map[string]any{"email": "nobody@example.org", "password": "whatever it is"}}
			}
			p := w.people[r]
			return request{"POST", "/api/v1/auth/login", map[string]any{"email": p.email, "password": p.password}}
		}, map[string]int{anon: 401, partic: 200, member: 200, owner: 200, staff: 200, otherStaff: 200, admin: 200, suspended: 401}},
		{"logout", fixed("POST", "/api/v1/auth/logout", nil), signedIn(204)},
		{"password reset request", fixed("POST", "/api/v1/auth/password-reset", map[string]any{"email": "someone@example.org"}), all(202)},
		{"password reset confirm (bad token)", fixed("POST", "/api/v1/auth/password-reset/confirm", map[string]any{"token": "bogus", "password": "a new long password"}), all(400)},
		{"email confirm (bad token)", fixed("POST", "/api/v1/auth/email/confirm", map[string]any{"token": "bogus"}), all(400)},
		{"me", fixed("GET", "/api/v1/me", nil), signedIn(200)},
		{"update me", fixed("PATCH", "/api/v1/me", map[string]any{"displayName": "Renamed"}), signedIn(200)},
		{"change password", func(w *world, r string) request {
			return request{"POST", "/api/v1/me/password", map[string]any{"currentPassword": w.people[r].password, "newPassword": "another long password"}}
		}, signedIn(204)},
		{"export", fixed("GET", "/api/v1/me/export", nil), signedIn(200)},
		{"resend confirmation (already confirmed)", fixed("POST", "/api/v1/me/email/confirmation", nil), signedIn(409)},
		{"delete me", func(w *world, r string) request {
			if r == owner { // the association keeps members: it needs an owner
				_ = w.db.AddMember(context.Background(), &insieme.Membership{OrgID: w.a, AccountID: w.fresh("Stays").id, Role: insieme.MemberMember})
			}
			return request{"DELETE", "/api/v1/me", map[string]any{"password": w.people[r].password}}
		}, func() map[string]int { m := signedIn(204); m[owner] = 409; return m }()},
		{"my memberships", fixed("GET", "/api/v1/me/memberships", nil), signedIn(200)},
		{"my invitations", fixed("GET", "/api/v1/me/invitations", nil), signedIn(200)},
		{"accept invitation by token", func(w *world, r string) request {
			_, token := w.invite(w.unique("tok"))
			return request{"POST", "/api/v1/invitations/accept", map[string]any{"token": token}}
		}, signedIn(200)},
		{"accept my invitation", func(w *world, r string) request {
			email := "unused@example.org"
			if p, ok := w.people[r]; ok {
				email = p.email
			}
			id, _ := w.invite(email)
			return request{"POST", "/api/v1/invitations/" + id + "/accept", nil}
		}, signedIn(200)},
		{"accept someone else's invitation", func(w *world, r string) request {
			id, _ := w.invite(w.fresh("Other").email)
			return request{"POST", "/api/v1/invitations/" + id + "/accept", nil}
		}, func() map[string]int { m := signedIn(404); return m }()},
		{"decline my invitation", func(w *world, r string) request {
			email := "unused@example.org"
			if p, ok := w.people[r]; ok {
				email = p.email
			}
			id, _ := w.invite(email)
			return request{"POST", "/api/v1/invitations/" + id + "/decline", nil}
		}, signedIn(204)},
		{"list organisations", fixed("GET", "/api/v1/organisations", nil), all(200)},
		{"create association", fixed("POST", "/api/v1/organisations", map[string]any{"kind": "association", "name": "Nuova"}), signedIn(201)},
		{"create municipality", fixed("POST", "/api/v1/organisations", map[string]any{"kind": "municipality", "name": "Comune Nuovo"}), only(201, admin)},
		{"show association", func(w *world, _ string) request { return request{"GET", "/api/v1/organisations/" + w.a, nil} }, all(200)},
		{"edit association", func(w *world, _ string) request {
			return request{"PATCH", "/api/v1/organisations/" + w.a, map[string]any{"description": "Nuova descrizione"}}
		}, only(200, owner, admin)},
		{"edit municipality", func(w *world, _ string) request {
			return request{"PATCH", "/api/v1/organisations/" + w.m1, map[string]any{"territory": "Puglia"}}
		}, only(200, staff, admin)},
		{"association invitations", func(w *world, _ string) request {
			return request{"GET", "/api/v1/organisations/" + w.a + "/invitations", nil}
		}, only(200, owner, admin)},
		{"municipality invitations", func(w *world, _ string) request {
			return request{"GET", "/api/v1/organisations/" + w.m1 + "/invitations", nil}
		}, only(200, admin)},
		{"invite to association", func(w *world, _ string) request {
			return request{"POST", "/api/v1/organisations/" + w.a + "/invitations", map[string]any{"email": "x@example.org", "role": "member"}}
		}, only(202, owner, admin)},
		{"name municipality staff", func(w *world, _ string) request {
			return request{"POST", "/api/v1/organisations/" + w.m1 + "/invitations", map[string]any{"email": "y@example.org", "role": "staff"}}
		}, only(202, admin)},
		{"revoke invitation", func(w *world, r string) request {
			inv, err := w.app.Invite(context.Background(), w.principal(w.people[owner]), w.a, w.unique("rev"), insieme.MemberMember)
			if err != nil {
				w.t.Fatal(err)
			}
			id := inv.ID
			return request{"DELETE", "/api/v1/organisations/" + w.a + "/invitations/" + id, nil}
		}, only(204, owner, admin)},
		{"change a member's role", func(w *world, _ string) request {
			x := w.fresh("X")
			_ = w.db.AddMember(context.Background(), &insieme.Membership{OrgID: w.a, AccountID: x.id, Role: insieme.MemberMember})
			return request{"PATCH", "/api/v1/organisations/" + w.a + "/members/" + x.id, map[string]any{"role": "owner"}}
		}, only(204, owner, admin)},
		{"list someone else publicly", func(w *world, _ string) request {
			x := w.fresh("X")
			_ = w.db.AddMember(context.Background(), &insieme.Membership{OrgID: w.a, AccountID: x.id, Role: insieme.MemberMember})
			return request{"PATCH", "/api/v1/organisations/" + w.a + "/members/" + x.id, map[string]any{"listed": true}}
		}, only(204)},
		{"list myself publicly", func(w *world, r string) request {
			return request{"PATCH", "/api/v1/organisations/" + w.a + "/members/" + w.idOf(r), map[string]any{"listed": true}}
		}, map[string]int{anon: 401, partic: 404, member: 204, owner: 204, staff: 404, otherStaff: 404, admin: 404, suspended: 401}},
		{"change a membership with an empty body", func(w *world, _ string) request {
			return request{"PATCH", "/api/v1/organisations/" + w.a + "/members/" + w.people[member].id, map[string]any{}}
		}, func() map[string]int { m := signedIn(400); return m }()},
		{"probe someone else's membership", func(w *world, _ string) request {
			return request{"PATCH", "/api/v1/organisations/" + w.a + "/members/" + w.people[member].id, map[string]any{"listed": true}}
		}, map[string]int{anon: 401, partic: 403, member: 204, owner: 403, staff: 403, otherStaff: 403, admin: 403, suspended: 401}},
		{"remove a member", func(w *world, _ string) request {
			x := w.fresh("X")
			_ = w.db.AddMember(context.Background(), &insieme.Membership{OrgID: w.a, AccountID: x.id, Role: insieme.MemberMember})
			return request{"DELETE", "/api/v1/organisations/" + w.a + "/members/" + x.id, nil}
		}, only(204, owner, admin)},
		{"leave", func(w *world, r string) request {
			return request{"DELETE", "/api/v1/organisations/" + w.a + "/members/" + w.idOf(r), nil}
		}, map[string]int{anon: 401, partic: 404, member: 204, owner: 409, staff: 404, otherStaff: 404, admin: 404, suspended: 401}},
		{"list forums", fixed("GET", "/api/v1/forums", nil), all(200)},
		{"open a forum", func(w *world, _ string) request {
			return request{"POST", "/api/v1/forums", map[string]any{"municipalityId": w.m1, "title": map[string]string{"it": "Nuovo forum", "ar": "منتدى"}}}
		}, only(201, staff, admin)},
		{"show an open forum", func(w *world, _ string) request { return request{"GET", "/api/v1/forums/" + w.forum, nil} }, all(200)},
		{"show a draft forum", func(w *world, _ string) request { return request{"GET", "/api/v1/forums/" + w.draft, nil} },
			func() map[string]int { m := all(404); m[staff], m[admin] = 200, 200; return m }()},
		{"edit a forum", func(w *world, _ string) request {
			return request{"PATCH", "/api/v1/forums/" + w.forum, map[string]any{"closesAt": "2027-01-31T18:00:00Z", "categories": []string{"housing", "work"}}}
		}, only(200, staff, admin)},
		{"list a forum's proposals", func(w *world, _ string) request {
			return request{"GET", "/api/v1/forums/" + w.forum + "/proposals?sort=supports", nil}
		}, all(200)},
		{"post a proposal for an association", func(w *world, _ string) request {
			return request{"POST", "/api/v1/forums/" + w.forum + "/proposals", map[string]any{"organisationId": w.a, "title": "Più case", "body": "Servono case.", "language": "it", "category": "housing"}}
		}, only(201, member, owner)},
		{"show a proposal", func(w *world, _ string) request { return request{"GET", "/api/v1/proposals/" + w.proposal, nil} }, all(200)},
		{"edit a proposal", func(w *world, _ string) request {
			return request{"PATCH", "/api/v1/proposals/" + w.proposal, map[string]any{"title": "Una proposta migliore"}}
		}, only(200, member)},
		{"withdraw a proposal", func(w *world, _ string) request {
			return request{"PATCH", "/api/v1/proposals/" + w.newProposal(member), map[string]any{"status": "withdrawn"}}
		}, only(200, member)},
		{"support", func(w *world, _ string) request {
			return request{"PUT", "/api/v1/proposals/" + w.proposal + "/support", nil}
		}, signedIn(200)},
		{"withdraw a support", func(w *world, _ string) request {
			return request{"DELETE", "/api/v1/proposals/" + w.proposal + "/support", nil}
		}, signedIn(200)},
		{"follow", func(w *world, _ string) request {
			return request{"PUT", "/api/v1/proposals/" + w.proposal + "/follow", nil}
		}, signedIn(200)},
		{"unfollow", func(w *world, _ string) request {
			return request{"DELETE", "/api/v1/proposals/" + w.proposal + "/follow", nil}
		}, signedIn(200)},
		{"read comments", func(w *world, _ string) request {
			return request{"GET", "/api/v1/proposals/" + w.proposal + "/comments", nil}
		}, all(200)},
		{"comment", func(w *world, _ string) request {
			return request{"POST", "/api/v1/proposals/" + w.proposal + "/comments", map[string]any{"body": "Bene!", "stance": "for"}}
		}, signedIn(201)},
		{"edit a comment", func(w *world, _ string) request {
			return request{"PATCH", "/api/v1/comments/" + w.newComment(member), map[string]any{"body": "Benissimo"}}
		}, only(200, member)},
		{"delete a comment", func(w *world, _ string) request {
			return request{"DELETE", "/api/v1/comments/" + w.newComment(member), nil}
		}, only(204, member)},
		{"answer a proposal", func(w *world, _ string) request {
			return request{"POST", "/api/v1/proposals/" + w.newProposal(member) + "/answers", map[string]any{"status": "accepted", "text": "Lo faremo."}}
		}, only(201, staff, admin)},
		{"read a timeline", func(w *world, _ string) request {
			return request{"GET", "/api/v1/proposals/" + w.proposal + "/timeline", nil}
		}, all(200)},
		{"open data (JSON)", func(w *world, _ string) request {
			return request{"GET", "/api/v1/forums/" + w.forum + "/export.json", nil}
		}, all(200)},
		{"open data (CSV)", func(w *world, _ string) request {
			return request{"GET", "/api/v1/forums/" + w.forum + "/export.csv", nil}
		}, all(200)},
		{"overdue proposals", func(w *world, _ string) request { return request{"GET", "/api/v1/forums/" + w.forum + "/overdue", nil} }, all(200)},
		{"my notifications", fixed("GET", "/api/v1/me/notifications", nil), signedIn(200)},
		{"mark notifications read", fixed("POST", "/api/v1/me/notifications/read", nil), signedIn(204)},
		{"translate a proposal", func(w *world, _ string) request {
			return request{"POST", "/api/v1/proposals/" + w.proposal + "/translations", map[string]any{"language": "fr", "title": "Une proposition", "body": "Le texte."}}
		}, only(201, member, staff, admin)}, // the author, and the forum's managers (mediators: see TestTranslations)
		{"list mediators", func(w *world, _ string) request {
			return request{"GET", "/api/v1/forums/" + w.forum + "/mediators", nil}
		}, only(200, staff, admin)},
		{"name a mediator", func(w *world, _ string) request {
			return request{"POST", "/api/v1/forums/" + w.forum + "/mediators", map[string]any{"email": w.people[partic].email}}
		}, only(202, staff, admin)},
		{"remove a mediator", func(w *world, _ string) request {
			x := w.fresh("Mediator")
			_ = w.db.SetForumRole(context.Background(), &insieme.ForumRole{ForumID: w.forum, AccountID: x.id, Role: insieme.RoleMediator})
			return request{"DELETE", "/api/v1/forums/" + w.forum + "/mediators/" + x.id, nil}
		}, only(204, staff, admin)},
		{"report a proposal", func(w *world, _ string) request {
			return request{"POST", "/api/v1/reports", map[string]any{"targetKind": "proposal", "targetId": w.proposal, "reason": "spam"}}
		}, func() map[string]int { m := signedIn(202); m[member] = 409; return m }()}, // the author cannot report it
		{"moderation queue", func(w *world, _ string) request {
			return request{"GET", "/api/v1/forums/" + w.forum + "/moderation", nil}
		}, only(200, staff, admin)},
		{"show a case", func(w *world, _ string) request { return request{"GET", "/api/v1/moderation/" + w.newCase(false), nil} },
			map[string]int{anon: 401, partic: 404, member: 200, owner: 404, staff: 200, otherStaff: 404, admin: 200, suspended: 401}},
		{"decide a case", func(w *world, _ string) request {
			return request{"POST", "/api/v1/moderation/" + w.newCase(false) + "/decision", map[string]any{"action": "hide", "reason": "Spam"}}
		}, only(200, staff, admin)},
		{"appeal", func(w *world, _ string) request {
			return request{"POST", "/api/v1/moderation/" + w.newCase(true) + "/appeal", map[string]any{"text": "Non è pubblicità."}}
		}, map[string]int{anon: 401, partic: 404, member: 200, owner: 404, staff: 404, otherStaff: 404, admin: 404, suspended: 401}},
		{"appeals", fixed("GET", "/api/v1/admin/appeals", nil), only(200, admin)},
		{"audit log", fixed("GET", "/api/v1/admin/audit", nil), only(200, admin)},
		{"verify", func(w *world, _ string) request {
			return request{"POST", "/api/v1/admin/organisations/" + w.a + "/verify", map[string]any{"verified": true}}
		}, only(200, admin)},
		{"admin accounts", fixed("GET", "/api/v1/admin/accounts", nil), only(200, admin)},
		{"suspend", func(w *world, _ string) request {
			return request{"POST", "/api/v1/admin/accounts/" + w.fresh("Y").id + "/suspend", map[string]any{"suspended": true}}
		}, only(204, admin)},
		{"outbox", fixed("GET", "/api/v1/admin/outbox", nil), only(200, admin)},
		{"move the clock (off: not found)", fixed("POST", "/api/v1/dev/clock", map[string]any{"advance": "25h"}), func() map[string]int { m := all(404); m[anon], m[suspended] = 401, 401; return m }()},
		{"websocket without upgrade", fixed("GET", "/ws", nil), all(400)},

		{"live sessions", func(w *world, _ string) request {
			w.newSession()
			return request{"GET", "/api/v1/forums/" + w.forum + "/sessions", nil}
		}, all(200)},
		{"schedule a session", func(w *world, _ string) request {
			return request{"POST", "/api/v1/forums/" + w.forum + "/sessions", map[string]any{"title": map[string]string{"it": "Dal vivo"}, "scheduledAt": "2026-12-01T18:00:00Z"}}
		}, only(201, staff, admin)},
		{"live session", func(w *world, _ string) request {
			return request{"GET", "/api/v1/sessions/" + w.newSession().ID, nil}
		}, all(200)},
		{"change a session", func(w *world, _ string) request {
			return request{"PATCH", "/api/v1/sessions/" + w.newSession().ID, map[string]any{"place": "Sala"}}
		}, only(200, staff, admin)},
		{"host control over HTTP", func(w *world, _ string) request {
			return request{"POST", "/api/v1/sessions/" + w.newSession().ID + "/actions", map[string]any{"type": "session.control", "action": "start"}}
		}, only(200, staff, admin)},
		{"minutes (before the end: not found)", func(w *world, _ string) request {
			return request{"GET", "/api/v1/sessions/" + w.newSession().ID + "/minutes.md", nil}
		}, all(404)},
		{"printable minutes", func(w *world, _ string) request {
			return request{"GET", "/api/v1/sessions/" + w.endedSession().ID + "/minutes.html", nil}
		}, all(200)},
		{"join by code", func(w *world, _ string) request {
			return request{"POST", "/api/v1/join", map[string]any{"code": w.newSession().Code, "name": "Ospite"}}
		}, all(200)},

		{"list facilitators", func(w *world, _ string) request {
			return request{"GET", "/api/v1/forums/" + w.forum + "/facilitators", nil}
		}, only(200, staff, admin)},
		{"name a facilitator", func(w *world, _ string) request {
			return request{"POST", "/api/v1/forums/" + w.forum + "/facilitators", map[string]any{"email": w.people[partic].email}}
		}, only(202, staff, admin)},
		{"remove a facilitator", func(w *world, _ string) request {
			x := w.fresh("Facilitator")
			_ = w.db.SetForumRole(context.Background(), &insieme.ForumRole{ForumID: w.forum, AccountID: x.id, Role: insieme.RoleFacilitator})
			return request{"DELETE", "/api/v1/forums/" + w.forum + "/facilitators/" + x.id, nil}
		}, only(204, staff, admin)},
		{"workshops", func(w *world, _ string) request {
			w.newWorkshop(insieme.PhaseLobby)
			return request{"GET", "/api/v1/forums/" + w.forum + "/workshops", nil}
		}, all(200)},
		{"create a workshop", func(w *world, _ string) request {
			return request{"POST", "/api/v1/forums/" + w.forum + "/workshops", map[string]any{"title": "Laboratorio", "brief": map[string]string{"it": "Che fare?"}, "scheduledAt": "2026-12-01T18:00:00Z"}}
		}, only(201, staff, admin)},
		{"workshop", func(w *world, _ string) request {
			return request{"GET", "/api/v1/workshops/" + w.newWorkshop(insieme.PhaseLobby), nil}
		}, signedIn(200)},
		{"change a workshop", func(w *world, _ string) request {
			return request{"PATCH", "/api/v1/workshops/" + w.newWorkshop(insieme.PhaseLobby), map[string]any{"title": "Altro titolo"}}
		}, only(200, staff, admin)},
		{"facilitator's message over HTTP", func(w *world, _ string) request {
			return request{"POST", "/api/v1/workshops/" + w.newWorkshop(insieme.PhaseLobby) + "/actions", map[string]any{"type": "workshop.lock", "locked": true}}
		}, only(200, staff, admin)},
		{"an action becomes a proposal of the association", func(w *world, _ string) request {
			id := w.newWorkshop(insieme.PhasePlan)
			title := "Sportello casa"
			act, err := w.app.CreateWorkshopAction(context.Background(), w.principal(w.people[staff]), id, app.ActionInput{Title: &title})
			if err != nil {
				w.t.Fatal(err)
			}
			return request{"POST", "/api/v1/workshops/" + id + "/proposals", map[string]any{"source": act.ID, "orgId": w.a, "language": "it", "category": "housing"}}
		}, only(201, member, owner)}, // facilitators who are not members post for it neither
		{"output as Markdown (closed)", func(w *world, _ string) request {
			return request{"GET", "/api/v1/workshops/" + w.newWorkshop(insieme.PhaseClosed) + "/export.md", nil}
		}, all(200)},
		{"output as CSV (closed)", func(w *world, _ string) request {
			return request{"GET", "/api/v1/workshops/" + w.newWorkshop(insieme.PhaseClosed) + "/export.csv?part=actions", nil}
		}, all(200)},
		{"output as JSON (closed)", func(w *world, _ string) request {
			return request{"GET", "/api/v1/workshops/" + w.newWorkshop(insieme.PhaseClosed) + "/export.json", nil}
		}, all(200)},
		{"printable output (closed)", func(w *world, _ string) request {
			return request{"GET", "/api/v1/workshops/" + w.newWorkshop(insieme.PhaseClosed) + "/export.html", nil}
		}, all(200)},
	}
}

// endedSession is a session that ran and ended (its minutes written).
func (w *world) endedSession() *app.SessionView {
	w.t.Helper()
	s := w.newSession()
	for _, action := range []string{"start", "end"} {
		if _, err := w.app.ControlSession(context.Background(), w.principal(w.people[staff]), s.ID, app.SessionAction{Action: action}); err != nil {
			w.t.Fatalf("%s: %v", action, err)
		}
	}
	return s
}

// newSession schedules a live session in the open forum (by M1's staff).
func (w *world) newSession() *app.SessionView {
	w.t.Helper()
	title, at := insieme.Texts{"it": "Forum dal vivo"}, w.clock.Now().Add(time.Hour)
	v, err := w.app.CreateSession(context.Background(), w.principal(w.people[staff]), w.forum, app.SessionInput{Title: &title, ScheduledAt: &at})
	if err != nil {
		w.t.Fatalf("session: %v", err)
	}
	return v
}

// newWorkshop is a workshop of the staff's forum, moved to a phase.
func (w *world) newWorkshop(phase string) string {
	w.t.Helper()
	ctx := context.Background()
	title, brief, at := "Laboratorio", insieme.Texts{"it": "Che fare?"}, w.clock.Now().Add(time.Hour)
	p := w.principal(w.people[staff])
	v, err := w.app.CreateWorkshop(ctx, p, w.forum, app.WorkshopInput{Title: &title, Brief: &brief, ScheduledAt: &at})
	if err != nil {
		w.t.Fatalf("workshop: %v", err)
	}
	if phase != insieme.PhaseLobby {
		if _, err := w.app.MoveWorkshop(ctx, p, v.ID, phase); err != nil {
			w.t.Fatalf("move to %s: %v", phase, err)
		}
	}
	return v.ID
}

// TestAuthorisationMatrix sends every route as every role and checks the status. Each route
// gets a world of its own, so one role's change cannot decide another's answer.
func TestAuthorisationMatrix(t *testing.T) {
	covered := map[string]bool{}
	ran := 0
	for _, c := range matrix() {
		t.Run(c.name, func(t *testing.T) {
			ran++
			w := newWorld(t)
			for _, r := range roles {
				want, ok := c.expect[r]
				if !ok {
					t.Fatalf("no expectation for %s", r)
				}
				rq := c.req(w, r)
				covered[rq.method+" "+routePattern(w.srv, rq.method, rq.path)] = true
				secret := ""
				if p, ok := w.people[r]; ok {
					secret = p.secret
				}
				got := w.do(rq.method, rq.path, secret, rq.body)
				if got.status != want {
					t.Errorf("%s: %s %s = %d, want %d (%s)", r, rq.method, rq.path, got.status, want, got.body)
				}
				if got.status >= 400 {
					got.errorOf(t)
				}
			}
		})
	}
	// Every route of the table is in the matrix (when every case ran: -run may pick some).
	if ran < len(matrix()) {
		return
	}
	for _, r := range (&Server{}).routeTable() {
		if !covered[r.method+" "+r.path] {
			t.Errorf("route %s %s is not in the authorisation matrix", r.method, r.path)
		}
	}
}

// routePattern finds the route-table path that a concrete path matches.
func routePattern(s *Server, method, path string) string {
	for _, r := range s.routeTable() {
		if r.method != method {
			continue
		}
		path, _, _ := strings.Cut(path, "?")
		rp, pp := strings.Split(r.path, "/"), strings.Split(path, "/")
		if len(rp) != len(pp) {
			continue
		}
		match := true
		for i := range rp {
			if !strings.HasPrefix(rp[i], ":") && rp[i] != pp[i] {
				match = false
				break
			}
		}
		if match {
			return r.path
		}
	}
	return path
}
