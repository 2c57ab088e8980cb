package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

var _ insieme.ThreadStore = (*DB)(nil)

// threadDoc's _id is the proposal id: opening a proposal reads its comments by _id.
type threadDoc struct {
	ID       string       `bson:"_id"`
	ForumID  string       `bson:"forumId"`
	Comments []commentDoc `bson:"comments"`
	Version  int64        `bson:"version"`
}

type commentDoc struct {
	ID        string     `bson:"id"`
	ParentID  string     `bson:"parentId"`
	Depth     int        `bson:"depth"`
	AuthorID  string     `bson:"authorId"`
	Body      string     `bson:"body"`
	BodyHTML  string     `bson:"bodyHtml"`
	Stance    string     `bson:"stance"`
	Deleted   bool       `bson:"deleted"`
	Hidden    bool       `bson:"hidden"`
	CreatedAt time.Time  `bson:"createdAt"`
	EditedAt  *time.Time `bson:"editedAt,omitempty"`
}

func toCommentDoc(c insieme.Comment) commentDoc {
	return commentDoc{ID: c.ID, ParentID: c.ParentID, Depth: c.Depth, AuthorID: c.AuthorID, Body: c.Body, BodyHTML: c.BodyHTML,
		Stance: c.Stance, Deleted: c.Deleted, Hidden: c.Hidden, CreatedAt: c.CreatedAt, EditedAt: c.EditedAt}
}

func (d *threadDoc) thread() *insieme.Thread {
	t := &insieme.Thread{ProposalID: d.ID, ForumID: d.ForumID, Version: d.Version, Comments: make([]insieme.Comment, len(d.Comments))}
	for i, c := range d.Comments {
		var edited *time.Time
		if c.EditedAt != nil {
			e := c.EditedAt.UTC()
			edited = &e
		}
		t.Comments[i] = insieme.Comment{ID: c.ID, ParentID: c.ParentID, Depth: c.Depth, AuthorID: c.AuthorID, Body: c.Body,
			BodyHTML: c.BodyHTML, Stance: c.Stance, Deleted: c.Deleted, Hidden: c.Hidden, CreatedAt: c.CreatedAt.UTC(), EditedAt: edited}
	}
	return t
}

// Thread reads a proposal's thread by _id.
func (db *DB) Thread(ctx context.Context, proposalID string) (*insieme.Thread, error) {
	var d threadDoc
	err := db.r.Collection(colThreads).FindOne(ctx, bson.M{"_id": proposalID}).Decode(&d)
	if err != nil {
		if e := fail(err, "thread"); insieme.ErrorCode(e) == insieme.ENOTFOUND {
			return &insieme.Thread{ProposalID: proposalID}, nil
		}
		return nil, fail(err, "thread")
	}
	return d.thread(), nil
}

// AppendComment pushes a comment with one atomic update (an upsert for the first comment).
func (db *DB) AppendComment(ctx context.Context, proposalID, forumID string, c insieme.Comment) (*insieme.Thread, error) {
	var d threadDoc
	err := db.w.Collection(colThreads).FindOneAndUpdate(ctx, bson.M{"_id": proposalID}, bson.M{
		"$push":        bson.M{"comments": toCommentDoc(c)},
		"$inc":         bson.M{"version": 1},
		"$setOnInsert": bson.M{"forumId": forumID},
	}, options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, fail(err, "thread")
	}
	return d.thread(), nil
}

// SaveThread replaces the comments if the version did not move.
func (db *DB) SaveThread(ctx context.Context, t *insieme.Thread) error {
	docs := make([]commentDoc, len(t.Comments))
	for i, c := range t.Comments {
		docs[i] = toCommentDoc(c)
	}
	res, err := db.w.Collection(colThreads).UpdateOne(ctx, bson.M{"_id": t.ProposalID, "version": t.Version},
		bson.M{"$set": bson.M{"comments": docs, "version": t.Version + 1}})
	if err != nil {
		return fail(err, "thread")
	}
	if res.MatchedCount == 0 {
		return insieme.Errorf(insieme.ECONFLICT, "The discussion changed meanwhile; try again.")
	}
	t.Version++
	return nil
}

// AllThreads visits every thread.
func (db *DB) AllThreads(ctx context.Context, each func(*insieme.Thread) error) error {
	cur, err := db.r.Collection(colThreads).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return fail(err, "threads")
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d threadDoc
		if err := cur.Decode(&d); err != nil {
			return fail(err, "threads")
		}
		if err := each(d.thread()); err != nil {
			return err
		}
	}
	return fail(cur.Err(), "threads")
}
