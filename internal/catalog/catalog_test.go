package catalog

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// at returns t0 plus minutes.
func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

// ids returns the ids of a page's items.
func ids(p Page) []string {
	out := make([]string, len(p.Items))
	for i, e := range p.Items {
		out[i] = e.ID
	}
	return out
}

func mustQuery(t *testing.T, c *Catalog, q Query) Page {
	t.Helper()
	p, err := c.Query(q)
	if err != nil {
		t.Fatalf("Query(%+v): %v", q, err)
	}
	return p
}

// all pages through a query and returns every id in order.
func all(t *testing.T, c *Catalog, q Query) []string {
	t.Helper()
	var out []string
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatal("too many pages")
		}
		p := mustQuery(t, c, q)
		out = append(out, ids(p)...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
}

func TestFromProposal(t *testing.T) {
	p := &insieme.Proposal{
		ID: "p1", ForumID: "f1", AuthorID: "a1", OrgID: "o1", Title: "Sportello", Body: "x",
		Language: "it", Category: "services", Status: insieme.ProposalEvaluation, Supports: 3,
		Comments: 4, Hidden: true, Tokens: []string{"sportello"}, CreatedAt: t0,
	}
	e := FromProposal(p)
	want := Entry{ID: "p1", ForumID: "f1", OrgID: "o1", AuthorID: "a1", Title: "Sportello",
		Language: "it", Category: "services", Status: insieme.ProposalEvaluation, Supports: 3,
		Comments: 4, Hidden: true, Tokens: []string{"sportello"}, CreatedAt: t0}
	if fmt.Sprint(e) != fmt.Sprint(want) {
		t.Fatalf("FromProposal = %+v, want %+v", e, want)
	}
	p.Tokens[0] = "changed"
	if e.Tokens[0] != "sportello" {
		t.Fatal("FromProposal shares the tokens slice")
	}
}

// fixture is a small forum with every field varied.
func fixture() *Catalog {
	c := New(nil)
	for _, e := range []Entry{
		{ID: "a", ForumID: "f1", OrgID: "o1", AuthorID: "u1", Language: "it", Category: "school", Status: "submitted", Tokens: []string{"scuola", "bus"}, CreatedAt: at(1)},
		{ID: "b", ForumID: "f1", OrgID: "o1", AuthorID: "u2", Language: "fr", Category: "school", Status: "accepted", Tokens: []string{"ecole"}, CreatedAt: at(2)},
		{ID: "c", ForumID: "f1", OrgID: "o2", AuthorID: "u1", Language: "it", Category: "health", Status: "submitted", Tokens: []string{"medico", "bus"}, CreatedAt: at(3)},
		{ID: "d", ForumID: "f1", AuthorID: "u3", Language: "ar", Category: "school", Status: "submitted", Tokens: []string{"scuola", "arabo"}, CreatedAt: at(4)},
		{ID: "e", ForumID: "f1", OrgID: "o2", AuthorID: "u3", Language: "it", Category: "school", Status: "submitted", Hidden: true, Tokens: []string{"scuola"}, CreatedAt: at(5)},
		{ID: "f", ForumID: "f2", OrgID: "o1", AuthorID: "u1", Language: "it", Category: "school", Status: "submitted", Tokens: []string{"scuola"}, CreatedAt: at(6)},
	} {
		c.Put(e)
	}
	return c
}

