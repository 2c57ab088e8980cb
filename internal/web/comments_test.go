package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

func TestCommentsThreadEditDelete(t *testing.T) {
	fe := newForumEnv(t)
	pr := fe.post("Un parco", "Per i bambini.", "it")
	other := fe.register("Other")
	r := fe.do("POST", "/api/v1/proposals/"+pr.ID+"/comments", other.secret, map[string]any{"body": "Sì, ma <script>x()</script> dove?", "stance": "for"})
	if r.status != 201 {
		t.Fatalf("comment: %d %s", r.status, r.body)
	}
	var top app.CommentView
	r.json(t, &top)
	if strings.Contains(top.BodyHTML, "<script") || !top.Mine || !top.Editable {
		t.Fatalf("comment view: %+v", top)
	}
	parent := top.ID
	for depth := 1; depth <= 2; depth++ {
		var reply app.CommentView
		r := fe.do("POST", "/api/v1/proposals/"+pr.ID+"/comments", fe.member.secret, map[string]any{"body": "Risposta", "parentId": parent})
		r.json(t, &reply)
		if r.status != 201 || reply.Depth != depth {
			t.Fatalf("reply at depth %d: %d %s", depth, r.status, r.body)
		}
		parent = reply.ID
	}
	if r := fe.do("POST", "/api/v1/proposals/"+pr.ID+"/comments", fe.member.secret, map[string]any{"body": "Troppo profondo", "parentId": parent}); r.status != 400 {
		t.Fatalf("a fourth level: %d %s", r.status, r.body)
	}
	if r := fe.do("POST", "/api/v1/proposals/"+pr.ID+"/comments", fe.member.secret, map[string]any{"body": "x", "stance": "maybe"}); r.status != 400 || r.errorOf(t).Fields["stance"] == "" {
		t.Fatalf("bad stance: %d", r.status)
	}
	// The author of the parent comment was told of the reply, live.
	var ns app.Notifications
	fe.do("GET", "/api/v1/me/notifications", other.secret, nil).json(t, &ns)
	if ns.Unread != 1 || len(ns.Items) != 1 || ns.Items[0].Kind != "comment.reply" || ns.Items[0].ProposalTitle != "Un parco" {
		t.Fatalf("notifications: %+v", ns)
	}
	// Edit within 15 minutes, not after; delete leaves a placeholder and keeps replies.
	if r := fe.do("PATCH", "/api/v1/comments/"+top.ID, other.secret, map[string]any{"body": "Sì, nel quartiere nord."}); r.status != 200 {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	if r := fe.do("PATCH", "/api/v1/comments/"+top.ID, fe.member.secret, map[string]any{"body": "Non è mio"}); r.status != 403 {
		t.Fatalf("edit someone else's: %d", r.status)
	}
	fe.clock.Add(16 * time.Minute)
	if r := fe.do("PATCH", "/api/v1/comments/"+top.ID, other.secret, map[string]any{"body": "Troppo tardi"}); r.status != 409 {
		t.Fatalf("edit after 15 minutes: %d", r.status)
	}
	if r := fe.do("DELETE", "/api/v1/comments/"+top.ID, other.secret, nil); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	var thread []app.CommentView
	fe.do("GET", "/api/v1/proposals/"+pr.ID+"/comments", "", nil).json(t, &thread)
	if len(thread) != 3 || !thread[0].Deleted || thread[0].BodyHTML != "" || thread[0].Author != nil || thread[1].Depth != 1 || thread[2].Depth != 2 {
		t.Fatalf("thread after delete: %+v", thread)
	}
	var got app.ProposalView
	fe.do("GET", "/api/v1/proposals/"+pr.ID, "", nil).json(t, &got)
	if got.Comments != 3 {
		t.Fatalf("comment count: %d", got.Comments)
	}
}

func TestAnswerTimelineAndFollowers(t *testing.T) {
	fe := newForumEnv(t)
	pr := fe.post("Sportello documenti", "Un giorno a settimana.", "fr")
	supporter := fe.register("Supporter")
	fe.do("PUT", "/api/v1/proposals/"+pr.ID+"/support", supporter.secret, nil)
	// Rejecting needs a reason.
	if r := fe.do("POST", "/api/v1/proposals/"+pr.ID+"/answers", fe.admin.secret, map[string]any{"status": "rejected"}); r.status != 400 || r.errorOf(t).Fields["text"] != insieme.FRequired {
		t.Fatalf("rejection without a reason: %d %s", r.status, r.body)
	}
	if r := fe.do("POST", "/api/v1/proposals/"+pr.ID+"/answers", fe.member.secret, map[string]any{"status": "accepted", "text": "sì"}); r.status != 403 {
		t.Fatalf("the author answering: %d", r.status)
	}
	r := fe.do("POST", "/api/v1/proposals/"+pr.ID+"/answers", fe.admin.secret, map[string]any{"status": "accepted", "text": "Apriremo lo sportello a gennaio."})
	var v app.ProposalView
	r.json(t, &v)
	if r.status != 201 || v.Status != "accepted" || v.AnsweredAt == nil {
		t.Fatalf("answer: %d %s", r.status, r.body)
	}
	fe.clock.Add(time.Hour)
	fe.do("POST", "/api/v1/proposals/"+pr.ID+"/answers", fe.admin.secret, map[string]any{"text": "Lavori iniziati."})
	var tl []app.TimelineEntryView
	fe.do("GET", "/api/v1/proposals/"+pr.ID+"/timeline", "", nil).json(t, &tl)
	if len(tl) != 2 || tl[0].Status != "accepted" || tl[1].Kind != "update" || tl[0].ByOrg == nil || !strings.Contains(tl[0].TextHTML, "gennaio") {
		t.Fatalf("timeline: %+v", tl)
	}
	// The author and the supporter follow automatically and were told of both.
	for _, p := range []person{fe.member, supporter} {
		var ns app.Notifications
		fe.do("GET", "/api/v1/me/notifications", p.secret, nil).json(t, &ns)
		if ns.Unread != 2 || ns.Items[0].Kind != "proposal.update" || ns.Items[1].Kind != "proposal.answer" {
			t.Fatalf("notifications of %s: %+v", p.email, ns)
		}
	}
	fe.do("POST", "/api/v1/me/notifications/read", supporter.secret, nil)
	var ns app.Notifications
	fe.do("GET", "/api/v1/me/notifications", supporter.secret, nil).json(t, &ns)
	if ns.Unread != 0 || len(ns.Items) != 2 {
		t.Fatalf("after reading: %+v", ns)
	}
	found := false
	for _, room := range fe.live.rooms {
		found = found || room == "participant:"+supporter.id
	}
	if !found {
		t.Fatal("the notification was not pushed live")
	}
}

func TestOverdueProposals(t *testing.T) {
	fe := newForumEnv(t)
	old := fe.quick("Vecchia")
	admin := fe.principal(fe.admin) // sessions last 30 days: take it before time passes
	fe.clock.Add(time.Duration(insieme.DefaultAnswerDays+1) * 24 * time.Hour)
	fe.quick("Nuova")
	var list []app.ProposalSummary
	fe.do("GET", "/api/v1/forums/"+fe.forum+"/overdue", "", nil).json(t, &list)
	if len(list) != 1 || list[0].ID != old || !list[0].Overdue {
		t.Fatalf("overdue: %+v", list)
	}
	if _, err := fe.app.Answer(context.Background(), admin, old, app.AnswerInput{Status: "evaluation", Text: "In valutazione"}); err != nil {
		t.Fatal(err)
	}
	fe.do("GET", "/api/v1/forums/"+fe.forum+"/overdue", "", nil).json(t, &list)
	if len(list) != 0 {
		t.Fatalf("answered but still overdue: %+v", list)
	}
}
