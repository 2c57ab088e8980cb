package mongo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

func TestThreads(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	empty, err := db.Thread(ctx, "p1")
	if err != nil || len(empty.Comments) != 0 || empty.Version != 0 {
		t.Fatalf("empty thread: %+v %v", empty, err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := insieme.Comment{ID: insieme.NewCommentID("p1", fmt.Sprint(i)), AuthorID: "a", Body: "ciao مرحبا", Stance: insieme.StanceFor, CreatedAt: now}
			if _, err := db.AppendComment(ctx, "p1", "f1", c); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	th, err := db.Thread(ctx, "p1")
	if err != nil || len(th.Comments) != 50 || th.Version != 50 || th.ForumID != "f1" {
		t.Fatalf("after 50 concurrent appends: %d comments, version %d, %v", len(th.Comments), th.Version, err)
	}
	if c := th.Comments[0]; c.Body != "ciao مرحبا" || !c.CreatedAt.Equal(now) || c.EditedAt != nil {
		t.Fatalf("comment: %+v", c)
	}
	stale := *th
	th.Comments[0].Deleted = true
	if err := db.SaveThread(ctx, th, th.Comments[0].ID); err != nil || th.Version != 51 {
		t.Fatalf("save: %v %d", err, th.Version)
	}
	if err := db.SaveThread(ctx, &stale); insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("stale save: %v", err)
	}
	again, _ := db.Thread(ctx, "p1")
	if !again.Comments[0].Deleted || len(again.Comments) != 50 {
		t.Fatalf("saved thread: %+v", again.Comments[0])
	}
	mine, err := db.CommentsBy(ctx, "a")
	if err != nil || len(mine) != 50 || !mine[0].CreatedAt.Equal(now) {
		t.Fatalf("comments by a: %d %v", len(mine), err)
	}
	deleted := 0
	for _, c := range mine {
		if c.Deleted {
			deleted++
		}
	}
	if deleted != 1 {
		t.Fatalf("the saved change reached %d comment documents, want 1", deleted)
	}
	// The cached thread agrees with the comments: a rebuild changes nothing.
	if _, changed, err := db.RebuildThread(ctx, "p1", "f1"); err != nil || changed {
		t.Fatalf("rebuild of an intact thread: changed %v, %v", changed, err)
	}
	if p, ok := insieme.ProposalOfComment(th.Comments[3].ID); !ok || p != "p1" {
		t.Fatalf("proposal of comment: %q %v", p, ok)
	}
}

// The thread document is a cache: when it lost comments (as concurrent writers on FerretDB
// can make it), a rebuild restores them from their own documents.
func TestRebuildThreadRestoresLostComments(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range 3 {
		c := insieme.Comment{ID: insieme.NewCommentID("p2", fmt.Sprint(i)), AuthorID: "b", Body: fmt.Sprint("c", i), Stance: insieme.StanceNeutral, CreatedAt: now.Add(time.Duration(i) * time.Second)}
		if _, err := db.AppendComment(ctx, "p2", "f1", c); err != nil {
			t.Fatal(err)
		}
	}
	th, _ := db.Thread(ctx, "p2")
	edited := th.Comments[2]
	edited.Body = "changed"
	th.Comments = th.Comments[:1] // the cache lost two comments and never saw the edit
	if err := db.SaveThread(ctx, th); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveThread(ctx, &insieme.Thread{ProposalID: "p2", ForumID: "f1", Version: th.Version, Comments: []insieme.Comment{th.Comments[0], edited}}, edited.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveThread(ctx, &insieme.Thread{ProposalID: "p2", ForumID: "f1", Version: th.Version + 1, Comments: th.Comments}); err != nil {
		t.Fatal(err)
	}
	rebuilt, changed, err := db.RebuildThread(ctx, "p2", "f1")
	if err != nil || !changed || len(rebuilt.Comments) != 3 || rebuilt.Comments[2].Body != "changed" || rebuilt.Comments[1].Body != "c1" {
		t.Fatalf("rebuild: changed %v, %+v, %v", changed, rebuilt, err)
	}
	if again, _ := db.Thread(ctx, "p2"); len(again.Comments) != 3 || again.Version != rebuilt.Version {
		t.Fatalf("stored after rebuild: %+v", again)
	}
	// A thread whose cache document is gone altogether is rebuilt too.
	if _, err := db.AppendComment(ctx, "p3", "f1", insieme.Comment{ID: insieme.NewCommentID("p3", "x"), AuthorID: "b", Body: "solo", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if r, changed, err := db.RebuildThread(ctx, "p3", "f1"); err != nil || changed || len(r.Comments) != 1 {
		t.Fatalf("rebuild p3: %v %+v %v", changed, r, err)
	}
}
