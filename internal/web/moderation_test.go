package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
)

func TestReportsHideACommentAndAModeratorRestoresIt(t *testing.T) {
	fe := newForumEnv(t)
	pr := fe.post("Mercato", "Il sabato.", "it")
	var c app.CommentView
	fe.do("POST", "/api/v1/proposals/"+pr.ID+"/comments", fe.member.secret, map[string]any{"body": "Io porto il pane."}).json(t, &c)
	old := make([]person, 3)
	for i := range old {
		old[i] = fe.register(fmt.Sprintf("Old%d", i))
	}
	fe.clock.Add(25 * time.Hour) // their accounts are now older than a day
	report := func(p person) {
		r := fe.do("POST", "/api/v1/reports", p.secret, map[string]any{"targetKind": "comment", "targetId": c.ID, "reason": "offensive", "note": "private note"})
		if r.status != 202 || strings.Contains(string(r.body), "private note") {
			t.Fatalf("report: %d %s", r.status, r.body)
		}
	}
	caseOf := func() app.CaseView {
		var v app.CaseView
		fe.do("GET", "/api/v1/moderation/"+url.PathEscape("comment:"+c.ID), fe.admin.secret, nil).json(t, &v)
		return v
	}
	// Fresh accounts do not count: throwaway accounts cannot hide content.
	for i := 0; i < 3; i++ {
		report(fe.register(fmt.Sprintf("New%d", i)))
	}
	if v := caseOf(); v.Status != "open" {
		t.Fatalf("new accounts hid the comment: %+v", v)
	}
	report(old[0])
	report(old[0]) // twice changes nothing
	report(old[1])
	report(old[2])
	if v := caseOf(); v.Status != "hidden" || v.Counting != 3 || v.Reports != 6 {
		t.Fatalf("after three counting reports: %+v", v)
	}
	var thread []app.CommentView
	fe.do("GET", "/api/v1/proposals/"+pr.ID+"/comments", "", nil).json(t, &thread)
	if len(thread) != 1 || !thread[0].Hidden || thread[0].BodyHTML != "" {
		t.Fatalf("hidden comment shown: %+v", thread)
	}
	var ns app.Notifications
	fe.do("GET", "/api/v1/me/notifications", fe.member.secret, nil).json(t, &ns)
	if len(ns.Items) == 0 || ns.Items[0].Kind != "moderation" || ns.Items[0].CaseID == "" {
		t.Fatalf("the author was not told: %+v", ns)
	}
	caseID := ns.Items[0].CaseID
	var queue []app.CaseView
	fe.do("GET", "/api/v1/forums/"+fe.forum+"/moderation", fe.admin.secret, nil).json(t, &queue)
	if len(queue) != 1 || queue[0].ID != caseID || queue[0].BodyHTML == "" || len(queue[0].Notes) != 6 {
		t.Fatalf("queue: %+v", queue)
	}
	if r := fe.do("GET", "/api/v1/moderation/"+strings.ReplaceAll(caseID, ":", "%3A"), fe.admin.secret, nil); r.status != 200 {
		t.Fatalf("an encoded case id: %d", r.status)
	}
	if r := fe.do("POST", "/api/v1/moderation/"+url.PathEscape(caseID)+"/decision", fe.admin.secret, map[string]any{"action": "restore"}); r.status != 400 {
		t.Fatalf("a decision without a reason: %d", r.status)
	}
	fe.clock.Add(time.Minute)
	if r := fe.do("POST", "/api/v1/moderation/"+url.PathEscape(caseID)+"/decision", fe.admin.secret, map[string]any{"action": "restore", "reason": "Nessuna offesa."}); r.status != 200 {
		t.Fatalf("restore: %d %s", r.status, r.body)
	}
	thread = nil
	fe.do("GET", "/api/v1/proposals/"+pr.ID+"/comments", "", nil).json(t, &thread)
	if thread[0].Hidden || thread[0].BodyHTML == "" {
		t.Fatalf("restored comment still hidden: %+v", thread[0])
	}
	var audit []app.AuditEntryView
	fe.do("GET", "/api/v1/admin/audit", fe.admin.secret, nil).json(t, &audit)
	if len(audit) != 2 || audit[0].Action != "restore" || audit[0].Actor == nil || audit[0].Reason != "Nessuna offesa." || audit[1].Action != "auto_hide" {
		t.Fatalf("audit: %+v", audit)
	}
}