func TestFilters(t *testing.T) {
	c := fixture()
	tests := map[string]struct {
		q    Query
		want []string
	}{
		"forum":                  {Query{ForumID: "f1"}, []string{"d", "c", "b", "a"}},
		"other forum":            {Query{ForumID: "f2"}, []string{"f"}},
		"unknown forum":          {Query{ForumID: "nope"}, []string{}},
		"hidden included":        {Query{ForumID: "f1", IncludeHidden: true}, []string{"e", "d", "c", "b", "a"}},
		"category":               {Query{ForumID: "f1", Category: "school"}, []string{"d", "b", "a"}},
		"category+status":        {Query{ForumID: "f1", Category: "school", Status: "submitted"}, []string{"d", "a"}},
		"category+status+lang":   {Query{ForumID: "f1", Category: "school", Status: "submitted", Language: "it"}, []string{"a"}},
		"category+status+hidden": {Query{ForumID: "f1", Category: "school", Status: "submitted", IncludeHidden: true}, []string{"e", "d", "a"}},
		"org":                    {Query{ForumID: "f1", OrgID: "o1"}, []string{"b", "a"}},
		"author":                 {Query{ForumID: "f1", AuthorID: "u1"}, []string{"c", "a"}},
		"author+org":             {Query{ForumID: "f1", AuthorID: "u1", OrgID: "o2"}, []string{"c"}},
		"term":                   {Query{ForumID: "f1", Terms: []string{"scuola"}}, []string{"d", "a"}},
		"two terms":              {Query{ForumID: "f1", Terms: []string{"scuola", "bus"}}, []string{"a"}},
		"term+category":          {Query{ForumID: "f1", Terms: []string{"bus"}, Category: "health"}, []string{"c"}},
		"term no match":          {Query{ForumID: "f1", Terms: []string{"treno"}}, []string{}},
		"no match":               {Query{ForumID: "f1", Category: "school", Language: "zh"}, []string{}},
		"all forums":             {Query{}, []string{"f", "d", "c", "b", "a"}},
		"all forums by author":   {Query{AuthorID: "u1"}, []string{"f", "c", "a"}},
		"all forums by org":      {Query{OrgID: "o1"}, []string{"f", "b", "a"}},
		"all forums author+term": {Query{AuthorID: "u1", Terms: []string{"scuola"}}, []string{"f", "a"}},
		"all forums hidden":      {Query{AuthorID: "u3", IncludeHidden: true}, []string{"e", "d"}},
		"supports with filters":  {Query{ForumID: "f1", Category: "school", Sort: SortSupports}, []string{"d", "b", "a"}},
		"comments with terms":    {Query{ForumID: "f1", Terms: []string{"bus"}, Sort: SortComments}, []string{"c", "a"}},
		"random with filters":    {Query{ForumID: "f1", Status: "submitted", Sort: SortRandom}, nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			p := mustQuery(t, c, tt.q)
			got := ids(p)
			if tt.want == nil { // random: compare as sets
				want := []string{"a", "c", "d"}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("got %v, want %v in any order", got, want)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if p.Total != len(tt.want) {
				t.Fatalf("Total = %d, want %d", p.Total, len(tt.want))
			}
			if p.Next != "" {
				t.Fatalf("Next = %q on the only page", p.Next)
			}
			if p.Items == nil {
				t.Fatal("Items is nil, want an empty slice")
			}
		})
	}
}

func TestSortOrders(t *testing.T) {
	c := New(nil)
	// Ties: b, c and x share a creation time; supports and comments tie too.
	for _, e := range []Entry{
		{ID: "a", ForumID: "f", Supports: 5, Comments: 1, CreatedAt: at(1)},
		{ID: "x", ForumID: "f", Supports: 5, Comments: 9, CreatedAt: at(2)},
		{ID: "c", ForumID: "f", Supports: 5, Comments: 1, CreatedAt: at(2)},
		{ID: "b", ForumID: "f", Supports: 1, Comments: 1, CreatedAt: at(2)},
		{ID: "d", ForumID: "f", Supports: 0, Comments: 0, CreatedAt: at(3)},
		{ID: "n", ForumID: "f", Supports: 0, Comments: 0, CreatedAt: at(2).Add(time.Nanosecond)},
		{ID: "z", ForumID: "f", Supports: 9, Comments: 9, CreatedAt: time.Time{}},
	} {
		c.Put(e)
	}
	tests := map[string]struct {
		sort string
		want []string
	}{
		"default":  {"", []string{"d", "n", "b", "c", "x", "a", "z"}},
		"newest":   {SortNewest, []string{"d", "n", "b", "c", "x", "a", "z"}},
		"supports": {SortSupports, []string{"z", "c", "x", "a", "b", "d", "n"}},
		"comments": {SortComments, []string{"x", "z", "b", "c", "a", "d", "n"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			for _, limit := range []int{0, 1, 2, 3} {
				got := all(t, c, Query{ForumID: "f", Sort: tt.sort, Limit: limit})
				if !slices.Equal(got, tt.want) {
					t.Fatalf("limit %d: got %v, want %v", limit, got, tt.want)
				}
			}
		})
	}
}

