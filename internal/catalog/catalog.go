// Package catalog is the per-node read model of proposals that serves forum list pages.
//
// FerretDB on SQLite pushes down only exact `_id` look-ups and scans whole collections for
// anything else (see DESIGN.md, "READ SPEED on FerretDB"), so list pages are never served
// from the store: every node loads all proposals once at start (Put for each stored proposal)
// and keeps the catalogue current from the same events that drive live pages (Put on create
// and edit, SetCounts on supports and comments, Remove on erasure).
//
// Each forum keeps its entries pre-sorted newest first, so the default "newest" page is a
// binary search to the cursor and a short walk; other orders filter the forum and keep only
// the best limit+1 entries in a bounded heap instead of sorting everything.
//
// Pages are cursor-based: a cursor carries the sort key of the last entry returned and the
// next page holds the entries strictly after it, so entries arriving between two pages never
// cause duplicates or gaps (for "newest", new proposals sort before the cursor).
package catalog

import (
	"cmp"
	"errors"
	"hash/fnv"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// Sort orders accepted by Query.Sort.
const (
	SortNewest   = "newest"   // createdAt descending, then id ascending (the default)
	SortSupports = "supports" // supports descending, then newest
	SortComments = "comments" // comments descending, then newest
	SortRandom   = "random"   // a shuffle that is stable for one Query.Seed, then id ascending
)

// Page size limits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// ErrBadCursor is returned by Query for a cursor that is malformed, was made for another sort
// order or (for "random") another seed. Callers answer it with 400.
var ErrBadCursor = errors.New("catalog: bad cursor")

// ErrBadSort is returned by Query for an unknown sort order. Callers answer it with 400.
var ErrBadSort = errors.New("catalog: unknown sort order")

// Entry is what a list page needs of a proposal.
type Entry struct {
	ID, ForumID, OrgID, AuthorID, Title, Language, Category, Status string

	Supports, Comments int
	Hidden             bool
	Tokens             []string // normalised search tokens of title and body
	CreatedAt          time.Time
}

// FromProposal makes the catalogue entry of a proposal. The tokens are copied.
func FromProposal(p *insieme.Proposal) Entry {
	return Entry{
		ID:        p.ID,
		ForumID:   p.ForumID,
		OrgID:     p.OrgID,
		AuthorID:  p.AuthorID,
		Title:     p.Title,
		Language:  p.Language,
		Category:  p.Category,
		Status:    p.Status,
		Supports:  p.Supports,
		Comments:  p.Comments,
		Hidden:    p.Hidden,
		Tokens:    slices.Clone(p.Tokens),
		CreatedAt: p.CreatedAt,
	}
}

// Query selects a page of entries.
type Query struct {
	// ForumID is the forum to list. "" lists every forum (an author's or an association's
	// proposals across forums); that walks the whole catalogue, or only the author's or the
	// association's entries when AuthorID or OrgID is set.
	ForumID string
	// Terms are normalised query tokens; an entry matches when the match function given to New
	// accepts its tokens. Empty matches every entry.
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
	Items []Entry
	Next  string // cursor of the next page; "" on the last page
	Total int    // entries matching the query (on all pages)
}

// item is an entry as stored, with its precomputed sort keys.
type item struct {
	e      Entry
	sec    int64  // CreatedAt seconds since the Unix epoch
	nsec   int32  // CreatedAt nanoseconds within the second
	idHash uint64 // FNV-1a of the id, mixed with the seed for "random"
}

// forum holds a forum's entries, newest first (createdAt descending, id ascending).
type forum struct {
	items  []*item
	hidden int
}

// Catalog is the read model. It is safe for concurrent use; the Entries it returns are
// copies.
type Catalog struct {
	match func(doc, query []string) bool

	mu       sync.RWMutex
	byID     map[string]*item
	forums   map[string]*forum
	byAuthor map[string]map[string]*item
	byOrg    map[string]map[string]*item
}

// New returns an empty catalogue. match reports whether a document's tokens match the query
// tokens (search.Match); it is called under the catalogue's read lock and must not call back
// into the catalogue. A nil match requires every query token to be one of the document's
// tokens.
func New(match func(doc, query []string) bool) *Catalog {
	if match == nil {
		match = exactMatch
	}
	return &Catalog{
		match:    match,
		byID:     make(map[string]*item),
		forums:   make(map[string]*forum),
		byAuthor: make(map[string]map[string]*item),
		byOrg:    make(map[string]map[string]*item),
	}
}

// exactMatch reports whether every query token is one of the document's tokens.
func exactMatch(doc, query []string) bool {
	for _, q := range query {
		if !slices.Contains(doc, q) {
			return false
		}
	}
	return true
}

// Put inserts an entry or replaces the entry with the same ID, which may move it to another
// forum. An entry without an ID is ignored. The tokens are copied.
func (c *Catalog) Put(e Entry) {
	if e.ID == "" {
		return
	}
	e.Tokens = slices.Clone(e.Tokens)
	if e.Supports < 0 {
		e.Supports = 0
	}
	if e.Comments < 0 {
		e.Comments = 0
	}
	it := &item{e: e, idHash: hashString(e.ID)}
	it.sec, it.nsec = timeKey(e.CreatedAt)

	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.byID[e.ID]; old != nil {
		c.unlink(old)
	}
	c.link(it)
}

// SetCounts sets an entry's support and comment counts. They are absolute values, so applying
// the same event twice is harmless. An unknown id is ignored.
func (c *Catalog) SetCounts(id string, supports, comments int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it := c.byID[id]
	if it == nil {
		return
	}
	it.e.Supports = max(supports, 0)
	it.e.Comments = max(comments, 0)
}

// Remove deletes an entry; an unknown id is ignored.
func (c *Catalog) Remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it := c.byID[id]; it != nil {
		c.unlink(it)
	}
}

