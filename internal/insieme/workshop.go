package insieme

import (
	"context"
	"fmt"
	"time"
)

// Workshop phases, in the order a facilitator moves them (docs/WORKSHOPS.md).
const (
	PhaseLobby      = "lobby"
	PhaseBrainstorm = "brainstorm"
	PhaseReveal     = "reveal"
	PhaseCluster    = "cluster"
	PhaseVote       = "vote"
	PhasePlan       = "plan"
	PhaseClosed     = "closed"
)

// Limits of workshops.
const (
	MaxWorkshopTitle      = 200
	MaxWorkshopBrief      = 2000
	MaxDots               = 20
	DefaultDots           = 5
	DefaultMaxDotsPerCard = 3
	MaxGroups             = 20
	MaxGroupName          = 60
	MaxCardText           = 280
	MaxCardsPerPerson     = 40   // cards one person writes in a workshop
	MaxCards              = 2000 // cards in a workshop (every one goes to everyone at the reveal)
	MaxClusters           = 100
	MaxClusterName        = 80
	MaxActionTitle        = 200
	MaxActionResources    = 1000
	MaxCanvas             = 10000
	MaxTimerMinutes       = 180
	MaxActions            = 200
)

// Board fields: every change of one is an insert of its own (BoardEdit).
const (
	FieldText     = "text"
	FieldColour   = "colour"
	FieldPos      = "pos"
	FieldCluster  = "cluster"
	FieldHidden   = "hidden"
	FieldName     = "name"
	FieldProposal = "proposal" // a cluster turned into a proposal
)

// Action statuses.
const (
	ActionOpen       = "open"
	ActionInProgress = "in_progress"
	ActionDone       = "done"
)

// Action owner kinds.
const (
	OwnerPerson       = "person"
	OwnerOrganisation = "organisation"
)

// PhaseIndex is a phase's place in the order, -1 for an unknown phase.
func PhaseIndex(phase string) int {
	switch phase {
	case PhaseLobby:
		return 0
	case PhaseBrainstorm:
		return 1
	case PhaseReveal:
		return 2
	case PhaseCluster:
		return 3
	case PhaseVote:
		return 4
	case PhasePlan:
		return 5
	case PhaseClosed:
		return 6
	}
	return -1
}

// IsCardColour says whether c is one of the card colours.
func IsCardColour(c string) bool {
	switch c {
	case "yellow", "pink", "blue", "green", "orange", "purple":
		return true
	}
	return false
}

// WorkshopSettings are what a facilitator chooses for a workshop.
type WorkshopSettings struct {
	Anonymous        bool
	Dots             int // dots per participant, 1..MaxDots
	MaxDotsPerCard   int // 1..Dots
	FacilitatorMoves bool
}

// WorkshopGroup is a table participants sit at.
type WorkshopGroup struct {
	ID   string
	Name string
}

// DotResult is how many dots a card or cluster got.
type DotResult struct {
	Target string
	Dots   int
}

// Workshop is a co-design workshop: its facilitators write it, one version-checked rewrite at
// a time; what participants write (cards, edits, dots, group choices) lives in documents of
// its own.
type Workshop struct {
	ID             string
	ForumID        string
	Title          string
	Brief          Texts
	ScheduledAt    time.Time
	Settings       WorkshopSettings
	Groups         []WorkshopGroup
	Phase          string
	PhaseStartedAt time.Time
	TimerEndsAt    *time.Time
	Locked         bool
	Spotlight      string
	JoinCode       string
	Results        []DotResult // counted from the stored dots when the vote ended
	Participants   int         // how many took part, counted when it closed
	CreatedBy      string
	CreatedAt      time.Time
	Version        int64
}

// Group returns a table by id, or nil.
func (w *Workshop) Group(id string) *WorkshopGroup {
	for i := range w.Groups {
		if w.Groups[i].ID == id {
			return &w.Groups[i]
		}
	}
	return nil
}

// VoteEnded says whether the dot results may be shown.
func (w *Workshop) VoteEnded() bool { return PhaseIndex(w.Phase) > PhaseIndex(PhaseVote) }