func TestRandomOrder(t *testing.T) {
	entries := make([]Entry, 200)
	for i := range entries {
		entries[i] = Entry{ID: fmt.Sprintf("p%03d", i), ForumID: "f", CreatedAt: at(i)}
	}
	c1, c2 := New(nil), New(nil)
	for _, e := range entries {
		c1.Put(e)
	}
	for _, i := range rand.Perm(len(entries)) { // another node, loaded in another order
		c2.Put(entries[i])
	}
	q := Query{ForumID: "f", Sort: SortRandom, Seed: "visitor-1", Limit: MaxLimit}
	first := all(t, c1, q)
	if got := all(t, c1, q); !slices.Equal(got, first) {
		t.Fatal("random order changes between two queries with one seed")
	}
	if got := all(t, c2, q); !slices.Equal(got, first) {
		t.Fatal("random order differs between two catalogues with one seed")
	}
	q.Limit = 7
	if got := all(t, c1, q); !slices.Equal(got, first) {
		t.Fatal("random order depends on the page size")
	}
	sorted := slices.Sorted(slices.Values(first))
	want := make([]string, len(entries))
	for i, e := range entries {
		want[i] = e.ID
	}
	if !slices.Equal(sorted, want) {
		t.Fatal("random order is not a permutation of the entries")
	}
	if slices.Equal(first, want) || slices.Equal(first, all(t, c1, Query{ForumID: "f"})) {
		t.Fatal("random order is not shuffled")
	}
	for _, seed := range []string{"", "visitor-2", "visitor-10"} {
		other := all(t, c1, Query{ForumID: "f", Sort: SortRandom, Seed: seed})
		if slices.Equal(other, first) {
			t.Fatalf("seed %q gives the same order as visitor-1", seed)
		}
		if other[0] == first[0] && other[1] == first[1] && other[2] == first[2] {
			t.Fatalf("seed %q starts like visitor-1", seed)
		}
	}
}

// reference returns the expected order of the entries matching keep.
func reference(entries []Entry, sortBy, seed string, keep func(Entry) bool) []string {
	var sel []Entry
	for _, e := range entries {
		if keep(e) {
			sel = append(sel, e)
		}
	}
	newest := func(a, b Entry) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	}
	sh := hashString(seed)
	slices.SortFunc(sel, func(a, b Entry) int {
		switch sortBy {
		case SortSupports:
			if c := cmp.Compare(b.Supports, a.Supports); c != 0 {
				return c
			}
		case SortComments:
			if c := cmp.Compare(b.Comments, a.Comments); c != 0 {
				return c
			}
		case SortRandom:
			if c := cmp.Compare(mix(hashString(a.ID)^sh), mix(hashString(b.ID)^sh)); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		}
		return newest(a, b)
	})
	out := make([]string, len(sel))
	for i, e := range sel {
		out[i] = e.ID
	}
	return out
}

