package web

import (
	"context"
	"testing"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

func TestForumLifecycle(t *testing.T) {
	e := newEnv(t)
	ad := e.register("Admin")
	if _, _, err := e.app.CreateAdmin(context.Background(), ad.email, "", ""); err != nil {
		t.Fatal(err)
	}
	name := "Comune di Turi"
	m, err := e.app.CreateOrganisation(context.Background(), e.principal(ad), app.OrganisationInput{Kind: insieme.KindMunicipality, Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"municipalityId": m.ID}, "title"},
		{map[string]any{"municipalityId": m.ID, "title": map[string]string{"xx": "t"}}, "title"},
		{map[string]any{"municipalityId": m.ID, "title": map[string]string{"it": "t"}, "opensAt": "yesterday"}, "opensAt"},
		{map[string]any{"municipalityId": m.ID, "title": map[string]string{"it": "t"}, "opensAt": "2027-02-01T00:00:00Z", "closesAt": "2027-01-01T00:00:00Z"}, "closesAt"},
		{map[string]any{"municipalityId": m.ID, "title": map[string]string{"it": "t"}, "answerDays": 0}, "answerDays"},
		{map[string]any{"municipalityId": "nope", "title": map[string]string{"it": "t"}}, "municipalityId"},
	}
	for _, b := range bad {
		r := e.do("POST", "/api/v1/forums", ad.secret, b.body)
		if r.status != 400 || r.errorOf(t).Fields[b.field] == "" {
			t.Errorf("%v: %d %s, want a problem with %s", b.body, r.status, r.body, b.field)
		}
	}
	r := e.do("POST", "/api/v1/forums", ad.secret, map[string]any{"municipalityId": m.ID, "title": map[string]string{"it": " Forum di Turi ", "fr": "Forum de Turi"},
		"languages": []string{"it", "fr", "ar"}, "opensAt": "2026-11-01T00:00:00Z", "status": "open"})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var f app.ForumView
	r.json(t, &f)
	if f.Title["it"] != "Forum di Turi" || f.Municipality.Name != name || !f.AcceptsPosts || f.AnswerDays != insieme.DefaultAnswerDays || len(f.Categories) != 6 {
		t.Fatalf("forum: %+v", f)
	}
	// Clearing the opening date with null, closing it in the past: it no longer accepts posts.
	r = e.do("PATCH", "/api/v1/forums/"+f.ID, ad.secret, map[string]any{"opensAt": nil, "closesAt": "2026-11-20T00:00:00Z"})
	r.json(t, &f)
	if r.status != 200 || f.OpensAt != nil || f.ClosesAt == nil || f.AcceptsPosts {
		t.Fatalf("update: %d %+v", r.status, f)
	}
	if r := e.do("PATCH", "/api/v1/forums/"+f.ID, ad.secret, map[string]any{"municipalityId": "other"}); r.status != 400 {
		t.Fatalf("moving a forum: %d", r.status)
	}
	var list []app.ForumView
	e.do("GET", "/api/v1/forums", "", nil).json(t, &list)
	if len(list) != 1 || list[0].ID != f.ID || list[0].CanManage {
		t.Fatalf("public list: %+v", list)
	}
}
