package app

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// What facilitators do live: move the phase, set the timer, lock the board, spotlight a card
// or cluster. And what every participant does at any time: sit at a table.

// resultsGrace lets dots accepted by other nodes just before the vote ended reach the store
// before the results are counted once more.
const resultsGrace = 300 * time.Millisecond

// MoveWorkshop moves a workshop forward to a phase (facilitators).
func (a *App) MoveWorkshop(ctx context.Context, p *insieme.Principal, id, phase string) (*WorkshopView, error) {
	var from string
	counted := false
	w, err := a.facilitatorWrite(ctx, p, id, func(w *insieme.Workshop) error {
		if err := w.CheckMove(phase); err != nil {
			return err
		}
		if phase == insieme.PhaseClosed {
			// The output is frozen: its number of participants is kept with it, so that the
			// forum's list never loads a closed workshop's board to count them.
			r, err := a.workshopRoom(ctx, w.ID)
			if err != nil {
				return err
			}
			a.workshops.mu.Lock()
			w.Participants = len(r.participants())
			a.workshops.mu.Unlock()
		}
		from = w.Phase
		if insieme.PhaseIndex(phase) > insieme.PhaseIndex(insieme.PhaseVote) && !w.VoteEnded() {
			dots, err := a.store.DotsOf(ctx, w.ID)
			if err != nil {
				return err
			}
			w.Results, counted = tallyDots(dots), true
		}
		w.Phase, w.PhaseStartedAt, w.TimerEndsAt, w.Spotlight = phase, a.Now(), nil, ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	if insieme.PhaseIndex(from) <= insieme.PhaseIndex(insieme.PhaseBrainstorm) && insieme.PhaseIndex(phase) > insieme.PhaseIndex(insieme.PhaseBrainstorm) {
		// The reveal: every card, read again from the store first (one scan), so a card that
		// another node stored a moment ago is in it even if its event has not arrived.
		if r, err := a.workshopRoom(ctx, w.ID); err == nil {
			if b, err := a.store.Board(ctx, w.ID); err == nil {
				a.workshops.mu.Lock()
				r.applyBoard(b.Cards, b.Clusters, b.Edits)
				a.workshops.mu.Unlock()
			}
		}
		a.publishBoard(ctx, w.ID)
	}
	if counted {
		a.publish(ctx, "workshop:"+w.ID, map[string]any{"type": "dots.results", "results": resultViews(w.Results)})
		a.background(ctx, func(ctx context.Context) { a.recountDots(ctx, w.ID) })
	}
	if phase == insieme.PhaseClosed && w.JoinCode != "" {
		if err := a.store.DeleteJoinCode(ctx, w.JoinCode); err != nil {
			a.log.Warn("join code not removed", "workshop", w.ID, "err", err)
		}
	}
	a.publish(ctx, "forum:"+w.ForumID, map[string]any{"type": "workshop.updated", "id": w.ID})
	return a.workshopView(w, true), nil
}

// tallyDots counts dots per target, most first (ties by id, so every count ranks the same).
func tallyDots(dots []*insieme.Dot) []insieme.DotResult {
	n := map[string]int{}
	for _, d := range dots {
		n[d.Target]++
	}
	out := make([]insieme.DotResult, 0, len(n))
	for t, c := range n {
		out = append(out, insieme.DotResult{Target: t, Dots: c})
	}
	slices.SortFunc(out, func(x, y insieme.DotResult) int {
		if x.Dots != y.Dots {
			return y.Dots - x.Dots
		}
		return strings.Compare(x.Target, y.Target)
	})
	return out
}

func resultViews(rs []insieme.DotResult) []DotResultView {
	out := make([]DotResultView, len(rs))
	for i, r := range rs {
		out[i] = DotResultView{Target: r.Target, Dots: r.Dots}
	}
	return out
}

// recountDots counts the stored dots again a moment after the vote ended: a dot another node
// stored just before the end is in the results too.
func (a *App) recountDots(ctx context.Context, id string) {
	select {
	case <-time.After(resultsGrace):
	case <-ctx.Done():
		return
	}
	changed := false
	w, err := a.writeWorkshop(ctx, id, func(w *insieme.Workshop) error {
		dots, err := a.store.DotsOf(ctx, w.ID)
		if err != nil {
			return err
		}
		rs := tallyDots(dots)
		if slices.Equal(rs, w.Results) {
			return errNoChange
		}
		w.Results, changed = rs, true
		return nil
	})
	if err != nil && err != errNoChange {
		a.log.Warn("dots not recounted", "workshop", id, "err", err)
	}
	if changed {
		a.publish(ctx, "workshop:"+id, map[string]any{"type": "dots.results", "results": resultViews(w.Results)})
	}
}

// SetWorkshopTimer starts a countdown of some minutes (0 clears it).
func (a *App) SetWorkshopTimer(ctx context.Context, p *insieme.Principal, id string, minutes int) (*WorkshopView, error) {
	if minutes < 0 || minutes > insieme.MaxTimerMinutes {
		return nil, &insieme.Error{Code: insieme.EINVALID, Message: "Some fields are not valid.",
			Fields: map[string]string{"minutes": insieme.FInvalidValue}, Limits: map[string]int{"minutes": insieme.MaxTimerMinutes}}
	}
	w, err := a.facilitatorWrite(ctx, p, id, func(w *insieme.Workshop) error {
		if w.Phase == insieme.PhaseClosed {
			return errWorkshopClosed
		}
		w.TimerEndsAt = nil
		if minutes > 0 {
			end := a.Now().Add(time.Duration(minutes) * time.Minute)
			w.TimerEndsAt = &end
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a.workshopView(w, true), nil
}

// LockWorkshop locks or unlocks the board for participants.
func (a *App) LockWorkshop(ctx context.Context, p *insieme.Principal, id string, locked bool) (*WorkshopView, error) {
	w, err := a.facilitatorWrite(ctx, p, id, func(w *insieme.Workshop) error {
		if w.Phase == insieme.PhaseClosed {
			return errWorkshopClosed
		}
		w.Locked = locked
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a.workshopView(w, true), nil
}

// SpotlightWorkshop highlights a card (after the brainstorm) or a cluster for everyone; ""
// clears it.
func (a *App) SpotlightWorkshop(ctx context.Context, p *insieme.Principal, id, target string) (*WorkshopView, error) {
	r, _, fac, err := a.workshopAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !fac {
		return nil, errNotFacilitator
	}
	w, err := a.facilitatorWrite(ctx, p, id, func(w *insieme.Workshop) error {
		if w.Phase == insieme.PhaseClosed {
			return errWorkshopClosed
		}
		if target != "" {
			a.workshops.mu.Lock()
			_, card := r.cards[target]
			_, cluster := r.clusters[target]
			a.workshops.mu.Unlock()
			if !cluster && !(card && insieme.PhaseIndex(w.Phase) > insieme.PhaseIndex(insieme.PhaseBrainstorm)) {
				return unknownIn("target")
			}
		}
		w.Spotlight = target
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a.workshopView(w, true), nil
}

// GroupResult acknowledges a participant's table.
type GroupResult struct {
	Group string `json:"group"`
}

// ChooseGroup seats a participant at a table ("" for none), before the workshop closes.
func (a *App) ChooseGroup(ctx context.Context, p *insieme.Principal, id, group string) (*GroupResult, error) {
	r, w, _, err := a.workshopAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if w.Phase == insieme.PhaseClosed {
		return nil, errWorkshopClosed
	}
	if group != "" && w.Group(group) == nil {
		return nil, unknownIn("group")
	}
	a.workshops.mu.Lock()
	n := 0
	if g := r.groups[p.ID]; g != nil {
		n = g.N + 1
	}
	a.workshops.mu.Unlock()
	for attempt := 0; ; attempt++ {
		g := &insieme.GroupChoice{WorkshopID: id, ParticipantID: p.ID, N: n, Group: group, At: a.Now()}
		err := a.store.InsertGroupChoice(ctx, g)
		if insieme.ErrorCode(err) == insieme.ECONFLICT && attempt < 20 {
			n++ // another node seated them meanwhile: a later choice wins
			continue
		}
		if err != nil {
			return nil, err
		}
		a.workshopWritten(ctx, r, workshopEvent{Kind: "group", Group: g})
		return &GroupResult{Group: group}, nil
	}
}

// groupOf is the table p sits at (under a.workshops.mu).
func (r *workshopRoom) groupOf(participantID string) string {
	if g := r.groups[participantID]; g != nil {
		return g.Group
	}
	return ""
}
