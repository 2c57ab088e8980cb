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
	id0 := th.Comments[0].ID
	changed, c0, err := db.ChangeComment(ctx, "p1", id0, func(_ *insieme.Thread, c *insieme.Comment) error {
		c.Deleted = true
		return nil
	})
	if err != nil || changed.Version != 51 || !c0.Deleted || c0.Rev != 1 {
		t.Fatalf("change: %v version %d, %+v", err, changed.Version, c0)
	}
	// A change refused by its function stores nothing.
	refusal := insieme.Errorf(insieme.ECONFLICT, "no")
	if _, _, err := db.ChangeComment(ctx, "p1", id0, func(_ *insieme.Thread, c *insieme.Comment) error {
		c.Body = "never"
		return refusal
	}); err != refusal {
		t.Fatalf("refused change: %v", err)
	}
	if _, _, err := db.ChangeComment(ctx, "p1", "p1~nothere", func(*insieme.Thread, *insieme.Comment) error { return nil }); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("change of an unknown comment: %v", err)
	}
	again, _ := db.Thread(ctx, "p1")
	if !again.Comments[0].Deleted || len(again.Comments) != 50 || again.Version != 51 {
		t.Fatalf("changed thread: %+v", again.Comments[0])
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
	if deleted != 1 || mine[0].Body == "never" {
		t.Fatalf("the change reached %d comments, want 1 (%+v)", deleted, mine[0])
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
	lost := th.Comments[2].ID
	th.Comments = th.Comments[:1] // the cache lost two comments
	if err := db.ReplaceThreadCache(ctx, th); err != nil {
		t.Fatal(err)
	}
	// A comment the cache lost can still be changed.
	if _, c, err := db.ChangeComment(ctx, "p2", lost, func(_ *insieme.Thread, c *insieme.Comment) error {
		c.Body = "changed"
		return nil
	}); err != nil || c.Rev != 1 {
		t.Fatalf("change of a comment the cache lost: %+v %v", c, err)
	}
	// ... and the cache loses that change too.
	if err := db.ReplaceThreadCache(ctx, &insieme.Thread{ProposalID: "p2", ForumID: "f1", Version: th.Version + 1, Comments: th.Comments}); err != nil {
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

// Two nodes changing one comment at the same instant (a moderator hides it while its author
// edits it) both land: the revisions are inserts under unique ids, so the later change is
// applied on top of the earlier one, whatever the cached thread's rewrites did; a rebuild
// takes each comment's highest revision.
func TestConcurrentChangesOfOneCommentAllLand(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	other := store.Node(t, db.Name())
	now := time.Now().UTC().Truncate(time.Millisecond)
	const comments = 12
	for i := range comments {
		c := insieme.Comment{ID: insieme.NewCommentID("p4", fmt.Sprint(i)), AuthorID: "u", Body: "first", Stance: insieme.StanceFor, CreatedAt: now}
		if _, err := db.AppendComment(ctx, "p4", "f1", c); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range comments {
		id := insieme.NewCommentID("p4", fmt.Sprint(i))
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, _, err := db.ChangeComment(ctx, "p4", id, func(_ *insieme.Thread, c *insieme.Comment) error {
				c.Hidden = true
				return nil
			}); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if _, _, err := other.ChangeComment(ctx, "p4", id, func(_ *insieme.Thread, c *insieme.Comment) error {
				c.Body = "edited"
				return nil
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	check := func(what string, cs []insieme.Comment) {
		t.Helper()
		if len(cs) != comments {
			t.Fatalf("%s: %d comments, want %d", what, len(cs), comments)
		}
		for _, c := range cs {
			if !c.Hidden || c.Body != "edited" || c.Rev != 2 {
				t.Fatalf("%s: a change was lost: %+v", what, c)
			}
		}
	}
	mine, err := db.CommentsBy(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	check("stored revisions", mine)
	rebuilt, _, err := db.RebuildThread(ctx, "p4", "f1")
	if err != nil {
		t.Fatal(err)
	}
	check("rebuilt thread", rebuilt.Comments)
	// The cache lost every change (as concurrent rewrites could make it): the rebuild restores
	// them, and a second one changes nothing.
	th, _ := db.Thread(ctx, "p4")
	old := slices.Clone(th.Comments)
	for i := range old {
		old[i].Hidden, old[i].Body, old[i].Rev = false, "first", 0
	}
	if err := db.ReplaceThreadCache(ctx, &insieme.Thread{ProposalID: "p4", ForumID: "f1", Version: th.Version, Comments: old}); err != nil {
		t.Fatal(err)
	}
	rebuilt, changed, err := db.RebuildThread(ctx, "p4", "f1")
	if err != nil || !changed {
		t.Fatalf("rebuild: %v %v", changed, err)
	}
	check("thread rebuilt from a stale cache", rebuilt.Comments)
	if _, changed, _ := db.RebuildThread(ctx, "p4", "f1"); changed {
		t.Fatal("a second rebuild changed the thread")
	}
	// A change made on the stale cache starts from the newest revision, not the cache's.
	if err := db.ReplaceThreadCache(ctx, &insieme.Thread{ProposalID: "p4", ForumID: "f1", Version: rebuilt.Version, Comments: old}); err != nil {
		t.Fatal(err)
	}
	_, c, err := db.ChangeComment(ctx, "p4", old[0].ID, func(_ *insieme.Thread, c *insieme.Comment) error {
		c.Stance = insieme.StanceAgainst
		return nil
	})
	if err != nil || c.Rev != 3 || !c.Hidden || c.Body != "edited" || c.Stance != insieme.StanceAgainst {
		t.Fatalf("change on a stale cache: %+v %v", c, err)
	}
}

// Editing or deleting a comment leaves its old text nowhere in the store: the older
// revisions' documents stay (their ids guard the revision numbers) with their text emptied.
func TestChangesEmptyTheOlderText(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	id := insieme.NewCommentID("p6", "x")
	if _, err := db.AppendComment(ctx, "p6", "f1", insieme.Comment{ID: id, AuthorID: "u", Body: "il mio numero è 333-1234567",
		BodyHTML: "<p>il mio numero è 333-1234567</p>", CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	raw := func() map[string]string {
		var docs []bson.M
		cur, err := db.Raw().Collection("comments").Find(ctx, bson.M{"proposalId": "p6"})
		if err != nil || cur.All(ctx, &docs) != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, d := range docs {
			out[d["_id"].(string)] = d["body"].(string) + d["bodyHtml"].(string)
		}
		return out
	}
	if _, _, err := db.ChangeComment(ctx, "p6", id, func(_ *insieme.Thread, c *insieme.Comment) error {
		c.Body, c.BodyHTML = "corretto", "<p>corretto</p>"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := raw(); len(got) != 2 || got[id] != "" || got[id+"#1"] != "corretto<p>corretto</p>" {
		t.Fatalf("after an edit: %q", got)
	}
	if _, c, err := db.ChangeComment(ctx, "p6", id, func(_ *insieme.Thread, c *insieme.Comment) error {
		c.Deleted, c.Body, c.BodyHTML = true, "", ""
		return nil
	}); err != nil || c.Rev != 2 {
		t.Fatal(err)
	}
	for k, text := range raw() {
		if text != "" {
			t.Fatalf("after the deletion %s still holds %q", k, text)
		}
	}
	// A clean-up that did not finish (as after a node stopped) is finished by a rebuild.
	if _, err := db.Raw().Collection("comments").UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"body": "rimasto"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.RebuildThread(ctx, "p6", "f1"); err != nil {
		t.Fatal(err)
	}
	if got := raw(); got[id] != "" {
		t.Fatalf("after the rebuild: %q", got)
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
		bson.M{"id": "old~3", "authorId": "w", "body": "tre", "stance": "for", "createdAt": now, "rev": 1},
	}}); err != nil {
		t.Fatal(err)
	}
	// A comment a moderator hid (revision 2, its document rewritten in place) while the
	// thread's rewrite was lost: the thread still has revision 1.
	if _, err := raw.Collection("comments").InsertOne(ctx, bson.M{"_id": "old~3", "id": "old~3", "proposalId": "old", "forumId": "f",
		"authorId": "w", "body": "tre", "stance": "for", "hidden": true, "createdAt": now, "rev": 2}); err != nil {
		t.Fatal(err)
	}
	// A comment changed by a version that kept the older text.
	for _, d := range []bson.M{
		{"_id": "other~4", "id": "other~4", "rev": 0, "body": "quattro", "bodyHtml": "<p>quattro</p>"},
		{"_id": "other~4#1", "id": "other~4", "rev": 1, "body": "quattro bis", "bodyHtml": "<p>quattro bis</p>"},
	} {
		d["proposalId"], d["forumId"], d["authorId"], d["createdAt"] = "other", "f", "z", now
		if _, err := raw.Collection("comments").InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
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
	if err != nil || p.Supports != 4 || p.Comments != 3 {
		t.Fatalf("counts: %+v %v", p, err)
	}
	if n, _ := raw.Collection("proposals").CountDocuments(ctx, bson.M{"supports": bson.M{"$exists": true}}); n != 0 {
		t.Fatalf("%d proposals keep counts of their own", n)
	}
	if cs, _ := db.CommentsBy(ctx, "u"); len(cs) != 1 || cs[0].Body != "uno" {
		t.Fatalf("comment documents: %+v", cs)
	}
	var first bson.M
	if err := raw.Collection("comments").FindOne(ctx, bson.M{"_id": "other~4"}).Decode(&first); err != nil || first["body"] != "" || first["bodyHtml"] != "" {
		t.Fatalf("older text kept: %v %v", first, err)
	}
	if cs, _ := db.CommentsBy(ctx, "z"); len(cs) != 1 || cs[0].Body != "quattro bis" {
		t.Fatalf("the newest revision: %+v", cs)
	}
	// The thread is packed now.
	var packed bson.M
	if err := raw.Collection("threads").FindOne(ctx, bson.M{"_id": "old"}).Decode(&packed); err != nil {
		t.Fatal(err)
	}
	if _, ok := packed["comments"]; ok || packed["packed"] == nil {
		t.Fatalf("the thread was not packed: %v", packed)
	}
	if th, err := db.Thread(ctx, "old"); err != nil || len(th.Comments) != 3 || th.Comments[0].Body != "uno" {
		t.Fatalf("packed thread: %+v %v", th, err)
	}
	// Changing the comment starts from its stored revision 2, not the thread's 1: the hiding stays.
	if _, c, err := db.ChangeComment(ctx, "old", "old~3", func(_ *insieme.Thread, c *insieme.Comment) error {
		c.Stance = insieme.StanceAgainst
		return nil
	}); err != nil || c.Rev != 3 || !c.Hidden || c.Stance != insieme.StanceAgainst {
		t.Fatalf("change of a comment changed in place by an older version: %+v %v", c, err)
	}
	if th, _, err := db.RebuildThread(ctx, "old", "f"); err != nil || len(th.Comments) != 3 || !th.Find("old~3").Hidden {
		t.Fatalf("rebuild after migration: %+v %v", th, err)
	}
	if ids, _ := db.Following(ctx, "v"); len(ids) != 1 || ids[0] != "old" {
		t.Fatalf("follows: %v", ids)
	}
	if changed, err := db.RebuildFollowers(ctx, "old"); err != nil || changed {
		t.Fatalf("followers after migration: %v %v", changed, err)
	}
}
