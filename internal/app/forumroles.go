package app

import (
	"context"

	"github.com/insieme/insieme/internal/insieme"
)

// Per-forum roles (mediators translate proposals, facilitators run workshops), given and taken
// by the forum's managers. A person holds one role per forum; giving another replaces it.

// AddFacilitator gives the facilitator role in a forum to the account with this email (the
// same answer whether or not the address has an account).
func (a *App) AddFacilitator(ctx context.Context, p *insieme.Principal, forumID, email string) error {
	return a.addForumRole(ctx, p, forumID, email, insieme.RoleFacilitator)
}

// Facilitators lists a forum's facilitators by role (its managers).
func (a *App) Facilitators(ctx context.Context, p *insieme.Principal, forumID string) ([]MediatorView, error) {
	return a.forumRoleHolders(ctx, p, forumID, insieme.RoleFacilitator)
}

// RemoveFacilitator takes the role away.
func (a *App) RemoveFacilitator(ctx context.Context, p *insieme.Principal, forumID, accountID string) error {
	return a.removeForumRole(ctx, p, forumID, accountID, insieme.RoleFacilitator)
}

func (a *App) addForumRole(ctx context.Context, p *insieme.Principal, forumID, email, role string) error {
	f, err := a.manageableForum(ctx, p, forumID)
	if err != nil {
		return err
	}
	email = insieme.NormaliseEmail(email)
	var v insieme.Invalid
	insieme.CheckEmail(&v, "email", email)
	if err := v.Err(); err != nil {
		return err
	}
	acct, err := a.store.AccountByEmail(ctx, email)
	if insieme.ErrorCode(err) == insieme.ENOTFOUND || (err == nil && !acct.Active()) {
		return nil
	} else if err != nil {
		return err
	}
	return a.store.SetForumRole(ctx, &insieme.ForumRole{ForumID: f.ID, AccountID: acct.ID, Role: role, CreatedAt: a.Now()})
}

func (a *App) forumRoleHolders(ctx context.Context, p *insieme.Principal, forumID, role string) ([]MediatorView, error) {
	f, err := a.manageableForum(ctx, p, forumID)
	if err != nil {
		return nil, err
	}
	rs, err := a.store.ForumRoles(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	out := []MediatorView{}
	for _, r := range rs {
		if r.Role != role {
			continue
		}
		pv, err := a.person(ctx, r.AccountID)
		if err != nil {
			return nil, err
		}
		out = append(out, MediatorView{PersonView: pv, Since: r.CreatedAt})
	}
	return out, nil
}

// removeForumRole takes a role away; another role the person holds stays.
func (a *App) removeForumRole(ctx context.Context, p *insieme.Principal, forumID, accountID, role string) error {
	f, err := a.manageableForum(ctx, p, forumID)
	if err != nil {
		return err
	}
	r, err := a.store.ForumRole(ctx, f.ID, accountID)
	if insieme.ErrorCode(err) == insieme.ENOTFOUND || (err == nil && r.Role != role) {
		return nil
	} else if err != nil {
		return err
	}
	return a.store.RemoveForumRole(ctx, f.ID, accountID)
}
