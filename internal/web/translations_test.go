package web

import (
	"net/url"
	"testing"

	"github.com/insieme/insieme/internal/app"
)

func TestTranslationsByAMediator(t *testing.T) {
	fe := newForumEnv(t)
	pr := fe.post("Cours de langue pour les mères", "Le mardi, à l'école.", "fr")
	mediator := fe.register("Mediatrice")
	if r := fe.do("POST", "/api/v1/proposals/"+pr.ID+"/translations", mediator.secret, map[string]any{"language": "it", "title": "Corsi", "body": "Il martedì."}); r.status != 403 {
		t.Fatalf("before being named: %d", r.status)
	}
	if r := fe.do("POST", "/api/v1/forums/"+fe.forum+"/mediators", fe.admin.secret, map[string]any{"email": mediator.email}); r.status != 202 {
		t.Fatalf("name a mediator: %d %s", r.status, r.body)
	}
	// An unknown address gets the same answer.
	if r := fe.do("POST", "/api/v1/forums/"+fe.forum+"/mediators", fe.admin.secret, map[string]any{"email": "nobody@example.org"}); r.status != 202 {
		t.Fatalf("unknown mediator: %d", r.status)
	}
	if r := fe.do("POST", "/api/v1/proposals/"+pr.ID+"/translations", mediator.secret, map[string]any{"language": "fr", "title": "x", "body": "y"}); r.status != 400 {
		t.Fatalf("into the original's language: %d", r.status)
	}
	r := fe.do("POST", "/api/v1/proposals/"+pr.ID+"/translations", mediator.secret, map[string]any{"language": "it", "title": "Corsi di lingua per le mamme", "body": "Il martedì, a scuola."})
	if r.status != 201 {
		t.Fatalf("translate: %d %s", r.status, r.body)
	}
	var v app.ProposalView
	fe.do("GET", "/api/v1/proposals/"+pr.ID, "", nil).json(t, &v)
	if len(v.Translations) != 1 || v.Translations[0].Language != "it" || v.Translations[0].Translator.DisplayName != "Mediatrice" || v.Title != "Cours de langue pour les mères" {
		t.Fatalf("translations: %+v", v.Translations)
	}
	// The translated words find the proposal.
	var page app.ProposalPage
	fe.do("GET", "/api/v1/forums/"+fe.forum+"/proposals?q="+url.QueryEscape("mamme martedi"), "", nil).json(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != pr.ID {
		t.Fatalf("search in the translation: %+v", page.Items)
	}
	var ms []app.MediatorView
	fe.do("GET", "/api/v1/forums/"+fe.forum+"/mediators", fe.admin.secret, nil).json(t, &ms)
	if len(ms) != 1 || ms[0].DisplayName != "Mediatrice" {
		t.Fatalf("mediators: %+v", ms)
	}
}