// bigForum fills 10 forums of n entries, with many ties in time and counts.
func bigForum(c *Catalog, n int) []Entry {
	r := rand.New(rand.NewPCG(1, 2))
	var f0 []Entry
	for f := range 10 {
		perm := r.Perm(n) // ids in no relation to times
		for i := range n {
			e := Entry{
				ID:        fmt.Sprintf("f%d-%05d", f, perm[i]),
				ForumID:   fmt.Sprintf("f%d", f),
				Category:  []string{"school", "health", "work"}[r.IntN(3)],
				Status:    insieme.ProposalStatuses[r.IntN(2)],
				Supports:  r.IntN(20),
				Comments:  r.IntN(5),
				Hidden:    r.IntN(20) == 0,
				CreatedAt: at(r.IntN(n / 4)), // about four entries a minute: ties
			}
			c.Put(e)
			if f == 0 {
				f0 = append(f0, e)
			}
		}
	}
	return f0
}

func TestPagingVisitsEveryEntryOnce(t *testing.T) {
	c := New(nil)
	entries := bigForum(c, 5000)
	visible := func(e Entry) bool { return !e.Hidden }
	for _, sortBy := range []string{SortNewest, SortSupports, SortComments, SortRandom} {
		for name, f := range map[string]struct {
			q    Query
			keep func(Entry) bool
		}{
			"all":      {Query{}, visible},
			"hidden":   {Query{IncludeHidden: true}, func(Entry) bool { return true }},
			"filtered": {Query{Category: "school", Status: "submitted"}, func(e Entry) bool { return visible(e) && e.Category == "school" && e.Status == "submitted" }},
		} {
			t.Run(sortBy+"/"+name, func(t *testing.T) {
				q := f.q
				q.ForumID, q.Sort, q.Seed, q.Limit = "f0", sortBy, "s", 20
				want := reference(entries, sortBy, "s", f.keep)
				var got []string
				for pages := 0; ; pages++ {
					p := mustQuery(t, c, q)
					if p.Total != len(want) {
						t.Fatalf("Total = %d, want %d", p.Total, len(want))
					}
					if len(p.Items) != 20 && p.Next != "" {
						t.Fatalf("page %d has %d items and a next page", pages, len(p.Items))
					}
					got = append(got, ids(p)...)
					if p.Next == "" {
						break
					}
					q.Cursor = p.Next
				}
				if !slices.Equal(got, want) {
					t.Fatalf("paging gave %d ids, want %d in reference order", len(got), len(want))
				}
				seen := make(map[string]bool, len(got))
				for _, id := range got {
					if seen[id] {
						t.Fatalf("%s seen twice", id)
					}
					seen[id] = true
				}
			})
		}
	}
}

func TestPagingWhileNewEntriesArrive(t *testing.T) {
	c := New(nil)
	const n = 5000
	var original []string
	for i := range n {
		e := Entry{ID: fmt.Sprintf("old-%05d", i), ForumID: "f", Supports: i % 7, CreatedAt: at(i / 3)}
		c.Put(e)
		original = append(original, e.ID)
	}
	c.Put(Entry{ID: "elsewhere", ForumID: "g", CreatedAt: at(1)})

	stop := make(chan struct{})
	var added atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() { // new proposals, and counts changing on old ones
		now := at(n)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			now = now.Add(time.Second)
			c.Put(Entry{ID: fmt.Sprintf("new-%06d", i), ForumID: "f", CreatedAt: now})
			c.SetCounts(original[i%n], i%11, i%3)
			added.Add(1)
		}
	})
	wg.Go(func() { // other forums keep changing too
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			c.Put(Entry{ID: fmt.Sprintf("g-%06d", i), ForumID: "g", CreatedAt: at(i)})
			c.Remove(fmt.Sprintf("g-%06d", i-5))
		}
	})

	seen := make(map[string]int)
	q := Query{ForumID: "f", Limit: 20}
	var order []string
	for pages := int64(1); ; pages++ {
		p := mustQuery(t, c, q)
		for _, e := range p.Items {
			seen[e.ID]++
			order = append(order, e.ID)
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
		for added.Load() < 2*pages { // new proposals arrive between every two pages
			runtime.Gosched()
		}
	}
	close(stop)
	wg.Wait()

	for _, id := range original {
		if seen[id] != 1 {
			t.Fatalf("%s seen %d times, want once", id, seen[id])
		}
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("%s seen %d times", id, k)
		}
	}
	// Every original entry comes in newest order, with no gap.
	var olds []string
	for _, id := range order {
		if strings.HasPrefix(id, "old-") {
			olds = append(olds, id)
		}
	}
	want := reference(func() []Entry {
		es := make([]Entry, n)
		for i := range es {
			es[i] = Entry{ID: original[i], CreatedAt: at(i / 3)}
		}
		return es
	}(), SortNewest, "", func(Entry) bool { return true })
	if !slices.Equal(olds, want) {
		t.Fatal("original entries are not in newest order")
	}
}

