// Package catalog is the per-node read model of proposals that serves forum list pages.
//
// FerretDB on SQLite pushes down only exact `_id` look-ups and scans whole collections for
// anything else (see DESIGN.md, "READ SPEED on FerretDB"), so list pages are never served
// from the store: every node loads all proposals once at start (Put for each stored proposal)
// and keeps the catalogue current from the same events that drive live pages (Put on create
// and edit, SetCounts on supports and comments, Remove on erasure).
//
// Layout, for speed:
//   - each forum keeps a slice of compact slots (sort keys, counts, interned filter values)
//     ordered by creation time, so a query walks contiguous memory and touches only its
//     forum; the default "newest" page is a binary search to the cursor and a short walk.
//     New proposals append; entries put out of order (loading at start) append too and are
//     sorted in once, by the next query;
//   - "supports", "comments" and "random" filter the forum and keep the best limit+1 slots in
//     a bounded heap instead of sorting everything;
//   - text search uses a per-forum inverted index (token -> entries) over an interned, sorted
//     vocabulary, so a term costs the entries that contain it, not the tokens of every entry.
//
// Pages are cursor-based: a cursor carries the sort key of the last entry returned and the
// next page holds the entries strictly after it, so entries arriving between two pages never
// cause duplicates or gaps (for "newest", new proposals sort before the cursor).
package catalog

import (
	"errors"
	"hash/fnv"
	"slices"
	"sync"
	"sync/atomic"
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

// slot is what a query needs of an entry, kept by value in its forum's slice so that a query
// walks contiguous memory. Filter values are interned (0 is "").
type slot struct {
	id                 string
	sec                int64  // CreatedAt seconds since the Unix epoch
	idHash             uint64 // FNV-1a of the id, mixed with the seed for "random"
	nsec               int32  // CreatedAt nanoseconds within the second
	ord                int32  // the entry's index in Catalog.items (and its bit in term sets)
	supports, comments int32
	cat, status, lang  uint32
	org, author        uint32
	hidden             bool
}

// item is a stored entry: e without its Tokens, which are kept as vocabulary ids; s is the
// master copy of its slot.
type item struct {
	e    Entry
	toks []int32
	s    slot
}

// forum holds a forum's slots, oldest first (createdAt ascending, id descending): new
// proposals append, and "newest" pages walk backwards.
//
// slots[:sorted] are in order; slots appended out of order follow, and dirty is set. Writers
// sort them in under the write lock; a reader (under the read lock) sorts them in under sortMu
// in place, without changing the slice header, and clears dirty: a reader that sees dirty
// clear may read the slots.
type forum struct {
	slots    []slot
	sorted   int
	dirty    atomic.Bool
	sortMu   sync.Mutex
	hidden   int
	postings map[int32][]int32 // token id -> ords of the entries that have the token
}

// Catalog is the read model. It is safe for concurrent use; the Entries it returns are
// copies.
type Catalog struct {
	match func(doc, query []string) bool

	mu       sync.RWMutex
	byID     map[string]*item
	items    []*item // by ord; nil where free
	free     []int32
	forums   map[string]*forum
	byAuthor map[string]map[string]*item
	byOrg    map[string]map[string]*item
	values   map[string]uint32 // interned filter values; "" is 0
	vocab    vocab
	bits     sync.Pool // *[]uint64 term sets
}

// New returns an empty catalogue. match reports whether a document's tokens match the query
// tokens (search.Match); a nil match requires every query token to be one of the document's
// tokens. match is called under the catalogue's read lock and must not call back into it.
//
// The text index relies on what search.Match documents: a document matches when each query
// token matches one of its tokens, and a query token can only match a document token that
// starts with it or, for a query token of one character, contains it (a Han character inside
// a pair). So match is asked about single vocabulary tokens (match([]string{token},
// []string{term})), and the entries holding the tokens it accepts are found in the index.
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
		values:   map[string]uint32{"": 0},
		vocab:    newVocab(),
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
	e.Supports = clampCount(e.Supports)
	e.Comments = clampCount(e.Comments)
	sec, nsec := timeKey(e.CreatedAt)
	tokens := e.Tokens
	e.Tokens = nil

	c.mu.Lock()
	defer c.mu.Unlock()
	toks := c.vocab.idsOf(tokens)
	old := c.byID[e.ID]
	if old != nil && old.e.ForumID == e.ForumID && old.s.sec == sec && old.s.nsec == nsec {
		c.update(old, e, toks) // an edit, a status change, a moderation: the slot stays put
		return
	}
	if old != nil {
		c.unlink(old)
	}
	it := &item{e: e, toks: toks}
	it.s = slot{id: e.ID, sec: sec, nsec: nsec, idHash: hashString(e.ID)}
	c.setSlot(it)
	c.link(it)
}

// setSlot copies an entry's counts and filter values into its master slot.
func (c *Catalog) setSlot(it *item) {
	s, e := &it.s, &it.e
	s.supports, s.comments = int32(e.Supports), int32(e.Comments)
	s.cat, s.status, s.lang = c.intern(e.Category), c.intern(e.Status), c.intern(e.Language)
	s.org, s.author = c.intern(e.OrgID), c.intern(e.AuthorID)
	s.hidden = e.Hidden
}

func (c *Catalog) intern(v string) uint32 {
	n, ok := c.values[v]
	if !ok {
		n = uint32(len(c.values))
		c.values[v] = n
	}
	return n
}

