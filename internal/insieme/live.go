package insieme

import (
	"context"
	"strings"
	"time"
)

// Live session statuses: scheduled → live → ended.
const (
	SessionScheduled = "scheduled"
	SessionLive      = "live"
	SessionEnded     = "ended"
)

// Where a live session takes place.
const (
	ModeInPerson = "in_person"
	ModeHybrid   = "hybrid"
	ModeOnline   = "online"
)

// Limits of live sessions.
const (
	MaxSessionTitle  = 160
	MaxSessionPlace  = 200
	MaxStreamURL     = 500
	MaxAgendaItems   = 40
	MaxAgendaMinutes = 600
	MaxGuestName     = 40
	MaxCoHosts       = 10
	MaxRemoved       = 1000 // participants listed as removed from one session
	// GuestTTL is how long a guest token lasts after the session's scheduled start at most;
	// it also ends with the session (ending revokes the join code; guests keep reading the
	// minutes through the forum like anyone).
	GuestTTL = 24 * time.Hour
	// JoinCodeLength is the length of a join code in JoinCodeAlphabet: 31^10 ≈ 8·10^14 codes,
	// with failed joins limited per address and globally, guessing one is hopeless.
	JoinCodeLength = 10
	// JoinCodeAlphabet leaves out letters and digits that look alike (0 O, 1 I L, U V).
	JoinCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTWXYZ"
)

// JoinKind says what a join code opens; sessions and workshops share one namespace.
const (
	JoinSession  = "session"
	JoinWorkshop = "workshop"
)

// AgendaItem is one point of a live session's agenda.
type AgendaItem struct {
	ID      string
	Title   Texts
	Minutes int // planned duration
}

// AgendaRun is when an agenda item was the current one (for the minutes' actual durations).
type AgendaRun struct {
	ItemID    string
	StartedAt time.Time
	EndedAt   *time.Time
}

// Turn is one person's time on the floor. Name is kept for guests only (they have no account
// to name them); an account is named by its id, so erasing it reaches the record.
type Turn struct {
	ParticipantID string
	Name          string
	StartedAt     time.Time
	EndedAt       *time.Time
}

// LiveSession is a live forum session: its hosts write it, one action at a time (Version
// guards the rewrites). What participants write (ballots, questions, upvotes, hands) lives in
// documents of their own.
type LiveSession struct {
	ID          string
	ForumID     string
	Title       Texts
	ScheduledAt time.Time
	Mode        string
	Place       string
	StreamURL   string
	Status      string
	Code        string   // the join code; "" once the session ended
	CoHosts     []string // accounts named co-hosts (the forum's municipality staff host anyway)
	Agenda      []AgendaItem
	Current     string // the current agenda item's id, "" for none
	Runs        []AgendaRun
	Floor       *Turn  // who speaks now
	Turns       []Turn // everyone who spoke, in order
	// GuestsMayAsk lets guests ask questions; PreModerate holds questions until a host
	// approves them (on by default when guests may ask).
	GuestsMayAsk bool
	PreModerate  bool
	// Removed lists the participants a host removed: they may no longer join, act in or see
	// the session (a guest's tokens are revoked too). At most MaxRemoved accounts; guests
	// beyond that are only revoked.
	Removed   []string
	CreatedBy string
	CreatedAt time.Time
	StartedAt *time.Time
	EndedAt   *time.Time
	Version   int64
}

// IsRemoved says whether a host removed a participant from the session.
func (s *LiveSession) IsRemoved(participantID string) bool {
	for _, id := range s.Removed {
		if id == participantID {
			return true
		}
	}
	return false
}

// CurrentRun is the run of the current agenda item, or nil.
func (s *LiveSession) CurrentRun() *AgendaRun {
	if s.Current == "" || len(s.Runs) == 0 {
		return nil
	}
	r := &s.Runs[len(s.Runs)-1]
	if r.ItemID != s.Current || r.EndedAt != nil {
		return nil
	}
	return r
}

// Item returns the agenda item with an id, or nil.
func (s *LiveSession) Item(id string) *AgendaItem {
	for i := range s.Agenda {
		if s.Agenda[i].ID == id {
			return &s.Agenda[i]
		}
	}
	return nil
}

// IsCoHost says whether an account was named co-host.
func (s *LiveSession) IsCoHost(accountID string) bool {
	for _, id := range s.CoHosts {
		if id == accountID {
			return true
		}
	}
	return false
}

// JoinCode maps a code to what it opens, until it expires.
type JoinCode struct {
	Code      string
	Kind      string
	TargetID  string
	ExpiresAt time.Time
}

// NormaliseJoinCode upper-cases a typed code and drops spaces and dashes.
func NormaliseJoinCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r == ' ' || r == '-' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Guest is someone who joined a live session or workshop by code, with a name of their choice
// and no account. The token that lets them come back is stored hashed.
type Guest struct {
	ID        string
	TokenHash string
	Kind      string // JoinSession or JoinWorkshop
	TargetID  string
	Name      string
	Revoked   bool
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Scope is the live room a guest belongs to.
func (g *Guest) Scope() string { return g.Kind + ":" + g.TargetID }

// LiveStore keeps live sessions, join codes and guests.
type LiveStore interface {
	CreateLiveSession(ctx context.Context, s *LiveSession) error
	LiveSession(ctx context.Context, id string) (*LiveSession, error)
	// SaveLiveSession rewrites a session if its version is still s.Version and bumps it;
	// ECONFLICT when it moved meanwhile.
	SaveLiveSession(ctx context.Context, s *LiveSession) error
	// LiveSessionsOf lists a forum's sessions, soonest first.
	LiveSessionsOf(ctx context.Context, forumID string) ([]*LiveSession, error)
	// AllLiveSessions visits every session (data downloads).
	AllLiveSessions(ctx context.Context, each func(*LiveSession) error) error

	// PutJoinCode stores a code; ECONFLICT when it is taken (draw another).
	PutJoinCode(ctx context.Context, c *JoinCode) error
	JoinCode(ctx context.Context, code string) (*JoinCode, error)
	DeleteJoinCode(ctx context.Context, code string) error
	// ExpireJoinCode sets when a code stops working (a session rescheduled or started).
	ExpireJoinCode(ctx context.Context, code string, at time.Time) error

	CreateGuest(ctx context.Context, g *Guest) error
	// GuestByToken finds a guest by the hash of their token.
	GuestByToken(ctx context.Context, tokenHash string) (*Guest, error)
	// RevokeGuest revokes every token of a guest of a session or workshop (kind, targetID): a
	// host removed them. ENOTFOUND when that target has no such guest.
	RevokeGuest(ctx context.Context, guestID, kind, targetID string) error
}
