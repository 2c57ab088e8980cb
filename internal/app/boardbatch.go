package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// Board writes arriving together on a node are stored in batches (one insert of cards, one of
// clusters, one of edits per batch), and each is acknowledged only once stored, as ballots are
// (polls.go).

const (
	boardBatchSize    = 200
	boardBatchWait    = 5 * time.Millisecond
	boardFlushes      = 4
	boardStoreTimeout = 15 * time.Second
)

var errBoardNotStored = &insieme.Error{Code: insieme.EUNAVAILABLE, Message: "Your change was not saved; send it again."}

// boardBatch groups the board writes arriving on this node.
type boardBatch struct {
	mu       sync.Mutex
	queue    []*boardOp
	timer    *time.Timer
	flushing int
}

// boardOp is one message's inserts: a new card or cluster and its field edits.
type boardOp struct {
	ctx      context.Context
	room     *workshopRoom
	cards    []*insieme.Card
	clusters []*insieme.Cluster
	edits    []*insieme.BoardEdit
	done     chan error // buffered: the flusher never waits
}

// editVersion draws the version of a new edit of an item's field: this node's clock in
// microseconds, above every version it has seen of that field and every one it drew, then
// the node's id and a counter (call under a.workshops.mu).
func (a *App) editVersion(r *workshopRoom, item, field string) string {
	ws := &a.workshops
	v := max(time.Now().UnixMicro(), ws.micros+1)
	if e := r.fields[item][field]; e != nil {
		var seen int64
		if _, err := fmt.Sscanf(e.ID[len(item)+len(field)+2:], "%20d", &seen); err == nil {
			v = max(v, seen+1)
		}
	}
	ws.micros = v
	ws.counter++
	return fmt.Sprintf("%020d.%s%06d", v, a.node, ws.counter%1_000_000)
}

// newEdit makes an edit of an item's field (call under a.workshops.mu).
func (a *App) newEdit(r *workshopRoom, item, field string) *insieme.BoardEdit {
	return &insieme.BoardEdit{ID: insieme.BoardEditID(item, field, a.editVersion(r, item, field)), WorkshopID: r.id, Item: item,
		Field: field, At: a.Now()}
}

// submitBoard queues a write and waits until its batch is stored (nil) or not.
func (a *App) submitBoard(ctx context.Context, op *boardOp) error {
	op.ctx, op.done = ctx, make(chan error, 1)
	bb := &a.workshops.batch
	bb.mu.Lock()
	bb.queue = append(bb.queue, op)
	a.kickBoard()
	bb.mu.Unlock()
	select {
	case err := <-op.done:
		return err
	case <-ctx.Done():
		return errBoardNotStored
	}
}

// kickBoard starts storing what is queued (call with bb.mu held).
func (a *App) kickBoard() {
	bb := &a.workshops.batch
	for bb.flushing < boardFlushes && len(bb.queue) >= boardBatchSize {
		a.startBoardFlush(boardBatchSize)
	}
	if len(bb.queue) > 0 && bb.timer == nil && bb.flushing < boardFlushes {
		bb.timer = time.AfterFunc(boardBatchWait, func() {
			bb.mu.Lock()
			defer bb.mu.Unlock()
			bb.timer = nil
			if len(bb.queue) > 0 && bb.flushing < boardFlushes {
				a.startBoardFlush(min(len(bb.queue), boardBatchSize))
			}
			a.kickBoard()
		})
	}
}

func (a *App) startBoardFlush(n int) {
	bb := &a.workshops.batch
	batch := slices.Clone(bb.queue[:n])
	bb.queue = slices.Delete(bb.queue, 0, n)
	bb.flushing++
	go a.flushBoard(batch)
}

// flushBoard stores a batch (cards and clusters before the edits that name them), tells every
// node what was stored, and only then answers each write.
func (a *App) flushBoard(batch []*boardOp) {
	defer func() {
		bb := &a.workshops.batch
		bb.mu.Lock()
		bb.flushing--
		if len(bb.queue) > 0 {
			a.startBoardFlush(min(len(bb.queue), boardBatchSize))
		}
		a.kickBoard()
		bb.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), boardStoreTimeout)
	defer cancel()
	errs := make([]error, len(batch))
	// insert stores one kind of item of every op still standing, failing the ops whose items
	// were not stored.
	insert := func(kind string, count func(*boardOp) int, store func(from []int) error) {
		var owner []int // the op of each item, in order
		for i, op := range batch {
			if errs[i] == nil {
				for range count(op) {
					owner = append(owner, i)
				}
			}
		}
		if len(owner) == 0 {
			return
		}
		err := store(owner)
		var be *insieme.BatchError
		switch {
		case err == nil:
		case errors.As(err, &be):
			for k, e := range be.Failed {
				a.log.Warn("board write not stored", "kind", kind, "err", e)
				errs[owner[k]] = errBoardNotStored
			}
		default:
			a.log.Error("board writes not stored", "kind", kind, "count", len(owner), "err", err)
			for _, i := range owner {
				errs[i] = errBoardNotStored
			}
		}
	}
	insert("cards", func(op *boardOp) int { return len(op.cards) }, func(owner []int) error {
		var cs []*insieme.Card
		for i, op := range batch {
			if errs[i] == nil {
				cs = append(cs, op.cards...)
			}
		}
		return a.store.InsertCards(ctx, cs)
	})
	insert("clusters", func(op *boardOp) int { return len(op.clusters) }, func(owner []int) error {
		var cs []*insieme.Cluster
		for i, op := range batch {
			if errs[i] == nil {
				cs = append(cs, op.clusters...)
			}
		}
		return a.store.InsertClusters(ctx, cs)
	})
	insert("edits", func(op *boardOp) int { return len(op.edits) }, func(owner []int) error {
		var es []*insieme.BoardEdit
		for i, op := range batch {
			if errs[i] == nil {
				es = append(es, op.edits...)
			}
		}
		return a.store.InsertBoardEdits(ctx, es)
	})
	// What was stored of the ops that succeeded, per workshop, to every node. (An op that
	// failed halfway left a card without its text: views skip such cards.)
	byRoom := map[*workshopRoom]*workshopEvent{}
	for i, op := range batch {
		if errs[i] != nil {
			continue
		}
		ev := byRoom[op.room]
		if ev == nil {
			ev = &workshopEvent{Kind: "board"}
			byRoom[op.room] = ev
		}
		ev.Cards = append(ev.Cards, op.cards...)
		ev.Clusters = append(ev.Clusters, op.clusters...)
		ev.Edits = append(ev.Edits, op.edits...)
	}
	for r, ev := range byRoom {
		a.workshopWritten(ctx, r, *ev)
	}
	for i, op := range batch {
		op.done <- errs[i]
	}
}
