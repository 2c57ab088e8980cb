package insieme

import (
	"context"
	"strings"
	"time"
)

// Comment stances.
const (
	StanceFor     = "for"
	StanceAgainst = "against"
	StanceNeutral = "neutral"
)

// Limits of comments.
const (
	MaxCommentBody     = 4000
	MaxCommentDepth    = 2 // three levels: 0, 1, 2
	MaxThreadComments  = 2000
	CommentEditWindow  = 15 * time.Minute
	commentIDSeparator = "~"
)

// Comment is one comment in a proposal's thread. A deleted comment keeps its place in the
// thread (its replies stay) with its text gone.
type Comment struct {
	ID        string
	ParentID  string
	Depth     int
	AuthorID  string
	Body      string
	BodyHTML  string
	Stance    string
	Deleted   bool
	Hidden    bool // hidden pending moderation review
	CreatedAt time.Time
	EditedAt  *time.Time
}

// Thread is a proposal's comments, kept together so opening a proposal reads one document
// by _id (FerretDB scans whole collections for anything else). Version guards rewrites.
type Thread struct {
	ProposalID string
	ForumID    string
	Comments   []Comment
	Version    int64
}

// NewCommentID makes a comment id that names its proposal, so the thread is found from it.
func NewCommentID(proposalID, random string) string {
	return proposalID + commentIDSeparator + random
}

// ProposalOfComment returns the proposal id inside a comment id.
func ProposalOfComment(commentID string) (string, bool) {
	p, _, ok := strings.Cut(commentID, commentIDSeparator)
	return p, ok && p != ""
}

// Find returns the comment with an id, or nil.
func (t *Thread) Find(id string) *Comment {
	for i := range t.Comments {
		if t.Comments[i].ID == id {
			return &t.Comments[i]
		}
	}
	return nil
}

// ThreadStore keeps comment threads.
type ThreadStore interface {
	// Thread returns a proposal's thread; an empty one (version 0) when it has no comments.
	Thread(ctx context.Context, proposalID string) (*Thread, error)
	// AppendComment adds a comment atomically (creating the thread) and returns the thread.
	AppendComment(ctx context.Context, proposalID, forumID string, c Comment) (*Thread, error)
	// SaveThread rewrites a thread's comments if its version is still t.Version, and bumps
	// the version; ECONFLICT when someone changed it meanwhile.
	SaveThread(ctx context.Context, t *Thread) error
	// AllThreads visits every thread (exports, erasure).
	AllThreads(ctx context.Context, each func(*Thread) error) error
}
