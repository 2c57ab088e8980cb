package app

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/insieme/insieme/internal/insieme"
)

// WorkshopState is what a person's screen shows of a workshop: the snapshot of the room
// "workshop:<id>" and the answer of GET /api/v1/workshops/{id}, as that person may see it.
type WorkshopState struct {
	Workshop    *WorkshopView      `json:"workshop"`
	Cards       []*CardView        `json:"cards"`
	Clusters    []*ClusterView     `json:"clusters"`
	Counts      CardCounts         `json:"counts"`
	Dots        MyDots             `json:"dots"`
	Progress    DotProgress        `json:"progress"`
	Results     []DotResultView    `json:"results"` // null until the vote ended
	Actions     []*ActionView      `json:"actions"`
	Me          *insieme.Principal `json:"me"`
	Facilitator bool               `json:"facilitator"`
	Group       string             `json:"group"` // the viewer's table, "" for none
	// Presence is how many people are connected to the room now, on every node.
	Presence PresenceCounts `json:"presence"`
}

// workshopState builds p's view of a workshop from this node's copy.
func (a *App) workshopState(ctx context.Context, p *insieme.Principal, id string) (*WorkshopState, error) {
	r, _, fac, err := a.workshopAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	v := &viewer{id: p.ID, facilitator: fac}
	a.workshops.mu.Lock()
	w := r.w
	st := &WorkshopState{Workshop: a.workshopView(w, fac), Cards: r.cardViews(v), Clusters: r.clusterViews(), Counts: r.counts(v),
		Dots: r.myDots(p.ID), Progress: r.progress(), Actions: r.actionViews(), Me: p, Facilitator: fac, Group: r.groupOf(p.ID),
		Presence: a.presence.counts("workshop:" + id)}
	a.workshops.mu.Unlock()
	if w.VoteEnded() {
		st.Results = resultViews(w.Results)
	}
	if err := a.nameAuthors(ctx, st.Cards); err != nil {
		return nil, err
	}
	return st, nil
}

// Workshop shows a workshop and its board as p may see it.
func (a *App) Workshop(ctx context.Context, p *insieme.Principal, id string) (*WorkshopState, error) {
	return a.workshopState(ctx, p, id)
}

// authorizeWorkshop: a workshop's room is for its participants (guests who joined it by code,
// accounts who may see its forum) and its facilitators.
func (a *App) authorizeWorkshop(ctx context.Context, p *insieme.Principal, id string) error {
	_, _, _, err := a.workshopAccess(ctx, p, id)
	return err
}

// ActionOwnerView is who carries an action out.
type ActionOwnerView struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ActionView is a line of the action plan.
type ActionView struct {
	ID         string           `json:"id"`
	Title      string           `json:"title"`
	Cluster    string           `json:"cluster"`
	Owner      *ActionOwnerView `json:"owner"`
	Due        string           `json:"due"` // a date, "2026-12-31", or ""
	Resources  string           `json:"resources"`
	Status     string           `json:"status"`
	ProposalID string           `json:"proposalId,omitempty"`
	Version    int64            `json:"version"`
}

func actionView(act *insieme.WorkshopAction) *ActionView {
	v := &ActionView{ID: act.ID, Title: act.Title, Cluster: act.Cluster, Resources: act.Resources, Status: act.Status,
		ProposalID: act.ProposalID, Version: act.Version}
	if act.Owner.Kind != "" {
		v.Owner = &ActionOwnerView{Kind: act.Owner.Kind, ID: act.Owner.ID, Name: act.Owner.Name}
	}
	if act.Due != nil {
		v.Due = act.Due.Format(dateLayout)
	}
	return v
}

const dateLayout = "2006-01-02"

