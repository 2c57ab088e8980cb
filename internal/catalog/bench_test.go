package catalog

import (
	"fmt"
	"math/rand/v2"
	"runtime"
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

// benchVocab is 20,000 made-up words; benchWord draws from it with a Zipf law, as words of a
// language are used.
func benchVocab(r *rand.Rand) []string {
	syll := []string{"ka", "lo", "mi", "ne", "ra", "so", "tu", "vi", "za", "be", "do", "fu", "gi", "ho", "pe", "sc", "ua", "tr", "co", "in"}
	seen := map[string]bool{}
	var vocab []string
	for len(vocab) < 20000 {
		var b strings.Builder
		for range 2 + r.IntN(4) {
			b.WriteString(syll[r.IntN(len(syll))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			vocab = append(vocab, w)
		}
	}
	return vocab
}

// benchEntries makes forums×perForum entries: 20 to 150 distinct tokens each (a title and a
// body of a few sentences), 8 categories, 6 statuses, 6 languages, 1 in 50 hidden, random
// creation times over two years, loaded in random order (ids are random).
func benchEntries(forums, perForum int) []Entry {
	r := rand.New(rand.NewPCG(7, 7))
	vocab := benchVocab(r)
	zipf := rand.NewZipf(r, 1.07, 2, uint64(len(vocab)-1))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]Entry, 0, forums*perForum)
	for i := range forums * perForum {
		n := 20 + r.IntN(131)
		seen := make(map[string]bool, n)
		tokens := make([]string, 0, n)
		for len(tokens) < n {
			if w := vocab[zipf.Uint64()]; !seen[w] {
				seen[w] = true
				tokens = append(tokens, w)
			}
		}
		out = append(out, Entry{
			ID:        fmt.Sprintf("%032x", r.Uint64()),
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
		{"newest/term", Query{Terms: []string{"kalo"}}},            // a prefix of several words
		{"newest/term-common", Query{Terms: []string{"ka"}}},       // a two-letter prefix: thousands of words
		{"newest/term-rare", Query{Terms: []string{"tuzamiho"}}},   // one rare word
		{"newest/two-terms", Query{Terms: []string{"kalo", "mi"}}}, // two prefixes
		{"newest/term+category", Query{Terms: []string{"kalo"}, Category: "health"}},
		{"newest/one-letter-term", Query{Terms: []string{"k"}}}, // not indexed: match on every entry
		{"supports", Query{Sort: SortSupports}},
		{"supports/category+status", Query{Sort: SortSupports, Category: "health", Status: insieme.ProposalSubmitted}},
		{"supports/term", Query{Sort: SortSupports, Terms: []string{"kalo"}}},
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
		if deep.Cursor == "" {
			continue
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
	var c *Catalog
	for b.Loop() {
		c = New(prefixMatch)
		for _, e := range entries {
			c.Put(e)
		}
		if c.Len() != len(entries) {
			b.Fatal(c.Len())
		}
	}
	b.StopTimer()
	// What the catalogue keeps: the heap with it minus the heap without it.
	var with, without runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&with)
	runtime.KeepAlive(c)
	c = nil
	runtime.GC()
	runtime.ReadMemStats(&without)
	b.ReportMetric(float64(with.HeapAlloc-without.HeapAlloc)/(1<<20), "MB-kept")
	// The first query of each forum sorts in the entries loaded out of order.
	c = New(prefixMatch)
	for _, e := range entries {
		c.Put(e)
	}
	start := time.Now()
	for f := range 10 {
		if _, err := c.Query(Query{ForumID: fmt.Sprintf("forum-%02d", f)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/10, "us-first-query")
}

// BenchmarkWrite: the writes events cause in a catalogue of 10 forums of 5,000.
func BenchmarkWrite(b *testing.B) {
	c := New(prefixMatch)
	entries := benchEntries(10, 5000)
	for _, e := range entries {
		c.Put(e)
	}
	b.Run("new+remove", func(b *testing.B) { // a new proposal (newest of its forum), then gone
		now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		e := entries[3]
		e.ID, e.CreatedAt = "new", now
		for b.Loop() {
			c.Put(e)
			c.Remove(e.ID)
		}
	})
	b.Run("status-change", func(b *testing.B) { // Put with the same forum, time and tokens
		i := 0
		for b.Loop() {
			e := entries[i%len(entries)]
			e.Status = insieme.ProposalStatuses[i%len(insieme.ProposalStatuses)]
			c.Put(e)
			i++
		}
	})
	b.Run("edit-text", func(b *testing.B) { // Put with new tokens: the postings change
		i := 0
		for b.Loop() {
			e := entries[i%len(entries)]
			if i%2 == 0 {
				e.Tokens = e.Tokens[1:]
			}
			c.Put(e)
			i++
		}
	})
	b.Run("set-counts", func(b *testing.B) {
		i := 0
		for b.Loop() {
			c.SetCounts(entries[i%len(entries)].ID, i%100, i%10)
			i++
		}
	})
}
