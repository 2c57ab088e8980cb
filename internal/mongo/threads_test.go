package mongo_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

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
	th.Comments[0].Deleted, th.Comments[0].Rev = true, 1
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
	edited.Body, edited.Rev = "changed", 1
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

// A change that lost the version race leaves no trace in the comment's document, and a
// rebuild keeps the newer revision of each comment: a stale edit cannot undo a hiding.
func TestRebuildKeepsTheNewerRevision(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	c := insieme.Comment{ID: insieme.NewCommentID("p4", "a"), AuthorID: "u", Body: "first", Stance: insieme.StanceFor, CreatedAt: now}
	if _, err := db.AppendComment(ctx, "p4", "f1", c); err != nil {
		t.Fatal(err)
	}
	th, _ := db.Thread(ctx, "p4")
	stale := &insieme.Thread{ProposalID: "p4", ForumID: "f1", Version: th.Version, Comments: slices.Clone(th.Comments)}
	// A moderator hides it (revision 1).
	th.Comments[0].Hidden, th.Comments[0].Rev = true, 1
	if err := db.SaveThread(ctx, th, c.ID); err != nil {
		t.Fatal(err)
	}
	// The author's edit read the thread before: it loses the race and writes nothing.
	stale.Comments[0].Body, stale.Comments[0].Rev = "edited", 1
	if err := db.SaveThread(ctx, stale, c.ID); insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("stale save: %v", err)
	}
	mine, _ := db.CommentsBy(ctx, "u")
	if len(mine) != 1 || !mine[0].Hidden || mine[0].Body != "first" || mine[0].Rev != 1 {
		t.Fatalf("the comment's document: %+v", mine)
	}
	// The cache lost the hiding (as a concurrent rewrite could make it): the rebuild restores it.
	th, _ = db.Thread(ctx, "p4")
	lost := &insieme.Thread{ProposalID: "p4", ForumID: "f1", Version: th.Version, Comments: []insieme.Comment{c}}
	if err := db.SaveThread(ctx, lost); err != nil {
		t.Fatal(err)
	}
	rebuilt, changed, err := db.RebuildThread(ctx, "p4", "f1")
	if err != nil || !changed || !rebuilt.Comments[0].Hidden || rebuilt.Comments[0].Rev != 1 {
		t.Fatalf("rebuild: %v %+v %v", changed, rebuilt, err)
	}
	// An older document does not overwrite a newer one.
	if _, changed, _ := db.RebuildThread(ctx, "p4", "f1"); changed {
		t.Fatal("a second rebuild changed the thread")
	}
}

// A store written before comments, counts and follows had documents of their own is
// brought to the current layout when it opens: nothing is zeroed or dropped.
func TestOlderStoresAreMigrated(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	raw := db.Raw()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := raw.Collection("proposals").InsertOne(ctx, bson.M{"_id": "old", "forumId": "f", "title": "t", "status": "submitted",
		"supports": 4, "comments": 2, "createdAt": now, "updatedAt": now, "tokens": bson.A{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Collection("threads").InsertOne(ctx, bson.M{"_id": "old", "forumId": "f", "version": 2, "comments": bson.A{
		bson.M{"id": "old~1", "authorId": "u", "body": "uno", "stance": "for", "createdAt": now},
		bson.M{"id": "old~2", "authorId": "v", "body": "due", "stance": "against", "createdAt": now},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Collection("followers").InsertOne(ctx, bson.M{"_id": "old", "followers": bson.A{"u", "v"}}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"a", "b", "c", "d"} { // the supports the kept count stood for
		if _, err := raw.Collection("supports").InsertOne(ctx, bson.M{"_id": "old:" + a, "proposalId": "old", "forumId": "f", "accountId": a, "createdAt": now}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Collection("meta").DeleteMany(ctx, bson.M{}); err != nil { // as an older version left it
		t.Fatal(err)
	}
	for range 2 { // twice: migrating again changes nothing
		if err := db.EnsureIndexes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	p, err := db.Proposal(ctx, "old")
	if err != nil || p.Supports != 4 || p.Comments != 2 {
		t.Fatalf("counts: %+v %v", p, err)
	}
	if n, _ := raw.Collection("proposals").CountDocuments(ctx, bson.M{"supports": bson.M{"$exists": true}}); n != 0 {
		t.Fatalf("%d proposals keep counts of their own", n)
	}
	if cs, _ := db.CommentsBy(ctx, "u"); len(cs) != 1 || cs[0].Body != "uno" {
		t.Fatalf("comment documents: %+v", cs)
	}
	if th, changed, err := db.RebuildThread(ctx, "old", "f"); err != nil || changed || len(th.Comments) != 2 {
		t.Fatalf("rebuild after migration: %v %+v %v", changed, th, err)
	}
	if ids, _ := db.Following(ctx, "v"); len(ids) != 1 || ids[0] != "old" {
		t.Fatalf("follows: %v", ids)
	}
	if changed, err := db.RebuildFollowers(ctx, "old"); err != nil || changed {
		t.Fatalf("followers after migration: %v %v", changed, err)
	}
}
