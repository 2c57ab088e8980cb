package catalog

import (
	"cmp"
	"math"
)

// Query selects a page of entries.
type Query struct {
	// ForumID is the forum to list. "" lists every forum (an author's or an association's
	// proposals across forums): that walks the author's or the association's entries when
	// AuthorID or OrgID is set, else the whole catalogue, and matches terms entry by entry.
	ForumID string
	// Terms are normalised query tokens (search.Query); an entry matches when the match
	// function given to New accepts its tokens. Empty matches every entry.
	Terms []string
	// Exact-value filters; "" means any.
	Category, Status, Language, OrgID, AuthorID string
	// IncludeHidden lists entries hidden pending moderation (for moderators).
	IncludeHidden bool
	// Sort is SortNewest (the default when ""), SortSupports, SortComments or SortRandom.
	Sort string
	// Seed makes the "random" order: the same seed gives the same order on every node.
	Seed string
	// Cursor is Page.Next of the previous page; "" for the first page.
	Cursor string
	// Limit is the page size: DefaultLimit when <= 0, at most MaxLimit.
	Limit int
}

// Page is one page of a query.
type Page struct {
	// Items are copies of the entries, without their Tokens (a list page does not show them,
	// and an entry may have thousands); Get returns an entry with its tokens.
	Items []Entry
	Next  string // cursor of the next page; "" on the last page
	Total int    // entries matching the query (on all pages)
}

// sortMode is a parsed sort order; its value is stored in cursors.
type sortMode byte

const (
	modeNewest sortMode = iota + 1
	modeSupports
	modeComments
	modeRandom
)

func parseSort(s string) (sortMode, error) {
	switch s {
	case "", SortNewest:
		return modeNewest, nil
	case SortSupports:
		return modeSupports, nil
	case SortComments:
		return modeComments, nil
	case SortRandom:
		return modeRandom, nil
	}
	return 0, ErrBadSort
}

// key is an entry's position in a sort order; a cursor is the key of the last entry returned.
type key struct {
	p    uint64 // primary key, ascending: see order.primary
	n    int64  // supports or comments; for random, the seed hash (checked, not compared)
	sec  int64
	nsec int32
	h    uint64 // random order: mix(idHash ^ seedHash)
	id   string
}

// order is one sort order of one query.
type order struct {
	mode sortMode
	seed uint64
}

// primary returns the first thing an entry sorts by, as a number that sorts ascending, so
// that most entries are placed by one comparison: the count, reversed, for "supports" and
// "comments", the hash for "random", 0 for "newest".
func (o order) primary(s *slot) uint64 {
	switch o.mode {
	case modeSupports:
		return uint64(math.MaxInt32 - s.supports)
	case modeComments:
		return uint64(math.MaxInt32 - s.comments)
	case modeRandom:
		return mix(s.idHash ^ o.seed)
	}
	return 0
}

// primaryOf is primary for a key decoded from a cursor.
func (o order) primaryOf(k *key) uint64 {
	switch o.mode {
	case modeSupports, modeComments:
		return uint64(math.MaxInt32 - k.n)
	case modeRandom:
		return k.h
	}
	return 0
}

func (o order) keyOf(s *slot) key {
	switch o.mode {
	case modeSupports:
		return key{p: o.primary(s), n: int64(s.supports), sec: s.sec, nsec: s.nsec, id: s.id}
	case modeComments:
		return key{p: o.primary(s), n: int64(s.comments), sec: s.sec, nsec: s.nsec, id: s.id}
	case modeRandom:
		h := o.primary(s)
		return key{p: h, n: int64(o.seed), h: h, id: s.id}
	}
	return key{sec: s.sec, nsec: s.nsec, id: s.id}
}

