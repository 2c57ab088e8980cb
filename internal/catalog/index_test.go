package catalog

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"
)

// searchLike behaves like search.Match (which this package does not import): a query token
// matches a document token it is a prefix of, except that a Han token matches only whole,
// and a single Han character also matches a pair containing it.
func searchLike(doc, query []string) bool {
	for _, q := range query {
		r, size := utf8.DecodeRuneInString(q)
		han := unicode.Is(unicode.Han, r)
		found := false
		for _, d := range doc {
			dr, _ := utf8.DecodeRuneInString(d)
			dHan := unicode.Is(unicode.Han, dr)
			if d == q ||
				han && size == len(q) && dHan && strings.Contains(d, q) ||
				!han && !dHan && strings.HasPrefix(d, q) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// TestIndexAgreesWithMatch compares indexed searches with match applied to every entry,
// before and after edits, moves and removals, over a vocabulary big enough to be merged.
func TestIndexAgreesWithMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	letters := []rune("abcdeilmnorstuаеіїкнорт")
	han := []rune("移民协会学校医院工作")
	var words []string
	for range 6000 {
		var b strings.Builder
		for range 2 + r.IntN(6) {
			b.WriteRune(letters[r.IntN(len(letters))])
		}
		words = append(words, b.String())
	}
	for range 40 {
		words = append(words, string([]rune{han[r.IntN(len(han))], han[r.IntN(len(han))]}))
	}
	words = append(words, "5", "і", "55", "50")
	doc := func() []string {
		out := make([]string, 1+r.IntN(30))
		for i := range out {
			if r.IntN(3) == 0 {
				out[i] = words[len(words)-50+r.IntN(50)] // Han pairs and short tokens are common
			} else {
				out[i] = words[r.IntN(len(words))]
			}
		}
		return out
	}

	c := New(searchLike)
	entries := map[string]Entry{}
	put := func(e Entry) {
		c.Put(e)
		entries[e.ID] = e
	}
	for i := range 3000 {
		put(Entry{ID: fmt.Sprintf("p%04d", i), ForumID: fmt.Sprintf("f%d", i%3), Hidden: i%17 == 0,
			Tokens: doc(), CreatedAt: at(r.IntN(500))})
	}

	queries := [][]string{{"移"}, {"民"}, {"移民"}, {"民协"}, {"5"}, {"і"}, {"55"}, {"移民", "5"}, {"zz"}, {"移民协"}}
	for range 60 {
		var q []string
		for range 1 + r.IntN(3) {
			w := words[r.IntN(len(words))]
			n := 1 + r.IntN(utf8.RuneCountInString(w))
			q = append(q, string([]rune(w)[:n]))
		}
		queries = append(queries, q)
	}

	check := func(stage string) {
		t.Helper()
		for _, forumID := range []string{"f0", "f1", "f2"} {
			for _, terms := range queries {
				var want []Entry
				for _, e := range entries {
					if e.ForumID == forumID && searchLike(e.Tokens, terms) {
						want = append(want, e)
					}
				}
				wantIDs := reference(want, SortNewest, "", func(Entry) bool { return true })
				got := all(t, c, Query{ForumID: forumID, Terms: terms, IncludeHidden: true, Limit: MaxLimit})
				if !slices.Equal(got, wantIDs) {
					t.Fatalf("%s: forum %s terms %q: got %d entries, want %d", stage, forumID, terms, len(got), len(wantIDs))
				}
				p := mustQuery(t, c, Query{ForumID: forumID, Terms: terms, IncludeHidden: true, Sort: SortSupports})
				if p.Total != len(wantIDs) {
					t.Fatalf("%s: forum %s terms %q sorted by supports: Total %d, want %d", stage, forumID, terms, p.Total, len(wantIDs))
				}
			}
		}
	}
	check("loaded")
	if len(c.vocab.sorted) == 0 || len(c.vocab.pending) == 0 {
		t.Fatalf("vocabulary not exercised: %d sorted, %d pending", len(c.vocab.sorted), len(c.vocab.pending))
	}

	for i := range 1500 {
		id := fmt.Sprintf("p%04d", r.IntN(3000))
		e, ok := entries[id]
		switch {
		case !ok:
			put(Entry{ID: id, ForumID: "f1", Tokens: doc(), CreatedAt: at(r.IntN(500))})
		case i%4 == 0: // an edit: same forum, same time, new text
			e.Tokens = doc()
			put(e)
		case i%4 == 1: // moved to another forum
			e.ForumID = fmt.Sprintf("f%d", r.IntN(3))
			put(e)
		case i%4 == 2: // another creation time, same text
			e.CreatedAt = at(r.IntN(500))
			put(e)
		default:
			c.Remove(id)
			delete(entries, id)
		}
	}
	check("edited")
}

// TestUpdateInPlace changes every field of an entry that keeps its forum and creation time.
func TestUpdateInPlace(t *testing.T) {
	c := New(nil)
	base := Entry{ID: "a", ForumID: "f", OrgID: "o1", AuthorID: "u1", Category: "school", Status: "submitted",
		Language: "it", Tokens: []string{"scuola"}, CreatedAt: at(1)}
	c.Put(base)
	c.Put(Entry{ID: "b", ForumID: "f", Category: "school", Tokens: []string{"scuola"}, CreatedAt: at(2)})
	c.SetCounts("a", 7, 3)

	e := base
	e.OrgID, e.AuthorID, e.Category, e.Status, e.Language = "o2", "u2", "health", "accepted", "fr"
	e.Tokens, e.Hidden, e.Supports, e.Title = []string{"medico"}, true, 9, "new"
	c.Put(e)

	tests := map[string]struct {
		q    Query
		want []string
	}{
		"old category":    {Query{ForumID: "f", Category: "school", IncludeHidden: true}, []string{"b"}},
		"new category":    {Query{ForumID: "f", Category: "health", IncludeHidden: true}, []string{"a"}},
		"new status+lang": {Query{ForumID: "f", Status: "accepted", Language: "fr", IncludeHidden: true}, []string{"a"}},
		"old term":        {Query{ForumID: "f", Terms: []string{"scuola"}, IncludeHidden: true}, []string{"b"}},
		"new term":        {Query{ForumID: "f", Terms: []string{"medico"}, IncludeHidden: true}, []string{"a"}},
		"hidden now":      {Query{ForumID: "f"}, []string{"b"}},
		"old author":      {Query{AuthorID: "u1", IncludeHidden: true}, []string{}},
		"new author":      {Query{AuthorID: "u2", IncludeHidden: true}, []string{"a"}},
		"old org":         {Query{ForumID: "f", OrgID: "o1", IncludeHidden: true}, []string{}},
		"new org":         {Query{OrgID: "o2", IncludeHidden: true}, []string{"a"}},
		"new supports":    {Query{ForumID: "f", Sort: SortSupports, IncludeHidden: true}, []string{"a", "b"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			p := mustQuery(t, c, tt.q)
			if got := ids(p); !slices.Equal(got, tt.want) || p.Total != len(tt.want) {
				t.Fatalf("got %v (total %d), want %v", got, p.Total, tt.want)
			}
		})
	}
	if len(c.byAuthor["u1"]) != 0 || len(c.byOrg["o1"]) != 0 {
		t.Fatal("the old author or association still lists the entry")
	}
	if p := mustQuery(t, c, Query{ForumID: "f"}); p.Total != 1 {
		t.Fatalf("Total without hidden = %d, want 1", p.Total)
	}
	if got, _ := c.Get("a"); got.Title != "new" || got.Supports != 9 || got.Comments != 0 {
		t.Fatalf("Get(a) = %+v", got)
	}
}

// TestOutOfOrderPuts loads entries in random order (as at start, where ids are random) and
// writes to the forum before any query sorts it.
func TestOutOfOrderPuts(t *testing.T) {
	c := New(nil)
	r := rand.New(rand.NewPCG(5, 6))
	var entries []Entry
	for _, i := range r.Perm(300) {
		e := Entry{ID: fmt.Sprintf("p%03d", i), ForumID: "f", Supports: i % 5, CreatedAt: at(i / 2)}
		c.Put(e)
		entries = append(entries, e)
	}
	// Before any query: counts, an edit, a removal, a new proposal.
	c.SetCounts("p007", 100, 0)
	c.SetCounts("p150", 99, 0)
	e, _ := c.Get("p020")
	e.Title = "edited"
	c.Put(e)
	c.Remove("p021")
	c.Put(Entry{ID: "new", ForumID: "f", CreatedAt: at(1000)})

	got := all(t, c, Query{ForumID: "f", Sort: SortSupports, Limit: 7})
	if len(got) != 300 || got[0] != "p007" || got[1] != "p150" {
		t.Fatalf("supports order after out-of-order puts: %d entries, starting %v", len(got), got[:3])
	}
	newest := all(t, c, Query{ForumID: "f", Limit: 9})
	var want []Entry
	for _, e := range entries {
		if e.ID != "p021" {
			want = append(want, e)
		}
	}
	want = append(want, Entry{ID: "new", CreatedAt: at(1000)})
	if !slices.Equal(newest, reference(want, SortNewest, "", func(Entry) bool { return true })) {
		t.Fatal("newest order after out-of-order puts is wrong")
	}
	// Out of order again after the forum was sorted, then a query.
	c.Put(Entry{ID: "old", ForumID: "f", CreatedAt: at(-1)})
	c.Put(Entry{ID: "mid", ForumID: "f", CreatedAt: at(75)})
	newest = all(t, c, Query{ForumID: "f", Limit: MaxLimit})
	if newest[len(newest)-1] != "old" || len(newest) != 302 {
		t.Fatalf("after late out-of-order puts: %d entries, last %s", len(newest), newest[len(newest)-1])
	}
}

// TestOrdsAreReused checks that removed entries' slots in the term sets are reused.
func TestOrdsAreReused(t *testing.T) {
	c := New(nil)
	for i := range 1000 {
		c.Put(Entry{ID: fmt.Sprintf("p%d", i%10), ForumID: fmt.Sprintf("f%d", i%3), Tokens: []string{"x"}, CreatedAt: at(i)})
		if i%2 == 1 {
			c.Remove(fmt.Sprintf("p%d", i%10))
		}
	}
	if len(c.items) > 10 {
		t.Fatalf("%d ords for at most 10 entries", len(c.items))
	}
}

func TestTokensKeptAsGiven(t *testing.T) {
	c := New(nil)
	for _, tokens := range [][]string{nil, {}, {"b", "a", "b"}, nil} {
		c.Put(Entry{ID: "a", ForumID: "f", Tokens: tokens, CreatedAt: at(1)})
		got, _ := c.Get("a")
		if !slices.Equal(got.Tokens, tokens) || (got.Tokens == nil) != (tokens == nil) {
			t.Fatalf("Get after Put(%#v) = %#v", tokens, got.Tokens)
		}
	}
}

// TestReadersSortConcurrently starts many readers on forums loaded out of order: one of them
// sorts each forum in, under the read lock; all must see the same pages (run with -race).
func TestReadersSortConcurrently(t *testing.T) {
	c := New(nil)
	r := rand.New(rand.NewPCG(9, 9))
	for _, i := range r.Perm(2000) {
		c.Put(Entry{ID: fmt.Sprintf("p%04d", i), ForumID: fmt.Sprintf("f%d", i%4), Tokens: []string{"x", fmt.Sprint(i % 7)}, CreatedAt: at(i)})
	}
	var wg sync.WaitGroup
	results := make([][]string, 8)
	for g := range results {
		wg.Go(func() {
			q := Query{ForumID: fmt.Sprintf("f%d", g%4), Limit: 50}
			if g%2 == 1 {
				q.Terms = []string{"x"}
			}
			results[g] = all(t, c, q)
		})
	}
	wg.Wait()
	for g, got := range results {
		if len(got) != 500 || !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Fatalf("reader %d: %d entries, sorted newest first: %v", g, len(got), slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(b, a) }))
		}
		if g >= 4 && !slices.Equal(got, results[g-4]) {
			t.Fatalf("readers %d and %d disagree", g, g-4)
		}
	}
}
