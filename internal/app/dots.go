package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// Dot voting. A dot is an insert under "<workshop>:<voter>:<slot>" (slot < the budget) with
// a unique (workshop, voter, target, k) (k < the per-card maximum): neither limit can be
// exceeded across nodes, without a read-modify-write. A node picks a free slot and k from its
// copy; a duplicate key means another node took it, so it reads the voter's slots again by
// _id and tries a free one. Until the vote ends only the voter sees their dots; the room gets
// how many people voted and how many dots were spent.

// DotView is one of the voter's dots.
type DotView struct {
	Target string `json:"target"`
	Slot   int    `json:"slot"`
}

// MyDots is a voter's dots and how many are left.
type MyDots struct {
	Dots []DotView `json:"dots"`
	Left int       `json:"left"`
}

// DotProgress is how the vote goes, without where the dots went.
type DotProgress struct {
	Voters int `json:"voters"`
	Spent  int `json:"spent"`
}

var errNoDotHere = &insieme.Error{Code: insieme.ENOTFOUND, Message: "You have no dot on this."}

// myDots are a voter's dots by slot (under a.workshops.mu).
func (r *workshopRoom) myDots(voterID string) MyDots {
	md := MyDots{Dots: []DotView{}}
	for _, d := range r.dots {
		if d.VoterID == voterID {
			md.Dots = append(md.Dots, DotView{Target: d.Target, Slot: d.Slot})
		}
	}
	slices.SortFunc(md.Dots, func(x, y DotView) int { return x.Slot - y.Slot })
	md.Left = max(0, r.w.Settings.Dots-len(md.Dots))
	return md
}

func (r *workshopRoom) progress() DotProgress {
	voters := map[string]bool{}
	for _, d := range r.dots {
		voters[d.VoterID] = true
	}
	return DotProgress{Voters: len(voters), Spent: len(r.dots)}
}

// votable says whether a dot may go on a target: a shown card or a cluster (under a.workshops.mu).
func (r *workshopRoom) votable(target string) bool {
	if r.clusters[target] != nil {
		return true
	}
	f := r.fields[target]
	return r.cards[target] != nil && f[insieme.FieldText] != nil && (f[insieme.FieldHidden] == nil || !f[insieme.FieldHidden].Bool)
}

// AddDot spends one of p's dots on a card or cluster.
func (a *App) AddDot(ctx context.Context, p *insieme.Principal, id, target string) (*MyDots, error) {
	r, w, _, err := a.boardAccess(ctx, p, id, insieme.ActDotAdd)
	if err != nil {
		return nil, err
	}
	defer a.locks.lock("dots:" + id + ":" + p.ID)()
	budget, perCard := w.Settings.Dots, w.Settings.MaxDotsPerCard
	reloaded := false
	for attempt := 0; ; attempt++ {
		a.workshops.mu.Lock()
		if !r.votable(target) {
			a.workshops.mu.Unlock()
			return nil, unknownIn("target")
		}
		slots, ks := map[int]bool{}, map[int]bool{}
		for _, d := range r.dots {
			if d.VoterID == p.ID {
				slots[d.Slot] = true
				if d.Target == target {
					ks[d.K] = true
				}
			}
		}
		a.workshops.mu.Unlock()
		if !reloaded && (len(slots) >= budget || len(ks) >= perCard) {
			// A refusal must hold in the store, not only in this node's copy (a removal
			// on another node may not have reached it yet).
			if err := a.reloadVoterDots(ctx, r, p.ID, budget); err != nil {
				return nil, err
			}
			reloaded = true
			continue
		}
		if len(slots) >= budget {
			return nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "You have 0 dots left.", Limits: map[string]int{"dots": 0}}
		}
		if len(ks) >= perCard {
			return nil, &insieme.Error{Code: insieme.ECONFLICT,
				Message: fmt.Sprintf("At most %d on one card or cluster; dots left: %d.", perCard, budget-len(slots)),
				Limits:  map[string]int{"maxDotsPerCard": perCard, "dots": budget - len(slots)}}
		}
		// At as the store keeps it (milliseconds), so every node tells this dot from a later
		// one in the same slot alike.
		d := &insieme.Dot{WorkshopID: id, VoterID: p.ID, Slot: firstFree(slots), Target: target, K: firstFree(ks), At: a.Now().Truncate(time.Millisecond)}
		err := a.store.InsertDot(ctx, d)
		if insieme.ErrorCode(err) == insieme.ECONFLICT && attempt < 2*budget+2 {
			if err := a.reloadVoterDots(ctx, r, p.ID, budget); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		// A node whose copy missed the end of the vote takes its dot back.
		if cur, err := a.store.Workshop(ctx, id); err == nil && cur.Phase != insieme.PhaseVote {
			if err := a.store.DeleteDot(ctx, d.ID()); err != nil && insieme.ErrorCode(err) != insieme.ENOTFOUND {
				return nil, err
			}
			return nil, insieme.ErrPhase(cur.Phase)
		}
		return a.dotsChanged(ctx, r, p.ID, workshopEvent{Kind: "dot", Dot: d}), nil
	}
}

