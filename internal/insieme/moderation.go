package insieme

import (
	"context"
	"time"
)

// Report reasons.
var ReportReasons = []string{"spam", "offensive", "personal_data", "other"}

// What can be reported.
const (
	TargetProposal = "proposal"
	TargetComment  = "comment"
)

// Moderation case statuses.
const (
	CaseOpen      = "open"      // reported, visible, waiting for a moderator
	CaseHidden    = "hidden"    // hidden (by reports or by a moderator)
	CaseRestored  = "restored"  // a moderator or an admin restored it
	CaseDismissed = "dismissed" // reports looked at, nothing to do
)

// Limits of moderation texts.
const (
	MaxReportNote    = 1000
	MaxModReason     = 2000
	MinReporterAge   = 24 * time.Hour
	MaxCaseReporters = 500
)

// ReportEntry is one person's report in a case.
type ReportEntry struct {
	ReporterID string
	Reason     string
	Note       string
	Counts     bool // the reporter's account was older than a day: it counts toward hiding
	CreatedAt  time.Time
}

// ModerationCase gathers the reports of one piece of content and what moderators did. Its id
// is "<kind>:<content id>", so a report finds its case by _id.
type ModerationCase struct {
	ID         string
	Kind       string
	TargetID   string
	ProposalID string
	ForumID    string
	AuthorID   string
	Status     string
	Reports    []ReportEntry
	Reason     string // the moderator's reason, told to the author
	Appeal     string // the author's appeal to the admins, while it waits
	AppealedAt *time.Time
	UpdatedAt  time.Time
	Version    int64
}

// CaseID is the id of the case of a piece of content.
func CaseID(kind, targetID string) string { return kind + ":" + targetID }

// AuditEntry records one moderation action: who, what, when, why.
type AuditEntry struct {
	ID        string
	ActorID   string // "" when the reports themselves hid the content
	Action    string // "hide", "restore", "dismiss", "auto_hide", "queue", "appeal"
	CaseID    string
	ForumID   string
	Reason    string
	CreatedAt time.Time
}

// ModerationStore keeps cases and the audit log.
type ModerationStore interface {
	// Case returns a case, or ENOTFOUND.
	Case(ctx context.Context, id string) (*ModerationCase, error)
	// SaveCase inserts a case (Version 0) or rewrites it if its version is unchanged, bumping
	// it; ECONFLICT when someone changed it meanwhile.
	SaveCase(ctx context.Context, c *ModerationCase) error
	CasesOf(ctx context.Context, forumID string) ([]*ModerationCase, error)
	Appeals(ctx context.Context) ([]*ModerationCase, error)
	AllCases(ctx context.Context, each func(*ModerationCase) error) error

	AddAudit(ctx context.Context, e *AuditEntry) error
	Audit(ctx context.Context, limit int) ([]*AuditEntry, error)
}
