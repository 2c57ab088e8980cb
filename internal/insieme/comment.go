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
	MaxCommentBody    = 4000
	MaxCommentDepth   = 2 // three levels: 0, 1, 2
	MaxThreadComments = 2000
	// MaxThreadBytes keeps a thread's cached document well under MongoDB's 16 MB limit.
	MaxThreadBytes     = 12 << 20
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
	// Rev counts the comment's changes (edit, deletion, hiding); each revision is stored once,
	// and between the thread's copy and the stored revisions the higher Rev is the newer.
	Rev int64
}

// RecentChanges is what RecentChanges found: by proposal, the comment revisions stored; and the
// proposals whose supports changed.
type RecentChanges struct {
	Comments map[string][]CommentRevision
	Supports []string
}

// CommentRevision names one stored revision of a comment.
type CommentRevision struct {
	ID  string
	Rev int64
}

// Thread is a proposal's comments, kept together so opening a proposal reads one document
// by _id (FerretDB scans whole collections for anything else). Each comment is also stored
// as its own document, the truth the thread is rebuilt from. Version guards rewrites.
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

// Bytes estimates the size of a thread's stored document.
func (t *Thread) Bytes() int {
	n := 0
	for i := range t.Comments {
		n += t.Comments[i].bytes()
	}
	return n
}

func (c *Comment) bytes() int {
	return len(c.Body) + len(c.BodyHTML) + len(c.ID) + len(c.ParentID) + len(c.AuthorID) + 128
}

// Fits says whether a thread can take a comment (or a comment's new text) without its
// document growing past MaxThreadBytes; old is the comment's current text when editing.
func (t *Thread) Fits(c, old *Comment) bool {
	n := t.Bytes() + c.bytes()
	if old != nil {
		n -= old.bytes()
	}
	return n <= MaxThreadBytes
}

// ThreadStore keeps comments: one document each (the truth, inserted under a unique _id so
// no node's comment is ever lost) and a thread document per proposal that caches them for
// reading by _id.
type ThreadStore interface {
	// Thread returns a proposal's cached thread; an empty one (version 0) when it has none.
	Thread(ctx context.Context, proposalID string) (*Thread, error)
	// AppendComment stores a comment, then adds it to the cached thread, which it returns (nil,
	// with no error, when the comment is stored but the thread could not be updated).
	AppendComment(ctx context.Context, proposalID, forumID string, c Comment) (*Thread, error)
	// ChangeComment applies change to the newest revision of a comment and stores the result
	// as the next revision (two changes made at once, from any nodes, both land: the later
	// one is applied on top of the other, and change may refuse it then); then it empties the
	// older revisions' text, updates the cached thread and returns it with the comment as
	// stored (a nil thread, with no error, when only those later steps failed).
	ChangeComment(ctx context.Context, proposalID, commentID string, change func(t *Thread, c *Comment) error) (*Thread, *Comment, error)
	// RebuildThread reads a proposal's comments from their own documents and, when the
	// cached thread differs, rewrites it; it returns the thread and whether it changed.
	RebuildThread(ctx context.Context, proposalID, forumID string) (*Thread, bool, error)
	// RecentChanges lists the comments, comment revisions, supports and noted changes stored
	// since a time.
	RecentChanges(ctx context.Context, since time.Time) (*RecentChanges, error)
	// NoteChange notes that a proposal's counts are about to change in a way that leaves no
	// document behind (a withdrawn support).
	NoteChange(ctx context.Context, proposalID string) error
	// SupportCounts counts the supports of some proposals.
	SupportCounts(ctx context.Context, proposalIDs []string) (map[string]int, error)
	// CommentsBy lists the comments a person wrote, oldest first (data download).
	CommentsBy(ctx context.Context, accountID string) ([]Comment, error)
}
