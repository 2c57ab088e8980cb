package mongo

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
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
	Rev       int64      `bson:"rev"`
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
		BodyHTML: d.BodyHTML, Stance: d.Stance, Deleted: d.Deleted, Hidden: d.Hidden, CreatedAt: d.CreatedAt.UTC(), EditedAt: edited, Rev: d.Rev}
}

func toCommentDoc(c insieme.Comment) commentDoc {
	return commentDoc{ID: c.ID, ParentID: c.ParentID, Depth: c.Depth, AuthorID: c.AuthorID, Body: c.Body, BodyHTML: c.BodyHTML,
		Stance: c.Stance, Deleted: c.Deleted, Hidden: c.Hidden, CreatedAt: c.CreatedAt, EditedAt: c.EditedAt, Rev: c.Rev}
}

func (d *threadDoc) thread() *insieme.Thread {
	t := &insieme.Thread{ProposalID: d.ID, ForumID: d.ForumID, Version: d.Version, Comments: make([]insieme.Comment, len(d.Comments))}
	// A comment may be in the array twice: a rebuild on another node can add it between the
	// comment's insert and its push here. The newer revision keeps the first place.
	at := make(map[string]int, len(d.Comments))
	t.Comments = t.Comments[:0]
	for i := range d.Comments {
		c := d.Comments[i].comment()
		if j, ok := at[c.ID]; ok {
			if c.Rev > t.Comments[j].Rev {
				t.Comments[j] = c
			}
			continue
		}
		at[c.ID] = len(t.Comments)
		t.Comments = append(t.Comments, c)
	}
	return t
}

// Thread reads a proposal's thread by _id.
func (db *DB) Thread(ctx context.Context, proposalID string) (*insieme.Thread, error) {
	return db.threadFrom(ctx, db.r, proposalID)
}

// threadFrom reads a thread through one of the connections (a rebuild reads through the
// write connection, which has seen its own writes).
func (db *DB) threadFrom(ctx context.Context, from *mongo.Database, proposalID string) (*insieme.Thread, error) {
	var d threadDoc
	err := from.Collection(colThreads).FindOne(ctx, bson.M{"_id": proposalID}).Decode(&d)
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
	push := func() error {
		return db.w.Collection(colThreads).FindOneAndUpdate(ctx, bson.M{"_id": proposalID}, bson.M{
			"$push":        bson.M{"comments": doc},
			"$inc":         bson.M{"version": 1},
			"$setOnInsert": bson.M{"forumId": forumID},
		}, options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
	}
	err := push()
	if mongo.IsDuplicateKeyError(err) {
		// Another node made the thread's first document at the same moment: push onto it.
		err = push()
	}
	if err != nil {
		return nil, fail(err, "thread")
	}
	return d.thread(), nil
}

// SaveThread replaces the cached comments if the version did not move, then stores the
// changed comments' own documents (only over an older revision). In that order, a change that
// loses the version race leaves no trace; a document write that fails after the thread's
// leaves a document behind the thread, which a rebuild recognises by its lower revision.
func (db *DB) SaveThread(ctx context.Context, t *insieme.Thread, changed ...string) error {
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
	for i, c := range t.Comments {
		if slices.Contains(changed, c.ID) {
			if err := db.putCommentRecord(ctx, commentRecord{ID: c.ID, ProposalID: t.ProposalID, ForumID: t.ForumID, Comment: docs[i]}); err != nil {
				return err
			}
		}
	}
	return nil
}

// putCommentRecord writes a comment's own document unless a newer revision is stored.
func (db *DB) putCommentRecord(ctx context.Context, rec commentRecord) error {
	res, err := db.w.Collection(colComments).ReplaceOne(ctx, bson.M{"_id": rec.ID, "rev": bson.M{"$lt": rec.Comment.Rev}}, rec)
	if err != nil {
		return fail(err, "comment")
	}
	if res.MatchedCount > 0 {
		return nil
	}
	// Newer already, or missing (a comment from before comments had documents): insert, and a
	// duplicate key means a newer revision is there.
	_, err = db.w.Collection(colComments).InsertOne(ctx, rec)
	if e := fail(err, "comment"); e != nil && insieme.ErrorCode(e) != insieme.ECONFLICT {
		return e
	}
	return nil
}

// RebuildThread merges a proposal's comments' own documents into the cached thread (a filter:
// it scans on FerretDB's SQLite backend, so it runs in the background, never on a request):
// for each comment the newer revision wins; a comment only the thread holds keeps its place
// and gets its document. The thread is rewritten, under its version, only when it differs.
func (db *DB) RebuildThread(ctx context.Context, proposalID, forumID string) (*insieme.Thread, bool, error) {
	for attempt := 0; ; attempt++ {
		var recs []commentRecord
		if err := findAll(ctx, db.r.Collection(colComments), bson.M{"proposalId": proposalID}, &recs,
			options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
			return nil, false, fail(err, "comments")
		}
		cached, err := db.threadFrom(ctx, db.w, proposalID)
		if err != nil {
			return nil, false, err
		}
		merged := slices.Clone(cached.Comments)
		at := make(map[string]int, len(merged))
		for i := range merged {
			at[merged[i].ID] = i
		}
		stored := make(map[string]bool, len(recs))
		for i := range recs {
			c := recs[i].Comment.comment()
			stored[c.ID] = true
			if j, ok := at[c.ID]; !ok {
				merged = append(merged, c)
			} else if c.Rev > merged[j].Rev {
				merged[j] = c
			}
		}
		for _, c := range cached.Comments {
			if !stored[c.ID] {
				if err := db.putCommentRecord(ctx, commentRecord{ID: c.ID, ProposalID: proposalID, ForumID: forumID, Comment: toCommentDoc(c)}); err != nil {
					return nil, false, err
				}
			}
		}
		if sameComments(cached.Comments, merged) {
			return cached, false, nil
		}
		docs := make([]commentDoc, len(merged))
		for i := range merged {
			docs[i] = toCommentDoc(merged[i])
		}
		filter := bson.M{"_id": proposalID, "version": cached.Version}
		update := bson.M{"$set": bson.M{"comments": docs, "version": cached.Version + 1}}
		var res *mongo.UpdateResult
		if cached.Version == 0 {
			res, err = db.w.Collection(colThreads).UpdateOne(ctx, bson.M{"_id": proposalID},
				bson.M{"$set": bson.M{"comments": docs, "version": 1, "forumId": forumID}}, options.UpdateOne().SetUpsert(true))
		} else {
			res, err = db.w.Collection(colThreads).UpdateOne(ctx, filter, update)
		}
		if err != nil {
			return nil, false, fail(err, "thread")
		}
		if res.MatchedCount == 0 && res.UpsertedCount == 0 {
			if attempt < 5 {
				continue // someone changed the thread meanwhile: merge again
			}
			return nil, false, insieme.Errorf(insieme.ECONFLICT, "The discussion changed meanwhile; try again.")
		}
		t := &insieme.Thread{ProposalID: proposalID, ForumID: forumID, Comments: merged, Version: cached.Version + 1}
		if cached.Version == 0 {
			t.Version = 1
		}
		return t, true, nil
	}
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
		x.CreatedAt.Equal(y.CreatedAt) && sameEdit && x.Rev == y.Rev
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
