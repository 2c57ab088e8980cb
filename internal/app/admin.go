package app

import (
	"context"
	"strings"

	"github.com/insieme/insieme/internal/insieme"
)

func (a *App) requireAdmin(ctx context.Context, p *insieme.Principal) error {
	acct, err := a.account(ctx, p)
	if err != nil {
		return err
	}
	if acct.Role != insieme.RoleAdmin {
		return errForbidden
	}
	return nil
}

// AccountPage is a page of the admin's people list.
type AccountPage struct {
	Items []*UserView `json:"items"`
	Next  string      `json:"next,omitempty"`
}

// Accounts lists people for admins.
func (a *App) Accounts(ctx context.Context, p *insieme.Principal, query, cursor string) (*AccountPage, error) {
	if err := a.requireAdmin(ctx, p); err != nil {
		return nil, err
	}
	const pageSize = 50
	as, err := a.store.ListAccounts(ctx, insieme.AccountFilter{Query: strings.TrimSpace(query), After: cursor, Limit: pageSize})
	if err != nil {
		return nil, err
	}
	page := &AccountPage{Items: make([]*UserView, len(as))}
	for i, acct := range as {
		page.Items[i] = userView(acct)
	}
	if len(as) == pageSize {
		page.Next = as[len(as)-1].ID
	}
	return page, nil
}

// Suspend suspends or reinstates an account; suspension ends its sessions and live connections.
func (a *App) Suspend(ctx context.Context, p *insieme.Principal, accountID string, suspended bool) error {
	if err := a.requireAdmin(ctx, p); err != nil {
		return err
	}
	if accountID == p.AccountID {
		return &insieme.Error{Code: insieme.ECONFLICT, Message: "You cannot suspend yourself."}
	}
	target, err := a.store.Account(ctx, accountID)
	if err != nil {
		return err
	}
	if target.Status == insieme.StatusErased {
		return insieme.Errorf(insieme.ENOTFOUND, "account not found.")
	}
	status := insieme.StatusActive
	if suspended {
		status = insieme.StatusSuspended
	}
	if _, err := a.store.UpdateAccount(ctx, accountID, insieme.AccountUpdate{Status: &status}); err != nil {
		return err
	}
	if suspended {
		if err := a.store.DeleteSessions(ctx, accountID, ""); err != nil {
			return err
		}
		a.live.DisconnectPrincipal(accountID, CloseSignedOut)
	}
	return nil
}

// MailView is a mail in the development outbox.
type MailView struct {
	ID        string `json:"id"`
	To        string `json:"to"`
	Kind      string `json:"kind"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	CreatedAt string `json:"createdAt"`
}

// Outbox lists the newest mails for admins (the development outbox).
func (a *App) Outbox(ctx context.Context, p *insieme.Principal) ([]MailView, error) {
	if err := a.requireAdmin(ctx, p); err != nil {
		return nil, err
	}
	ms, err := a.store.ListMail(ctx, 100)
	if err != nil {
		return nil, err
	}
	out := make([]MailView, len(ms))
	for i, m := range ms {
		out[i] = MailView{ID: m.ID, To: m.To, Kind: m.Kind, Subject: m.Subject, Body: m.Body, CreatedAt: m.CreatedAt.Format("2006-01-02T15:04:05Z07:00")}
	}
	return out, nil
}