// CheckMove says whether the workshop may move to a phase: forward only, closed is final.
func (w *Workshop) CheckMove(to string) error {
	if PhaseIndex(to) < 0 {
		return FieldError("phase", FInvalidValue)
	}
	if PhaseIndex(to) <= PhaseIndex(w.Phase) {
		return &Error{Code: ECONFLICT, Message: fmt.Sprintf("The workshop cannot move from the %s phase to the %s phase.", w.Phase, to),
			Fields: map[string]string{"phase": w.Phase, "to": to}}
	}
	return nil
}

// The actions participants and facilitators take on a workshop (the live message types).
const (
	ActCardCreate    = "card.create"
	ActCardEdit      = "card.edit"
	ActCardMove      = "card.move"
	ActCardHide      = "card.hide"
	ActClusterCreate = "cluster.create"
	ActClusterEdit   = "cluster.edit"
	ActDotAdd        = "dot.add"
	ActDotRemove     = "dot.remove"
	ActActionCreate  = "action.create"
	ActActionEdit    = "action.edit"
	ActActionStatus  = "action.status"
	ActProposal      = "workshop.proposal"
)

// PhaseAllows says whether an action may be taken in a phase (docs/WORKSHOPS.md's table).
func PhaseAllows(action, phase string) bool {
	in := func(ps ...string) bool {
		for _, p := range ps {
			if p == phase {
				return true
			}
		}
		return false
	}
	switch action {
	case ActCardCreate:
		return in(PhaseBrainstorm)
	case ActCardEdit:
		return in(PhaseBrainstorm, PhaseReveal)
	case ActCardMove:
		return in(PhaseReveal, PhaseCluster)
	case ActCardHide:
		return in(PhaseReveal, PhaseCluster, PhaseVote, PhasePlan)
	case ActClusterCreate, ActClusterEdit:
		return in(PhaseCluster)
	case ActDotAdd, ActDotRemove:
		return in(PhaseVote)
	case ActActionCreate, ActActionEdit:
		return in(PhasePlan)
	case ActActionStatus, ActProposal:
		return in(PhasePlan, PhaseClosed)
	}
	return false
}

// ErrPhase is the refusal of an action the current phase does not allow.
func ErrPhase(phase string) error {
	return &Error{Code: ECONFLICT, Message: fmt.Sprintf("Not allowed in the %s phase.", phase), Fields: map[string]string{"phase": phase}}
}

// Card is a card on a workshop's board, inserted once; its fields are BoardEdits.
type Card struct {
	ID         string // "<workshop>~<random>"
	WorkshopID string
	AuthorID   string // "" once the author's account was erased
	AuthorName string // a guest's chosen name ("" for accounts: named by their account)
	Group      string
	CreatedAt  time.Time
}

// Cluster is a named group of cards, inserted once; its fields are BoardEdits.
type Cluster struct {
	ID         string // "<workshop>~k<random>"
	WorkshopID string
	CreatedBy  string
	CreatedAt  time.Time
}

// BoardEdit is one change of one field of a card or cluster, inserted once under
// "<item>|<field>|<version>"; a field's value is the edit with the greatest ID.
type BoardEdit struct {
	ID         string
	WorkshopID string
	Item       string
	Field      string
	Text       string // text, colour, cluster, name, proposal
	X, Y       float64
	Bool       bool // hidden
	At         time.Time
}

// BoardEditID is an edit's key; version is fixed-width, so keys of one item's field order as
// their versions.
func BoardEditID(item, field, version string) string { return item + "|" + field + "|" + version }

// Board is what a workshop's participants wrote, as stored.
type Board struct {
	Cards    []*Card
	Clusters []*Cluster
	Edits    []*BoardEdit
	Groups   []*GroupChoice
	Dots     []*Dot
	Actions  []*WorkshopAction
}

// GroupChoice is a participant sitting at a table: insert-once documents
// "<workshop>:<participant>:<n>", the highest n wins.
type GroupChoice struct {
	WorkshopID    string
	ParticipantID string
	N             int
	Group         string
	At            time.Time
}

