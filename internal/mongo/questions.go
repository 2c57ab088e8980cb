package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

var _ insieme.QuestionStore = (*DB)(nil)

// questionDoc is a live session's question: inserted by its asker, then only its status is
// set (by a host). authorId is kept for anonymous questions too (see insieme.Question).
type questionDoc struct {
	ID         string    `bson:"_id"` // "<session>~<random>"
	SessionID  string    `bson:"sessionId"`
	AuthorID   string    `bson:"authorId"`
	AuthorName string    `bson:"authorName"`
	Guest      bool      `bson:"guest"`
	Anonymous  bool      `bson:"anonymous"`
	Text       string    `bson:"text"`
	Status     string    `bson:"status"`
	CreatedAt  time.Time `bson:"createdAt"`
}

func (d *questionDoc) question() *insieme.Question {
	return &insieme.Question{ID: d.ID, SessionID: d.SessionID, AuthorID: d.AuthorID, AuthorName: d.AuthorName, Guest: d.Guest,
		Anonymous: d.Anonymous, Text: d.Text, Status: d.Status, CreatedAt: d.CreatedAt.UTC()}
}

// upvoteDoc's _id is "<question>:<voter>": a second upvote is a duplicate key on any node.
type upvoteDoc struct {
	ID         string    `bson:"_id"`
	QuestionID string    `bson:"questionId"`
	SessionID  string    `bson:"sessionId"`
	VoterID    string    `bson:"voterId"`
	CreatedAt  time.Time `bson:"createdAt"`
}

func (d *upvoteDoc) upvote() *insieme.Upvote {
	return &insieme.Upvote{QuestionID: d.QuestionID, SessionID: d.SessionID, VoterID: d.VoterID, CreatedAt: d.CreatedAt.UTC()}
}

// handDoc's _id is "<session>:<participant>": raising twice is a duplicate key, lowering a
// delete by _id.
type handDoc struct {
	ID            string    `bson:"_id"`
	SessionID     string    `bson:"sessionId"`
	ParticipantID string    `bson:"participantId"`
	Name          string    `bson:"name"`
	Guest         bool      `bson:"guest"`
	Since         time.Time `bson:"since"`
}

func (d *handDoc) hand() *insieme.Hand {
	return &insieme.Hand{SessionID: d.SessionID, ParticipantID: d.ParticipantID, Name: d.Name, Guest: d.Guest, Since: d.Since.UTC()}
}

func handID(sessionID, participantID string) string { return sessionID + ":" + participantID }

// CreateQuestion inserts a question.
func (db *DB) CreateQuestion(ctx context.Context, q *insieme.Question) error {
	_, err := db.w.Collection(colQuestions).InsertOne(ctx, questionDoc{ID: q.ID, SessionID: q.SessionID, AuthorID: q.AuthorID,
		AuthorName: q.AuthorName, Guest: q.Guest, Anonymous: q.Anonymous, Text: q.Text, Status: q.Status, CreatedAt: q.CreatedAt})
	return fail(err, "question")
}

// SetQuestionStatus sets a question's status: one $set by _id.
func (db *DB) SetQuestionStatus(ctx context.Context, id, status string) error {
	res, err := db.w.Collection(colQuestions).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"status": status}})
	if err != nil {
		return fail(err, "question")
	}
	if res.MatchedCount == 0 {
		return insieme.Errorf(insieme.ENOTFOUND, "question not found.")
	}
	return nil
}

func (db *DB) questionsWhere(ctx context.Context, filter bson.M) ([]*insieme.Question, error) {
	var docs []questionDoc
	if err := findAll(ctx, db.r.Collection(colQuestions), filter, &docs,
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "questions")
	}
	out := make([]*insieme.Question, len(docs))
	for i := range docs {
		out[i] = docs[i].question()
	}
	return out, nil
}

// QuestionsOf lists a session's questions, oldest first (a scan on FerretDB's SQLite backend).
func (db *DB) QuestionsOf(ctx context.Context, sessionID string) ([]*insieme.Question, error) {
	return db.questionsWhere(ctx, bson.M{"sessionId": sessionID})
}

// QuestionsBy lists a participant's questions, anonymous ones included.
func (db *DB) QuestionsBy(ctx context.Context, authorID string) ([]*insieme.Question, error) {
	return db.questionsWhere(ctx, bson.M{"authorId": authorID})
}

