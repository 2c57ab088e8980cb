package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

var _ insieme.MinutesStore = (*DB)(nil)

// minutesDoc's _id is the session. People lists every account the minutes name (attendance,
// questions, speakers), so a person's minutes are found by one field.
type minutesDoc struct {
	ID      string          `bson:"_id"`
	People  []string        `bson:"people"`
	Minutes insieme.Minutes `bson:"minutes"`
}

func minutesPeople(m *insieme.Minutes) []string {
	seen := map[string]bool{}
	out := []string{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range m.Participants {
		add(id)
	}
	for _, q := range m.Questions {
		add(q.AuthorID)
	}
	for _, t := range m.Speakers {
		add(t.ParticipantID)
	}
	return out
}

// PutMinutes stores (or replaces) a session's minutes.
func (db *DB) PutMinutes(ctx context.Context, m *insieme.Minutes) error {
	_, err := db.w.Collection(colMinutes).ReplaceOne(ctx, bson.M{"_id": m.SessionID},
		minutesDoc{ID: m.SessionID, People: minutesPeople(m), Minutes: *m}, options.Replace().SetUpsert(true))
	return fail(err, "minutes")
}

// Minutes reads a session's minutes.
func (db *DB) Minutes(ctx context.Context, sessionID string) (*insieme.Minutes, error) {
	var d minutesDoc
	if err := db.r.Collection(colMinutes).FindOne(ctx, bson.M{"_id": sessionID}).Decode(&d); err != nil {
		return nil, fail(err, "minutes")
	}
	return utcMinutes(&d.Minutes), nil
}

// MinutesWith lists the minutes naming an account (a filter: data downloads only).
func (db *DB) MinutesWith(ctx context.Context, accountID string) ([]*insieme.Minutes, error) {
	var docs []minutesDoc
	if err := findAll(ctx, db.r.Collection(colMinutes), bson.M{"people": accountID}, &docs,
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "minutes")
	}
	out := make([]*insieme.Minutes, len(docs))
	for i := range docs {
		out[i] = utcMinutes(&docs[i].Minutes)
	}
	return out, nil
}

func utcMinutes(m *insieme.Minutes) *insieme.Minutes {
	m.ScheduledAt, m.EndedAt, m.WrittenAt = m.ScheduledAt.UTC(), m.EndedAt.UTC(), m.WrittenAt.UTC()
	m.StartedAt = utcPtr(m.StartedAt)
	return m
}