// Get returns a copy of an entry.
func (c *Catalog) Get(id string) (Entry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	it := c.byID[id]
	if it == nil {
		return Entry{}, false
	}
	e := it.e
	e.Tokens = slices.Clone(e.Tokens)
	return e, true
}

// Len returns the number of entries, hidden ones included.
func (c *Catalog) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.byID)
}

// link adds an item to every index. The caller holds the write lock.
func (c *Catalog) link(it *item) {
	c.byID[it.e.ID] = it
	f := c.forums[it.e.ForumID]
	if f == nil {
		f = &forum{}
		c.forums[it.e.ForumID] = f
	}
	if n := len(f.items); n == 0 || newestBefore(f.items[n-1], it) {
		f.items = append(f.items, it) // loading in order, or the oldest so far
	} else {
		f.items = slices.Insert(f.items, f.position(it), it)
	}
	if it.e.Hidden {
		f.hidden++
	}
	addToSet(c.byAuthor, it.e.AuthorID, it)
	addToSet(c.byOrg, it.e.OrgID, it)
}

// unlink removes an item from every index. The caller holds the write lock.
func (c *Catalog) unlink(it *item) {
	delete(c.byID, it.e.ID)
	if f := c.forums[it.e.ForumID]; f != nil {
		i := f.position(it)
		if i >= len(f.items) || f.items[i] != it {
			i = slices.Index(f.items, it) // not reached: keys are unique
		}
		if i >= 0 {
			f.items = slices.Delete(f.items, i, i+1)
			if it.e.Hidden {
				f.hidden--
			}
		}
		if len(f.items) == 0 {
			delete(c.forums, it.e.ForumID)
		}
	}
	removeFromSet(c.byAuthor, it.e.AuthorID, it)
	removeFromSet(c.byOrg, it.e.OrgID, it)
}

// position returns the index of the first item that does not sort before it (newest order).
func (f *forum) position(it *item) int {
	return sort.Search(len(f.items), func(i int) bool { return !newestBefore(f.items[i], it) })
}

