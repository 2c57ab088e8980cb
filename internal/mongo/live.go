package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

var _ insieme.LiveStore = (*DB)(nil)

// liveSessionDoc is a live session as stored: its hosts' state, rewritten whole under a
// version check. Participants' writes live in their own collections.
type liveSessionDoc struct {
	ID           string            `bson:"_id"`
	ForumID      string            `bson:"forumId"`
	Title        map[string]string `bson:"title"`
	ScheduledAt  time.Time         `bson:"scheduledAt"`
	Mode         string            `bson:"mode"`
	Place        string            `bson:"place"`
	StreamURL    string            `bson:"streamUrl"`
	Status       string            `bson:"status"`
	Code         string            `bson:"code"`
	CoHosts      []string          `bson:"coHosts"`
	Agenda       []agendaItemDoc   `bson:"agenda"`
	Current      string            `bson:"current"`
	Runs         []agendaRunDoc    `bson:"runs"`
	Floor        *turnDoc          `bson:"floor,omitempty"`
	Turns        []turnDoc         `bson:"turns"`
	GuestsMayAsk bool              `bson:"guestsMayAsk"`
	PreModerate  bool              `bson:"preModerate"`
	Removed      []string          `bson:"removed"`
	CreatedBy    string            `bson:"createdBy"`
	CreatedAt    time.Time         `bson:"createdAt"`
	StartedAt    *time.Time        `bson:"startedAt,omitempty"`
	EndedAt      *time.Time        `bson:"endedAt,omitempty"`
	Version      int64             `bson:"version"`
}

type agendaItemDoc struct {
	ID      string            `bson:"id"`
	Title   map[string]string `bson:"title"`
	Minutes int               `bson:"minutes"`
}

type agendaRunDoc struct {
	ItemID    string     `bson:"itemId"`
	StartedAt time.Time  `bson:"startedAt"`
	EndedAt   *time.Time `bson:"endedAt,omitempty"`
}

type turnDoc struct {
	ParticipantID string     `bson:"participantId"`
	Name          string     `bson:"name"`
	StartedAt     time.Time  `bson:"startedAt"`
	EndedAt       *time.Time `bson:"endedAt,omitempty"`
}

func newTurnDoc(t insieme.Turn) turnDoc {
	return turnDoc{ParticipantID: t.ParticipantID, Name: t.Name, StartedAt: t.StartedAt, EndedAt: t.EndedAt}
}

func (d turnDoc) turn() insieme.Turn {
	return insieme.Turn{ParticipantID: d.ParticipantID, Name: d.Name, StartedAt: d.StartedAt.UTC(), EndedAt: utcPtr(d.EndedAt)}
}

func newLiveSessionDoc(s *insieme.LiveSession) liveSessionDoc {
	d := liveSessionDoc{ID: s.ID, ForumID: s.ForumID, Title: textsDoc(s.Title), ScheduledAt: s.ScheduledAt, Mode: s.Mode,
		Place: s.Place, StreamURL: s.StreamURL, Status: s.Status, Code: s.Code, CoHosts: s.CoHosts, Current: s.Current,
		GuestsMayAsk: s.GuestsMayAsk, PreModerate: s.PreModerate, Removed: s.Removed, CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt,
		StartedAt: s.StartedAt, EndedAt: s.EndedAt, Version: s.Version,
		Agenda: []agendaItemDoc{}, Runs: []agendaRunDoc{}, Turns: []turnDoc{}}
	if d.CoHosts == nil {
		d.CoHosts = []string{}
	}
	if d.Removed == nil {
		d.Removed = []string{}
	}
	for _, it := range s.Agenda {
		d.Agenda = append(d.Agenda, agendaItemDoc{ID: it.ID, Title: textsDoc(it.Title), Minutes: it.Minutes})
	}
	for _, r := range s.Runs {
		d.Runs = append(d.Runs, agendaRunDoc{ItemID: r.ItemID, StartedAt: r.StartedAt, EndedAt: r.EndedAt})
	}
	if s.Floor != nil {
		f := newTurnDoc(*s.Floor)
		d.Floor = &f
	}
	for _, t := range s.Turns {
		d.Turns = append(d.Turns, newTurnDoc(t))
	}
	return d
}

