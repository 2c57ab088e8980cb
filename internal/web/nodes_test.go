package web

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// Two nodes on one store, each with its own write connection: on FerretDB their concurrent
// increments of a count and pushes onto a thread can overwrite each other. Each comment and
// each support is its own insert, and the nodes' repairs rebuild the thread and the counts
// from them, so after the burst nothing is lost.
func TestTwoNodesOnOneStoreLoseNoCommentOrSupport(t *testing.T) {
	fe := newForumEnv(t)
	v := fe.post("Una biblioteca", "Aperta la sera.", "it")
	nodes := make([]*app.App, 2)
	for i := range nodes {
		nodes[i] = app.New(app.Deps{Store: store.Node(t, fe.db.Name()), Clock: fe.clock, Hasher: testHasher,
			RepairAfter: 50 * time.Millisecond})
	}
	const people = 40
	ps := make([]*insieme.Principal, people)
	for i := range ps {
		ps[i] = fe.principal(fe.register(fmt.Sprintf("N%d", i)))
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func(node *app.App, p *insieme.Principal, i int) {
			defer wg.Done()
			if _, err := node.Support(ctx, p, v.ID); err != nil {
				t.Errorf("support: %v", err)
			}
			body := fmt.Sprintf("commento %d", i)
			if _, err := node.AddComment(ctx, p, v.ID, app.CommentInput{Body: &body}); err != nil {
				t.Errorf("comment: %v", err)
			}
		}(nodes[i%2], p, i)
	}
	wg.Wait()
	for _, n := range nodes {
		n.Wait() // the repairs scheduled by the burst
	}
	pr, err := fe.db.Proposal(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	th, err := fe.db.Thread(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Supports != people || pr.Comments != people || len(th.Comments) != people {
		t.Fatalf("after the burst: %d supports, %d comments counted, %d in the thread; want %d each",
			pr.Supports, pr.Comments, len(th.Comments), people)
	}
	// Supporters follow the proposal: every one of them, whichever node they used.
	followers, err := fe.db.Followers(ctx, v.ID)
	if err != nil || len(followers) != people+1 { // the author too
		t.Fatalf("followers after the burst: %d, want %d (%v)", len(followers), people+1, err)
	}
	seen := map[string]bool{}
	for _, c := range th.Comments {
		seen[c.Body] = true
	}
	for i := range people {
		if !seen[fmt.Sprintf("commento %d", i)] {
			t.Fatalf("comment %d is missing from the thread: %v", i, seen)
		}
	}
	// A third node, told by the repairs' events (no broker here: handed over directly), shows
	// the repaired counts.
	fe.app.ApplyCatalogEvent(ctx, []byte(`{"id":"`+v.ID+`","thread":true}`))
	var got app.ProposalView
	fe.do("GET", "/api/v1/proposals/"+v.ID, "", nil).json(t, &got)
	if got.Supports != people || got.Comments != people {
		t.Fatalf("shown: %d supports, %d comments", got.Supports, got.Comments)
	}
}

// One person edits a comment from two devices served by two nodes at the same instant (the
// text on one, the stance on the other): both edits are acknowledged, so both stay.
func TestTwoNodesEditingOneCommentKeepBothEdits(t *testing.T) {
	fe := newForumEnv(t)
	v := fe.post("Una piazza", "Con alberi.", "it")
	nodes := make([]*app.App, 2)
	for i := range nodes {
		nodes[i] = app.New(app.Deps{Store: store.Node(t, fe.db.Name()), Clock: fe.clock, Hasher: testHasher,
			RepairAfter: 50 * time.Millisecond})
	}
	ctx := context.Background()
	author := fe.principal(fe.member)
	const comments = 10
	ids := make([]string, comments)
	for i := range ids {
		body := fmt.Sprintf("commento %d", i)
		c, err := nodes[0].AddComment(ctx, author, v.ID, app.CommentInput{Body: &body})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = c.ID
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(2)
		go func() {
			defer wg.Done()
			body := "corretto"
			if _, err := nodes[0].EditComment(ctx, author, id, app.CommentInput{Body: &body}); err != nil {
				t.Errorf("edit on node 0: %v", err)
			}
		}()
		go func() {
			defer wg.Done()
			stance := insieme.StanceAgainst
			if _, err := nodes[1].EditComment(ctx, author, id, app.CommentInput{Stance: &stance}); err != nil {
				t.Errorf("edit on node 1: %v", err)
			}
		}()
	}
	wg.Wait()
	for _, n := range nodes {
		n.Wait()
	}
	fe.app.ApplyCatalogEvent(ctx, []byte(`{"id":"`+v.ID+`","thread":true}`))
	var cs []app.CommentView
	fe.do("GET", "/api/v1/proposals/"+v.ID+"/comments", "", nil).json(t, &cs)
	if len(cs) != comments {
		t.Fatalf("%d comments, want %d", len(cs), comments)
	}
	for _, c := range cs {
		if !strings.Contains(c.BodyHTML, "corretto") || c.Stance != insieme.StanceAgainst {
			t.Fatalf("an acknowledged edit was lost: %+v", c)
		}
	}
}

// A node that stopped between a comment's (or a support's) own document and the thread's or
// counts' rewrite leaves them behind on any store; the sweep of recent changes, run at every
// start and every few minutes, catches them up.
func TestSweepRepairsWhatAStoppedNodeLeftBehind(t *testing.T) {
	fe := newForumEnv(t)
	v := fe.post("Un mercato", "Il sabato.", "it")
	intact := fe.post("Una fontana", "In piazza.", "it")
	ctx := context.Background()
	now := fe.clock.Now()
	// The intact proposal has a comment and a support, each stored whole.
	body := "tutto a posto"
	if _, err := fe.app.AddComment(ctx, fe.principal(fe.member), intact.ID, app.CommentInput{Body: &body}); err != nil {
		t.Fatal(err)
	}
	supporter := fe.register("Sostenitore")
	if _, err := fe.app.Support(ctx, fe.principal(supporter), intact.ID); err != nil {
		t.Fatal(err)
	}
	// A node stored a comment two minutes ago and stopped before the thread and the count.
	if _, err := fe.db.Raw().Collection("comments").InsertOne(ctx, bson.M{"_id": v.ID + "~stopped", "proposalId": v.ID,
		"forumId": fe.forum, "id": v.ID + "~stopped", "parentId": "", "depth": 0, "authorId": fe.member.id, "body": "rimasto indietro",
		"bodyHtml": "<p>rimasto indietro</p>", "stance": "for", "deleted": false, "hidden": false, "createdAt": now, "rev": 0,
		"storedAt": time.Now().Add(-2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	shown := func(id string) (app.ProposalView, []app.CommentView) {
		fe.app.ForgetThreads()
		var got app.ProposalView
		fe.do("GET", "/api/v1/proposals/"+id, "", nil).json(t, &got)
		var cs []app.CommentView
		fe.do("GET", "/api/v1/proposals/"+id+"/comments", "", nil).json(t, &cs)
		return got, cs
	}
	// A sweep of the last minute does not reach it.
	if n, err := fe.app.RepairChangedSince(ctx, time.Now().Add(-time.Minute)); err != nil || n != 0 {
		t.Fatalf("sweep of the last minute: %d repaired, %v", n, err)
	}
	if _, cs := shown(v.ID); len(cs) != 0 {
		t.Fatalf("a sweep of the last minute repaired an older change: %d comments", len(cs))
	}
	// A node stored a support and stopped; another withdrew a support and stopped before the
	// count.
	other := fe.register("Sostenitrice")
	if _, err := fe.db.Raw().Collection("supports").InsertOne(ctx, bson.M{"_id": v.ID + ":" + other.id, "proposalId": v.ID,
		"forumId": fe.forum, "accountId": other.id, "createdAt": time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := fe.app.Unsupport(ctx, fe.principal(supporter), intact.ID); err != nil {
		t.Fatal(err)
	}
	setCounts := func(id string, supports, comments int) {
		if _, err := fe.db.Raw().Collection("counts").UpdateOne(ctx, bson.M{"_id": id},
			bson.M{"$set": bson.M{"supports": supports, "comments": comments}}); err != nil {
			t.Fatal(err)
		}
	}
	setCounts(intact.ID, 1, 1) // the count as it was before the withdrawal
	// A node stored a comment and its thread, and stopped before the count.
	third := fe.post("Un giardino", "Per i bambini.", "it")
	if _, err := fe.app.AddComment(ctx, fe.principal(fe.member), third.ID, app.CommentInput{Body: &body}); err != nil {
		t.Fatal(err)
	}
	setCounts(third.ID, 0, 0)
	// The sweep of the last five minutes repairs those three, and only those.
	n, err := fe.app.RepairChangedSince(ctx, time.Now().Add(-5*time.Minute))
	if err != nil || n != 3 {
		t.Fatalf("sweep: %d proposals repaired, %v; want 3", n, err)
	}
	if got, _ := shown(third.ID); got.Comments != 1 {
		t.Fatalf("the comment count after the sweep: %d", got.Comments)
	}
	got, cs := shown(v.ID)
	if got.Supports != 1 || got.Comments != 1 || len(cs) != 1 || cs[0].ID != v.ID+"~stopped" {
		t.Fatalf("after the sweep: %d supports, %d comments counted, %d shown", got.Supports, got.Comments, len(cs))
	}
	if got, cs := shown(intact.ID); got.Supports != 0 || got.Comments != 1 || len(cs) != 1 {
		t.Fatalf("the withdrawn support after the sweep: %d supports, %d comments, %d shown", got.Supports, got.Comments, len(cs))
	}
	// Nothing is behind any more: a sweep repairs nothing.
	if n, err := fe.app.RepairChangedSince(ctx, time.Now().Add(-5*time.Minute)); err != nil || n != 0 {
		t.Fatalf("second sweep: %d repaired, %v", n, err)
	}
}

// Another node's support leaves this node's cached thread alone; its comment drops it.
func TestCatalogEventsDropThreadsOnlyWhenCommentsChanged(t *testing.T) {
	fe := newForumEnv(t)
	v := fe.post("Un orto", "Condiviso.", "it")
	comments := func() int {
		var cs []app.CommentView
		fe.do("GET", "/api/v1/proposals/"+v.ID+"/comments", "", nil).json(t, &cs)
		return len(cs)
	}
	if n := comments(); n != 0 {
		t.Fatalf("fresh thread: %d comments", n)
	}
	// Another node adds a comment: its store write is here at once, its event a moment later.
	ctx := context.Background()
	if _, err := fe.db.AppendComment(ctx, v.ID, fe.forum, insieme.Comment{ID: insieme.NewCommentID(v.ID, "elsewhere"),
		AuthorID: fe.member.id, Body: "ciao", BodyHTML: "<p>ciao</p>", Stance: insieme.StanceFor, CreatedAt: fe.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	fe.app.ApplyCatalogEvent(ctx, []byte(`{"id":"`+v.ID+`"}`)) // a support's event
	if n := comments(); n != 0 {
		t.Fatalf("a count event dropped the cached thread: %d comments", n)
	}
	fe.app.ApplyCatalogEvent(ctx, []byte(`{"id":"`+v.ID+`","thread":true}`))
	if n := comments(); n != 1 {
		t.Fatalf("after the comment's event: %d comments, want 1", n)
	}
}

// A thread cannot grow past the size a stored document may have.
func TestThreadHasAByteBudget(t *testing.T) {
	fe := newForumEnv(t)
	v := fe.post("Un teatro", "Per tutti.", "it")
	ctx := context.Background()
	long := make([]byte, 3800)
	for i := range long {
		long[i] = 'x'
	}
	big := string(long)
	// Fill the stored thread close to the budget behind the app's back (posting thousands of
	// comments through the API would take minutes).
	th := &insieme.Thread{ProposalID: v.ID, ForumID: fe.forum}
	for i := 0; ; i++ {
		c := insieme.Comment{ID: insieme.NewCommentID(v.ID, fmt.Sprint(i)), AuthorID: fe.member.id,
			Body: big, BodyHTML: big, Stance: insieme.StanceNeutral, CreatedAt: fe.clock.Now()}
		if !th.Fits(&c, nil) || insieme.MaxThreadBytes-th.Bytes() < 10000 {
			break // room for a short comment, not for a long one
		}
		th.Comments = append(th.Comments, c)
	}
	if _, err := fe.db.AppendComment(ctx, v.ID, fe.forum, th.Comments[0]); err != nil {
		t.Fatal(err)
	}
	stored, _ := fe.db.Thread(ctx, v.ID)
	th.Version = stored.Version
	if err := fe.db.ReplaceThreadCache(ctx, th); err != nil {
		t.Fatal(err)
	}
	fe.app.ApplyCatalogEvent(ctx, []byte(`{"id":"`+v.ID+`","thread":true}`))
	r := fe.do("POST", "/api/v1/proposals/"+v.ID+"/comments", fe.member.secret, map[string]any{"body": big})
	if r.status != 409 || r.errorOf(t).Code != insieme.ECONFLICT {
		t.Fatalf("comment past the budget: %d %s", r.status, r.body)
	}
	if after, _ := fe.db.Thread(ctx, v.ID); len(after.Comments) != len(th.Comments) {
		t.Fatalf("the refused comment changed the thread: %d, want %d", len(after.Comments), len(th.Comments))
	}
	// A short one still fits.
	if r := fe.do("POST", "/api/v1/proposals/"+v.ID+"/comments", fe.member.secret, map[string]any{"body": "breve"}); r.status != 201 {
		t.Fatalf("short comment: %d %s", r.status, r.body)
	}
}