// update replaces an entry in place (same forum, same creation time).
func (c *Catalog) update(it *item, e Entry, toks []int32) {
	f := c.forums[it.e.ForumID]
	f.ready()
	if it.e.AuthorID != e.AuthorID {
		removeFromSet(c.byAuthor, it.e.AuthorID, it)
		addToSet(c.byAuthor, e.AuthorID, it)
	}
	if it.e.OrgID != e.OrgID {
		removeFromSet(c.byOrg, it.e.OrgID, it)
		addToSet(c.byOrg, e.OrgID, it)
	}
	if !slices.Equal(it.toks, toks) || (it.toks == nil) != (toks == nil) {
		c.unindex(f, it)
		it.toks = toks
		c.index(f, it)
	}
	if it.e.Hidden != e.Hidden {
		if e.Hidden {
			f.hidden++
		} else {
			f.hidden--
		}
	}
	it.e = e
	c.setSlot(it)
	f.slots[f.find(&it.s)] = it.s
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
	it.e.Supports, it.e.Comments = clampCount(supports), clampCount(comments)
	it.s.supports, it.s.comments = int32(it.e.Supports), int32(it.e.Comments)
	f := c.forums[it.e.ForumID]
	f.ready()
	s := &f.slots[f.find(&it.s)]
	s.supports, s.comments = it.s.supports, it.s.comments
}

// clampCount keeps a count within 0..MaxInt32 (slots keep counts in 32 bits).
func clampCount(n int) int { return min(max(n, 0), 1<<31-1) }

// Remove deletes an entry; an unknown id is ignored.
func (c *Catalog) Remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it := c.byID[id]; it != nil {
		c.unlink(it)
	}
}

// Get returns a copy of an entry, with its tokens.
func (c *Catalog) Get(id string) (Entry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	it := c.byID[id]
	if it == nil {
		return Entry{}, false
	}
	e := it.e
	if it.toks != nil {
		e.Tokens = c.vocab.stringsOf(make([]string, 0, len(it.toks)), it.toks)
	}
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
	if n := len(c.free); n > 0 {
		it.s.ord = c.free[n-1]
		c.free = c.free[:n-1]
		c.items[it.s.ord] = it
	} else {
		it.s.ord = int32(len(c.items))
		c.items = append(c.items, it)
	}
	c.byID[it.e.ID] = it
	f := c.forums[it.e.ForumID]
	if f == nil {
		f = &forum{postings: make(map[int32][]int32)}
		c.forums[it.e.ForumID] = f
	}
	n := len(f.slots)
	inOrder := n == 0 || newer(&it.s, &f.slots[n-1])
	f.slots = append(f.slots, it.s)
	switch {
	case f.dirty.Load(): // sorted in later, with the others
	case inOrder: // the newest of its forum: a new proposal
		f.sorted = len(f.slots)
	default:
		f.dirty.Store(true)
	}
	if it.e.Hidden {
		f.hidden++
	}
	c.index(f, it)
	addToSet(c.byAuthor, it.e.AuthorID, it)
	addToSet(c.byOrg, it.e.OrgID, it)
}

// unlink removes an item from every index. The caller holds the write lock.
func (c *Catalog) unlink(it *item) {
	delete(c.byID, it.e.ID)
	f := c.forums[it.e.ForumID]
	f.ready()
	i := f.find(&it.s)
	f.slots = slices.Delete(f.slots, i, i+1)
	f.sorted = len(f.slots)
	if it.e.Hidden {
		f.hidden--
	}
	c.unindex(f, it)
	if len(f.slots) == 0 {
		delete(c.forums, it.e.ForumID)
	}
	removeFromSet(c.byAuthor, it.e.AuthorID, it)
	removeFromSet(c.byOrg, it.e.OrgID, it)
	c.items[it.s.ord] = nil
	c.free = append(c.free, it.s.ord)
}

// ready sorts in the slots appended out of order. Writers call it under the write lock,
// readers under the read lock.
func (f *forum) ready() {
	if !f.dirty.Load() {
		return
	}
	f.sortMu.Lock()
	defer f.sortMu.Unlock()
	if !f.dirty.Load() {
		return // another reader did it
	}
	tail := slices.Clone(f.slots[f.sorted:])
	slices.SortFunc(tail, func(a, b slot) int {
		switch {
		case newer(&b, &a):
			return -1
		case newer(&a, &b):
			return 1
		}
		return 0
	})
	// Merge from the end: the newest of the two runs goes last.
	i, j := f.sorted-1, len(tail)-1
	for w := len(f.slots) - 1; j >= 0; w-- {
		if i >= 0 && newer(&f.slots[i], &tail[j]) {
			f.slots[w] = f.slots[i]
			i--
		} else {
			f.slots[w] = tail[j]
			j--
		}
	}
	f.sorted = len(f.slots)
	f.dirty.Store(false)
}

// find returns the index of s in the forum's sorted slots, or where it would be inserted.
func (f *forum) find(s *slot) int {
	lo, hi := 0, len(f.slots)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if newer(s, &f.slots[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// newer reports whether a comes before b in the newest order.
func newer(a, b *slot) bool {
	if a.sec != b.sec {
		return a.sec > b.sec
	}
	if a.nsec != b.nsec {
		return a.nsec > b.nsec
	}
	return a.id < b.id
}

// index adds an item's tokens to its forum's postings.
func (c *Catalog) index(f *forum, it *item) {
	c.vocab.distinct(it.toks, func(t int32) {
		f.postings[t] = append(f.postings[t], it.s.ord)
	})
}

// unindex removes an item's tokens from its forum's postings.
func (c *Catalog) unindex(f *forum, it *item) {
	c.vocab.distinct(it.toks, func(t int32) {
		p := f.postings[t]
		i := slices.Index(p, it.s.ord)
		if i < 0 {
			return
		}
		last := len(p) - 1
		p[i] = p[last]
		if last == 0 {
			delete(f.postings, t)
		} else {
			f.postings[t] = p[:last]
		}
	})
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
