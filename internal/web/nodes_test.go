package web

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

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
	if err := fe.db.SaveThread(ctx, th); err != nil {
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
