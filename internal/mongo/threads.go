package mongo

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

var _ insieme.ThreadStore = (*DB)(nil)

// threadDoc's _id is the proposal id: opening a proposal reads its comments by _id. It is a
// cache of the comments' own documents (commentRecord), rebuilt from them when it misses one.
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

// commentRecord is a comment's own document, inserted under its unique id before the thread
// caches it: several nodes on one FerretDB can lose each other's rewrites of the thread
// document, never each other's inserts.
type commentRecord struct {
	ID         string     `bson:"_id"`
	ProposalID string     `bson:"proposalId"`
	ForumID    string     `bson:"forumId"`
	Comment    commentDoc `bson:",inline"` // exported: bson skips unexported fields
}

func (d *commentDoc) comment() insieme.Comment {
	var edited *time.Time
	if d.EditedAt != nil {
		e := d.EditedAt.UTC()
		edited = &e
	}
	return insieme.Comment{ID: d.ID, ParentID: d.ParentID, Depth: d.Depth, AuthorID: d.AuthorID, Body: d.Body,
		BodyHTML: d.BodyHTML, Stance: d.Stance, Deleted: d.Deleted, Hidden: d.Hidden, CreatedAt: d.CreatedAt.UTC(), EditedAt: edited}
}

func toCommentDoc(c insieme.Comment) commentDoc {
	return commentDoc{ID: c.ID, ParentID: c.ParentID, Depth: c.Depth, AuthorID: c.AuthorID, Body: c.Body, BodyHTML: c.BodyHTML,
		Stance: c.Stance, Deleted: c.Deleted, Hidden: c.Hidden, CreatedAt: c.CreatedAt, EditedAt: c.EditedAt}
}

func (d *threadDoc) thread() *insieme.Thread {
	t := &insieme.Thread{ProposalID: d.ID, ForumID: d.ForumID, Version: d.Version, Comments: make([]insieme.Comment, len(d.Comments))}
	for i := range d.Comments {
		t.Comments[i] = d.Comments[i].comment()
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

// AppendComment inserts the comment's own document, then pushes it onto the cached thread
// (an upsert for the first comment).
func (db *DB) AppendComment(ctx context.Context, proposalID, forumID string, c insieme.Comment) (*insieme.Thread, error) {
	doc := toCommentDoc(c)
	if _, err := db.w.Collection(colComments).InsertOne(ctx, commentRecord{ID: c.ID, ProposalID: proposalID, ForumID: forumID, Comment: doc}); err != nil {
		return nil, fail(err, "comment")
	}
	var d threadDoc
	err := db.w.Collection(colThreads).FindOneAndUpdate(ctx, bson.M{"_id": proposalID}, bson.M{
		"$push":        bson.M{"comments": doc},
		"$inc":         bson.M{"version": 1},
		"$setOnInsert": bson.M{"forumId": forumID},
	}, options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, fail(err, "thread")
	}
	return d.thread(), nil
}

// SaveThread stores the changed comments, then replaces the cached comments if the version
// did not move.
func (db *DB) SaveThread(ctx context.Context, t *insieme.Thread, changed ...string) error {
	docs := make([]commentDoc, len(t.Comments))
	for i, c := range t.Comments {
		docs[i] = toCommentDoc(c)
		if slices.Contains(changed, c.ID) {
			_, err := db.w.Collection(colComments).ReplaceOne(ctx, bson.M{"_id": c.ID},
				commentRecord{ID: c.ID, ProposalID: t.ProposalID, ForumID: t.ForumID, Comment: docs[i]}, options.Replace().SetUpsert(true))
			if err != nil {
				return fail(err, "comment")
			}
		}
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

// RebuildThread reads a proposal's comments from their own documents (a filter: it scans on
// FerretDB's SQLite backend, so it runs in the background, never on a request) and rewrites
// the cached thread when it differs.
func (db *DB) RebuildThread(ctx context.Context, proposalID, forumID string) (*insieme.Thread, bool, error) {
	var recs []commentRecord
	if err := findAll(ctx, db.r.Collection(colComments), bson.M{"proposalId": proposalID}, &recs,
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, false, fail(err, "comments")
	}
	cached, err := db.Thread(ctx, proposalID)
	if err != nil {
		return nil, false, err
	}
	truth := make([]insieme.Comment, len(recs))
	docs := make([]commentDoc, len(recs))
	for i := range recs {
		docs[i] = recs[i].Comment
		truth[i] = docs[i].comment()
	}
	if sameComments(cached.Comments, truth) {
		return cached, false, nil
	}
	var d threadDoc
	err = db.w.Collection(colThreads).FindOneAndUpdate(ctx, bson.M{"_id": proposalID}, bson.M{
		"$set":         bson.M{"comments": docs},
		"$inc":         bson.M{"version": 1},
		"$setOnInsert": bson.M{"forumId": forumID},
	}, options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, false, fail(err, "thread")
	}
	return d.thread(), true, nil
}

// sameComments says whether two lists hold the same comments, in whatever order.
func sameComments(a, b []insieme.Comment) bool {
	if len(a) != len(b) {
		return false
	}
	byID := make(map[string]*insieme.Comment, len(a))
	for i := range a {
		byID[a[i].ID] = &a[i]
	}
	for i := range b {
		x, ok := byID[b[i].ID]
		if !ok || !sameComment(x, &b[i]) {
			return false
		}
	}
	return true
}

func sameComment(x, y *insieme.Comment) bool {
	sameEdit := (x.EditedAt == nil) == (y.EditedAt == nil) && (x.EditedAt == nil || x.EditedAt.Equal(*y.EditedAt))
	return x.ParentID == y.ParentID && x.Depth == y.Depth && x.AuthorID == y.AuthorID && x.Body == y.Body &&
		x.BodyHTML == y.BodyHTML && x.Stance == y.Stance && x.Deleted == y.Deleted && x.Hidden == y.Hidden &&
		x.CreatedAt.Equal(y.CreatedAt) && sameEdit
}

// CommentsBy lists a person's comments, oldest first (a filter: for data downloads).
func (db *DB) CommentsBy(ctx context.Context, accountID string) ([]insieme.Comment, error) {
	var recs []commentRecord
	if err := findAll(ctx, db.r.Collection(colComments), bson.M{"authorId": accountID}, &recs,
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "comments")
	}
	out := make([]insieme.Comment, len(recs))
	for i := range recs {
		out[i] = recs[i].Comment.comment()
	}
	return out, nil
}