// compare orders two keys: negative when a comes first.
func (o order) compare(a, b *key) int {
	if c := cmp.Compare(a.p, b.p); c != 0 {
		return c
	}
	if o.mode == modeRandom {
		return cmp.Compare(a.id, b.id)
	}
	if c := cmp.Compare(b.sec, a.sec); c != 0 {
		return c
	}
	if c := cmp.Compare(b.nsec, a.nsec); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// filter is a query compiled against the catalogue: interned values (0 is any) and the set
// of entries matching the terms.
type filter struct {
	includeHidden                  bool
	narrow                         bool // something besides hiding can exclude an entry
	cat, status, lang, org, author uint32
	bits                           []uint64 // by ord: the forum's entries matching the terms
	rest                           []string // terms checked with match entry by entry (across forums)
	buf                            []string // an entry's tokens, for rest
}

// visible reports whether a hidden entry may be listed.
func (f *filter) visible(s *slot) bool { return !s.hidden || f.includeHidden }

// ok applies the filters other than hiding.
func (c *Catalog) ok(s *slot, f *filter) bool {
	if (f.cat != 0 && s.cat != f.cat) ||
		(f.status != 0 && s.status != f.status) ||
		(f.lang != 0 && s.lang != f.lang) ||
		(f.org != 0 && s.org != f.org) ||
		(f.author != 0 && s.author != f.author) ||
		(f.bits != nil && f.bits[s.ord>>6]&(1<<(uint32(s.ord)&63)) == 0) {
		return false
	}
	if len(f.rest) > 0 {
		f.buf = c.vocab.stringsOf(f.buf[:0], c.items[s.ord].toks)
		return c.match(f.buf, f.rest)
	}
	return true
}

// Query returns a page of the entries matching q, or ErrBadCursor or ErrBadSort.
func (c *Catalog) Query(q Query) (Page, error) {
	mode, err := parseSort(q.Sort)
	if err != nil {
		return Page{}, err
	}
	o := order{mode: mode}
	if mode == modeRandom {
		o.seed = hashString(q.Seed)
	}
	var after *key
	if q.Cursor != "" {
		k, err := decodeCursor(q.Cursor, o)
		if err != nil {
			return Page{}, err
		}
		k.p = o.primaryOf(&k)
		after = &k
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)

	c.mu.RLock()
	defer c.mu.RUnlock()

	fl := filter{includeHidden: q.IncludeHidden}
	for _, v := range []struct {
		s string
		n *uint32
	}{{q.Category, &fl.cat}, {q.Status, &fl.status}, {q.Language, &fl.lang}, {q.OrgID, &fl.org}, {q.AuthorID, &fl.author}} {
		n, ok := c.values[v.s]
		if !ok {
			return Page{Items: []Entry{}}, nil // a value no entry has
		}
		*v.n = n
	}

	var (
		found []*slot // up to limit+1 entries after the cursor, in order
		total int
	)
	fl.narrow = fl.cat|fl.status|fl.lang|fl.org|fl.author != 0 || len(q.Terms) > 0
	if q.ForumID != "" {
		f := c.forums[q.ForumID]
		if f == nil {
			return Page{Items: []Entry{}}, nil
		}
		f.ready()
		if len(q.Terms) > 0 {
			pooled, bits := c.compileTerms(f, q.Terms)
			defer c.bits.Put(pooled)
			if bits == nil {
				return Page{Items: []Entry{}}, nil
			}
			fl.bits = bits
		}
		if mode == modeNewest {
			found, total = c.walkNewest(f, &fl, after, limit+1)
		} else {
			sel := newSelector(c, &fl, o, after, limit+1)
			for i := range f.slots {
				sel.add(&f.slots[i])
			}
			found, total = sel.result()
		}
	} else {
		fl.rest = q.Terms
		sel := newSelector(c, &fl, o, after, limit+1)
		for _, it := range c.candidates(&q) {
			sel.add(&it.s)
		}
		found, total = sel.result()
	}

	p := Page{Total: total}
	if len(found) > limit {
		k := o.keyOf(found[limit-1])
		p.Next = encodeCursor(o, &k)
		found = found[:limit]
	}
	p.Items = make([]Entry, len(found))
	for i, s := range found {
		p.Items[i] = c.items[s.ord].e
		p.Items[i].Tokens = nil
	}
	return p, nil
}

// compileTerms returns the set of the forum's entries matching every term, a bit set by ord
// (nil when it is empty), and the pooled buffer holding it, to give back to c.bits. For each
// term, match picks among the vocabulary tokens that may match it (see vocab.candidates)
// and their postings in the forum are united; the terms' sets are intersected.
func (c *Catalog) compileTerms(f *forum, terms []string) (pooled *[]uint64, bits []uint64) {
	words := (len(c.items) + 63) / 64
	pooled, _ = c.bits.Get().(*[]uint64)
	if pooled == nil {
		pooled = new([]uint64)
	}
	if cap(*pooled) < 2*words {
		*pooled = make([]uint64, 2*words)
	}
	buf := (*pooled)[:2*words]
	clear(buf)
	acc, tmp := buf[:words], buf[words:]
	pair := new([2]string) // match's arguments: one vocabulary token, one query token
	for i, t := range terms {
		set := acc
		if i > 0 {
			set = tmp
			clear(set)
		}
		pair[1] = t
		c.vocab.candidates(t, func(id int32) {
			pair[0] = c.vocab.strs[id]
			if !c.match(pair[0:1], pair[1:2]) {
				return
			}
			for _, o := range f.postings[id] {
				set[o>>6] |= 1 << (uint32(o) & 63)
			}
		})
		var any uint64
		if i > 0 {
			for w := range acc {
				acc[w] &= tmp[w]
				any |= acc[w]
			}
		} else {
			for _, w := range acc {
				any |= w
			}
		}
		if any == 0 {
			return pooled, nil
		}
	}
	return pooled, acc
}

// walkNewest pages a forum in its stored order: a binary search to the cursor, then a walk
// towards older entries that stops after want entries unless the total needs counting.
func (c *Catalog) walkNewest(f *forum, fl *filter, after *key, want int) ([]*slot, int) {
	slots := f.slots
	end := len(slots) // slots[:end] come after the cursor (they are older)
	if after != nil {
		o := order{mode: modeNewest}
		lo, hi := 0, len(slots)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if k := o.keyOf(&slots[m]); o.compare(after, &k) < 0 {
				lo = m + 1
			} else {
				hi = m
			}
		}
		end = lo
	}
	found := make([]*slot, 0, want)
	if !fl.narrow {
		total := len(slots)
		if !fl.includeHidden {
			total -= f.hidden
		}
		for i := end - 1; i >= 0 && len(found) < want; i-- {
			if fl.visible(&slots[i]) {
				found = append(found, &slots[i])
			}
		}
		return found, total
	}
	total := 0
	for i := len(slots) - 1; i >= 0; i-- {
		s := &slots[i]
		if !fl.visible(s) || !c.ok(s, fl) {
			continue
		}
		total++
		if i < end && len(found) < want {
			found = append(found, s)
		}
	}
	return found, total
}