func TestSetCountsReordersSupports(t *testing.T) {
	c := New(nil)
	for i, id := range []string{"a", "b", "c"} {
		c.Put(Entry{ID: id, ForumID: "f", Supports: 3 - i, CreatedAt: at(i)})
	}
	q := Query{ForumID: "f", Sort: SortSupports}
	steps := []struct {
		id                 string
		supports, comments int
		want               []string
	}{
		{"", 0, 0, []string{"a", "b", "c"}},
		{"c", 10, 0, []string{"c", "a", "b"}},
		{"c", 10, 0, []string{"c", "a", "b"}}, // the same event twice
		{"a", 0, 0, []string{"c", "b", "a"}},
		{"b", 10, 2, []string{"c", "b", "a"}}, // ties with c, which is newer
		{"unknown", 50, 50, nil},
		{"a", -4, -1, nil},
	}
	for i, s := range steps {
		if s.id != "" {
			c.SetCounts(s.id, s.supports, s.comments)
		}
		if s.want == nil {
			continue
		}
		if got := ids(mustQuery(t, c, q)); !slices.Equal(got, s.want) {
			t.Fatalf("step %d: got %v, want %v", i, got, s.want)
		}
	}
	if e, _ := c.Get("b"); e.Supports != 10 || e.Comments != 2 {
		t.Fatalf("b counts = %d, %d", e.Supports, e.Comments)
	}
	if e, _ := c.Get("a"); e.Supports != 0 || e.Comments != 0 {
		t.Fatalf("negative counts kept: %d, %d", e.Supports, e.Comments)
	}
	if c.Len() != 3 {
		t.Fatalf("SetCounts of an unknown id added an entry")
	}
	if got := ids(mustQuery(t, c, Query{ForumID: "f", Sort: SortComments})); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Fatalf("comments order %v", got)
	}
}

func TestHidden(t *testing.T) {
	c := New(nil)
	for i := range 30 {
		c.Put(Entry{ID: fmt.Sprintf("p%02d", i), ForumID: "f", Hidden: i%3 == 0, CreatedAt: at(i)})
	}
	for _, sortBy := range []string{SortNewest, SortSupports, SortComments, SortRandom} {
		for _, include := range []bool{false, true} {
			got := all(t, c, Query{ForumID: "f", Sort: sortBy, IncludeHidden: include, Limit: 4})
			wantLen := 20
			if include {
				wantLen = 30
			}
			if len(got) != wantLen {
				t.Fatalf("%s include=%v: %d entries, want %d", sortBy, include, len(got), wantLen)
			}
			for _, id := range got {
				e, _ := c.Get(id)
				if e.Hidden && !include {
					t.Fatalf("%s: hidden %s listed", sortBy, id)
				}
			}
			p := mustQuery(t, c, Query{ForumID: "f", Sort: sortBy, IncludeHidden: include})
			if p.Total != wantLen {
				t.Fatalf("%s include=%v: Total = %d, want %d", sortBy, include, p.Total, wantLen)
			}
		}
	}
	// Hiding and unhiding by Put keeps the counts right.
	e, _ := c.Get("p01")
	e.Hidden = true
	c.Put(e)
	if p := mustQuery(t, c, Query{ForumID: "f"}); p.Total != 19 || len(all(t, c, Query{ForumID: "f"})) != 19 {
		t.Fatalf("after hiding: Total = %d", p.Total)
	}
	e.Hidden = false
	c.Put(e)
	c.Remove("p00") // hidden
	if p := mustQuery(t, c, Query{ForumID: "f"}); p.Total != 20 {
		t.Fatalf("after unhiding and removing a hidden entry: Total = %d", p.Total)
	}
	if p := mustQuery(t, c, Query{ForumID: "f", IncludeHidden: true}); p.Total != 29 {
		t.Fatalf("IncludeHidden Total = %d", p.Total)
	}
}

