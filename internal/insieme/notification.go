package insieme

import (
	"context"
	"time"
)

// MaxInbox is how many notifications a person's inbox keeps (the newest).
const MaxInbox = 200

// Notification tells a person of something about a proposal they follow.
type Notification struct {
	ID         string
	Kind       string // "proposal.status", "proposal.answer", "proposal.update", "comment.reply"
	ProposalID string
	CommentID  string
	CaseID     string // for "moderation": the case that tells why
	Status     string
	CreatedAt  time.Time
}

// Inbox is a person's notifications, newest last, and when they last read them.
type Inbox struct {
	AccountID     string
	Notifications []Notification
	ReadAt        time.Time
}

// Unread counts the notifications newer than the last read.
func (b *Inbox) Unread() int {
	n := 0
	for _, x := range b.Notifications {
		if x.CreatedAt.After(b.ReadAt) {
			n++
		}
	}
	return n
}

// FollowStore keeps who follows a proposal (one document per proposal) and each person's
// inbox (one document per person): both are read by _id.
type FollowStore interface {
	Follow(ctx context.Context, proposalID, accountID string) error
	Unfollow(ctx context.Context, proposalID, accountID string) error
	Followers(ctx context.Context, proposalID string) ([]string, error)
	// RebuildFollowers rewrites the cached set of a proposal's followers from the follows
	// themselves when it differs (repairs on a shared FerretDB); it says whether it did.
	RebuildFollowers(ctx context.Context, proposalID string) (bool, error)
	// Following lists the proposals an account follows (exports; it scans).
	Following(ctx context.Context, accountID string) ([]string, error)
	UnfollowAll(ctx context.Context, accountID string) error

	Notify(ctx context.Context, accountID string, n Notification) (*Inbox, error)
	Inbox(ctx context.Context, accountID string) (*Inbox, error)
	MarkRead(ctx context.Context, accountID string, at time.Time) error
	DeleteInbox(ctx context.Context, accountID string) error
}
