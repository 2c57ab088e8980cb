package web

import (
	"net/url"
	"sync"
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

// Translations into several languages posted at once all stay listed (each rewrites the
// proposal's list of languages from the stored translations, one at a time).
func TestConcurrentTranslationsAllStay(t *testing.T) {
	fe := newForumEnv(t)
	v := fe.post("Una piazza", "Per incontrarsi.", "it")
	langs := []string{"fr", "ar", "en", "sq", "ro", "uk"}
	var wg sync.WaitGroup
	for _, l := range langs {
		wg.Add(1)
		go func(l string) {
			defer wg.Done()
			if r := fe.do("POST", "/api/v1/proposals/"+v.ID+"/translations", fe.member.secret,
				map[string]any{"language": l, "title": "Titolo " + l, "body": "Testo " + l}); r.status != 201 && r.status != 200 {
				t.Errorf("%s: %d %s", l, r.status, r.body)
			}
		}(l)
	}
	wg.Wait()
	var got app.ProposalView
	fe.do("GET", "/api/v1/proposals/"+v.ID, "", nil).json(t, &got)
	if len(got.Translations) != len(langs) {
		t.Fatalf("%d translations shown, want %d: %+v", len(got.Translations), len(langs), got.Translations)
	}
	// Each is found by search too.
	for _, l := range langs {
		var page app.ProposalPage
		fe.do("GET", "/api/v1/forums/"+fe.forum+"/proposals?q=titolo+"+l, "", nil).json(t, &page)
		if len(page.Items) != 1 {
			t.Errorf("search for the %s translation: %d results", l, len(page.Items))
		}
	}
}