func TestBadCursor(t *testing.T) {
	c := New(nil)
	for i := range 10 {
		c.Put(Entry{ID: fmt.Sprintf("p%d", i), ForumID: "f", CreatedAt: at(i)})
	}
	next := func(q Query) string {
		q.Limit = 2
		return mustQuery(t, c, q).Next
	}
	newest := next(Query{ForumID: "f"})
	supports := next(Query{ForumID: "f", Sort: SortSupports})
	random := next(Query{ForumID: "f", Sort: SortRandom, Seed: "s1"})
	raw, _ := base64.RawURLEncoding.DecodeString(newest)
	tamper := func(f func(b []byte) []byte) string {
		b := f(slices.Clone(raw))
		return base64.RawURLEncoding.EncodeToString(b)
	}
	tests := map[string]struct {
		q   Query
		err error
	}{
		"valid newest":        {Query{Cursor: newest}, nil},
		"valid supports":      {Query{Cursor: supports, Sort: SortSupports}, nil},
		"valid random":        {Query{Cursor: random, Sort: SortRandom, Seed: "s1"}, nil},
		"garbage":             {Query{Cursor: "not a cursor!"}, ErrBadCursor},
		"std base64":          {Query{Cursor: base64.StdEncoding.EncodeToString(raw)}, ErrBadCursor},
		"padding":             {Query{Cursor: newest + "="}, ErrBadCursor},
		"truncated":           {Query{Cursor: newest[:10]}, ErrBadCursor},
		"header only":         {Query{Cursor: tamper(func(b []byte) []byte { return b[:cursorHeader] })}, ErrBadCursor},
		"version":             {Query{Cursor: tamper(func(b []byte) []byte { b[0] = 9; return b })}, ErrBadCursor},
		"nanoseconds":         {Query{Cursor: tamper(func(b []byte) []byte { b[18] = 0x7f; return b })}, ErrBadCursor},
		"not utf-8":           {Query{Cursor: tamper(func(b []byte) []byte { return append(b, 0xff) })}, ErrBadCursor},
		"too long":            {Query{Cursor: strings.Repeat("A", 5000)}, ErrBadCursor},
		"newest as supports":  {Query{Cursor: newest, Sort: SortSupports}, ErrBadCursor},
		"supports as newest":  {Query{Cursor: supports}, ErrBadCursor},
		"supports as comment": {Query{Cursor: supports, Sort: SortComments}, ErrBadCursor},
		"random other seed":   {Query{Cursor: random, Sort: SortRandom, Seed: "s2"}, ErrBadCursor},
		"random as newest":    {Query{Cursor: random}, ErrBadCursor},
		"unknown sort":        {Query{Sort: "oldest"}, ErrBadSort},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			tt.q.ForumID = "f"
			p, err := c.Query(tt.q)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.err == nil && len(p.Items) == 0 {
				t.Fatal("a valid cursor gave an empty page")
			}
		})
	}
}

