package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// forumEnv is a municipality with an open forum and an association with a member.
type forumEnv struct {
	*env
	admin, member person
	forum, assoc  string
	memberP       *insieme.Principal
}

func newForumEnv(t *testing.T) *forumEnv {
	e := newEnv(t)
	fe := &forumEnv{env: e, admin: e.register("Admin"), member: e.register("Member")}
	ctx := context.Background()
	if _, _, err := e.app.CreateAdmin(ctx, fe.admin.email, "", ""); err != nil {
		t.Fatal(err)
	}
	pa := e.principal(fe.admin)
	mname, aname := "Comune di Nardò", "Ponti"
	m, _ := e.app.CreateOrganisation(ctx, pa, app.OrganisationInput{Kind: insieme.KindMunicipality, Name: &mname})
	a, err := e.app.CreateOrganisation(ctx, e.principal(fe.member), app.OrganisationInput{Kind: insieme.KindAssociation, Name: &aname})
	if err != nil {
		t.Fatal(err)
	}
	title, status := insieme.Texts{"it": "Forum di Nardò"}, insieme.ForumOpen
	langs := []string{"it", "fr", "ar"}
	f, err := e.app.CreateForum(ctx, pa, app.ForumInput{MunicipalityID: m.ID, Title: &title, Status: &status, Languages: &langs})
	if err != nil {
		t.Fatal(err)
	}
	fe.forum, fe.assoc = f.ID, a.ID
	return fe
}

// quick posts through the app (no per-person rate limit), for bulk fixtures.
func (fe *forumEnv) quick(title string) string {
	fe.t.Helper()
	body, lang, cat := "testo", "it", "housing"
	if fe.memberP == nil {
		fe.memberP = fe.principal(fe.member)
	}
	v, err := fe.app.CreateProposal(context.Background(), fe.memberP, fe.forum,
		app.ProposalInput{OrgID: fe.assoc, Title: &title, Body: &body, Language: &lang, Category: &cat})
	if err != nil {
		fe.t.Fatal(err)
	}
	return v.ID
}

func (fe *forumEnv) post(title, body, lang string) app.ProposalView {
	fe.t.Helper()
	r := fe.do("POST", "/api/v1/forums/"+fe.forum+"/proposals", fe.member.secret, map[string]any{
		"organisationId": fe.assoc, "title": title, "body": body, "language": lang, "category": "housing"})
	if r.status != 201 {
		fe.t.Fatalf("post: %d %s", r.status, r.body)
	}
	var v app.ProposalView
	r.json(fe.t, &v)
	return v
}

func TestProposalIsSanitisedAndValidated(t *testing.T) {
	fe := newForumEnv(t)
	v := fe.post("  <b>Case</b>\u202e per tutti ", "Ecco [un link](javascript:alert(1)) e <script>alert(2)</script> ![x](http://evil.example/t.png) [ok](https://example.org)", "it")
	if v.Title != "<b>Case</b> per tutti" {
		t.Errorf("title %q: plain text, trimmed, no bidi override", v.Title)
	}
	for _, bad := range []string{"javascript:", "<script", "<img", "evil.example"} {
		if strings.Contains(v.BodyHTML, bad) {
			t.Errorf("body HTML keeps %q: %s", bad, v.BodyHTML)
		}
	}
	if !strings.Contains(v.BodyHTML, `href="https://example.org"`) || !strings.Contains(v.BodyHTML, "nofollow") {
		t.Errorf("safe link lost: %s", v.BodyHTML)
	}
	r := fe.do("POST", "/api/v1/forums/"+fe.forum+"/proposals", fe.member.secret, map[string]any{
		"organisationId": fe.assoc, "title": strings.Repeat("t", insieme.MaxProposalTitle+1), "body": "b", "language": "it", "category": "housing"})
	if r.status != 400 || r.errorOf(t).Limits["title"] != insieme.MaxProposalTitle {
		t.Fatalf("overlong title: %d %s", r.status, r.body)
	}
	r = fe.do("POST", "/api/v1/forums/"+fe.forum+"/proposals", fe.member.secret, map[string]any{
		"organisationId": fe.assoc, "title": "t", "body": "b", "language": "it", "category": "space travel"})
	if r.status != 400 || r.errorOf(t).Fields["category"] != insieme.FInvalidValue {
		t.Fatalf("unknown category: %d %s", r.status, r.body)
	}
	if r := fe.do("GET", "/api/v1/proposals/nope", "", nil); r.status != 404 {
		t.Fatalf("unknown id: %d", r.status)
	}
	// A closed forum refuses posts with 409 and a clear message.
	fe.do("PATCH", "/api/v1/forums/"+fe.forum, fe.admin.secret, map[string]any{"status": "closed"})
	r = fe.do("POST", "/api/v1/forums/"+fe.forum+"/proposals", fe.member.secret, map[string]any{
		"organisationId": fe.assoc, "title": "t", "body": "b", "language": "it", "category": "housing"})
	if r.status != 409 || r.errorOf(t).Code != insieme.ECONFLICT {
		t.Fatalf("closed forum: %d %s", r.status, r.body)
	}
}

