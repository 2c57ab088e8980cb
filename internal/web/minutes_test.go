package web

import (
	"strings"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
)

// act sends a live message over HTTP and fails the test unless it is accepted.
func (se *sessionEnv) act(secret string, msg map[string]any, headers ...string) resp {
	se.t.Helper()
	r := se.action(secret, msg, headers...)
	if r.status != 200 && r.status != 204 {
		se.t.Fatalf("%v: %d %s", msg["type"], r.status, r.body)
	}
	return r
}

func TestMinutesRecordTheSession(t *testing.T) {
	se := newSessionEnv(t)
	guest, joined := se.joinAsGuest("Fatou")
	host := se.admin.secret
	if r := se.do("PATCH", "/api/v1/sessions/"+se.session.ID, host, map[string]any{"guestsMayAsk": true}); r.status != 200 {
		t.Fatalf("guests may ask: %d %s", r.status, r.body)
	}
	se.act(host, map[string]any{"type": "session.control", "action": "start"})
	se.clock.Add(3 * time.Minute)
	se.act(host, map[string]any{"type": "session.control", "action": "next"})

	// A poll, voted by the guest and a member.
	var poll app.PollView
	se.act(host, map[string]any{"type": "poll.create", "poll": map[string]any{"kind": "single", "title": map[string]string{"it": "Dove la biblioteca?"},
		"options": []map[string]string{{"it": "Centro"}, {"it": "Periferia"}}, "guestsMayVote": true, "showResults": "live"}}).json(t, &poll)
	se.act(host, map[string]any{"type": "poll.open", "poll": poll.ID})
	se.act("", map[string]any{"type": "poll.vote", "poll": poll.ID, "choices": []int{1}}, bearer(guest)...)
	se.act(se.member.secret, map[string]any{"type": "poll.vote", "poll": poll.ID, "choices": []int{1}})

	// Questions: the member's (named), the guest's (anonymous, with markup), one left unanswered.
	var named, anon, open app.QuestionView
	se.act(se.member.secret, map[string]any{"type": "question.ask", "text": "Quando apre?"}).json(t, &named)
	se.act("", map[string]any{"type": "question.ask", "text": "<script>alert(1)</script> # Orari?", "anonymous": true}, bearer(guest)...).json(t, &anon)
	se.act(se.member.secret, map[string]any{"type": "question.ask", "text": "Domanda senza risposta"}).json(t, &open)
	for _, q := range []string{named.ID, anon.ID, open.ID} {
		se.act(host, map[string]any{"type": "question.moderate", "question": q, "status": "approved"})
	}
	for _, q := range []string{named.ID, anon.ID} {
		se.act(host, map[string]any{"type": "question.moderate", "question": q, "status": "answered"})
	}
	// The guest speaks for two minutes, then the member.
	se.act("", map[string]any{"type": "hand.raise"}, bearer(guest)...)
	se.act(host, map[string]any{"type": "floor.give", "participant": joined.Principal.ID})
	se.clock.Add(2 * time.Minute)
	se.act(host, map[string]any{"type": "floor.give", "participant": se.member.id})
	se.clock.Add(time.Minute)

	// Before the end there are no minutes.
	if r := se.do("GET", "/api/v1/sessions/"+se.session.ID+"/minutes.md", "", nil); r.status != 404 {
		t.Fatalf("minutes before the end: %d", r.status)
	}
	var before app.SessionView
	se.do("GET", "/api/v1/sessions/"+se.session.ID, "", nil).json(t, &before)
	if before.HasMinutes {
		t.Fatal("a live session says it has minutes")
	}
	se.act(host, map[string]any{"type": "session.control", "action": "end"})
	var after app.SessionView
	se.do("GET", "/api/v1/sessions/"+se.session.ID, "", nil).json(t, &after)
	if !after.HasMinutes || after.Status != "ended" {
		t.Fatalf("after the end: %+v", after)
	}

	r := se.do("GET", "/api/v1/sessions/"+se.session.ID+"/minutes.md?lang=it", "", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/markdown") {
		t.Fatalf("minutes: %d %s", r.status, r.body)
	}
	md := string(r.body)
	for _, want := range []string{"# Verbale: Forum dal vivo", "Benvenuto", "previsti 5 min, effettivi 3.0 min", "Casa",
		"### Dove la biblioteca?", "2 votanti (1 ospiti, 1 con un account)", "- Centro: 0", "- Periferia: 2",
		"Quando apre? (Member", "anonima", "Fatou — 2:00", "Member — 1:00"} {
		if !strings.Contains(md, want) {
			t.Errorf("the minutes lack %q:\n%s", want, md)
		}
	}
	for _, never := range []string{"Domanda senza risposta", "<script>", "\n# Orari"} {
		if strings.Contains(md, never) {
			t.Errorf("the minutes hold %q:\n%s", never, md)
		}
	}
	// The printable page escapes what people wrote, and reads right to left in Arabic.
	r = se.do("GET", "/api/v1/sessions/"+se.session.ID+"/minutes.html?lang=ar", "", nil)
	page := string(r.body)
	if r.status != 200 || !strings.Contains(page, `dir="rtl"`) || strings.Contains(page, "<script>alert") || !strings.Contains(page, "&lt;script&gt;") {
		t.Fatalf("printable minutes: %d %s", r.status, page)
	}
	// The member finds the minutes in their data download; once erased, they read as a former
	// participant.
	var export map[string]any
	se.do("GET", "/api/v1/me/export", se.member.secret, nil).json(t, &export)
	if ms, _ := export["minutes"].([]any); len(ms) != 1 {
		t.Fatalf("minutes in the download: %v", export["minutes"])
	}
	if ls, _ := export["liveSessions"].([]any); len(ls) != 1 || ls[0].(map[string]any)["secondsSpoken"] != float64(60) {
		t.Fatalf("live sessions in the download: %v", export["liveSessions"])
	}
	if r := se.do("DELETE", "/api/v1/me", se.member.secret, map[string]any{"password": se.member.password}); r.status != 204 {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	se.app.Wait()
	md = string(se.do("GET", "/api/v1/sessions/"+se.session.ID+"/minutes.md?lang=it", "", nil).body)
	if strings.Contains(md, "Member") || !strings.Contains(md, "ex partecipante") {
		t.Fatalf("minutes after the erasure:\n%s", md)
	}
}
