package mongo_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

func newProposal(id string, now time.Time) *insieme.Proposal {
	lat, lng := 41.1171, 16.8719
	answered := now.Add(time.Hour)
	return &insieme.Proposal{ID: id, ForumID: "f1", AuthorID: "a1", OrgID: "o1",
		Title: "Sportello multilingue — مكتب متعدد اللغات — 多语言服务台", Body: "Un **sportello**.\n\nشباك.", BodyHTML: "<p>Un <strong>sportello</strong>.</p>",
		Language: "it", Category: "documents", Place: &insieme.Place{Name: "Bari Libertà", Lat: &lat, Lng: &lng},
		Status: insieme.ProposalSubmitted, Supports: 2, Comments: 3, Hidden: true, Tokens: []string{"sportello", "多语", "语言"},
		CreatedAt: now, UpdatedAt: now, AnsweredAt: &answered}
}

func TestProposalRoundTripAndUpdate(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := ms()
	p := newProposal("p1", now)
	if err := db.CreateProposal(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateProposal(ctx, newProposal("p1", now)); insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("same id twice: %v", err)
	}
	got, err := db.Proposal(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	p.Translated = []string{} // none yet, known: unlike a proposal of an earlier version (nil)
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, p)
	}
	if _, err := db.Proposal(ctx, "nope"); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("unknown proposal: %v", err)
	}

	// A place without coordinates; no answer yet.
	p2 := &insieme.Proposal{ID: "p2", ForumID: "f1", AuthorID: "a2", Title: "t", Language: "ar",
		Place: &insieme.Place{Name: "حي المدينة القديمة"}, Status: insieme.ProposalSubmitted, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateProposal(ctx, p2); err != nil {
		t.Fatal(err)
	}
	got, err = db.Proposal(ctx, "p2")
	p2.Translated = []string{}
	if err != nil || !reflect.DeepEqual(got, p2) {
		t.Fatalf("place without coordinates:\n got %+v\nwant %+v (%v)", got, p2, err)
	}

	// Update: the given fields change, the counts and the rest stay; the place goes.
	later := now.Add(time.Minute)
	title, status, hidden := "Nuovo titolo", insieme.ProposalAccepted, false
	tokens := []string{"nuovo", "titolo"}
	answered := now.Add(2 * time.Hour)
	var noPlace *insieme.Place
	got, err = db.UpdateProposal(ctx, "p1", insieme.ProposalUpdate{Title: &title, Status: &status, Hidden: &hidden,
		Tokens: &tokens, AnsweredAt: &answered, Place: &noPlace}, later)
	if err != nil {
		t.Fatal(err)
	}
	want := *p
	want.Title, want.Status, want.Hidden, want.Tokens, want.AnsweredAt, want.Place, want.UpdatedAt =
		title, status, false, tokens, &answered, nil, later
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("after update:\n got %+v\nwant %+v", got, &want)
	}
	// A place again, with coordinates.
	lat, lng := 40.3515, 18.1750
	place := &insieme.Place{Name: "Lecce", Lat: &lat, Lng: &lng}
	got, err = db.UpdateProposal(ctx, "p1", insieme.ProposalUpdate{Place: &place}, later)
	if err != nil || !reflect.DeepEqual(got.Place, place) || got.Title != title {
		t.Fatalf("place again: %+v %v", got, err)
	}
	if _, err := db.UpdateProposal(ctx, "nope", insieme.ProposalUpdate{Title: &title}, later); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("update unknown: %v", err)
	}

	// Counts move by $inc, in both directions.
	got, err = db.AddToCounts(ctx, "p1", 1, -2)
	if err != nil || got.Supports != 3 || got.Comments != 1 || got.Title != title {
		t.Fatalf("add to counts: %+v %v", got, err)
	}
	if _, err := db.AddToCounts(ctx, "nope", 1, 0); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("counts of unknown: %v", err)
	}
	// A recount replaces them, and leaves the proposal's own fields alone.
	if wrote, err := db.SetCounts(ctx, "p1", insieme.Counts{Supports: 3, Comments: 1}, insieme.Counts{Supports: 7, Comments: 5}); err != nil || !wrote {
		t.Fatalf("set counts: %v %v", wrote, err)
	}
	// Not over counts that moved since the recount read them.
	if wrote, err := db.SetCounts(ctx, "p1", insieme.Counts{Supports: 3, Comments: 1}, insieme.Counts{Supports: 1, Comments: 1}); err != nil || wrote {
		t.Fatalf("set counts over moved ones: %v %v", wrote, err)
	}
	if got, err = db.Proposal(ctx, "p1"); err != nil || got.Supports != 7 || got.Comments != 5 || got.Title != title || got.Place == nil {
		t.Fatalf("set counts: %+v %v", got, err)
	}
	n := 0
	if err := db.AllProposals(ctx, func(p *insieme.Proposal) error {
		if p.ID == "p1" && (p.Supports != 7 || p.Comments != 5) {
			t.Errorf("all proposals: p1 counts %d %d", p.Supports, p.Comments)
		}
		n++
		return nil
	}); err != nil || n != 2 {
		t.Fatalf("all proposals: %d %v", n, err)
	}

	by, err := db.ProposalsBy(ctx, "a2")
	if err != nil || len(by) != 1 || by[0].ID != "p2" {
		t.Fatalf("by a2: %v %v", by, err)
	}
}

