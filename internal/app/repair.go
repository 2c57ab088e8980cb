package app

import (
	"context"
	"sync"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// Several nodes on one FerretDB can lose each other's rewrites of a document (it rewrites
// whole documents without a lock; see DESIGN.md). What they share is therefore stored as
// inserts under unique keys (each support, each comment), and the counts and the cached thread
// built from them are repaired: after a node changes a proposal's supports or comments it
// recounts them a little later, once the burst is over, and writes what it found. Every
// change schedules a repair after it, so the last repair sees every stored change. On a
// single node (one write connection) or on MongoDB nothing is lost and these repairs are off;
// the sweep of recent changes (RepairChangedSince), for nodes stopped mid-change, runs on all.

// repairs holds the proposals waiting for a repair on this node.
type repairs struct {
	mu      sync.Mutex
	pending map[string]bool
}

// scheduleRepair recounts a proposal's supports and comments after the repair delay, once
// for any number of changes made meanwhile (on a shared FerretDB only).
func (a *App) scheduleRepair(ctx context.Context, proposalID string) {
	if a.repairAfter <= 0 {
		return
	}
	a.repairAfterDelay(ctx, proposalID, a.repairAfter)
}

// repairSoon repairs a proposal a moment from now on any store: a change was stored but a
// later step of it (the cached thread, the counts) failed.
func (a *App) repairSoon(ctx context.Context, proposalID string) {
	a.repairAfterDelay(ctx, proposalID, max(a.repairAfter, 2*time.Second))
}

func (a *App) repairAfterDelay(ctx context.Context, proposalID string, delay time.Duration) {
	a.repairs.mu.Lock()
	if a.repairs.pending[proposalID] {
		a.repairs.mu.Unlock()
		return
	}
	if a.repairs.pending == nil {
		a.repairs.pending = map[string]bool{}
	}
	a.repairs.pending[proposalID] = true
	a.repairs.mu.Unlock()
	a.tasks.Add(1) // Wait (shutdown, tests) waits for pending repairs
	time.AfterFunc(delay, func() {
		defer a.tasks.Done()
		// A change from now on schedules another repair, which will see it.
		a.repairs.mu.Lock()
		delete(a.repairs.pending, proposalID)
		a.repairs.mu.Unlock()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := a.Repair(rctx, proposalID); err != nil {
			a.log.Warn("repair failed", "proposal", proposalID, "err", err)
		}
	})
}

// Repair rebuilds a proposal's cached thread from its comments, its followers from its
// follows, and its counts from its supports and comments, telling every node what changed.
func (a *App) Repair(ctx context.Context, proposalID string) error {
	defer a.locks.lock("thread:" + proposalID)()
	pr, err := a.store.Proposal(ctx, proposalID)
	if err != nil {
		return err
	}
	t, changed, err := a.store.RebuildThread(ctx, proposalID, pr.ForumID)
	if err != nil {
		return err
	}
	if changed {
		a.log.Info("thread repaired", "proposal", proposalID, "comments", len(t.Comments))
		a.threadChanged(ctx, proposalID, t.Version)
	}
	if changed, err := a.store.RebuildFollowers(ctx, proposalID); err != nil {
		return err
	} else if changed {
		a.log.Info("followers repaired", "proposal", proposalID)
	}
	supports, err := a.store.CountSupports(ctx, proposalID)
	if err != nil {
		return err
	}
	was, now := insieme.Counts{Supports: pr.Supports, Comments: pr.Comments}, insieme.Counts{Supports: supports, Comments: len(t.Comments)}
	if was == now {
		return nil
	}
	a.log.Info("counts repaired", "proposal", proposalID, "supports", supports, "was", pr.Supports,
		"comments", len(t.Comments), "wasComments", pr.Comments)
	if wrote, err := a.store.SetCounts(ctx, proposalID, was, now); err != nil || !wrote {
		// The counts moved since they were read: that change scheduled a repair of its own.
		return err
	}
	pr.Supports, pr.Comments = supports, len(t.Comments)
	threadVersion := int64(0)
	if changed {
		threadVersion = t.Version
	}
	a.catalogCounts(ctx, pr, threadVersion)
	a.publishCounts(ctx, pr)
	return nil
}

// RepairChangedSince repairs the proposals that changes stored since a time left behind. A
// node that stops between a multi-step change's first write (the comment's or support's own
// document, the truth) and the last (the cached thread, the counts) leaves the caches behind
// on any store. The sweep reads what was stored lately (one filter per collection), checks each
// proposal's cached thread by _id and its supports with one grouped count, and repairs only
// those that disagree. Each node sweeps the recent past at start, and nodes sharing a store
// every few minutes (see serve's sweeper). It returns how many proposals it repaired; one
// that fails is logged and the sweep goes on.
func (a *App) RepairChangedSince(ctx context.Context, since time.Time) (int, error) {
	recent, err := a.store.RecentChanges(ctx, since)
	if err != nil {
		return 0, err
	}
	behind := map[string]bool{}
	for id, revs := range recent.Comments {
		t, err := a.store.Thread(ctx, id)
		if err != nil {
			behind[id] = true // the repair will tell
			continue
		}
		for _, r := range revs {
			if c := t.Find(r.ID); c == nil || c.Rev < r.Rev {
				behind[id] = true
				break
			}
		}
		if pr, err := a.store.Proposal(ctx, id); err == nil && pr.Comments != len(t.Comments) {
			behind[id] = true
		}
	}
	supports, err := a.store.SupportCounts(ctx, recent.Supports)
	for _, id := range recent.Supports {
		if err != nil { // not counted: repair them all
			behind[id] = true
		} else if pr, err := a.store.Proposal(ctx, id); err == nil && pr.Supports != supports[id] {
			behind[id] = true
		}
	}
	repaired := 0
	for id := range behind {
		if err := a.Repair(ctx, id); err != nil && insieme.ErrorCode(err) != insieme.ENOTFOUND {
			a.log.Warn("sweep: repair failed", "proposal", id, "err", err)
			continue
		}
		repaired++
	}
	return repaired, nil
}

// publishCounts tells a forum's room a proposal's counts (absolute, so applying an event
// twice is harmless); a hidden proposal's are not broadcast.
func (a *App) publishCounts(ctx context.Context, pr *insieme.Proposal) {
	if pr.Hidden {
		return
	}
	a.publish(ctx, "forum:"+pr.ForumID, map[string]any{"type": "proposal.counts", "id": pr.ID, "supports": pr.Supports, "comments": pr.Comments})
}
