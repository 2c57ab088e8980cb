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

// A workshop's board is inserts only (docs/WORKSHOPS.md): cards and clusters once, each field
// change under a key of its own, group choices and dots under unique keys. Nodes sharing a
// store cannot overwrite each other's writes.

type cardDoc struct {
	ID         string    `bson:"_id"`
	WorkshopID string    `bson:"workshopId"`
	AuthorID   string    `bson:"authorId"`
	AuthorName string    `bson:"authorName"`
	Group      string    `bson:"group"`
	CreatedAt  time.Time `bson:"createdAt"`
}

func (d *cardDoc) card() *insieme.Card {
	return &insieme.Card{ID: d.ID, WorkshopID: d.WorkshopID, AuthorID: d.AuthorID, AuthorName: d.AuthorName, Group: d.Group,
		CreatedAt: d.CreatedAt.UTC()}
}

type clusterDoc struct {
	ID         string    `bson:"_id"`
	WorkshopID string    `bson:"workshopId"`
	CreatedBy  string    `bson:"createdBy"`
	CreatedAt  time.Time `bson:"createdAt"`
}

type editDoc struct {
	ID         string    `bson:"_id"` // insieme.BoardEditID
	WorkshopID string    `bson:"workshopId"`
	Item       string    `bson:"item"`
	Field      string    `bson:"field"`
	Text       string    `bson:"text,omitempty"`
	X          float64   `bson:"x,omitempty"`
	Y          float64   `bson:"y,omitempty"`
	Bool       bool      `bson:"bool,omitempty"`
	At         time.Time `bson:"at"`
}

type groupChoiceDoc struct {
	ID            string    `bson:"_id"` // insieme.GroupChoiceID
	WorkshopID    string    `bson:"workshopId"`
	ParticipantID string    `bson:"participantId"`
	N             int       `bson:"n"`
	Group         string    `bson:"group"`
	At            time.Time `bson:"at"`
}

func (d *groupChoiceDoc) choice() *insieme.GroupChoice {
	return &insieme.GroupChoice{WorkshopID: d.WorkshopID, ParticipantID: d.ParticipantID, N: d.N, Group: d.Group, At: d.At.UTC()}
}

// dotDoc's _id is "<workshop>:<voter>:<slot>", and (workshopId, voterId, target, k) is a
// unique index: the budget and the per-card maximum hold across nodes.
type dotDoc struct {
	ID         string    `bson:"_id"`
	WorkshopID string    `bson:"workshopId"`
	VoterID    string    `bson:"voterId"`
	Slot       int       `bson:"slot"`
	Target     string    `bson:"target"`
	K          int       `bson:"k"`
	At         time.Time `bson:"at"`
}

func (d *dotDoc) dot() *insieme.Dot {
	return &insieme.Dot{WorkshopID: d.WorkshopID, VoterID: d.VoterID, Slot: d.Slot, Target: d.Target, K: d.K, At: d.At.UTC()}
}

// insertBatch stores docs in one unordered insertMany; a *insieme.BatchError names the ones
// that failed (a duplicate key is ECONFLICT).
func (db *DB) insertBatch(ctx context.Context, col string, docs []any, what string) error {
	if len(docs) == 0 {
		return nil
	}
	_, err := db.w.Collection(col).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) > 0 {
		failed := map[int]error{}
		for _, we := range bwe.WriteErrors {
			if we.Index < 0 || we.Index >= len(docs) {
				return fail(err, what)
			}
			if we.Code == 11000 || we.Code == 11001 || mongo.IsDuplicateKeyError(we.WriteError) {
				failed[we.Index] = insieme.Errorf(insieme.ECONFLICT, "%s already exists.", what)
			} else {
				failed[we.Index] = fail(we.WriteError, what)
			}
		}
		return &insieme.BatchError{Failed: failed}
	}
	return fail(err, what)
}