func (d *liveSessionDoc) session() *insieme.LiveSession {
	s := &insieme.LiveSession{ID: d.ID, ForumID: d.ForumID, Title: insieme.Texts(d.Title), ScheduledAt: d.ScheduledAt.UTC(),
		Mode: d.Mode, Place: d.Place, StreamURL: d.StreamURL, Status: d.Status, Code: d.Code, CoHosts: d.CoHosts,
		Current: d.Current, GuestsMayAsk: d.GuestsMayAsk, PreModerate: d.PreModerate, Removed: d.Removed, CreatedBy: d.CreatedBy,
		CreatedAt: d.CreatedAt.UTC(), StartedAt: utcPtr(d.StartedAt), EndedAt: utcPtr(d.EndedAt), Version: d.Version}
	for _, it := range d.Agenda {
		s.Agenda = append(s.Agenda, insieme.AgendaItem{ID: it.ID, Title: insieme.Texts(it.Title), Minutes: it.Minutes})
	}
	for _, r := range d.Runs {
		s.Runs = append(s.Runs, insieme.AgendaRun{ItemID: r.ItemID, StartedAt: r.StartedAt.UTC(), EndedAt: utcPtr(r.EndedAt)})
	}
	if d.Floor != nil {
		f := d.Floor.turn()
		s.Floor = &f
	}
	for _, t := range d.Turns {
		s.Turns = append(s.Turns, t.turn())
	}
	return s
}

// CreateLiveSession inserts a session.
func (db *DB) CreateLiveSession(ctx context.Context, s *insieme.LiveSession) error {
	_, err := db.w.Collection(colLiveSessions).InsertOne(ctx, newLiveSessionDoc(s))
	return fail(err, "session")
}

// LiveSession reads a session by id.
func (db *DB) LiveSession(ctx context.Context, id string) (*insieme.LiveSession, error) {
	var d liveSessionDoc
	if err := db.r.Collection(colLiveSessions).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "session")
	}
	return d.session(), nil
}

// SaveLiveSession replaces a session if its version did not move, and bumps it.
func (db *DB) SaveLiveSession(ctx context.Context, s *insieme.LiveSession) error {
	d := newLiveSessionDoc(s)
	d.Version = s.Version + 1
	res, err := db.w.Collection(colLiveSessions).ReplaceOne(ctx, bson.M{"_id": s.ID, "version": s.Version}, d)
	if err != nil {
		return fail(err, "session")
	}
	if res.MatchedCount == 0 {
		return insieme.Errorf(insieme.ECONFLICT, "The session changed meanwhile; try again.")
	}
	s.Version++
	return nil
}

