package mongo_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// Questions, upvotes and hands: inserts under unique keys, so "once" holds whoever writes.
func TestQuestionsUpvotesAndHands(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	q := &insieme.Question{ID: insieme.NewQuestionID("s1", "a"), SessionID: "s1", AuthorID: "acct1", Anonymous: true,
		Text: "Quando?", Status: insieme.QuestionPending, CreatedAt: now}
	if err := db.CreateQuestion(ctx, q); err != nil {
		t.Fatal(err)
	}
	other := &insieme.Question{ID: insieme.NewQuestionID("s2", "b"), SessionID: "s2", AuthorID: "g1", AuthorName: "Ana", Guest: true,
		Text: "Dove?", Status: insieme.QuestionApproved, CreatedAt: now}
	if err := db.CreateQuestion(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := db.SetQuestionStatus(ctx, q.ID, insieme.QuestionApproved); err != nil {
		t.Fatal(err)
	}
	if err := db.SetQuestionStatus(ctx, "s1~nope", insieme.QuestionApproved); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("status of a missing question: %v", err)
	}
	qs, err := db.QuestionsOf(ctx, "s1")
	if err != nil || len(qs) != 1 || qs[0].Status != insieme.QuestionApproved || !qs[0].Anonymous || qs[0].AuthorID != "acct1" || !qs[0].CreatedAt.Equal(now) {
		t.Fatalf("questions of s1: %+v %v", qs, err)
	}
	if by, _ := db.QuestionsBy(ctx, "acct1"); len(by) != 1 || by[0].ID != q.ID {
		t.Fatalf("questions by acct1: %+v", by)
	}

	// Twenty concurrent upvotes by one voter: one is stored, the others conflict.
	var ok, conflicts atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.AddUpvote(ctx, &insieme.Upvote{QuestionID: q.ID, SessionID: "s1", VoterID: "v1", CreatedAt: now})
			switch insieme.ErrorCode(err) {
			case "":
				ok.Add(1)
			case insieme.ECONFLICT:
				conflicts.Add(1)
			default:
				t.Errorf("upvote: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || conflicts.Load() != 19 {
		t.Fatalf("one voter's upvotes: %d stored, %d conflicts", ok.Load(), conflicts.Load())
	}
	if err := db.AddUpvote(ctx, &insieme.Upvote{QuestionID: q.ID, SessionID: "s1", VoterID: "v2", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddUpvote(ctx, &insieme.Upvote{QuestionID: other.ID, SessionID: "s2", VoterID: "v1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if us, _ := db.UpvotesOf(ctx, "s1"); len(us) != 2 {
		t.Fatalf("upvotes of s1: %+v", us)
	}
	if us, _ := db.UpvotesBy(ctx, "v1"); len(us) != 2 {
		t.Fatalf("upvotes by v1: %+v", us)
	}
	// Deleting a question takes its upvotes along; deleting a voter's takes theirs.
	if err := db.DeleteQuestions(ctx, []string{q.ID}); err != nil {
		t.Fatal(err)
	}
	if qs, _ := db.QuestionsOf(ctx, "s1"); len(qs) != 0 {
		t.Fatalf("deleted question kept: %+v", qs)
	}
	if us, _ := db.UpvotesOf(ctx, "s1"); len(us) != 0 {
		t.Fatalf("upvotes of a deleted question kept: %+v", us)
	}
	if err := db.DeleteUpvotesBy(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	if us, _ := db.UpvotesOf(ctx, "s2"); len(us) != 0 {
		t.Fatalf("v1's upvotes kept: %+v", us)
	}

	// Hands: raising twice conflicts, lowering says whether one was up.
	h := &insieme.Hand{SessionID: "s1", ParticipantID: "g1", Name: "Ana", Guest: true, Since: now}
	if err := db.RaiseHand(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := db.RaiseHand(ctx, h); insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("second raise: %v", err)
	}
	if err := db.RaiseHand(ctx, &insieme.Hand{SessionID: "s1", ParticipantID: "acct1", Since: now.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	hs, err := db.HandsOf(ctx, "s1")
	if err != nil || len(hs) != 2 || hs[0].ParticipantID != "g1" || hs[0].Name != "Ana" || !hs[0].Guest || hs[1].ParticipantID != "acct1" {
		t.Fatalf("hands of s1: %+v %v", hs, err)
	}
	if by, _ := db.HandsBy(ctx, "acct1"); len(by) != 1 {
		t.Fatalf("hands by acct1: %+v", by)
	}
	if lowered, err := db.LowerHand(ctx, "s1", "g1"); !lowered || err != nil {
		t.Fatalf("lower: %v %v", lowered, err)
	}
	if lowered, err := db.LowerHand(ctx, "s1", "g1"); lowered || err != nil {
		t.Fatalf("lower again: %v %v", lowered, err)
	}
}