// InsertCards stores new cards in one insert.
func (db *DB) InsertCards(ctx context.Context, cs []*insieme.Card) error {
	docs := make([]any, len(cs))
	for i, c := range cs {
		docs[i] = cardDoc{ID: c.ID, WorkshopID: c.WorkshopID, AuthorID: c.AuthorID, AuthorName: c.AuthorName, Group: c.Group, CreatedAt: c.CreatedAt}
	}
	return db.insertBatch(ctx, colCards, docs, "card")
}

// InsertClusters stores new clusters in one insert.
func (db *DB) InsertClusters(ctx context.Context, cs []*insieme.Cluster) error {
	docs := make([]any, len(cs))
	for i, c := range cs {
		docs[i] = clusterDoc{ID: c.ID, WorkshopID: c.WorkshopID, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt}
	}
	return db.insertBatch(ctx, colClusters, docs, "cluster")
}

// InsertBoardEdits stores field edits in one insert.
func (db *DB) InsertBoardEdits(ctx context.Context, es []*insieme.BoardEdit) error {
	docs := make([]any, len(es))
	for i, e := range es {
		docs[i] = editDoc{ID: e.ID, WorkshopID: e.WorkshopID, Item: e.Item, Field: e.Field, Text: e.Text, X: e.X, Y: e.Y, Bool: e.Bool, At: e.At}
	}
	return db.insertBatch(ctx, colBoardEdits, docs, "edit")
}

// Board reads everything written on a workshop's board.
func (db *DB) Board(ctx context.Context, workshopID string) (*insieme.Board, error) {
	f := bson.M{"workshopId": workshopID}
	b := &insieme.Board{}
	var cards []cardDoc
	if err := findAll(ctx, db.r.Collection(colCards), f, &cards); err != nil {
		return nil, fail(err, "cards")
	}
	for i := range cards {
		b.Cards = append(b.Cards, cards[i].card())
	}
	var clusters []clusterDoc
	if err := findAll(ctx, db.r.Collection(colClusters), f, &clusters); err != nil {
		return nil, fail(err, "clusters")
	}
	for _, c := range clusters {
		b.Clusters = append(b.Clusters, &insieme.Cluster{ID: c.ID, WorkshopID: c.WorkshopID, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt.UTC()})
	}
	var edits []editDoc
	if err := findAll(ctx, db.r.Collection(colBoardEdits), f, &edits); err != nil {
		return nil, fail(err, "edits")
	}
	for _, e := range edits {
		b.Edits = append(b.Edits, &insieme.BoardEdit{ID: e.ID, WorkshopID: e.WorkshopID, Item: e.Item, Field: e.Field, Text: e.Text,
			X: e.X, Y: e.Y, Bool: e.Bool, At: e.At.UTC()})
	}
	var groups []groupChoiceDoc
	if err := findAll(ctx, db.r.Collection(colWorkshopGroups), f, &groups); err != nil {
		return nil, fail(err, "groups")
	}
	for i := range groups {
		b.Groups = append(b.Groups, groups[i].choice())
	}
	var dots []dotDoc
	if err := findAll(ctx, db.r.Collection(colDots), f, &dots); err != nil {
		return nil, fail(err, "dots")
	}
	for i := range dots {
		b.Dots = append(b.Dots, dots[i].dot())
	}
	var actions []actionDoc
	if err := findAll(ctx, db.r.Collection(colWorkshopActions), f, &actions,
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "actions")
	}
	for i := range actions {
		b.Actions = append(b.Actions, actions[i].action())
	}
	return b, nil
}

// CardsBy lists an author's cards (data download).
func (db *DB) CardsBy(ctx context.Context, authorID string) ([]*insieme.Card, error) {
	var docs []cardDoc
	if err := findAll(ctx, db.r.Collection(colCards), bson.M{"authorId": authorID}, &docs); err != nil {
		return nil, fail(err, "cards")
	}
	out := make([]*insieme.Card, len(docs))
	for i := range docs {
		out[i] = docs[i].card()
	}
	return out, nil
}

// EraseCardAuthor removes an author from their cards.
func (db *DB) EraseCardAuthor(ctx context.Context, authorID string) error {
	_, err := db.w.Collection(colCards).UpdateMany(ctx, bson.M{"authorId": authorID}, bson.M{"$set": bson.M{"authorId": "", "authorName": ""}})
	return fail(err, "cards")
}

