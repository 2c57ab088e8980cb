package web

import (
	"context"
	"encoding/csv"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// exported downloads a forum's JSON export and returns the supports of one proposal (-1 when
// it is not in the export).
func (fe *forumEnv) exported(forum, secret, proposal string) (app.OpenData, int) {
	fe.t.Helper()
	r := fe.do("GET", "/api/v1/forums/"+forum+"/export.json", secret, nil)
	if r.status != 200 {
		fe.t.Fatalf("export: %d %s", r.status, r.body)
	}
	var d app.OpenData
	r.json(fe.t, &d)
	for _, p := range d.Proposals {
		if p.ID == proposal {
			return d, p.Supports
		}
	}
	return d, -1
}

// A second download within the cache's lifetime reads nothing from the store: a change made in
// the store in between shows only once the cached export has expired.
func TestOpenDataIsCachedBriefly(t *testing.T) {
	fe := newForumEnv(t)
	pr := fe.post("Orti urbani", "Nel parco.", "it")
	ctx := context.Background()

	first, supports := fe.exported(fe.forum, "", pr.ID)
	if supports != 0 {
		t.Fatalf("supports at first: %d", supports)
	}
	// Straight into the store: neither the app nor its catalogue hear of it.
	if _, err := fe.db.AddToCounts(ctx, pr.ID, 3, 0); err != nil {
		t.Fatal(err)
	}
	if err := fe.db.AppendTimeline(ctx, pr.ID, insieme.TimelineEntry{ID: "cache-test", Kind: insieme.EntryUpdate, Text: "Aggiornamento", CreatedAt: fe.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	fe.clock.Add(59 * time.Second)
	second, supports := fe.exported(fe.forum, "", pr.ID)
	if supports != 0 || !second.Exported.Equal(first.Exported) || len(second.Proposals[0].Timeline) != len(first.Proposals[0].Timeline) {
		t.Fatalf("the second download was read again: supports %d, exported %v then %v", supports, first.Exported, second.Exported)
	}
	// The CSV comes from the same cached export.
	r := fe.do("GET", "/api/v1/forums/"+fe.forum+"/export.csv", "", nil)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(r.body), "\ufeff"))).ReadAll()
	if r.status != 200 || err != nil || len(rows) != 2 || rows[1][6] != "0" {
		t.Fatalf("csv within the window: %d %v %q", r.status, err, rows)
	}

	fe.clock.Add(2 * time.Second) // past the lifetime
	third, supports := fe.exported(fe.forum, "", pr.ID)
	if supports != 3 || !third.Exported.After(first.Exported) || len(third.Proposals[0].Timeline) != len(first.Proposals[0].Timeline)+1 {
		t.Fatalf("after expiry: supports %d, exported %v, timeline %+v", supports, third.Exported, third.Proposals[0].Timeline)
	}
}

// The cache never lets someone download a forum they may not see, and a proposal hidden by
// moderation leaves a cached export at once.
func TestOpenDataCacheKeepsVisibility(t *testing.T) {
	fe := newForumEnv(t)
	ctx := context.Background()
	var forum app.ForumView
	fe.do("GET", "/api/v1/forums/"+fe.forum, "", nil).json(t, &forum)
	title, draft := insieme.Texts{"it": "Bozza"}, insieme.ForumDraft
	d, err := fe.app.CreateForum(ctx, fe.principal(fe.admin), app.ForumInput{MunicipalityID: forum.Municipality.ID, Title: &title, Status: &draft})
	if err != nil {
		t.Fatal(err)
	}
	// Its manager downloads the draft forum, which caches its export...
	fe.exported(d.ID, fe.admin.secret, "")
	// ...and still nobody else gets it.
	for _, secret := range []string{"", fe.member.secret} {
		for _, format := range []string{"json", "csv"} {
			if r := fe.do("GET", "/api/v1/forums/"+d.ID+"/export."+format, secret, nil); r.status != 404 {
				t.Fatalf("a draft forum's cached export (%s) for someone else: %d %s", format, r.status, r.body)
			}
		}
	}

	pr := fe.post("Pubblicità", "Compra qui.", "it")
	other := fe.post("Orti urbani", "Nel parco.", "it")
	if _, n := fe.exported(fe.forum, "", pr.ID); n != 0 {
		t.Fatalf("the proposal is not exported: %d", n)
	}
	reporter := fe.register("Rep")
	fe.do("POST", "/api/v1/reports", reporter.secret, map[string]any{"targetKind": "proposal", "targetId": pr.ID, "reason": "spam"})
	if r := fe.do("POST", "/api/v1/moderation/"+url.PathEscape("proposal:"+pr.ID)+"/decision", fe.admin.secret, map[string]any{"action": "hide", "reason": "Pubblicità"}); r.status != 200 {
		t.Fatalf("hide: %d %s", r.status, r.body)
	}
	if _, n := fe.exported(fe.forum, "", pr.ID); n != -1 {
		t.Fatal("a hidden proposal is still in the cached export")
	}
	if _, n := fe.exported(fe.forum, "", other.ID); n != 0 {
		t.Fatal("the other proposal left the cached export")
	}
	r := fe.do("GET", "/api/v1/forums/"+fe.forum+"/export.csv", "", nil)
	if r.status != 200 || strings.Contains(string(r.body), pr.ID) || !strings.Contains(string(r.body), other.ID) {
		t.Fatalf("csv after hiding: %d %s", r.status, r.body)
	}
}

// Downloads are limited per address, both formats together, with the usual 429.
func TestOpenDataRateLimited(t *testing.T) {
	fe := newForumEnv(t)
	for i := 0; i < exportsPerHour; i++ {
		format := []string{"json", "csv"}[i%2]
		if r := fe.do("GET", "/api/v1/forums/"+fe.forum+"/export."+format, "", nil); r.status != 200 {
			t.Fatalf("download %d: %d %s", i+1, r.status, r.body)
		}
	}
	for _, format := range []string{"json", "csv"} {
		r := fe.do("GET", "/api/v1/forums/"+fe.forum+"/export."+format, "", nil)
		if r.status != 429 || r.header.Get("Retry-After") == "" || r.errorOf(t).Code != insieme.ETOOMANY {
			t.Fatalf("download past the limit (%s): %d %v %s", format, r.status, r.header, r.body)
		}
	}
}
