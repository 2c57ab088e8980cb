package app

import (
	"context"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// Notification is what notify records for a person.
type Notification struct {
	Kind       string `json:"kind"`
	ProposalID string `json:"proposalId"`
	CommentID  string `json:"commentId,omitempty"`
	CaseID     string `json:"caseId,omitempty"`
	Status     string `json:"status,omitempty"`
}

// NotificationView is a notification in a person's list.
type NotificationView struct {
	ID            string    `json:"id"`
	Kind          string    `json:"kind"`
	ProposalID    string    `json:"proposalId"`
	ProposalTitle string    `json:"proposalTitle"`
	CommentID     string    `json:"commentId,omitempty"`
	CaseID        string    `json:"caseId,omitempty"`
	Status        string    `json:"status,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
	Unread        bool      `json:"unread"`
}

// Notifications is a person's notification list, newest first.
type Notifications struct {
	Items  []NotificationView `json:"items"`
	Unread int                `json:"unread"`
}

// notify records a notification and pushes it live to the person's private room. A failure
// is logged: the change that caused it is already stored.
func (a *App) notify(ctx context.Context, accountID string, n Notification) {
	in, err := a.store.Notify(ctx, accountID, insieme.Notification{ID: newID(), Kind: n.Kind, ProposalID: n.ProposalID,
		CommentID: n.CommentID, CaseID: n.CaseID, Status: n.Status, CreatedAt: a.Now()})
	if err != nil {
		a.log.Warn("notification not stored", "account", accountID, "err", err)
		return
	}
	last := in.Notifications[len(in.Notifications)-1]
	title := ""
	if e, ok := a.cat().Get(n.ProposalID); ok {
		title = e.Title
	}
	view := NotificationView{ID: last.ID, Kind: last.Kind, ProposalID: last.ProposalID, ProposalTitle: title, CommentID: last.CommentID,
		CaseID: last.CaseID, Status: last.Status, CreatedAt: last.CreatedAt, Unread: true}
	a.publish(ctx, "participant:"+accountID, map[string]any{"type": "notification", "notification": view, "unread": in.Unread()})
}

// notifyFollowers tells every follower of a proposal but the one who acted.
func (a *App) notifyFollowers(ctx context.Context, proposalID, actor string, n Notification) {
	fs, err := a.store.Followers(ctx, proposalID)
	if err != nil {
		a.log.Warn("followers not read", "proposal", proposalID, "err", err)
		return
	}
	for _, f := range fs {
		if f != actor {
			a.notify(ctx, f, n)
		}
	}
}

// MyNotifications lists the signed-in person's notifications.
func (a *App) MyNotifications(ctx context.Context, p *insieme.Principal) (*Notifications, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	in, err := a.store.Inbox(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	out := &Notifications{Items: make([]NotificationView, 0, len(in.Notifications)), Unread: in.Unread()}
	titles := map[string]string{}
	for i := len(in.Notifications) - 1; i >= 0; i-- {
		n := in.Notifications[i]
		title, ok := titles[n.ProposalID]
		if !ok {
			// A hidden proposal's title is shown to its author only.
			if e, found := a.cat().Get(n.ProposalID); found && (!e.Hidden || e.AuthorID == p.AccountID) {
				title = e.Title
			}
			titles[n.ProposalID] = title
		}
		out.Items = append(out.Items, NotificationView{ID: n.ID, Kind: n.Kind, ProposalID: n.ProposalID, ProposalTitle: title,
			CommentID: n.CommentID, CaseID: n.CaseID, Status: n.Status, CreatedAt: n.CreatedAt, Unread: n.CreatedAt.After(in.ReadAt)})
	}
	return out, nil
}

// MarkNotificationsRead marks everything so far as read.
func (a *App) MarkNotificationsRead(ctx context.Context, p *insieme.Principal) error {
	if _, err := a.account(ctx, p); err != nil {
		return err
	}
	if err := a.store.MarkRead(ctx, p.AccountID, a.Now()); err != nil {
		return err
	}
	a.publish(ctx, "participant:"+p.AccountID, map[string]any{"type": "notification.read", "unread": 0})
	return nil
}

// Follow makes p follow a proposal (or stop following).
func (a *App) Follow(ctx context.Context, p *insieme.Principal, proposalID string, follow bool) error {
	if _, err := a.account(ctx, p); err != nil {
		return err
	}
	if _, _, err := a.visibleProposal(ctx, p, proposalID); err != nil {
		return err
	}
	var err error
	if follow {
		err = a.store.Follow(ctx, proposalID, p.AccountID)
	} else {
		err = a.store.Unfollow(ctx, proposalID, p.AccountID)
	}
	if err == nil {
		a.scheduleRepair(ctx, proposalID) // a shared FerretDB may lose the cached set's update
	}
	return err
}

// follows reports whether p follows a proposal.
func (a *App) follows(ctx context.Context, p *insieme.Principal, proposalID string) (bool, error) {
	if !p.IsAccount() {
		return false, nil
	}
	fs, err := a.store.Followers(ctx, proposalID)
	if err != nil {
		return false, err
	}
	for _, f := range fs {
		if f == p.AccountID {
			return true, nil
		}
	}
	return false, nil
}
