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
	if err := db.SaveThread(ctx, th); err != nil || th.Version != 51 {
		t.Fatalf("save: %v %d", err, th.Version)
	}
	if err := db.SaveThread(ctx, &stale); insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("stale save: %v", err)
	}
	again, _ := db.Thread(ctx, "p1")
	if !again.Comments[0].Deleted || len(again.Comments) != 50 {
		t.Fatalf("saved thread: %+v", again.Comments[0])
	}
	n := 0
	if err := db.AllThreads(ctx, func(*insieme.Thread) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("all threads: %d %v", n, err)
	}
	if p, ok := insieme.ProposalOfComment(th.Comments[3].ID); !ok || p != "p1" {
		t.Fatalf("proposal of comment: %q %v", p, ok)
	}
}
