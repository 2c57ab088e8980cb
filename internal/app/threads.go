package app

import (
	"context"
	"sync"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// maxCachedThreads bounds the thread cache.
const maxCachedThreads = 2000

// threadCache keeps recently read comment threads: decoding a thread of hundreds of comments
// from FerretDB costs milliseconds. A node drops a thread when it changes it, and when any
// node says the proposal changed (the catalogue's events), so it never serves a stale one
// for longer than an event's trip.
type threadCache struct {
	mu      sync.Mutex
	threads map[string]*insieme.Thread
	// least is the version this node knows a thread has reached (it wrote it): an older read
	// (one that raced the write, or a store connection behind) is neither served nor cached.
	least map[string]int64
	// refreshing holds the threads being read again after another node changed them.
	refreshing map[string]bool
}

func (c *threadCache) get(id string) (*insieme.Thread, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.threads[id]
	if ok && t.Version < c.least[id] {
		return nil, false
	}
	return t, ok
}

// wrote records that this node brought a thread to version v, and drops the cached copy.
func (c *threadCache) wrote(id string, v int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.threads, id)
	if c.least == nil {
		c.least = map[string]int64{}
	}
	c.least[id] = max(c.least[id], v)
}

func (c *threadCache) fresh(t *insieme.Thread) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return t.Version >= c.least[t.ProposalID]
}

func (c *threadCache) put(t *insieme.Thread) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Version < c.least[t.ProposalID] {
		return
	}
	if old, ok := c.threads[t.ProposalID]; ok && old.Version > t.Version {
		return // a newer copy is in already
	}
	if c.threads == nil {
		c.threads = map[string]*insieme.Thread{}
	}
	if len(c.threads) >= maxCachedThreads {
		for k := range c.threads { // drop any one: a rough but bounded eviction
			delete(c.threads, k)
			break
		}
	}
	c.threads[t.ProposalID] = t
}

func (c *threadCache) drop(id string) {
	c.mu.Lock()
	delete(c.threads, id)
	c.mu.Unlock()
}

// readThread returns a proposal's thread for reading (never modify it).
func (a *App) readThread(ctx context.Context, proposalID string) (*insieme.Thread, error) {
	if t, ok := a.threads.get(proposalID); ok {
		return t, nil
	}
	t, err := a.readAtLeast(ctx, proposalID)
	if err != nil {
		return nil, err
	}
	a.threads.put(t)
	return t, nil
}

// threadChanged forgets the thread here (this node wrote version v) and tells every node.
func (a *App) threadChanged(ctx context.Context, proposalID string, v int64) {
	a.threads.wrote(proposalID, v)
	a.publish(ctx, CatalogRoom, catalogEvent{ID: proposalID, Thread: true, Version: v})
}

// ForgetThreads drops the threads this node keeps, as a node that just started has none
// (benchmarks measure that first read).
func (a *App) ForgetThreads() { a.threads.clear() }

func (c *threadCache) clear() {
	c.mu.Lock()
	c.threads = nil
	c.mu.Unlock()
}

// readAtLeast reads a thread from the store until it is at the version this node wrote (a
// read connection may briefly lag the write connection), a few tries at most.
func (a *App) readAtLeast(ctx context.Context, proposalID string) (*insieme.Thread, error) {
	for attempt := 0; ; attempt++ {
		t, err := a.store.Thread(ctx, proposalID)
		if err != nil || a.threads.fresh(t) || attempt == 5 {
			return t, err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
}

// refreshThread reads again, in the background, a thread another node changed, keeping the
// cached copy until the new one is in: decoding a long thread costs ~20 ms, and readers in the
// meantime see it as it was a moment before (the change reaches their pages as a live event
// anyway). A thread not cached is left to be read when asked for.
func (a *App) refreshThread(ctx context.Context, proposalID string, version int64) {
	if !a.threads.startRefresh(proposalID) {
		return
	}
	a.background(ctx, func(ctx context.Context) {
		defer a.threads.endRefresh(proposalID)
		for attempt := 0; ; attempt++ {
			t, err := a.store.Thread(ctx, proposalID)
			if err != nil || attempt == 5 {
				a.threads.drop(proposalID) // read when next asked for
				return
			}
			if t.Version >= version { // a read connection may lag the other node's write
				a.threads.put(t)
				return
			}
			time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
		}
	})
}

// startRefresh says whether a refresh of a cached thread should start now (one at a time).
func (c *threadCache) startRefresh(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.threads[id]; !ok || c.refreshing[id] {
		return false
	}
	if c.refreshing == nil {
		c.refreshing = map[string]bool{}
	}
	c.refreshing[id] = true
	return true
}

func (c *threadCache) endRefresh(id string) {
	c.mu.Lock()
	delete(c.refreshing, id)
	c.mu.Unlock()
}
