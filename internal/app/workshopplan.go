package app

import (
	"context"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// The action plan: facilitators write its lines in the plan phase; an action's owner (the
// person, or a member of the organisation) and the facilitators keep its status, also after
// the workshop closed. Each action is a version-checked document of its own.

// ActionInput is the fields of action.create, action.edit and action.status.
type ActionInput struct {
	Action    string      `json:"action"`
	Title     *string     `json:"title"`
	Cluster   *string     `json:"cluster"`
	Owner     *OwnerInput `json:"owner"`
	Due       *string     `json:"due"`
	Resources *string     `json:"resources"`
	Status    *string     `json:"status"`
}

// OwnerInput names an action's owner; a null owner (or kind "") clears it.
type OwnerInput struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

var errNoAction = &insieme.Error{Code: insieme.ENOTFOUND, Message: "action not found."}

// applyActionInput validates and copies the form onto an action.
func (a *App) applyActionInput(ctx context.Context, r *workshopRoom, act *insieme.WorkshopAction, in ActionInput, creating bool) error {
	var v insieme.Invalid
	if in.Title != nil || creating {
		t := ""
		if in.Title != nil {
			t = insieme.CleanText(*in.Title)
		}
		insieme.CheckText(&v, "title", t, true, insieme.MaxActionTitle)
		act.Title = t
	}
	if in.Cluster != nil {
		a.workshops.mu.Lock()
		ok := *in.Cluster == "" || r.clusters[*in.Cluster] != nil
		a.workshops.mu.Unlock()
		if !ok {
			return unknownIn("cluster")
		}
		act.Cluster = *in.Cluster
	}
	if in.Due != nil {
		act.Due = nil
		if *in.Due != "" {
			d, err := time.Parse(dateLayout, *in.Due)
			if err != nil {
				v.Add("due", insieme.FInvalidValue)
			}
			act.Due = &d
		}
	}
	if in.Resources != nil {
		s := plainText(*in.Resources)
		insieme.CheckText(&v, "resources", s, false, insieme.MaxActionResources)
		act.Resources = s
	}
	if in.Status != nil {
		switch *in.Status {
		case insieme.ActionOpen, insieme.ActionInProgress, insieme.ActionDone:
			act.Status = *in.Status
		default:
			v.Add("status", insieme.FInvalidValue)
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if in.Owner != nil {
		owner, err := a.actionOwner(ctx, *in.Owner)
		if err != nil {
			return err
		}
		act.Owner = owner
	}
	return nil
}

// actionOwner resolves an owner: an active account or an organisation.
func (a *App) actionOwner(ctx context.Context, in OwnerInput) (insieme.ActionOwner, error) {
	bad := insieme.FieldError("owner", insieme.FInvalidValue)
	switch in.Kind {
	case "":
		return insieme.ActionOwner{}, nil
	case insieme.OwnerPerson:
		acct, err := a.store.Account(ctx, in.ID)
		if insieme.ErrorCode(err) == insieme.ENOTFOUND || (err == nil && !acct.Active()) {
			return insieme.ActionOwner{}, bad
		} else if err != nil {
			return insieme.ActionOwner{}, err
		}
		return insieme.ActionOwner{Kind: in.Kind, ID: acct.ID, Name: acct.DisplayName}, nil
	case insieme.OwnerOrganisation:
		o, err := a.store.Organisation(ctx, in.ID)
		if insieme.ErrorCode(err) == insieme.ENOTFOUND {
			return insieme.ActionOwner{}, bad
		} else if err != nil {
			return insieme.ActionOwner{}, err
		}
		return insieme.ActionOwner{Kind: in.Kind, ID: o.ID, Name: o.Name}, nil
	}
	return insieme.ActionOwner{}, bad
}

// CreateWorkshopAction adds a line to the action plan (facilitators, in the plan phase).
func (a *App) CreateWorkshopAction(ctx context.Context, p *insieme.Principal, id string, in ActionInput) (*ActionView, error) {
	r, w, fac, err := a.workshopAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !insieme.PhaseAllows(insieme.ActActionCreate, w.Phase) {
		return nil, insieme.ErrPhase(w.Phase)
	}
	if !fac {
		return nil, errNotFacilitator
	}
	a.workshops.mu.Lock()
	n := len(r.actions)
	a.workshops.mu.Unlock()
	if n >= insieme.MaxActions {
		return nil, tooMany("actions", insieme.MaxActions)
	}
	act := &insieme.WorkshopAction{ID: id + "~a" + newID()[:16], WorkshopID: id, Status: insieme.ActionOpen, CreatedBy: p.ID, CreatedAt: a.Now()}
	if err := a.applyActionInput(ctx, r, act, in, true); err != nil {
		return nil, err
	}
	if err := a.store.CreateWorkshopAction(ctx, act); err != nil {
		return nil, err
	}
	return a.actionChanged(ctx, r, act), nil
}

// actionChanged tells every node and the room.
func (a *App) actionChanged(ctx context.Context, r *workshopRoom, act *insieme.WorkshopAction) *ActionView {
	a.workshopWritten(ctx, r, workshopEvent{Kind: "action", Action: act})
	v := actionView(act)
	a.publish(ctx, "workshop:"+r.id, map[string]any{"type": "action.state", "action": v})
	return v
}

// changeAction applies a change to one of a workshop's actions under a version check.
func (a *App) changeAction(ctx context.Context, r *workshopRoom, actionID string, change func(act *insieme.WorkshopAction) error) (*ActionView, error) {
	defer a.locks.lock("action:" + actionID)()
	for attempt := 0; ; attempt++ {
		act, err := a.store.WorkshopAction(ctx, actionID)
		if insieme.ErrorCode(err) == insieme.ENOTFOUND || (err == nil && act.WorkshopID != r.id) {
			return nil, errNoAction
		} else if err != nil {
			return nil, err
		}
		if err := change(act); err != nil {
			return nil, err
		}
		err = a.store.SaveWorkshopAction(ctx, act)
		if insieme.ErrorCode(err) == insieme.ECONFLICT && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return a.actionChanged(ctx, r, act), nil
	}
}

// EditWorkshopAction changes a line of the plan (facilitators, in the plan phase).
func (a *App) EditWorkshopAction(ctx context.Context, p *insieme.Principal, id string, in ActionInput) (*ActionView, error) {
	r, w, fac, err := a.workshopAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !insieme.PhaseAllows(insieme.ActActionEdit, w.Phase) {
		return nil, insieme.ErrPhase(w.Phase)
	}
	if !fac {
		return nil, errNotFacilitator
	}
	return a.changeAction(ctx, r, in.Action, func(act *insieme.WorkshopAction) error {
		return a.applyActionInput(ctx, r, act, in, false)
	})
}

// SetActionStatus sets an action's status: its owner (or a member of the owning
// organisation) and the facilitators, in the plan phase and after the workshop closed.
func (a *App) SetActionStatus(ctx context.Context, p *insieme.Principal, id string, in ActionInput) (*ActionView, error) {
	r, w, fac, err := a.workshopAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !insieme.PhaseAllows(insieme.ActActionStatus, w.Phase) {
		return nil, insieme.ErrPhase(w.Phase)
	}
	if in.Status == nil {
		return nil, insieme.FieldError("status", insieme.FRequired)
	}
	return a.changeAction(ctx, r, in.Action, func(act *insieme.WorkshopAction) error {
		if !fac {
			if ok, err := a.ownsAction(ctx, p, act); err != nil {
				return err
			} else if !ok {
				return &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the action's owner and the facilitators set its status."}
			}
		}
		return a.applyActionInput(ctx, r, act, ActionInput{Status: in.Status}, false)
	})
}

// ownsAction: the person named, or a member of the organisation named.
func (a *App) ownsAction(ctx context.Context, p *insieme.Principal, act *insieme.WorkshopAction) (bool, error) {
	if !p.IsAccount() {
		return false, nil
	}
	switch act.Owner.Kind {
	case insieme.OwnerPerson:
		return act.Owner.ID == p.AccountID, nil
	case insieme.OwnerOrganisation:
		m, err := a.membership(ctx, p, act.Owner.ID)
		return m != nil, err
	}
	return false, nil
}