func addToSet(sets map[string]map[string]*item, key string, it *item) {
	if key == "" {
		return
	}
	s := sets[key]
	if s == nil {
		s = make(map[string]*item)
		sets[key] = s
	}
	s[it.e.ID] = it
}

func removeFromSet(sets map[string]map[string]*item, key string, it *item) {
	if key == "" {
		return
	}
	if s := sets[key]; s != nil && s[it.e.ID] == it {
		delete(s, it.e.ID)
		if len(s) == 0 {
			delete(sets, key)
		}
	}
}

// newestBefore reports whether a sorts before b in the newest order.
func newestBefore(a, b *item) bool {
	if a.sec != b.sec {
		return a.sec > b.sec
	}
	if a.nsec != b.nsec {
		return a.nsec > b.nsec
	}
	return a.e.ID < b.e.ID
}

// timeKey splits a time into seconds and nanoseconds, which (unlike UnixNano) are defined
// for every time, the zero time included.
func timeKey(t time.Time) (int64, int32) {
	return t.Unix(), int32(t.Nanosecond())
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// mix is the splitmix64 finaliser: it spreads the id hash xor'ed with the seed hash so that
// each seed gives an unrelated order.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
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
	n    int64 // supports or comments; for random, the seed hash (checked, not compared)
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

func (o order) keyOf(it *item) key {
	k := key{sec: it.sec, nsec: it.nsec, id: it.e.ID}
	switch o.mode {
	case modeSupports:
		k.n = int64(it.e.Supports)
	case modeComments:
		k.n = int64(it.e.Comments)
	case modeRandom:
		k = key{n: int64(o.seed), h: mix(it.idHash ^ o.seed), id: it.e.ID}
	}
	return k
}

// compare orders two keys: negative when a comes first.
func (o order) compare(a, b *key) int {
	switch o.mode {
	case modeRandom:
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	case modeSupports, modeComments:
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(b.sec, a.sec); c != 0 {
		return c
	}
	if c := cmp.Compare(b.nsec, a.nsec); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
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
		after = &k
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)

	c.mu.RLock()
	defer c.mu.RUnlock()

	var (
		found []*item // up to limit+1 entries after the cursor, in order
		total int
	)
	switch {
	case q.ForumID != "" && mode == modeNewest:
		if f := c.forums[q.ForumID]; f != nil {
			found, total = c.walkNewest(f, &q, after, limit+1)
		}
	case q.ForumID != "":
		if f := c.forums[q.ForumID]; f != nil {
			found, total = c.selectTop(slices.Values(f.items), &q, o, after, limit+1)
		}
	default:
		found, total = c.selectTop(c.candidates(&q), &q, o, after, limit+1)
	}

	p := Page{Total: total}
	if len(found) > limit {
		k := o.keyOf(found[limit-1])
		p.Next = encodeCursor(o, &k)
		found = found[:limit]
	}
	p.Items = copyEntries(found)
	return p, nil
}

// filtered reports whether q has conditions other than hiding hidden entries.
func (q *Query) filtered() bool {
	return len(q.Terms) > 0 || q.Category != "" || q.Status != "" || q.Language != "" ||
		q.OrgID != "" || q.AuthorID != ""
}

// matches reports whether an entry matches q: cheap comparisons first, text last.
func (c *Catalog) matches(it *item, q *Query) bool {
	e := &it.e
	return (!e.Hidden || q.IncludeHidden) &&
		(q.Category == "" || e.Category == q.Category) &&
		(q.Status == "" || e.Status == q.Status) &&
		(q.Language == "" || e.Language == q.Language) &&
		(q.OrgID == "" || e.OrgID == q.OrgID) &&
		(q.AuthorID == "" || e.AuthorID == q.AuthorID) &&
		(q.ForumID == "" || e.ForumID == q.ForumID) &&
		(len(q.Terms) == 0 || c.match(e.Tokens, q.Terms))
}

// walkNewest pages a forum in its stored (newest) order: a binary search to the cursor, then
// a walk that stops after want entries unless the total needs counting.
func (c *Catalog) walkNewest(f *forum, q *Query, after *key, want int) ([]*item, int) {
	items := f.items
	start := 0
	if after != nil {
		o := order{mode: modeNewest}
		start = sort.Search(len(items), func(i int) bool {
			k := o.keyOf(items[i])
			return o.compare(after, &k) < 0
		})
	}
	found := make([]*item, 0, want)
	if !q.filtered() {
		total := len(items)
		if !q.IncludeHidden {
			total -= f.hidden
		}
		for _, it := range items[start:] {
			if len(found) == want {
				break
			}
			if !it.e.Hidden || q.IncludeHidden {
				found = append(found, it)
			}
		}
		return found, total
	}
	total := 0
	for i, it := range items {
		if !c.matches(it, q) {
			continue
		}
		total++
		if i >= start && len(found) < want {
			found = append(found, it)
		}
	}
	return found, total
}

// candidates yields the entries a query across forums has to look at: the author's or the
// association's entries when the query names one, else every entry.
func (c *Catalog) candidates(q *Query) func(yield func(*item) bool) {
	var set map[string]*item
	switch {
	case q.AuthorID != "":
		set = c.byAuthor[q.AuthorID]
	case q.OrgID != "":
		set = c.byOrg[q.OrgID]
	default:
		set = c.byID
	}
	return func(yield func(*item) bool) {
		for _, it := range set {
			if !yield(it) {
				return
			}
		}
	}
}

// selectTop keeps the first want matching entries after the cursor in a bounded heap (its
// root is the last of them), so a page costs one pass and no full sort.
func (c *Catalog) selectTop(items func(yield func(*item) bool), q *Query, o order, after *key, want int) ([]*item, int) {
	h := topHeap{o: o, items: make([]*item, 0, want), keys: make([]key, 0, want)}
	total := 0
	for it := range items {
		if !c.matches(it, q) {
			continue
		}
		total++
		k := o.keyOf(it)
		if after != nil && o.compare(after, &k) >= 0 {
			continue
		}
		h.offer(it, k, want)
	}
	return h.sorted(), total
}

// topHeap is a max-heap (by sort order) of the best entries seen so far.
type topHeap struct {
	o     order
	items []*item
	keys  []key
}

// later reports whether entry i comes after entry j in the order.
func (h *topHeap) later(i, j int) bool { return h.o.compare(&h.keys[i], &h.keys[j]) > 0 }

func (h *topHeap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.keys[i], h.keys[j] = h.keys[j], h.keys[i]
}

func (h *topHeap) offer(it *item, k key, want int) {
	if len(h.items) < want {
		h.items = append(h.items, it)
		h.keys = append(h.keys, k)
		for i := len(h.items) - 1; i > 0; { // sift up
			p := (i - 1) / 2
			if !h.later(i, p) {
				break
			}
			h.swap(i, p)
			i = p
		}
		return
	}
	if h.o.compare(&k, &h.keys[0]) >= 0 {
		return // not better than the last kept
	}
	h.items[0], h.keys[0] = it, k
	h.down(0, len(h.items))
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

// sorted empties the heap into order (heap sort: the latest goes to the end).
func (h *topHeap) sorted() []*item {
	for n := len(h.items) - 1; n > 0; n-- {
		h.swap(0, n)
		h.down(0, n)
	}
	return h.items
}

// copyEntries copies entries out of the index, their tokens in one allocation.
func copyEntries(items []*item) []Entry {
	out := make([]Entry, len(items))
	n := 0
	for _, it := range items {
		n += len(it.e.Tokens)
	}
	tokens := make([]string, 0, n)
	for i, it := range items {
		out[i] = it.e
		if it.e.Tokens != nil {
			s := len(tokens)
			tokens = append(tokens, it.e.Tokens...)
			out[i].Tokens = tokens[s:len(tokens):len(tokens)]
		}
	}
	return out
}
