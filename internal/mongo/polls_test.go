package mongo_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

func TestPollsAreVersionChecked(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	p := &insieme.Poll{ID: "p1", SessionID: "s1", Kind: insieme.PollRanking, Title: insieme.Texts{"it": "Priorità"},
		Options: []insieme.Texts{{"it": "Casa"}, {"it": "Lavoro", "fr": "Travail"}}, MaxChoices: 2,
		ShowResults: insieme.ResultsLive, Status: insieme.PollDraft, CreatedBy: "host", CreatedAt: now}
	if err := db.CreatePoll(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := db.CreatePoll(ctx, &insieme.Poll{ID: "p2", SessionID: "s2", Kind: insieme.PollScale, Status: insieme.PollDraft, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	stale := *p
	p.Status, p.OpenedAt = insieme.PollOpen, &now
	if err := db.SavePoll(ctx, p); err != nil || p.Version != 1 {
		t.Fatalf("save: %v, version %d", err, p.Version)
	}
	if err := db.SavePoll(ctx, &stale); insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("stale save: %v", err)
	}
	if err := db.DeletePoll(ctx, &stale); insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("stale delete: %v", err)
	}
	p.Status, p.ClosedAt = insieme.PollClosed, &now
	p.Final = &insieme.Tally{Voters: 3, Guests: 1, Accounts: 2, Ballots: 5, Counts: []int{2, 1}, Points: []int{5, 4},
		Words: []insieme.WordCount{{Word: "casa", Count: 2}}}
	if err := db.SavePoll(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := db.Poll(ctx, "p1")
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("read back:\n%+v\n%+v %v", got, p, err)
	}
	ps, err := db.PollsOf(ctx, "s1")
	if err != nil || len(ps) != 1 || ps[0].ID != "p1" {
		t.Fatalf("polls of s1: %+v %v", ps, err)
	}
	if err := db.DeletePoll(ctx, got); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Poll(ctx, "p1"); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("deleted poll: %v", err)
	}
}

func TestBallotsAreAppendOnlyVersions(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	b := func(poll, voter string, version int64, choice int) *insieme.Ballot {
		return &insieme.Ballot{PollID: poll, SessionID: "s1", VoterID: voter, Version: version, Choices: []int{choice}, CreatedAt: now}
	}
	if err := db.InsertBallots(ctx, []*insieme.Ballot{b("p1", "a", 1, 0), b("p1", "a", 2, 1), b("p1", "g1", 1, 1), b("p2", "a", 1, 0)}); err != nil {
		t.Fatal(err)
	}
	// A key stored already fails alone; the rest of the batch is stored.
	err := db.InsertBallots(ctx, []*insieme.Ballot{b("p1", "b", 1, 0), b("p1", "a", 2, 0), b("p1", "c", 1, 1)})
	var be *insieme.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 1 || insieme.ErrorCode(be.Failed[1]) != insieme.ECONFLICT {
		t.Fatalf("a duplicate in a batch: %v", err)
	}
	bs, err := db.Ballots(ctx, "p1")
	if err != nil || len(bs) != 5 {
		t.Fatalf("ballots of p1: %d %v", len(bs), err)
	}
	for _, x := range bs {
		if x.VoterID == "a" && x.Version == 2 && x.Choices[0] != 1 {
			t.Fatalf("a stored ballot was overwritten: %+v", x)
		}
	}
	if bs, err := db.SessionBallots(ctx, "s1"); err != nil || len(bs) != 6 {
		t.Fatalf("ballots of s1: %d %v", len(bs), err)
	}
	mine, err := db.BallotsBy(ctx, "a")
	if err != nil || len(mine) != 3 || !mine[0].CreatedAt.Equal(now) || mine[0].SessionID != "s1" {
		t.Fatalf("a's ballots: %+v %v", mine, err)
	}
	if err := db.DeleteBallotsBy(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if mine, _ := db.BallotsBy(ctx, "a"); len(mine) != 0 {
		t.Fatalf("after erasure: %d ballots of a", len(mine))
	}
	if bs, _ := db.Ballots(ctx, "p1"); len(bs) != 3 {
		t.Fatalf("the others' ballots: %d", len(bs))
	}
}
