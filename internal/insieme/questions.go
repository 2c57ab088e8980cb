package insieme

import (
	"context"
	"strings"
	"time"
)

// Question statuses. A question waits as pending when its session is pre-moderated; the hosts
// approve it (then everyone sees it), mark it answered, or dismiss it.
const (
	QuestionPending   = "pending"
	QuestionApproved  = "approved"
	QuestionAnswered  = "answered"
	QuestionDismissed = "dismissed"
)

// Limits of questions.
const (
	MaxQuestionText = 300 // runes
	// MaxQuestionsPerParticipant bounds what one participant asks in one session.
	MaxQuestionsPerParticipant = 30
	// MaxSessionQuestions bounds a session's questions (each node keeps them in memory).
	MaxSessionQuestions = 5000
)

// Question is a participant's question in a live session. The asker inserts it; afterwards only
// its status changes (one host's $set). AuthorID is kept even when the question is anonymous:
// the author sees it as theirs, cannot upvote it, and it goes with their data download and
// erasure; it is never shown to anyone else (hosts, projector, minutes and exports included).
type Question struct {
	ID         string // NewQuestionID(session, random)
	SessionID  string
	AuthorID   string // the participant id: an account id or a guest id
	AuthorName string // a guest's name when not anonymous; "" for accounts (named by id) and anonymous questions
	Guest      bool   // asked by a guest
	Anonymous  bool
	Text       string
	Status     string
	CreatedAt  time.Time
}

// Public says whether every participant sees the question.
func (q *Question) Public() bool {
	return q.Status == QuestionApproved || q.Status == QuestionAnswered
}

// NewQuestionID is a question's id: its session, "~", and a random part.
func NewQuestionID(sessionID, random string) string { return sessionID + "~" + random }

// SessionOfQuestion is the session a question id belongs to.
func SessionOfQuestion(id string) (string, bool) {
	s, r, ok := strings.Cut(id, "~")
	return s, ok && s != "" && r != ""
}

// Upvote is a participant's upvote of a question: one per participant and question (its key
// is "<question>:<voter>"), so "once" holds across nodes; counts are derived from them.
type Upvote struct {
	QuestionID string
	SessionID  string
	VoterID    string // the participant id
	CreatedAt  time.Time
}

// Hand is a participant's raised hand in a live session (its key is "<session>:<participant>").
type Hand struct {
	SessionID     string
	ParticipantID string
	Name          string // a guest's name; "" for accounts (named by id)
	Guest         bool
	Since         time.Time
}

// QuestionStore keeps live sessions' questions, upvotes and raised hands. Reads by session
// scan on FerretDB's SQLite backend: a node reads a session's once, then follows live events.
type QuestionStore interface {
	// CreateQuestion inserts a question.
	CreateQuestion(ctx context.Context, q *Question) error
	// SetQuestionStatus sets a question's status; ENOTFOUND when there is none.
	SetQuestionStatus(ctx context.Context, id, status string) error
	// QuestionsOf lists a session's questions, oldest first.
	QuestionsOf(ctx context.Context, sessionID string) ([]*Question, error)
	// QuestionsBy lists a participant's questions (data download, erasure).
	QuestionsBy(ctx context.Context, authorID string) ([]*Question, error)
	// DeleteQuestions removes questions and every upvote of them.
	DeleteQuestions(ctx context.Context, ids []string) error

	// AddUpvote stores an upvote; ECONFLICT when the voter upvoted the question already.
	AddUpvote(ctx context.Context, u *Upvote) error
	// UpvotesOf lists a session's upvotes.
	UpvotesOf(ctx context.Context, sessionID string) ([]*Upvote, error)
	// UpvotesBy lists a participant's upvotes.
	UpvotesBy(ctx context.Context, voterID string) ([]*Upvote, error)
	// DeleteUpvotesBy removes a participant's upvotes.
	DeleteUpvotesBy(ctx context.Context, voterID string) error

	// RaiseHand stores a raised hand; ECONFLICT when it is raised already.
	RaiseHand(ctx context.Context, h *Hand) error
	// LowerHand removes a raised hand; false when none was raised.
	LowerHand(ctx context.Context, sessionID, participantID string) (bool, error)
	// HandsOf lists a session's raised hands.
	HandsOf(ctx context.Context, sessionID string) ([]*Hand, error)
	// HandsBy lists a participant's raised hands.
	HandsBy(ctx context.Context, participantID string) ([]*Hand, error)
}