// DeleteQuestions removes questions and their upvotes.
func (db *DB) DeleteQuestions(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := db.w.Collection(colUpvotes).DeleteMany(ctx, bson.M{"questionId": bson.M{"$in": ids}}); err != nil {
		return fail(err, "upvotes")
	}
	_, err := db.w.Collection(colQuestions).DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}})
	return fail(err, "questions")
}

// AddUpvote inserts an upvote; ECONFLICT when the voter upvoted the question already.
func (db *DB) AddUpvote(ctx context.Context, u *insieme.Upvote) error {
	_, err := db.w.Collection(colUpvotes).InsertOne(ctx, upvoteDoc{ID: u.QuestionID + ":" + u.VoterID, QuestionID: u.QuestionID,
		SessionID: u.SessionID, VoterID: u.VoterID, CreatedAt: u.CreatedAt})
	if mongo.IsDuplicateKeyError(err) {
		return insieme.Errorf(insieme.ECONFLICT, "You upvoted this question already.")
	}
	return fail(err, "upvote")
}

func (db *DB) upvotesWhere(ctx context.Context, filter bson.M) ([]*insieme.Upvote, error) {
	var docs []upvoteDoc
	if err := findAll(ctx, db.r.Collection(colUpvotes), filter, &docs,
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "upvotes")
	}
	out := make([]*insieme.Upvote, len(docs))
	for i := range docs {
		out[i] = docs[i].upvote()
	}
	return out, nil
}

// UpvotesOf lists a session's upvotes (a scan on FerretDB's SQLite backend).
func (db *DB) UpvotesOf(ctx context.Context, sessionID string) ([]*insieme.Upvote, error) {
	return db.upvotesWhere(ctx, bson.M{"sessionId": sessionID})
}

// UpvotesBy lists a participant's upvotes.
func (db *DB) UpvotesBy(ctx context.Context, voterID string) ([]*insieme.Upvote, error) {
	return db.upvotesWhere(ctx, bson.M{"voterId": voterID})
}

// DeleteUpvotesBy removes a participant's upvotes.
func (db *DB) DeleteUpvotesBy(ctx context.Context, voterID string) error {
	_, err := db.w.Collection(colUpvotes).DeleteMany(ctx, bson.M{"voterId": voterID})
	return fail(err, "upvotes")
}

// RaiseHand inserts a raised hand; ECONFLICT when it is raised already.
func (db *DB) RaiseHand(ctx context.Context, h *insieme.Hand) error {
	_, err := db.w.Collection(colHands).InsertOne(ctx, handDoc{ID: handID(h.SessionID, h.ParticipantID), SessionID: h.SessionID,
		ParticipantID: h.ParticipantID, Name: h.Name, Guest: h.Guest, Since: h.Since})
	if mongo.IsDuplicateKeyError(err) {
		return insieme.Errorf(insieme.ECONFLICT, "Your hand is raised already.")
	}
	return fail(err, "hand")
}

// LowerHand deletes a raised hand by _id; false when none was raised.
func (db *DB) LowerHand(ctx context.Context, sessionID, participantID string) (bool, error) {
	res, err := db.w.Collection(colHands).DeleteOne(ctx, bson.M{"_id": handID(sessionID, participantID)})
	if err != nil {
		return false, fail(err, "hand")
	}
	return res.DeletedCount > 0, nil
}

func (db *DB) handsWhere(ctx context.Context, filter bson.M) ([]*insieme.Hand, error) {
	var docs []handDoc
	if err := findAll(ctx, db.r.Collection(colHands), filter, &docs,
		options.Find().SetSort(bson.D{{Key: "since", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "hands")
	}
	out := make([]*insieme.Hand, len(docs))
	for i := range docs {
		out[i] = docs[i].hand()
	}
	return out, nil
}

// HandsOf lists a session's raised hands, longest raised first (a scan on FerretDB's SQLite backend).
func (db *DB) HandsOf(ctx context.Context, sessionID string) ([]*insieme.Hand, error) {
	return db.handsWhere(ctx, bson.M{"sessionId": sessionID})
}

// HandsBy lists a participant's raised hands.
func (db *DB) HandsBy(ctx context.Context, participantID string) ([]*insieme.Hand, error) {
	return db.handsWhere(ctx, bson.M{"participantId": participantID})
}
