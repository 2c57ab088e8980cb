package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

var _ insieme.TimelineStore = (*DB)(nil)

type timelineDoc struct {
	ID      string             `bson:"_id"`
	Entries []timelineEntryDoc `bson:"entries"`
}

type timelineEntryDoc struct {
	ID        string    `bson:"id"`
	Kind      string    `bson:"kind"`
	Status    string    `bson:"status"`
	Text      string    `bson:"text"`
	TextHTML  string    `bson:"textHtml"`
	ByAccount string    `bson:"byAccount"`
	ByOrg     string    `bson:"byOrg"`
	CreatedAt time.Time `bson:"createdAt"`
}

// AppendTimeline adds an entry with one atomic push.
func (db *DB) AppendTimeline(ctx context.Context, proposalID string, e insieme.TimelineEntry) error {
	_, err := db.w.Collection(colTimelines).UpdateOne(ctx, bson.M{"_id": proposalID}, bson.M{"$push": bson.M{"entries": timelineEntryDoc{
		ID: e.ID, Kind: e.Kind, Status: e.Status, Text: e.Text, TextHTML: e.TextHTML, ByAccount: e.ByAccount, ByOrg: e.ByOrg, CreatedAt: e.CreatedAt,
	}}}, options.UpdateOne().SetUpsert(true))
	return fail(err, "timeline")
}

// Timeline reads a proposal's timeline, oldest first.
func (db *DB) Timeline(ctx context.Context, proposalID string) ([]insieme.TimelineEntry, error) {
	var d timelineDoc
	err := db.r.Collection(colTimelines).FindOne(ctx, bson.M{"_id": proposalID}).Decode(&d)
	if e := fail(err, "timeline"); insieme.ErrorCode(e) == insieme.ENOTFOUND {
		return []insieme.TimelineEntry{}, nil
	} else if e != nil {
		return nil, e
	}
	out := make([]insieme.TimelineEntry, len(d.Entries))
	for i, e := range d.Entries {
		out[i] = insieme.TimelineEntry{ID: e.ID, Kind: e.Kind, Status: e.Status, Text: e.Text, TextHTML: e.TextHTML,
			ByAccount: e.ByAccount, ByOrg: e.ByOrg, CreatedAt: e.CreatedAt.UTC()}
	}
	return out, nil
}