// candidates returns the entries a query across forums has to look at: the author's or
// the association's entries when the query names one, else every entry.
func (c *Catalog) candidates(q *Query) map[string]*item {
	switch {
	case q.AuthorID != "":
		return c.byAuthor[q.AuthorID]
	case q.OrgID != "":
		return c.byOrg[q.OrgID]
	}
	return c.byID
}

// selector keeps the first want matching entries after the cursor in a bounded heap (its
// root is the last of them), so a page costs one pass and no full sort. Most entries are
// placed by their primary key alone.
type selector struct {
	c     *Catalog
	fl    *filter
	after *key
	want  int
	total int
	h     topHeap
}

func newSelector(c *Catalog, fl *filter, o order, after *key, want int) *selector {
	return &selector{c: c, fl: fl, after: after, want: want,
		h: topHeap{o: o, slots: make([]*slot, 0, want), keys: make([]key, 0, want)}}
}

func (sl *selector) add(s *slot) {
	if !sl.fl.visible(s) || sl.fl.narrow && !sl.c.ok(s, sl.fl) {
		return
	}
	sl.total++
	o := sl.h.o
	p := o.primary(s)
	if sl.after != nil && p < sl.after.p {
		return // before the cursor
	}
	if len(sl.h.keys) == sl.want && p > sl.h.keys[0].p {
		return // after the last kept
	}
	k := o.keyOf(s)
	if sl.after != nil && o.compare(sl.after, &k) >= 0 {
		return
	}
	sl.h.offer(s, &k, sl.want)
}

func (sl *selector) result() ([]*slot, int) { return sl.h.sorted(), sl.total }

// topHeap is a max-heap (by sort order) of the best entries seen so far.
type topHeap struct {
	o     order
	slots []*slot
	keys  []key
}

// later reports whether entry i comes after entry j in the order.
func (h *topHeap) later(i, j int) bool { return h.o.compare(&h.keys[i], &h.keys[j]) > 0 }

func (h *topHeap) swap(i, j int) {
	h.slots[i], h.slots[j] = h.slots[j], h.slots[i]
	h.keys[i], h.keys[j] = h.keys[j], h.keys[i]
}

func (h *topHeap) offer(s *slot, k *key, want int) {
	if len(h.slots) < want {
		h.slots = append(h.slots, s)
		h.keys = append(h.keys, *k)
		for i := len(h.slots) - 1; i > 0; { // sift up
			p := (i - 1) / 2
			if !h.later(i, p) {
				break
			}
			h.swap(i, p)
			i = p
		}
		return
	}
	if h.o.compare(k, &h.keys[0]) >= 0 {
		return // not before the last kept
	}
	h.slots[0], h.keys[0] = s, *k
	h.down(0, len(h.slots))
}

func (h *topHeap) down(i, n int) {
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.later(r, l) {
			m = r
		}
		if !h.later(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// sorted empties the heap into order (heap sort: the last goes to the end).
func (h *topHeap) sorted() []*slot {
	for n := len(h.slots) - 1; n > 0; n-- {
		h.swap(0, n)
		h.down(0, n)
	}
	return h.slots
}