// GroupChoiceID is a group choice's key.
func GroupChoiceID(workshopID, participantID string, n int) string {
	return fmt.Sprintf("%s:%s:%010d", workshopID, participantID, n)
}

// Dot is one of a voter's dots: slot numbers the voter's budget, K the voter's dots on the
// target; a unique key each, so neither can be exceeded across nodes.
type Dot struct {
	WorkshopID string
	VoterID    string
	Slot       int
	Target     string
	K          int
	At         time.Time
}

// DotID is a dot's key.
func DotID(workshopID, voterID string, slot int) string {
	return fmt.Sprintf("%s:%s:%02d", workshopID, voterID, slot)
}

// ID is the dot's key.
func (d *Dot) ID() string { return DotID(d.WorkshopID, d.VoterID, d.Slot) }

// ActionOwner is who carries an action out.
type ActionOwner struct {
	Kind string // OwnerPerson or OwnerOrganisation; "" for none
	ID   string
	Name string
}

// WorkshopAction is a line of a workshop's action plan (facilitators write it; owners set
// its status), a version-checked document.
type WorkshopAction struct {
	ID         string // "<workshop>~a<random>"
	WorkshopID string
	Title      string
	Cluster    string
	Owner      ActionOwner
	Due        *time.Time
	Resources  string
	Status     string
	ProposalID string
	CreatedBy  string
	CreatedAt  time.Time
	Version    int64
}

// WorkshopStore keeps workshops and everything written on them.
type WorkshopStore interface {
	CreateWorkshop(ctx context.Context, w *Workshop) error
	Workshop(ctx context.Context, id string) (*Workshop, error)
	// SaveWorkshop rewrites a workshop if its version is still w.Version and bumps it;
	// ECONFLICT when it moved meanwhile.
	SaveWorkshop(ctx context.Context, w *Workshop) error
	WorkshopsOf(ctx context.Context, forumID string) ([]*Workshop, error)
	AllWorkshops(ctx context.Context, each func(*Workshop) error) error

	// InsertCards, InsertClusters and InsertBoardEdits store a batch in one unordered insert
	// each; a *BatchError says which failed.
	InsertCards(ctx context.Context, cs []*Card) error
	InsertClusters(ctx context.Context, cs []*Cluster) error
	InsertBoardEdits(ctx context.Context, es []*BoardEdit) error
	// Board reads a workshop's cards, clusters, edits, group choices, dots and actions (a scan
	// on FerretDB: once per node and workshop).
	Board(ctx context.Context, workshopID string) (*Board, error)
	CardsBy(ctx context.Context, authorID string) ([]*Card, error)
	// EraseCardAuthor removes an author from their cards (the texts stay).
	EraseCardAuthor(ctx context.Context, authorID string) error
	// EraseWorkshopCreator removes an account as the creator of workshops, clusters and actions.
	EraseWorkshopCreator(ctx context.Context, accountID string) error

	// InsertGroupChoice stores a choice; ECONFLICT when that n is taken.
	InsertGroupChoice(ctx context.Context, g *GroupChoice) error
	GroupChoicesBy(ctx context.Context, participantID string) ([]*GroupChoice, error)
	DeleteGroupChoicesBy(ctx context.Context, participantID string) error

	// InsertDot stores a dot; ECONFLICT when its slot or its (target, k) is taken.
	InsertDot(ctx context.Context, d *Dot) error
	// Dot reads a dot by its key.
	Dot(ctx context.Context, id string) (*Dot, error)
	DeleteDot(ctx context.Context, id string) error
	// DotsOf reads a workshop's stored dots (the tally at the vote's end).
	DotsOf(ctx context.Context, workshopID string) ([]*Dot, error)
	DotsBy(ctx context.Context, voterID string) ([]*Dot, error)

	CreateWorkshopAction(ctx context.Context, a *WorkshopAction) error
	WorkshopAction(ctx context.Context, id string) (*WorkshopAction, error)
	// SaveWorkshopAction rewrites an action under a version check (ECONFLICT otherwise).
	SaveWorkshopAction(ctx context.Context, a *WorkshopAction) error
	ActionsOwnedBy(ctx context.Context, ownerID string) ([]*WorkshopAction, error)
}
