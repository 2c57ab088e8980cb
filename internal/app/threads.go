package app

import (
	"context"
	"sync"

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
}

func (c *threadCache) get(id string) (*insieme.Thread, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.threads[id]
	return t, ok
}

func (c *threadCache) put(t *insieme.Thread) {
	c.mu.Lock()
	defer c.mu.Unlock()
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
	t, err := a.store.Thread(ctx, proposalID)
	if err != nil {
		return nil, err
	}
	a.threads.put(t)
	return t, nil
}

// threadChanged forgets the thread here and tells every node.
func (a *App) threadChanged(ctx context.Context, proposalID string) {
	a.threads.drop(proposalID)
	a.publish(ctx, CatalogRoom, catalogEvent{ID: proposalID})
}

func (c *threadCache) clear() {
	c.mu.Lock()
	c.threads = nil
	c.mu.Unlock()
}
