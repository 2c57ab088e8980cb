package catalog

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// prefixMatch stands in for search.Match: every query token is a prefix of a document token
// (search.Match allows prefixes for Latin, Cyrillic and Georgian tokens).
func prefixMatch(doc, query []string) bool {
	for _, q := range query {
		found := false
		for _, d := range doc {
			if strings.HasPrefix(d, q) {
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

var benchCategories = []string{"school", "health", "work", "housing", "transport", "culture", "language", "documents"}

// benchEntries makes forums×perForum entries: 12 tokens each from a Zipf-distributed
// vocabulary of 3,000 words, 8 categories, 6 statuses, 1 in 50 hidden.
func benchEntries(forums, perForum int) []Entry {
	r := rand.New(rand.NewPCG(7, 7))
	syll := []string{"ka", "lo", "mi", "ne", "ra", "so", "tu", "vi", "za", "be", "do", "fu", "gi", "ho", "pe", "sc", "ua", "tr"}
	vocab := make([]string, 3000)
	for i := range vocab {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteString(syll[r.IntN(len(syll))])
		}
		vocab[i] = b.String()
	}
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]Entry, 0, forums*perForum)
	for i := range forums * perForum {
		tokens := make([]string, 12)
		for j := range tokens {
			tokens[j] = vocab[zipf.Uint64()]
		}
		out = append(out, Entry{
			ID:        fmt.Sprintf("%024x", r.Uint64()),
			ForumID:   fmt.Sprintf("forum-%02d", i%forums),
			OrgID:     fmt.Sprintf("org-%03d", r.IntN(300)),
			AuthorID:  fmt.Sprintf("acc-%05d", r.IntN(20000)),
			Title:     strings.Join(tokens[:6], " "),
			Language:  []string{"it", "en", "fr", "ar", "sq", "ro"}[r.IntN(6)],
			Category:  benchCategories[r.IntN(len(benchCategories))],
			Status:    insieme.ProposalStatuses[r.IntN(len(insieme.ProposalStatuses))],
			Supports:  int(zipf.Uint64() % 200),
			Comments:  r.IntN(30),
			Hidden:    r.IntN(50) == 0,
			Tokens:    tokens,
			CreatedAt: start.Add(time.Duration(r.IntN(2*365*24*3600)) * time.Second),
		})
	}
	return out
}

var benchCatalog *Catalog

func loadedCatalog(b *testing.B) *Catalog {
	if benchCatalog == nil {
		benchCatalog = New(prefixMatch)
		for _, e := range benchEntries(10, 5000) {
			benchCatalog.Put(e)
		}
	}
	return benchCatalog
}

// BenchmarkQuery: one forum of 5,000 entries among 10 such forums, first page of 20 and a
// page deep in the list (reached through a cursor).
func BenchmarkQuery(b *testing.B) {
	c := loadedCatalog(b)
	cases := []struct {
		name string
		q    Query
	}{
		{"newest", Query{}},
		{"newest/category+status", Query{Category: "health", Status: insieme.ProposalSubmitted}},
		{"newest/term", Query{Terms: []string{"kalo"}}},
		{"newest/term+category", Query{Terms: []string{"kalo"}, Category: "health"}},
		{"newest/two-terms", Query{Terms: []string{"ka", "mi"}}},
		{"supports", Query{Sort: SortSupports}},
		{"supports/category+status", Query{Sort: SortSupports, Category: "health", Status: insieme.ProposalSubmitted}},
		{"comments", Query{Sort: SortComments}},
		{"random", Query{Sort: SortRandom, Seed: "visitor"}},
		{"newest/hidden-included", Query{IncludeHidden: true}},
		{"author-across-forums", Query{AuthorID: "acc-00042"}},
	}
	for _, tc := range cases {
		q := tc.q
		if q.AuthorID == "" {
			q.ForumID = "forum-03"
		}
		first, err := c.Query(q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Query(q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(first.Total), "matches")
		})
		// Page 50 (or the last page when there are fewer): the cursor path.
		deep := q
		for range 49 {
			p, _ := c.Query(deep)
			if p.Next == "" {
				break
			}
			deep.Cursor = p.Next
		}
		b.Run(tc.name+"/page50", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Query(deep); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkQueryParallel: the newest page from every core at once (read lock contention).
func BenchmarkQueryParallel(b *testing.B) {
	c := loadedCatalog(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Query(Query{ForumID: "forum-03"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkLoad50000 loads 50,000 entries (10 forums of 5,000) in store order (random
// creation times), as a node does at start.
func BenchmarkLoad50000(b *testing.B) {
	entries := benchEntries(10, 5000)
	b.ReportAllocs()
	for b.Loop() {
		c := New(prefixMatch)
		for _, e := range entries {
			c.Put(e)
		}
		if c.Len() != len(entries) {
			b.Fatal(c.Len())
		}
	}
}

// BenchmarkPut: a new proposal arriving in a forum of 5,000 (the newest: an insert at the
// front) and a replace (an edit) of an existing entry.
func BenchmarkPut(b *testing.B) {
	c := New(prefixMatch)
	entries := benchEntries(10, 5000)
	for _, e := range entries {
		c.Put(e)
	}
	b.Run("new", func(b *testing.B) {
		now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		i := 0
		for b.Loop() {
			i++
			c.Put(Entry{ID: fmt.Sprintf("new-%d", i), ForumID: "forum-03", CreatedAt: now.Add(time.Duration(i))})
		}
	})
	b.Run("replace", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			c.Put(entries[i%len(entries)])
		}
	})
	b.Run("set-counts", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			c.SetCounts(entries[i%len(entries)].ID, i%100, i%10)
		}
	})
}