// EraseWorkshopCreator removes an account as the creator of workshops, clusters and actions.
func (db *DB) EraseWorkshopCreator(ctx context.Context, accountID string) error {
	for _, col := range []string{colWorkshops, colClusters, colWorkshopActions} {
		if _, err := db.w.Collection(col).UpdateMany(ctx, bson.M{"createdBy": accountID}, bson.M{"$set": bson.M{"createdBy": ""}}); err != nil {
			return fail(err, col)
		}
	}
	return nil
}

// InsertGroupChoice stores a participant's choice of table.
func (db *DB) InsertGroupChoice(ctx context.Context, g *insieme.GroupChoice) error {
	_, err := db.w.Collection(colWorkshopGroups).InsertOne(ctx, groupChoiceDoc{ID: insieme.GroupChoiceID(g.WorkshopID, g.ParticipantID, g.N),
		WorkshopID: g.WorkshopID, ParticipantID: g.ParticipantID, N: g.N, Group: g.Group, At: g.At})
	return fail(err, "group choice")
}

// GroupChoicesBy lists a participant's choices of table.
func (db *DB) GroupChoicesBy(ctx context.Context, participantID string) ([]*insieme.GroupChoice, error) {
	var docs []groupChoiceDoc
	if err := findAll(ctx, db.r.Collection(colWorkshopGroups), bson.M{"participantId": participantID}, &docs); err != nil {
		return nil, fail(err, "group choices")
	}
	out := make([]*insieme.GroupChoice, len(docs))
	for i := range docs {
		out[i] = docs[i].choice()
	}
	return out, nil
}

// DeleteGroupChoicesBy removes a participant's choices of table (erasure).
func (db *DB) DeleteGroupChoicesBy(ctx context.Context, participantID string) error {
	_, err := db.w.Collection(colWorkshopGroups).DeleteMany(ctx, bson.M{"participantId": participantID})
	return fail(err, "group choices")
}

// InsertDot stores a dot; ECONFLICT when its slot or its (target, k) is taken.
func (db *DB) InsertDot(ctx context.Context, d *insieme.Dot) error {
	_, err := db.w.Collection(colDots).InsertOne(ctx, dotDoc{ID: d.ID(), WorkshopID: d.WorkshopID, VoterID: d.VoterID, Slot: d.Slot,
		Target: d.Target, K: d.K, At: d.At})
	return fail(err, "dot")
}

// Dot reads a dot by its key.
func (db *DB) Dot(ctx context.Context, id string) (*insieme.Dot, error) {
	var d dotDoc
	if err := db.r.Collection(colDots).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "dot")
	}
	return d.dot(), nil
}

// DeleteDot removes a dot by its key (ENOTFOUND when it is gone).
func (db *DB) DeleteDot(ctx context.Context, id string) error {
	res, err := db.w.Collection(colDots).DeleteOne(ctx, bson.M{"_id": id})
	if err != nil {
		return fail(err, "dot")
	}
	if res.DeletedCount == 0 {
		return insieme.Errorf(insieme.ENOTFOUND, "dot not found.")
	}
	return nil
}

// DotsOf reads a workshop's stored dots.
func (db *DB) DotsOf(ctx context.Context, workshopID string) ([]*insieme.Dot, error) {
	return db.findDots(ctx, bson.M{"workshopId": workshopID})
}

// DotsBy reads a voter's dots (data download, erasure).
func (db *DB) DotsBy(ctx context.Context, voterID string) ([]*insieme.Dot, error) {
	return db.findDots(ctx, bson.M{"voterId": voterID})
}

func (db *DB) findDots(ctx context.Context, filter bson.M) ([]*insieme.Dot, error) {
	var docs []dotDoc
	if err := findAll(ctx, db.r.Collection(colDots), filter, &docs); err != nil {
		return nil, fail(err, "dots")
	}
	out := make([]*insieme.Dot, len(docs))
	for i := range docs {
		out[i] = docs[i].dot()
	}
	return out, nil
}