func firstFree(taken map[int]bool) int {
	for i := 0; ; i++ {
		if !taken[i] {
			return i
		}
	}
}

// reloadVoterDots reads a voter's slots again by _id.
func (a *App) reloadVoterDots(ctx context.Context, r *workshopRoom, voterID string, budget int) error {
	found := map[string]*insieme.Dot{}
	for slot := range budget {
		d, err := a.store.Dot(ctx, insieme.DotID(r.id, voterID, slot))
		if insieme.ErrorCode(err) == insieme.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		found[d.ID()] = d
	}
	a.workshops.mu.Lock()
	defer a.workshops.mu.Unlock()
	for id, d := range r.dots {
		if d.VoterID == voterID {
			delete(r.dots, id)
		}
	}
	for id, d := range found {
		r.dots[id] = d
	}
	return nil
}

// RemoveDot takes one of p's dots off a target.
func (a *App) RemoveDot(ctx context.Context, p *insieme.Principal, id, target string) (*MyDots, error) {
	r, w, _, err := a.boardAccess(ctx, p, id, insieme.ActDotRemove)
	if err != nil {
		return nil, err
	}
	defer a.locks.lock("dots:" + id + ":" + p.ID)()
	for attempt := 0; ; attempt++ {
		var last *insieme.Dot
		a.workshops.mu.Lock()
		for _, d := range r.dots {
			if d.VoterID == p.ID && d.Target == target && (last == nil || d.K > last.K) {
				last = d
			}
		}
		a.workshops.mu.Unlock()
		if last == nil && attempt == 0 { // perhaps spent on another node a moment ago
			if err := a.reloadVoterDots(ctx, r, p.ID, w.Settings.Dots); err != nil {
				return nil, err
			}
			continue
		}
		if last == nil {
			return nil, errNoDotHere
		}
		err := a.store.DeleteDot(ctx, last.ID())
		if insieme.ErrorCode(err) == insieme.ENOTFOUND && attempt < 2 {
			if err := a.reloadVoterDots(ctx, r, p.ID, w.Settings.Dots); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		// A node whose copy missed the end of the vote puts the dot back: the tally counted it.
		if cur, err := a.store.Workshop(ctx, id); err == nil && cur.Phase != insieme.PhaseVote {
			if err := a.store.InsertDot(ctx, last); err != nil && insieme.ErrorCode(err) != insieme.ECONFLICT {
				return nil, err
			}
			return nil, insieme.ErrPhase(cur.Phase)
		}
		return a.dotsChanged(ctx, r, p.ID, workshopEvent{Kind: "dot", Dot: last, Removed: true}), nil
	}
}

// dotsChanged tells every node, sends the voter their dots and the room the progress.
func (a *App) dotsChanged(ctx context.Context, r *workshopRoom, voterID string, ev workshopEvent) *MyDots {
	a.workshopWritten(ctx, r, ev)
	a.workshops.mu.Lock()
	md := r.myDots(voterID)
	a.scheduleProgress(r)
	a.workshops.mu.Unlock()
	a.publish(ctx, "participant:"+voterID, map[string]any{"type": "dots.mine", "workshop": r.id, "dots": md.Dots, "left": md.Left})
	return &md
}

// scheduleProgress publishes the vote's progress a moment from now (under a.workshops.mu).
func (a *App) scheduleProgress(r *workshopRoom) {
	if r.progressPending {
		return
	}
	r.progressPending = true
	a.tasks.Add(1)
	time.AfterFunc(partsFlushEvery, func() {
		defer a.tasks.Done()
		a.workshops.mu.Lock()
		r.progressPending = false
		r.progressAt = time.Now()
		pr := r.progress()
		a.workshops.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.publish(ctx, "workshop:"+r.id, map[string]any{"type": "dots.progress", "voters": pr.Voters, "spent": pr.Spent})
	})
}