func TestCursorOfRemovedEntry(t *testing.T) {
	c := New(nil)
	for i := range 6 {
		c.Put(Entry{ID: fmt.Sprintf("p%d", i), ForumID: "f", CreatedAt: at(i)})
	}
	p := mustQuery(t, c, Query{ForumID: "f", Limit: 3}) // p5 p4 p3
	c.Remove("p3")
	c.Remove("p2")
	got := ids(mustQuery(t, c, Query{ForumID: "f", Limit: 3, Cursor: p.Next}))
	if !slices.Equal(got, []string{"p1", "p0"}) {
		t.Fatalf("after the cursor's entry was removed: %v", got)
	}
}

func TestPutReplaceMoveRemove(t *testing.T) {
	c := New(nil)
	c.Put(Entry{ID: "a", ForumID: "f1", AuthorID: "u", Title: "one", CreatedAt: at(1)})
	c.Put(Entry{ID: "b", ForumID: "f1", AuthorID: "u", CreatedAt: at(2)})
	c.Put(Entry{ID: "", ForumID: "f1"}) // ignored
	c.Put(Entry{ID: "a", ForumID: "f1", AuthorID: "u", Title: "two", CreatedAt: at(3)})
	if got := ids(mustQuery(t, c, Query{ForumID: "f1"})); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("after replacing a: %v", got)
	}
	if e, _ := c.Get("a"); e.Title != "two" || c.Len() != 2 {
		t.Fatalf("Get(a) = %+v, Len = %d", e, c.Len())
	}
	c.Put(Entry{ID: "a", ForumID: "f2", AuthorID: "v", CreatedAt: at(3)}) // moved, new author
	if got := ids(mustQuery(t, c, Query{ForumID: "f1"})); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("f1 after moving a: %v", got)
	}
	if got := ids(mustQuery(t, c, Query{ForumID: "f2"})); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("f2 after moving a: %v", got)
	}
	if got := ids(mustQuery(t, c, Query{AuthorID: "u"})); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("author u after moving a: %v", got)
	}
	c.Remove("a")
	c.Remove("a")
	c.Remove("nope")
	if _, ok := c.Get("a"); ok || c.Len() != 1 {
		t.Fatalf("a still there, Len = %d", c.Len())
	}
	if p := mustQuery(t, c, Query{ForumID: "f2"}); p.Total != 0 || len(p.Items) != 0 {
		t.Fatalf("f2 after removing a: %+v", p)
	}
	if p := mustQuery(t, c, Query{AuthorID: "v"}); p.Total != 0 {
		t.Fatalf("author v after removing a: %+v", p)
	}
}

func TestReturnedEntriesAreCopies(t *testing.T) {
	c := New(nil)
	tokens := []string{"scuola", "bus"}
	c.Put(Entry{ID: "a", ForumID: "f", Title: "t", Tokens: tokens, CreatedAt: at(1)})
	c.Put(Entry{ID: "b", ForumID: "f", Tokens: []string{"medico"}, CreatedAt: at(2)})
	tokens[0] = "changed by the caller of Put"

	p := mustQuery(t, c, Query{ForumID: "f"})
	for _, e := range p.Items {
		if e.Tokens != nil {
			t.Fatalf("Query returned tokens for %s", e.ID)
		}
	}
	p.Items[1].Title = "changed"
	g, _ := c.Get("a")
	g.Tokens[1] = "changed by the caller of Get"
	g.Tokens = append(g.Tokens[:1], "appended")

	e, _ := c.Get("a")
	if e.Title != "t" || !slices.Equal(e.Tokens, []string{"scuola", "bus"}) {
		t.Fatalf("entry changed through a returned copy: %+v", e)
	}
	if p := mustQuery(t, c, Query{ForumID: "f", Terms: []string{"scuola", "bus"}}); p.Total != 1 {
		t.Fatal("the index changed through a returned copy")
	}
}