func TestConcurrentSupportsAreCountedExactly(t *testing.T) {
	fe := newForumEnv(t)
	v := fe.post("Un parco", "Per i bambini.", "it")
	people := make([]person, 100)
	for i := range people {
		people[i] = fe.register(fmt.Sprintf("S%d", i))
	}
	var wg sync.WaitGroup
	for _, p := range people {
		wg.Add(1)
		go func(p person) {
			defer wg.Done()
			// Twice each: the second changes nothing.
			for i := 0; i < 2; i++ {
				if r := fe.do("PUT", "/api/v1/proposals/"+v.ID+"/support", p.secret, nil); r.status != 200 {
					t.Errorf("support: %d %s", r.status, r.body)
				}
			}
		}(p)
	}
	wg.Wait()
	var got app.ProposalView
	fe.do("GET", "/api/v1/proposals/"+v.ID, "", nil).json(t, &got)
	if n, _ := fe.db.CountSupports(context.Background(), v.ID); got.Supports != 100 || n != 100 {
		t.Fatalf("supports shown %d, stored %d; want 100", got.Supports, n)
	}
	var page app.ProposalPage
	fe.do("GET", "/api/v1/forums/"+fe.forum+"/proposals?sort=supports", "", nil).json(t, &page)
	if len(page.Items) != 1 || page.Items[0].Supports != 100 {
		t.Fatalf("list: %+v", page)
	}
	var res app.SupportResult
	fe.do("DELETE", "/api/v1/proposals/"+v.ID+"/support", people[0].secret, nil).json(t, &res)
	if res.Supported || res.Supports != 99 {
		t.Fatalf("unsupport: %+v", res)
	}
	// Once supported, the author cannot edit any more, but can withdraw.
	if r := fe.do("PATCH", "/api/v1/proposals/"+v.ID, fe.member.secret, map[string]any{"title": "Un altro parco"}); r.status != 409 {
		t.Fatalf("edit after supports: %d", r.status)
	}
	if r := fe.do("PATCH", "/api/v1/proposals/"+v.ID, fe.member.secret, map[string]any{"status": "withdrawn"}); r.status != 200 {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	if r := fe.do("PUT", "/api/v1/proposals/"+v.ID+"/support", people[0].secret, nil); r.status != 409 {
		t.Fatalf("support a withdrawn proposal: %d", r.status)
	}
	seen := false
	for _, room := range fe.live.rooms {
		seen = seen || room == "forum:"+fe.forum
	}
	if !seen {
		t.Fatal("no live event in the forum's room")
	}
}

func TestPagingWhileProposalsArrive(t *testing.T) {
	fe := newForumEnv(t)
	want := map[string]bool{}
	for i := 0; i < 45; i++ {
		fe.clock.Add(1e9)
		want[fe.quick(fmt.Sprintf("Proposta %d", i))] = true
	}
	seen := map[string]int{}
	cursor := ""
	for pages := 0; ; pages++ {
		var page app.ProposalPage
		r := fe.do("GET", "/api/v1/forums/"+fe.forum+"/proposals?limit=20&cursor="+url.QueryEscape(cursor), "", nil)
		r.json(t, &page)
		for _, it := range page.Items {
			seen[it.ID]++
		}
		// New proposals arrive between pages.
		fe.clock.Add(1e9)
		fe.quick(fmt.Sprintf("Nuova %d", pages))
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("proposal %s seen %d times", id, seen[id])
		}
	}
	if r := fe.do("GET", "/api/v1/forums/"+fe.forum+"/proposals?cursor=garbage", "", nil); r.status != 400 || r.errorOf(t).Fields["cursor"] == "" {
		t.Fatalf("bad cursor: %d %s", r.status, r.body)
	}
}

func TestSearchIgnoresAccentsAndArabicVariants(t *testing.T) {
	fe := newForumEnv(t)
	city := fe.post("Più verde in Città", "Alberi nel centro storico.", "it")
	ar := fe.post("مُبَادَرَة إدماج", "تعليم اللغة للأطفال", "ar")
	fe.post("Autre chose", "Rien à voir.", "fr")
	for q, want := range map[string]string{"citta": city.ID, "CITTÀ verde": city.ID, "مبادره": ar.ID, "ادماج": ar.ID, "alberi": city.ID} {
		var page app.ProposalPage
		fe.do("GET", "/api/v1/forums/"+fe.forum+"/proposals?q="+url.QueryEscape(q), "", nil).json(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != want {
			t.Errorf("search %q: %+v", q, page.Items)
		}
	}
}

func TestPostingTooFastIsLimited(t *testing.T) {
	fe := newForumEnv(t)
	for i := 0; i < proposalsPerHour; i++ {
		fe.post(fmt.Sprintf("Proposta %d", i), "testo", "it")
	}
	r := fe.do("POST", "/api/v1/forums/"+fe.forum+"/proposals", fe.member.secret, map[string]any{
		"organisationId": fe.assoc, "title": "Una di troppo", "body": "testo", "language": "it", "category": "housing"})
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("posting too fast: %d %s", r.status, r.body)
	}
}
