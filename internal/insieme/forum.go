package insieme

import (
	"context"
	"time"
)

// Forum statuses.
const (
	ForumDraft  = "draft"
	ForumOpen   = "open"
	ForumClosed = "closed"
)

// Limits of forum fields.
const (
	MaxForumTitle       = 160
	MaxForumDescription = 8000
	MaxCategories       = 30
	MaxCategoryKey      = 40
	DefaultAnswerDays   = 60
	DefaultReportLimit  = 3
)

// DefaultCategories are offered to a new forum; the municipality may change them.
var DefaultCategories = []string{"housing", "work", "school", "health", "documents", "culture"}

// Texts is one text in several languages, keyed by language code.
type Texts map[string]string

// Forum is a municipality's territorial forum: proposals are posted to it and answered there.
type Forum struct {
	ID             string
	MunicipalityID string
	Title          Texts
	Description    Texts
	Territory      string
	Languages      []string
	Categories     []string
	Status         string
	OpensAt        *time.Time
	ClosesAt       *time.Time
	AnswerDays     int  // how many days the municipality commits to answer in
	ReportLimit    int  // distinct reports that hide content pending review
	SupportLimit   int  // supports per person in this forum; 0 means no limit
	PersonalPosts  bool // people may post as themselves, not only for an association
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// AcceptsPosts reports whether proposals and comments may be posted at now.
func (f *Forum) AcceptsPosts(now time.Time) bool {
	if f.Status != ForumOpen {
		return false
	}
	if f.OpensAt != nil && now.Before(*f.OpensAt) {
		return false
	}
	return f.ClosesAt == nil || now.Before(*f.ClosesAt)
}

// ForumRole is a role given per forum (a cultural mediator translates proposals).
type ForumRole struct {
	ForumID   string
	AccountID string
	Role      string
	CreatedAt time.Time
}

// Forum roles: a cultural mediator translates proposals; a facilitator runs the forum's
// co-design workshops.
const (
	RoleMediator    = "mediator"
	RoleFacilitator = "facilitator"
)

// ForumUpdate lists the fields to change; nil means unchanged.
type ForumUpdate struct {
	Title        *Texts
	Description  *Texts
	Territory    *string
	Languages    *[]string
	Categories   *[]string
	Status       *string
	OpensAt      **time.Time
	ClosesAt     **time.Time
	AnswerDays   *int
	ReportLimit  *int
	SupportLimit *int
	PersonalPost *bool
}

// ForumStore keeps forums and their roles. ENOTFOUND for unknown ids.
type ForumStore interface {
	CreateForum(ctx context.Context, f *Forum) error
	Forum(ctx context.Context, id string) (*Forum, error)
	ListForums(ctx context.Context) ([]*Forum, error)
	UpdateForum(ctx context.Context, id string, upd ForumUpdate, now time.Time) (*Forum, error)

	SetForumRole(ctx context.Context, r *ForumRole) error
	ForumRole(ctx context.Context, forumID, accountID string) (*ForumRole, error)
	ForumRoles(ctx context.Context, forumID string) ([]*ForumRole, error)
	RemoveForumRole(ctx context.Context, forumID, accountID string) error
	ForumRolesOf(ctx context.Context, accountID string) ([]*ForumRole, error)
}