func TestVerifiedAssociationsAreQueuedNotHidden(t *testing.T) {
	fe := newForumEnv(t)
	fe.do("POST", "/api/v1/admin/organisations/"+fe.assoc+"/verify", fe.admin.secret, map[string]any{"verified": true})
	pr := fe.post("Biblioteca", "Aperta la sera.", "it")
	people := []person{fe.register("A"), fe.register("B"), fe.register("C")}
	fe.clock.Add(25 * time.Hour)
	for _, p := range people {
		fe.do("POST", "/api/v1/reports", p.secret, map[string]any{"targetKind": "proposal", "targetId": pr.ID, "reason": "spam"})
	}
	var v app.CaseView
	fe.do("GET", "/api/v1/moderation/"+url.PathEscape("proposal:"+pr.ID), fe.admin.secret, nil).json(t, &v)
	if v.Status != "open" || v.Counting != 3 {
		t.Fatalf("verified content: %+v", v)
	}
	if r := fe.do("GET", "/api/v1/proposals/"+pr.ID, "", nil); r.status != 200 {
		t.Fatalf("verified proposal hidden: %d", r.status)
	}
	var audit []app.AuditEntryView
	fe.do("GET", "/api/v1/admin/audit", fe.admin.secret, nil).json(t, &audit)
	if len(audit) != 1 || audit[0].Action != "queue" {
		t.Fatalf("audit: %+v", audit)
	}
}

func TestAppealGoesToTheAdmins(t *testing.T) {
	fe := newForumEnv(t)
	pr := fe.post("Festa", "In piazza.", "it")
	reporter := fe.register("R")
	fe.do("POST", "/api/v1/reports", reporter.secret, map[string]any{"targetKind": "proposal", "targetId": pr.ID, "reason": "spam"})
	v := app.CaseView{ID: "proposal:" + pr.ID}
	// A staff member of the municipality hides it.
	staff := fe.register("Staff")
	var forum app.ForumView
	fe.do("GET", "/api/v1/forums/"+fe.forum, "", nil).json(t, &forum)
	fe.do("POST", "/api/v1/organisations/"+forum.Municipality.ID+"/invitations", fe.admin.secret, map[string]any{"email": staff.email, "role": "staff"})
	fe.do("POST", "/api/v1/invitations/accept", staff.secret, map[string]any{"token": fe.lastLink(staff.email, "invitation")})
	id := url.PathEscape(v.ID)
	if r := fe.do("POST", "/api/v1/moderation/"+id+"/decision", staff.secret, map[string]any{"action": "hide", "reason": "Pubblicità"}); r.status != 200 {
		t.Fatalf("staff hides: %d %s", r.status, r.body)
	}
	if r := fe.do("GET", "/api/v1/proposals/"+pr.ID, "", nil); r.status != 404 {
		t.Fatalf("hidden proposal shown to the public: %d", r.status)
	}
	if r := fe.do("GET", "/api/v1/proposals/"+pr.ID, fe.member.secret, nil); r.status != 200 {
		t.Fatalf("hidden proposal not shown to its author: %d", r.status)
	}
	// Its discussion is not broadcast to the forum's public room while it is hidden.
	before := len(fe.live.rooms)
	if r := fe.do("POST", "/api/v1/proposals/"+pr.ID+"/comments", fe.member.secret, map[string]any{"body": "Spiego meglio."}); r.status != 201 {
		t.Fatalf("the author commenting: %d %s", r.status, r.body)
	}
	for _, room := range fe.live.rooms[before:] {
		if room == "forum:"+fe.forum {
			t.Fatal("a hidden proposal's comment went to the public forum room")
		}
	}
	var seen app.CaseView
	fe.do("GET", "/api/v1/moderation/"+id, fe.member.secret, nil).json(t, &seen)
	if seen.Reason != "Pubblicità" || len(seen.Notes) != 0 {
		t.Fatalf("the author's view of the case: %+v", seen)
	}
	if r := fe.do("POST", "/api/v1/moderation/"+id+"/appeal", fe.member.secret, map[string]any{"text": "È una festa di quartiere."}); r.status != 200 {
		t.Fatalf("appeal: %d %s", r.status, r.body)
	}
	if r := fe.do("POST", "/api/v1/moderation/"+id+"/appeal", fe.member.secret, map[string]any{"text": "Ancora"}); r.status != 409 {
		t.Fatalf("second appeal: %d", r.status)
	}
	if r := fe.do("POST", "/api/v1/moderation/"+id+"/decision", staff.secret, map[string]any{"action": "hide", "reason": "Confermo"}); r.status != 403 {
		t.Fatalf("staff deciding an appeal: %d", r.status)
	}
	var appeals []app.CaseView
	fe.do("GET", "/api/v1/admin/appeals", fe.admin.secret, nil).json(t, &appeals)
	if len(appeals) != 1 || appeals[0].Appeal == "" {
		t.Fatalf("appeals: %+v", appeals)
	}
	if r := fe.do("POST", "/api/v1/moderation/"+id+"/decision", fe.admin.secret, map[string]any{"action": "restore", "reason": "Festa legittima"}); r.status != 200 {
		t.Fatalf("admin decides: %d %s", r.status, r.body)
	}
	if r := fe.do("GET", "/api/v1/proposals/"+pr.ID, "", nil); r.status != 200 {
		t.Fatalf("restored proposal: %d", r.status)
	}
}

