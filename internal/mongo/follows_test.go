package mongo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

func TestFollowsAndInbox(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	for _, a := range []string{"a1", "a2", "a1"} {
		if err := db.Follow(ctx, "p1", a); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.Follow(ctx, "p2", "a1")
	if fs, _ := db.Followers(ctx, "p1"); len(fs) != 2 {
		t.Fatalf("followers: %v", fs)
	}
	if fs, err := db.Followers(ctx, "nobody"); err != nil || len(fs) != 0 {
		t.Fatalf("no followers: %v %v", fs, err)
	}
	if err := db.Unfollow(ctx, "p1", "a2"); err != nil {
		t.Fatal(err)
	}
	if fs, _ := db.Followers(ctx, "p1"); len(fs) != 1 || fs[0] != "a1" {
		t.Fatalf("after unfollow: %v", fs)
	}
	if ps, _ := db.Following(ctx, "a1"); len(ps) != 2 {
		t.Fatalf("following: %v", ps)
	}
	if err := db.UnfollowAll(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	if ps, _ := db.Following(ctx, "a1"); len(ps) != 0 {
		t.Fatalf("after unfollowing all: %v", ps)
	}
	base := time.Now().UTC().Truncate(time.Millisecond)
	var in *insieme.Inbox
	var err error
	for i := 0; i < insieme.MaxInbox+5; i++ {
		in, err = db.Notify(ctx, "a1", insieme.Notification{ID: fmt.Sprint(i), Kind: "comment.reply", ProposalID: "p1", CreatedAt: base.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(in.Notifications) != insieme.MaxInbox || in.Notifications[0].ID != "5" || in.Unread() != insieme.MaxInbox {
		t.Fatalf("inbox keeps the newest: %d, first %s, unread %d", len(in.Notifications), in.Notifications[0].ID, in.Unread())
	}
	if err := db.MarkRead(ctx, "a1", base.Add(100*time.Second)); err != nil {
		t.Fatal(err)
	}
	in, _ = db.Inbox(ctx, "a1")
	if in.Unread() != 104 {
		t.Fatalf("unread after reading up to 100: %d", in.Unread())
	}
	// Reading never goes back in time.
	_ = db.MarkRead(ctx, "a1", base)
	if in, _ = db.Inbox(ctx, "a1"); in.Unread() != 104 {
		t.Fatalf("read mark moved back: %d", in.Unread())
	}
}
