package mongo_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// ms is now in UTC to the millisecond, the precision of a BSON date.
func ms() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func newForum(id string, now time.Time) *insieme.Forum {
	opens, closes := now.Add(time.Hour), now.Add(30*24*time.Hour)
	return &insieme.Forum{ID: id, MunicipalityID: "bari",
		Title:       insieme.Texts{"it": "Forum di Bari", "ar": "منتدى باري", "zh": "巴里论坛"},
		Description: insieme.Texts{"it": "Proposte per la città", "ar": "مقترحات للمدينة", "zh": "城市提案"},
		Territory:   "Bari", Languages: []string{"it", "ar", "zh"}, Categories: []string{"housing", "work"},
		Status: insieme.ForumOpen, OpensAt: &opens, ClosesAt: &closes, AnswerDays: 60, ReportLimit: 3,
		SupportLimit: 5, PersonalPosts: true, CreatedBy: "a1", CreatedAt: now, UpdatedAt: now}
}

func TestForumRoundTripAndUpdate(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := ms()
	f := newForum("f1", now)
	if err := db.CreateForum(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateForum(ctx, newForum("f1", now)); insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("same id twice: %v", err)
	}
	got, err := db.Forum(ctx, "f1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, f) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, f)
	}
	if _, err := db.Forum(ctx, "nope"); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("unknown forum: %v", err)
	}

	// A forum without dates and with nil texts and lists.
	bare := &insieme.Forum{ID: "f0", MunicipalityID: "lecce", Status: insieme.ForumDraft, CreatedAt: now.Add(-time.Minute), UpdatedAt: now}
	if err := db.CreateForum(ctx, bare); err != nil {
		t.Fatal(err)
	}
	got, err = db.Forum(ctx, "f0")
	if err != nil || got.OpensAt != nil || got.ClosesAt != nil || len(got.Title) != 0 || got.Languages != nil {
		t.Fatalf("bare forum: %+v %v", got, err)
	}

	// Update some fields; the others stay; OpensAt goes back to none.
	later := now.Add(time.Minute)
	title := insieme.Texts{"it": "Forum territoriale", "zh": "地区论坛"}
	status := insieme.ForumClosed
	cats := []string{"school"}
	limit := 0
	personal := false
	var noDate *time.Time
	newClose := now.Add(48 * time.Hour)
	newClosePtr := &newClose
	got, err = db.UpdateForum(ctx, "f1", insieme.ForumUpdate{Title: &title, Status: &status, Categories: &cats,
		SupportLimit: &limit, PersonalPost: &personal, OpensAt: &noDate, ClosesAt: &newClosePtr}, later)
	if err != nil {
		t.Fatal(err)
	}
	want := *f
	want.Title, want.Status, want.Categories, want.SupportLimit, want.PersonalPosts = title, status, cats, 0, false
	want.OpensAt, want.ClosesAt, want.UpdatedAt = nil, &newClose, later
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("after update:\n got %+v\nwant %+v", got, &want)
	}
	if again, _ := db.Forum(ctx, "f1"); !reflect.DeepEqual(again, &want) {
		t.Fatalf("stored after update: %+v", again)
	}
	// Dates set again after being removed.
	opens := now.Add(2 * time.Hour)
	opensPtr := &opens
	got, err = db.UpdateForum(ctx, "f1", insieme.ForumUpdate{OpensAt: &opensPtr}, later)
	if err != nil || got.OpensAt == nil || !got.OpensAt.Equal(opens) || got.Title["zh"] != "地区论坛" {
		t.Fatalf("opens again: %+v %v", got, err)
	}
	if _, err := db.UpdateForum(ctx, "nope", insieme.ForumUpdate{Status: &status}, later); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("update unknown: %v", err)
	}

	all, err := db.ListForums(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "f0" || all[1].ID != "f1" {
		t.Fatalf("list: %v %v", all, err)
	}
}

func TestForumRoles(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := ms()
	r := &insieme.ForumRole{ForumID: "f1", AccountID: "a1", Role: insieme.RoleMediator, CreatedAt: now}
	if err := db.SetForumRole(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := db.ForumRole(ctx, "f1", "a1")
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("role: %+v %v", got, err)
	}
	// Setting again replaces, never duplicates.
	r2 := &insieme.ForumRole{ForumID: "f1", AccountID: "a1", Role: "other", CreatedAt: now}
	if err := db.SetForumRole(ctx, r2); err != nil {
		t.Fatal(err)
	}
	_ = db.SetForumRole(ctx, &insieme.ForumRole{ForumID: "f1", AccountID: "a2", Role: insieme.RoleMediator, CreatedAt: now.Add(time.Second)})
	_ = db.SetForumRole(ctx, &insieme.ForumRole{ForumID: "f2", AccountID: "a1", Role: insieme.RoleMediator, CreatedAt: now.Add(2 * time.Second)})
	rs, err := db.ForumRoles(ctx, "f1")
	if err != nil || len(rs) != 2 || rs[0].AccountID != "a1" || rs[0].Role != "other" || rs[1].AccountID != "a2" {
		t.Fatalf("roles of f1: %+v %v", rs, err)
	}
	of, err := db.ForumRolesOf(ctx, "a1")
	if err != nil || len(of) != 2 || of[0].ForumID != "f1" || of[1].ForumID != "f2" {
		t.Fatalf("roles of a1: %+v %v", of, err)
	}
	if err := db.RemoveForumRole(ctx, "f1", "a1"); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveForumRole(ctx, "f1", "a1"); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("remove twice: %v", err)
	}
	if _, err := db.ForumRole(ctx, "f1", "a1"); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("removed role found: %v", err)
	}
}
