package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

var _ insieme.PollStore = (*DB)(nil)

// pollDoc is a live poll as its hosts wrote it, rewritten whole under a version check (like
// a live session). Its ballots are documents of their own.
type pollDoc struct {
	ID            string              `bson:"_id"`
	SessionID     string              `bson:"sessionId"`
	Kind          string              `bson:"kind"`
	Title         map[string]string   `bson:"title"`
	Options       []map[string]string `bson:"options"`
	MaxChoices    int                 `bson:"maxChoices"`
	GuestsMayVote bool                `bson:"guestsMayVote"`
	ShowResults   string              `bson:"showResults"`
	Status        string              `bson:"status"`
	CreatedBy     string              `bson:"createdBy"`
	CreatedAt     time.Time           `bson:"createdAt"`
	OpenedAt      *time.Time          `bson:"openedAt,omitempty"`
	ClosedAt      *time.Time          `bson:"closedAt,omitempty"`
	Final         *tallyDoc           `bson:"final,omitempty"`
	Version       int64               `bson:"version"`
}

type tallyDoc struct {
	Voters       int            `bson:"voters"`
	Guests       int            `bson:"guests"`
	Accounts     int            `bson:"accounts"`
	Ballots      int            `bson:"ballots"`
	Counts       []int          `bson:"counts,omitempty"`
	Points       []int          `bson:"points,omitempty"`
	Distribution []int          `bson:"distribution,omitempty"`
	Average      float64        `bson:"average"`
	Words        []wordCountDoc `bson:"words,omitempty"`
}

type wordCountDoc struct {
	Word  string `bson:"w"`
	Count int    `bson:"n"`
}

func newPollDoc(p *insieme.Poll) pollDoc {
	d := pollDoc{ID: p.ID, SessionID: p.SessionID, Kind: p.Kind, Title: textsDoc(p.Title), Options: []map[string]string{},
		MaxChoices: p.MaxChoices, GuestsMayVote: p.GuestsMayVote, ShowResults: p.ShowResults, Status: p.Status,
		CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt, OpenedAt: p.OpenedAt, ClosedAt: p.ClosedAt, Version: p.Version}
	for _, o := range p.Options {
		d.Options = append(d.Options, textsDoc(o))
	}
	if t := p.Final; t != nil {
		d.Final = &tallyDoc{Voters: t.Voters, Guests: t.Guests, Accounts: t.Accounts, Ballots: t.Ballots, Counts: t.Counts,
			Points: t.Points, Distribution: t.Distribution, Average: t.Average}
		for _, w := range t.Words {
			d.Final.Words = append(d.Final.Words, wordCountDoc{Word: w.Word, Count: w.Count})
		}
	}
	return d
}

func (d *pollDoc) poll() *insieme.Poll {
	p := &insieme.Poll{ID: d.ID, SessionID: d.SessionID, Kind: d.Kind, Title: insieme.Texts(d.Title), MaxChoices: d.MaxChoices,
		GuestsMayVote: d.GuestsMayVote, ShowResults: d.ShowResults, Status: d.Status, CreatedBy: d.CreatedBy,
		CreatedAt: d.CreatedAt.UTC(), OpenedAt: utcPtr(d.OpenedAt), ClosedAt: utcPtr(d.ClosedAt), Version: d.Version}
	for _, o := range d.Options {
		p.Options = append(p.Options, insieme.Texts(o))
	}
	if t := d.Final; t != nil {
		p.Final = &insieme.Tally{Voters: t.Voters, Guests: t.Guests, Accounts: t.Accounts, Ballots: t.Ballots, Counts: t.Counts,
			Points: t.Points, Distribution: t.Distribution, Average: t.Average}
		for _, w := range t.Words {
			p.Final.Words = append(p.Final.Words, insieme.WordCount{Word: w.Word, Count: w.Count})
		}
	}
	return p
}

// CreatePoll inserts a poll.
func (db *DB) CreatePoll(ctx context.Context, p *insieme.Poll) error {
	_, err := db.w.Collection(colPolls).InsertOne(ctx, newPollDoc(p))
	return fail(err, "poll")
}

// Poll reads a poll by id.
func (db *DB) Poll(ctx context.Context, id string) (*insieme.Poll, error) {
	var d pollDoc
	if err := db.r.Collection(colPolls).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "poll")
	}
	return d.poll(), nil
}

// SavePoll replaces a poll if its version did not move, and bumps it.
func (db *DB) SavePoll(ctx context.Context, p *insieme.Poll) error {
	d := newPollDoc(p)
	d.Version = p.Version + 1
	res, err := db.w.Collection(colPolls).ReplaceOne(ctx, bson.M{"_id": p.ID, "version": p.Version}, d)
	if err != nil {
		return fail(err, "poll")
	}
	if res.MatchedCount == 0 {
		return insieme.Errorf(insieme.ECONFLICT, "The poll changed meanwhile; try again.")
	}
	p.Version++
	return nil
}

// DeletePoll removes a poll if its version did not move.
func (db *DB) DeletePoll(ctx context.Context, p *insieme.Poll) error {
	res, err := db.w.Collection(colPolls).DeleteOne(ctx, bson.M{"_id": p.ID, "version": p.Version})
	if err != nil {
		return fail(err, "poll")
	}
	if res.DeletedCount == 0 {
		return insieme.Errorf(insieme.ECONFLICT, "The poll changed meanwhile; try again.")
	}
	return nil
}

