package insieme

import (
	"context"
	"time"
)

// Proposal statuses: the municipality moves a proposal along; the author may withdraw it.
const (
	ProposalSubmitted   = "submitted"
	ProposalEvaluation  = "evaluation"
	ProposalAccepted    = "accepted"
	ProposalRejected    = "rejected"
	ProposalImplemented = "implemented"
	ProposalWithdrawn   = "withdrawn"
)

// ProposalStatuses lists the statuses in their usual order.
var ProposalStatuses = []string{ProposalSubmitted, ProposalEvaluation, ProposalAccepted, ProposalRejected, ProposalImplemented, ProposalWithdrawn}

// Limits of proposal fields.
const (
	MaxProposalTitle = 200
	MaxProposalBody  = 20000
	MaxPlaceName     = 120
)

// Place is where a proposal is about.
type Place struct {
	Name string
	Lat  *float64
	Lng  *float64
}

// Proposal is what an association (or a person, where the forum allows it) asks of the
// municipality. Body is markdown; BodyHTML its sanitised rendering. Supports and Comments are
// counts kept with the proposal.
type Proposal struct {
	ID       string
	ForumID  string
	AuthorID string
	OrgID    string // the association it is posted for; "" for a personal proposal
	Title    string
	Body     string
	BodyHTML string
	Language string
	Category string
	Place    *Place
	Status   string
	Supports int
	Comments int
	Hidden   bool // hidden pending moderation review
	Tokens   []string
	// Translated lists the languages it has translations in; nil when unknown (stored by
	// an earlier version: every language is looked up).
	Translated []string
	Origin     *ProposalOrigin // the workshop output it came from, if any
	CreatedAt  time.Time
	UpdatedAt  time.Time
	AnsweredAt *time.Time
}

// ProposalOrigin links a proposal to the workshop cluster or action it came from.
type ProposalOrigin struct {
	WorkshopID    string
	WorkshopTitle string
	Source        string // the cluster's or action's id
}

// Translation is a proposal in another language, by its author or a forum's mediator.
type Translation struct {
	ProposalID   string
	Language     string
	Title        string
	Body         string
	BodyHTML     string
	TranslatorID string
	Machine      bool // made by a translation service, not a person
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Support is one person's support of a proposal; its key is (proposal, account).
type Support struct {
	ProposalID string
	ForumID    string
	AccountID  string
	CreatedAt  time.Time
}

// ProposalUpdate lists the fields to change; nil means unchanged.
type ProposalUpdate struct {
	Title      *string
	Body       *string
	BodyHTML   *string
	Language   *string
	Category   *string
	Place      **Place
	Status     *string
	Hidden     *bool
	Tokens     *[]string
	Translated *[]string
	AnsweredAt *time.Time
}

// Counts are a proposal's numbers of supports and comments.
type Counts struct{ Supports, Comments int }

// ProposalStore keeps proposals, translations and supports. ENOTFOUND for unknown ids;
// ECONFLICT for a second support by the same person.
type ProposalStore interface {
	CreateProposal(ctx context.Context, p *Proposal) error
	Proposal(ctx context.Context, id string) (*Proposal, error)
	// ProposalOnly reads a proposal without its counts (left zero), one read by _id, for
	// callers that take the counts from the read model.
	ProposalOnly(ctx context.Context, id string) (*Proposal, error)
	UpdateProposal(ctx context.Context, id string, upd ProposalUpdate, now time.Time) (*Proposal, error)
	// AllProposals streams every proposal (to load the read model at start).
	AllProposals(ctx context.Context, each func(*Proposal) error) error
	ProposalsBy(ctx context.Context, accountID string) ([]*Proposal, error)
	// AddToCounts adds to a proposal's support and comment counts and returns it as stored.
	AddToCounts(ctx context.Context, id string, supports, comments int) (*Proposal, error)
	// SetCounts writes counts recounted from the supports and the comments (repairing the
	// increments several nodes on one FerretDB can lose).
	// It writes only over the counts the recount started from (was), and says whether it did.
	SetCounts(ctx context.Context, id string, was, now Counts) (bool, error)

	PutTranslation(ctx context.Context, t *Translation) error
	// Translations reads a proposal's translations into the given languages (nil: every
	// language Insieme offers), one look-up by _id each.
	Translations(ctx context.Context, proposalID string, langs []string) ([]*Translation, error)
	TranslationsBy(ctx context.Context, accountID string) ([]*Translation, error)

	AddSupport(ctx context.Context, s *Support) error
	RemoveSupport(ctx context.Context, proposalID, accountID string) error
	HasSupport(ctx context.Context, proposalID, accountID string) (bool, error)
	SupportsBy(ctx context.Context, accountID string) ([]*Support, error)
	CountSupports(ctx context.Context, proposalID string) (int, error)
}