func TestLimit(t *testing.T) {
	c := New(nil)
	for i := range 250 {
		c.Put(Entry{ID: fmt.Sprintf("p%03d", i), ForumID: "f", CreatedAt: at(i)})
	}
	for _, sortBy := range []string{SortNewest, SortSupports} {
		for limit, want := range map[int]int{-1: DefaultLimit, 0: DefaultLimit, 1: 1, 50: 50, 100: 100, 101: MaxLimit, 10000: MaxLimit} {
			p := mustQuery(t, c, Query{ForumID: "f", Sort: sortBy, Limit: limit})
			if len(p.Items) != want || p.Next == "" || p.Total != 250 {
				t.Fatalf("%s limit %d: %d items, next %q, total %d", sortBy, limit, len(p.Items), p.Next, p.Total)
			}
		}
		// A last page that is exactly full has no next page.
		p := mustQuery(t, c, Query{ForumID: "f", Sort: sortBy, Limit: 100})
		p = mustQuery(t, c, Query{ForumID: "f", Sort: sortBy, Limit: 100, Cursor: p.Next})
		p = mustQuery(t, c, Query{ForumID: "f", Sort: sortBy, Limit: 50, Cursor: p.Next})
		if len(p.Items) != 50 || p.Next != "" {
			t.Fatalf("%s: last page %d items, next %q", sortBy, len(p.Items), p.Next)
		}
	}
}

func TestMatchFunctionIsUsed(t *testing.T) {
	prefix := func(doc, query []string) bool {
		for _, q := range query {
			if !slices.ContainsFunc(doc, func(d string) bool { return strings.HasPrefix(d, q) }) {
				return false
			}
		}
		return true
	}
	c := New(prefix)
	c.Put(Entry{ID: "a", ForumID: "f", Tokens: []string{"scuola"}, CreatedAt: at(1)})
	c.Put(Entry{ID: "b", ForumID: "f", Tokens: []string{"scuolabus"}, CreatedAt: at(2)})
	c.Put(Entry{ID: "c", ForumID: "f", Tokens: []string{"medico"}, CreatedAt: at(3)})
	if got := ids(mustQuery(t, c, Query{ForumID: "f", Terms: []string{"scuo"}})); !slices.Equal(got, []string{"b", "a"}) {
		t.Fatalf("prefix match: %v", got)
	}
	exact := New(nil)
	exact.Put(Entry{ID: "a", ForumID: "f", Tokens: []string{"scuola"}, CreatedAt: at(1)})
	exact.Put(Entry{ID: "b", ForumID: "f", Tokens: []string{"scuo"}, CreatedAt: at(2)})
	if got := ids(mustQuery(t, exact, Query{ForumID: "f", Terms: []string{"scuo"}})); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("default match is not exact: %v", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	c := New(nil)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				id := fmt.Sprintf("w%d-%d", w, i)
				c.Put(Entry{ID: id, ForumID: fmt.Sprintf("f%d", i%3), Tokens: []string{"x"}, CreatedAt: at(i)})
				c.SetCounts(id, i, i)
				if i%5 == 0 {
					c.Remove(id)
				}
			}
		})
		wg.Go(func() {
			for i := range 300 {
				for _, s := range []string{SortNewest, SortSupports, SortRandom} {
					p, err := c.Query(Query{ForumID: fmt.Sprintf("f%d", i%3), Sort: s, Terms: []string{"x"}})
					if err != nil {
						t.Error(err)
						return
					}
					for i := range p.Items {
						p.Items[i].Title = "mine" // copies: no race with the index
					}
				}
				if e, ok := c.Get(fmt.Sprintf("w%d-%d", w, i)); ok {
					e.Tokens[0] = "mine"
				}
				c.Len()
			}
		})
	}
	wg.Wait()
	if c.Len() != 4*400 {
		t.Fatalf("Len = %d, want %d", c.Len(), 4*400)
	}
	if p := mustQuery(t, c, Query{ForumID: "f0", Terms: []string{"x"}}); p.Total == 0 {
		t.Fatal("tokens changed by a caller")
	}
}