// actionViews is the action plan, oldest first (under a.workshops.mu).
func (r *workshopRoom) actionViews() []*ActionView {
	acts := make([]*insieme.WorkshopAction, 0, len(r.actions))
	for _, act := range r.actions {
		acts = append(acts, act)
	}
	slices.SortFunc(acts, func(x, y *insieme.WorkshopAction) int {
		if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	out := make([]*ActionView, len(acts))
	for i, act := range acts {
		out[i] = actionView(act)
	}
	return out
}

// WorkshopActions lists the workshops' live messages by type (also sent over HTTP as
// POST /api/v1/workshops/{id}/actions).
func (a *App) WorkshopActions() map[string]LiveAction {
	return map[string]LiveAction{
		"workshop.phase":     a.phaseAction,
		"workshop.timer":     a.timerAction,
		"workshop.lock":      a.lockAction,
		"workshop.spotlight": a.spotlightAction,
		"workshop.group":     a.groupAction,
		"card.create":        a.cardCreateAction,
		"card.edit":          a.cardEditAction,
		"card.move":          a.cardMoveAction,
		"card.hide":          a.cardHideAction,
		"cluster.create":     a.clusterCreateAction,
		"cluster.edit":       a.clusterEditAction,
		"dot.add":            a.dotAddAction,
		"dot.remove":         a.dotRemoveAction,
		"action.create":      a.actionCreateAction,
		"action.edit":        a.actionEditAction,
		"action.status":      a.actionStatusAction,
	}
}

// workshopMsg is the part every workshop message has.
type workshopMsg struct {
	Workshop string `json:"workshop"`
}

// workshopAction decodes a message into T and runs it on its workshop.
func workshopAction[T any, R any](run func(ctx context.Context, p *insieme.Principal, id string, in T) (R, error)) LiveAction {
	return func(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
		var m workshopMsg
		var in T
		if err := decodeLive(msg, &m); err != nil {
			return nil, err
		}
		if err := decodeLive(msg, &in); err != nil {
			return nil, err
		}
		if m.Workshop == "" {
			return nil, insieme.FieldError("workshop", insieme.FRequired)
		}
		if p == nil {
			return nil, errUnauthorized
		}
		return run(ctx, p, m.Workshop, in)
	}
}

type phaseInput struct {
	Phase string `json:"phase"`
}
type timerInput struct {
	Minutes int `json:"minutes"`
}
type lockInput struct {
	Locked bool `json:"locked"`
}
type targetInput struct {
	Target string `json:"target"`
}
type groupInput struct {
	Group string `json:"group"`
}

func (a *App) phaseAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(func(ctx context.Context, p *insieme.Principal, id string, in phaseInput) (*WorkshopView, error) {
		return a.MoveWorkshop(ctx, p, id, in.Phase)
	})(ctx, p, msg)
}

func (a *App) timerAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(func(ctx context.Context, p *insieme.Principal, id string, in timerInput) (*WorkshopView, error) {
		return a.SetWorkshopTimer(ctx, p, id, in.Minutes)
	})(ctx, p, msg)
}

func (a *App) lockAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(func(ctx context.Context, p *insieme.Principal, id string, in lockInput) (*WorkshopView, error) {
		return a.LockWorkshop(ctx, p, id, in.Locked)
	})(ctx, p, msg)
}

func (a *App) spotlightAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(func(ctx context.Context, p *insieme.Principal, id string, in targetInput) (*WorkshopView, error) {
		return a.SpotlightWorkshop(ctx, p, id, in.Target)
	})(ctx, p, msg)
}

func (a *App) groupAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(func(ctx context.Context, p *insieme.Principal, id string, in groupInput) (*GroupResult, error) {
		return a.ChooseGroup(ctx, p, id, in.Group)
	})(ctx, p, msg)
}

func (a *App) cardCreateAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(a.CreateCard)(ctx, p, msg)
}

func (a *App) cardEditAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(a.EditCard)(ctx, p, msg)
}

func (a *App) cardMoveAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(a.MoveCard)(ctx, p, msg)
}

func (a *App) cardHideAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(a.HideCard)(ctx, p, msg)
}

func (a *App) clusterCreateAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(a.CreateCluster)(ctx, p, msg)
}

func (a *App) clusterEditAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(a.EditCluster)(ctx, p, msg)
}

func (a *App) dotAddAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(func(ctx context.Context, p *insieme.Principal, id string, in targetInput) (*MyDots, error) {
		return a.AddDot(ctx, p, id, in.Target)
	})(ctx, p, msg)
}

func (a *App) dotRemoveAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(func(ctx context.Context, p *insieme.Principal, id string, in targetInput) (*MyDots, error) {
		return a.RemoveDot(ctx, p, id, in.Target)
	})(ctx, p, msg)
}

func (a *App) actionCreateAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(a.CreateWorkshopAction)(ctx, p, msg)
}

func (a *App) actionEditAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(a.EditWorkshopAction)(ctx, p, msg)
}

func (a *App) actionStatusAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	return workshopAction(a.SetActionStatus)(ctx, p, msg)
}