// LiveSessionsOf lists a forum's sessions, soonest first (a filter on a small collection).
func (db *DB) LiveSessionsOf(ctx context.Context, forumID string) ([]*insieme.LiveSession, error) {
	var docs []liveSessionDoc
	if err := findAll(ctx, db.r.Collection(colLiveSessions), bson.M{"forumId": forumID}, &docs,
		options.Find().SetSort(bson.D{{Key: "scheduledAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "sessions")
	}
	out := make([]*insieme.LiveSession, len(docs))
	for i := range docs {
		out[i] = docs[i].session()
	}
	return out, nil
}

// AllLiveSessions visits every session, one document at a time.
func (db *DB) AllLiveSessions(ctx context.Context, each func(*insieme.LiveSession) error) error {
	cur, err := db.r.Collection(colLiveSessions).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return fail(err, "sessions")
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	for cur.Next(ctx) {
		var d liveSessionDoc
		if err := cur.Decode(&d); err != nil {
			return fail(err, "sessions")
		}
		if err := each(d.session()); err != nil {
			return err
		}
	}
	return fail(cur.Err(), "sessions")
}

// joinCodeDoc's _id is the code: joining is a point look-up.
type joinCodeDoc struct {
	Code      string    `bson:"_id"`
	Kind      string    `bson:"kind"`
	TargetID  string    `bson:"targetId"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// PutJoinCode inserts a code; ECONFLICT when it is taken.
func (db *DB) PutJoinCode(ctx context.Context, c *insieme.JoinCode) error {
	_, err := db.w.Collection(colJoinCodes).InsertOne(ctx, joinCodeDoc{Code: c.Code, Kind: c.Kind, TargetID: c.TargetID, ExpiresAt: c.ExpiresAt})
	return fail(err, "join code")
}

// JoinCode reads a code.
func (db *DB) JoinCode(ctx context.Context, code string) (*insieme.JoinCode, error) {
	var d joinCodeDoc
	if err := db.r.Collection(colJoinCodes).FindOne(ctx, bson.M{"_id": code}).Decode(&d); err != nil {
		return nil, fail(err, "join code")
	}
	return &insieme.JoinCode{Code: d.Code, Kind: d.Kind, TargetID: d.TargetID, ExpiresAt: d.ExpiresAt.UTC()}, nil
}

// ExpireJoinCode sets a code's expiry.
func (db *DB) ExpireJoinCode(ctx context.Context, code string, at time.Time) error {
	_, err := db.w.Collection(colJoinCodes).UpdateOne(ctx, bson.M{"_id": code}, bson.M{"$set": bson.M{"expiresAt": at}})
	return fail(err, "join code")
}

// DeleteJoinCode removes a code (the session ended); removing a missing one is fine.
func (db *DB) DeleteJoinCode(ctx context.Context, code string) error {
	_, err := db.w.Collection(colJoinCodes).DeleteOne(ctx, bson.M{"_id": code})
	return fail(err, "join code")
}

// guestDoc's _id is the hash of the guest's token: authenticating is a point look-up.
type guestDoc struct {
	TokenHash string    `bson:"_id"`
	GuestID   string    `bson:"guestId"`
	Kind      string    `bson:"kind"`
	TargetID  string    `bson:"targetId"`
	Name      string    `bson:"name"`
	Revoked   bool      `bson:"revoked"`
	CreatedAt time.Time `bson:"createdAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// CreateGuest stores a guest's token.
func (db *DB) CreateGuest(ctx context.Context, g *insieme.Guest) error {
	_, err := db.w.Collection(colGuests).InsertOne(ctx, guestDoc{TokenHash: g.TokenHash, GuestID: g.ID, Kind: g.Kind,
		TargetID: g.TargetID, Name: g.Name, Revoked: g.Revoked, CreatedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt})
	return fail(err, "guest")
}

// GuestByToken finds a guest by their token's hash.
func (db *DB) GuestByToken(ctx context.Context, tokenHash string) (*insieme.Guest, error) {
	var d guestDoc
	if err := db.r.Collection(colGuests).FindOne(ctx, bson.M{"_id": tokenHash}).Decode(&d); err != nil {
		return nil, fail(err, "guest")
	}
	return &insieme.Guest{ID: d.GuestID, TokenHash: d.TokenHash, Kind: d.Kind, TargetID: d.TargetID, Name: d.Name,
		Revoked: d.Revoked, CreatedAt: d.CreatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC()}, nil
}

// RevokeGuest revokes a guest's tokens (a filter: a host's rare action).
func (db *DB) RevokeGuest(ctx context.Context, guestID, kind, targetID string) error {
	res, err := db.w.Collection(colGuests).UpdateMany(ctx, bson.M{"guestId": guestID, "kind": kind, "targetId": targetID},
		bson.M{"$set": bson.M{"revoked": true}})
	if err != nil {
		return fail(err, "guest")
	}
	if res.MatchedCount == 0 {
		return insieme.Errorf(insieme.ENOTFOUND, "guest not found.")
	}
	return nil
}