// Many people acting on one thread or one case at once all succeed and nothing is lost.
func TestConcurrentThreadAndCaseChanges(t *testing.T) {
	fe := newForumEnv(t)
	pr := fe.post("Piazza", "Più alberi.", "it")
	people := make([]person, 30)
	comments := make([]string, len(people))
	for i := range people {
		people[i] = fe.register(fmt.Sprintf("P%d", i))
		var c app.CommentView
		fe.do("POST", "/api/v1/proposals/"+pr.ID+"/comments", people[i].secret, map[string]any{"body": fmt.Sprintf("Commento %d", i)}).json(t, &c)
		comments[i] = c.ID
	}
	var wg sync.WaitGroup
	statuses := make(chan int, 2*len(people))
	for i, p := range people {
		wg.Add(2)
		go func(p person, id string) {
			defer wg.Done()
			statuses <- fe.do("DELETE", "/api/v1/comments/"+id, p.secret, nil).status
		}(p, comments[i])
		go func(p person) {
			defer wg.Done()
			statuses <- fe.do("POST", "/api/v1/reports", p.secret, map[string]any{"targetKind": "proposal", "targetId": pr.ID, "reason": "other"}).status
		}(p)
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 204 && s != 202 {
			t.Fatalf("a concurrent change failed: %d", s)
		}
	}
	var thread []app.CommentView
	fe.do("GET", "/api/v1/proposals/"+pr.ID+"/comments", "", nil).json(t, &thread)
	for _, c := range thread {
		if !c.Deleted {
			t.Fatalf("a deletion was lost: %+v", c)
		}
	}
	var v app.CaseView
	fe.do("GET", "/api/v1/moderation/"+url.PathEscape("proposal:"+pr.ID), fe.admin.secret, nil).json(t, &v)
	if v.Reports != len(people) {
		t.Fatalf("reports kept: %d of %d", v.Reports, len(people))
	}
}

// Erasing an account erases what the person wrote in reports and appeals; the reports still count.
func TestErasureClearsReportNotesAndAppeals(t *testing.T) {
	fe := newForumEnv(t)
	pr := fe.post("Orti", "Nel parco.", "it")
	reporter := fe.register("Rep")
	fe.do("POST", "/api/v1/reports", reporter.secret, map[string]any{"targetKind": "proposal", "targetId": pr.ID, "reason": "other", "note": "my private note"})
	id := url.PathEscape("proposal:" + pr.ID)
	fe.do("POST", "/api/v1/moderation/"+id+"/decision", fe.admin.secret, map[string]any{"action": "hide", "reason": "Da verificare"})
	fe.do("POST", "/api/v1/moderation/"+id+"/appeal", fe.member.secret, map[string]any{"text": "my private appeal"})
	for _, p := range []person{reporter, fe.member} {
		if r := fe.do("DELETE", "/api/v1/me", p.secret, map[string]any{"password": p.password}); r.status != 204 {
			t.Fatalf("erase: %d %s", r.status, r.body)
		}
	}
	c, err := fe.db.Case(context.Background(), "proposal:"+pr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Reports) != 1 || c.Reports[0].Note != "" || c.Appeal != "" {
		t.Fatalf("case after erasure: %+v", c)
	}
}
