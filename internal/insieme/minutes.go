package insieme

import (
	"context"
	"time"
)

// Minutes are a live session's record, written when it ends: who came, how the agenda went,
// what the polls decided, which questions were answered, who spoke. People with accounts are
// kept by id (their names are looked up when the minutes are shown, so erasing an account
// reaches them); guests by the name they chose; anonymous questions without an author.
type Minutes struct {
	SessionID   string
	ForumID     string
	Title       Texts
	ScheduledAt time.Time
	StartedAt   *time.Time
	EndedAt     time.Time
	Mode        string
	Place       string
	// Attendance: the most participants connected at once, and the different people.
	Peak, Guests, Accounts int
	Participants           []string // accounts that took part
	Agenda                 []MinutesItem
	Polls                  []MinutesPoll
	Questions              []MinutesQuestion // the answered ones
	Speakers               []MinutesTurn
	WrittenAt              time.Time
}

// MinutesItem is an agenda item with its planned and actual minutes.
type MinutesItem struct {
	Title          Texts
	PlannedMinutes int
	ActualSeconds  int
}

// MinutesPoll is a poll with its final tally.
type MinutesPoll struct {
	Title   Texts
	Kind    string
	Options []Texts
	Tally   Tally
}

// MinutesQuestion is an answered question; AuthorID (an account) or GuestName, or neither.
type MinutesQuestion struct {
	Text      string
	AuthorID  string
	GuestName string
	Anonymous bool
	Votes     int
}

// MinutesTurn is one turn on the floor; ParticipantID names an account, GuestName a guest.
type MinutesTurn struct {
	ParticipantID string
	GuestName     string
	Seconds       int
}

// MinutesStore keeps minutes, one per session.
type MinutesStore interface {
	// PutMinutes stores a session's minutes, replacing earlier ones.
	PutMinutes(ctx context.Context, m *Minutes) error
	Minutes(ctx context.Context, sessionID string) (*Minutes, error)
	// MinutesWith lists the minutes an account appears in (data download).
	MinutesWith(ctx context.Context, accountID string) ([]*Minutes, error)
}