// PollsOf lists a session's polls, oldest first (a filter on a small collection, read when a
// node loads the session's polls).
func (db *DB) PollsOf(ctx context.Context, sessionID string) ([]*insieme.Poll, error) {
	var docs []pollDoc
	if err := findAll(ctx, db.r.Collection(colPolls), bson.M{"sessionId": sessionID}, &docs,
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "polls")
	}
	out := make([]*insieme.Poll, len(docs))
	for i := range docs {
		out[i] = docs[i].poll()
	}
	return out, nil
}

// ballotDoc is one version of a voter's ballot, under a key of its own: inserted once, never
// updated, so nodes sharing a store cannot lose each other's ballots.
type ballotDoc struct {
	ID        string    `bson:"_id"` // insieme.BallotKey
	PollID    string    `bson:"pollId"`
	SessionID string    `bson:"sessionId"`
	VoterID   string    `bson:"voterId"`
	Guest     bool      `bson:"guest"`
	Version   int64     `bson:"version"`
	Choices   []int     `bson:"choices,omitempty"`
	Ranking   []int     `bson:"ranking,omitempty"`
	Scale     int       `bson:"scale,omitempty"`
	Words     []string  `bson:"words,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
}

func (d *ballotDoc) ballot() *insieme.Ballot {
	return &insieme.Ballot{PollID: d.PollID, SessionID: d.SessionID, VoterID: d.VoterID, Guest: d.Guest, Version: d.Version,
		Choices: d.Choices, Ranking: d.Ranking, Scale: d.Scale, Words: d.Words, CreatedAt: d.CreatedAt.UTC()}
}

// InsertBallots stores a batch in one unordered insertMany: a ballot that fails (a duplicate
// key) does not stop the others, and the error says which failed.
func (db *DB) InsertBallots(ctx context.Context, bs []*insieme.Ballot) error {
	if len(bs) == 0 {
		return nil
	}
	docs := make([]ballotDoc, len(bs))
	for i, b := range bs {
		docs[i] = ballotDoc{ID: insieme.BallotKey(b.PollID, b.VoterID, b.Version), PollID: b.PollID, SessionID: b.SessionID,
			VoterID: b.VoterID, Guest: b.Guest, Version: b.Version, Choices: b.Choices, Ranking: b.Ranking, Scale: b.Scale,
			Words: b.Words, CreatedAt: b.CreatedAt}
	}
	_, err := db.w.Collection(colBallots).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) > 0 {
		failed := map[int]error{}
		for _, we := range bwe.WriteErrors {
			if we.Index < 0 || we.Index >= len(bs) {
				return fail(err, "ballots") // not one we can place: none is taken as stored
			}
			if we.Code == 11000 || we.Code == 11001 || mongo.IsDuplicateKeyError(we.WriteError) {
				failed[we.Index] = insieme.Errorf(insieme.ECONFLICT, "ballot already exists.")
			} else {
				failed[we.Index] = fail(we.WriteError, "ballot")
			}
		}
		return &insieme.BatchError{Failed: failed}
	}
	return fail(err, "ballots")
}

func (db *DB) findBallots(ctx context.Context, filter bson.M) ([]*insieme.Ballot, error) {
	var docs []ballotDoc
	if err := findAll(ctx, db.r.Collection(colBallots), filter, &docs); err != nil {
		return nil, fail(err, "ballots")
	}
	out := make([]*insieme.Ballot, len(docs))
	for i := range docs {
		out[i] = docs[i].ballot()
	}
	return out, nil
}

// Ballots reads every stored version of a poll's ballots (a scan on FerretDB's SQLite
// backend: at close only).
func (db *DB) Ballots(ctx context.Context, pollID string) ([]*insieme.Ballot, error) {
	return db.findBallots(ctx, bson.M{"pollId": pollID})
}

// SessionBallots reads every stored ballot of a session's polls (a scan: once per node
// loading the session).
func (db *DB) SessionBallots(ctx context.Context, sessionID string) ([]*insieme.Ballot, error) {
	return db.findBallots(ctx, bson.M{"sessionId": sessionID})
}

// BallotsBy lists a voter's ballots, oldest first (data download).
func (db *DB) BallotsBy(ctx context.Context, voterID string) ([]*insieme.Ballot, error) {
	var docs []ballotDoc
	if err := findAll(ctx, db.r.Collection(colBallots), bson.M{"voterId": voterID}, &docs,
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "version", Value: 1}})); err != nil {
		return nil, fail(err, "ballots")
	}
	out := make([]*insieme.Ballot, len(docs))
	for i := range docs {
		out[i] = docs[i].ballot()
	}
	return out, nil
}

// DeleteBallotsBy removes a voter's ballots (erasure; closed polls keep their stored Final).
func (db *DB) DeleteBallotsBy(ctx context.Context, voterID string) error {
	_, err := db.w.Collection(colBallots).DeleteMany(ctx, bson.M{"voterId": voterID})
	return fail(err, "ballots")
}
