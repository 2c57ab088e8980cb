package insieme

import (
	"context"
	"time"
)

// Timeline entry kinds.
const (
	EntryStatus = "status" // the status changed (with the municipality's answer, or a withdrawal)
	EntryUpdate = "update" // a progress update without a status change
)

// MaxAnswerText limits an answer or a progress update.
const MaxAnswerText = 8000

// TimelineEntry is one public step of a proposal's accountability record.
type TimelineEntry struct {
	ID        string
	Kind      string
	Status    string // the new status, for EntryStatus
	Text      string
	TextHTML  string
	ByAccount string
	ByOrg     string // the municipality that answered ("" for the author's withdrawal)
	CreatedAt time.Time
}

// TimelineStore keeps each proposal's timeline in one document read by _id.
type TimelineStore interface {
	AppendTimeline(ctx context.Context, proposalID string, e TimelineEntry) error
	Timeline(ctx context.Context, proposalID string) ([]TimelineEntry, error)
}