func TestAllProposalsVisitsEachOnce(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := ms()
	const n = 57
	for i := n - 1; i >= 0; i-- { // inserted out of order; visited in id order
		if err := db.CreateProposal(ctx, newProposal(fmt.Sprintf("p%03d", i), now)); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	if err := db.AllProposals(ctx, func(p *insieme.Proposal) error {
		ids = append(ids, p.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(ids) != n {
		t.Fatalf("visited %d, want %d", len(ids), n)
	}
	for i, id := range ids {
		if id != fmt.Sprintf("p%03d", i) {
			t.Fatalf("visit %d is %s: %v", i, id, ids)
		}
	}
	// An error from the callback stops the walk and comes back.
	stop := errors.New("stop")
	count := 0
	err := db.AllProposals(ctx, func(*insieme.Proposal) error {
		count++
		if count == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || count != 3 {
		t.Fatalf("stop: %v after %d", err, count)
	}
}

func TestTranslationsUpsert(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := ms()
	ar := &insieme.Translation{ProposalID: "p1", Language: "ar", Title: "مكتب", Body: "نص", BodyHTML: "<p>نص</p>",
		TranslatorID: "m1", Machine: true, CreatedAt: now, UpdatedAt: now}
	zh := &insieme.Translation{ProposalID: "p1", Language: "zh", Title: "服务台", Body: "正文", BodyHTML: "<p>正文</p>",
		TranslatorID: "m2", CreatedAt: now, UpdatedAt: now}
	for _, tr := range []*insieme.Translation{zh, ar} {
		if err := db.PutTranslation(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Translations(ctx, "p1", nil)
	if err != nil || len(got) != 2 || !reflect.DeepEqual(got[0], ar) || !reflect.DeepEqual(got[1], zh) {
		t.Fatalf("translations: %+v %v", got, err)
	}
	// Only the languages asked for are looked up.
	if got, err := db.Translations(ctx, "p1", []string{"zh", "fr"}); err != nil || len(got) != 1 || got[0].Language != "zh" {
		t.Fatalf("translations into zh, fr: %+v %v", got, err)
	}
	// Putting Arabic again replaces it (a person's translation over the machine's).
	ar2 := &insieme.Translation{ProposalID: "p1", Language: "ar", Title: "مكتب متعدد اللغات", Body: "نص جديد",
		BodyHTML: "<p>نص جديد</p>", TranslatorID: "m2", CreatedAt: now, UpdatedAt: now.Add(time.Minute)}
	if err := db.PutTranslation(ctx, ar2); err != nil {
		t.Fatal(err)
	}
	got, err = db.Translations(ctx, "p1", nil)
	if err != nil || len(got) != 2 || !reflect.DeepEqual(got[0], ar2) {
		t.Fatalf("after replace: %+v %v", got, err)
	}
	if none, err := db.Translations(ctx, "p2", nil); err != nil || len(none) != 0 {
		t.Fatalf("translations of p2: %v %v", none, err)
	}
	by, err := db.TranslationsBy(ctx, "m2")
	if err != nil || len(by) != 2 {
		t.Fatalf("by m2: %+v %v", by, err)
	}
	if by, _ := db.TranslationsBy(ctx, "m1"); len(by) != 0 {
		t.Fatalf("m1's translation was replaced, still listed: %+v", by)
	}
}

func TestSupports(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := ms()
	s := &insieme.Support{ProposalID: "p1", ForumID: "f1", AccountID: "a1", CreatedAt: now}
	if err := db.AddSupport(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := db.AddSupport(ctx, s); insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("second support: %v", err)
	}
	if ok, err := db.HasSupport(ctx, "p1", "a1"); err != nil || !ok {
		t.Fatalf("has support: %v %v", ok, err)
	}
	if ok, err := db.HasSupport(ctx, "p1", "a2"); err != nil || ok {
		t.Fatalf("has no support: %v %v", ok, err)
	}
	_ = db.AddSupport(ctx, &insieme.Support{ProposalID: "p2", ForumID: "f1", AccountID: "a1", CreatedAt: now.Add(time.Second)})
	by, err := db.SupportsBy(ctx, "a1")
	if err != nil || len(by) != 2 || !reflect.DeepEqual(by[0], s) || by[1].ProposalID != "p2" {
		t.Fatalf("supports by a1: %+v %v", by, err)
	}
	if n, err := db.CountSupports(ctx, "p1"); err != nil || n != 1 {
		t.Fatalf("count: %d %v", n, err)
	}
	if err := db.RemoveSupport(ctx, "p1", "a1"); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveSupport(ctx, "p1", "a1"); insieme.ErrorCode(err) != insieme.ENOTFOUND {
		t.Fatalf("remove twice: %v", err)
	}
	if ok, _ := db.HasSupport(ctx, "p1", "a1"); ok {
		t.Fatal("removed support still there")
	}
	// Supporting again after withdrawing works.
	if err := db.AddSupport(ctx, s); err != nil {
		t.Fatalf("support again: %v", err)
	}
}

// 100 people support at once, and 100 requests of one person race: every distinct support is
// stored once, the same person's exactly once, and the kept count (one $inc per stored
// support) ends equal to the supports counted from the store.
func TestConcurrentSupportsKeepExactCount(t *testing.T) {
	ctx := context.Background()
	db := store.DB(t)
	now := ms()
	p := newProposal("p1", now)
	p.Supports, p.Comments = 0, 0
	if err := db.CreateProposal(ctx, p); err != nil {
		t.Fatal(err)
	}
	const n = 100
	var wg sync.WaitGroup
	var stored, sameWins, conflicts atomic.Int64
	errs := make(chan error, 2*n)
	support := func(account string, same bool) {
		defer wg.Done()
		err := db.AddSupport(ctx, &insieme.Support{ProposalID: "p1", ForumID: "f1", AccountID: account, CreatedAt: now})
		switch insieme.ErrorCode(err) {
		case "":
			stored.Add(1)
			if same {
				sameWins.Add(1)
			}
			if _, err := db.AddToCounts(ctx, "p1", 1, 0); err != nil {
				errs <- err
			}
		case insieme.ECONFLICT:
			conflicts.Add(1)
		default:
			errs <- err
		}
	}
	for i := 0; i < n; i++ {
		wg.Add(2)
		go support(fmt.Sprintf("a%03d", i), false)
		go support("same", true)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if sameWins.Load() != 1 || conflicts.Load() != n-1 {
		t.Fatalf("same person: %d stored, %d conflicts; want 1 and %d", sameWins.Load(), conflicts.Load(), n-1)
	}
	counted, err := db.CountSupports(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Proposal(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if counted != n+1 || got.Supports != counted || int64(counted) != stored.Load() {
		t.Fatalf("kept count %d, counted %d, stored %d; want %d", got.Supports, counted, stored.Load(), n+1)
	}
}
