package mongo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
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
// The comments are packed into one binary value: FerretDB converts every field of a document
// between its JSON storage and BSON on each read, and 200 comments of a dozen fields each cost
// ~11 ms to read that way against ~3 ms as one value. Comments holds the array stores written
// before packing; the next write of the thread packs it.
type threadDoc struct {
	ID       string       `bson:"_id"`
	ForumID  string       `bson:"forumId"`
	Packed   []byte       `bson:"packed,omitempty"`
	Comments []commentDoc `bson:"comments,omitempty"`
	Version  int64        `bson:"version"`
}

// packedComments is the document inside threadDoc.Packed.
type packedComments struct {
	Comments []commentDoc `bson:"c"`
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
// document, never each other's inserts. A change of the comment is another insert, under
// revisionID (see ChangeComment); the highest revision of a comment is the truth.
type commentRecord struct {
	ID         string     `bson:"_id"`
	ProposalID string     `bson:"proposalId"`
	ForumID    string     `bson:"forumId"`
	Comment    commentDoc `bson:",inline"` // exported: bson skips unexported fields
	// StoredAt is when this document (the comment or one of its revisions) was inserted: a
	// node that stopped between the insert and the thread's rewrite leaves one behind, and
	// ProposalsChangedSince finds it.
	StoredAt time.Time `bson:"storedAt,omitempty"`
}

// revisionID is the _id under which a comment's revision rev (from 1) is claimed.
func revisionID(commentID string, rev int64) string {
	return fmt.Sprintf("%s#%d", commentID, rev)
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

// thread unpacks the document. A comment may be in it twice (a rebuild on another node can
// add it between the comment's insert and its push here): the newer revision keeps the first
// place.
func (d *threadDoc) thread() (*insieme.Thread, error) {
	docs := d.Comments
	if len(d.Packed) > 0 {
		var p packedComments
		if err := bson.Unmarshal(d.Packed, &p); err != nil {
			return nil, fmt.Errorf("store: thread %s: %w", d.ID, err)
		}
		docs = append(p.Comments, d.Comments...)
	}
	t := &insieme.Thread{ProposalID: d.ID, ForumID: d.ForumID, Version: d.Version, Comments: make([]insieme.Comment, 0, len(docs))}
	at := make(map[string]int, len(docs))
	for i := range docs {
		c := docs[i].comment()
		if j, ok := at[c.ID]; ok {
			if c.Rev > t.Comments[j].Rev {
				t.Comments[j] = c
			}
			continue
		}
		at[c.ID] = len(t.Comments)
		t.Comments = append(t.Comments, c)
	}
	return t, nil
}

// pack encodes comments for threadDoc.Packed.
func pack(comments []insieme.Comment) ([]byte, error) {
	docs := make([]commentDoc, len(comments))
	for i := range comments {
		docs[i] = toCommentDoc(comments[i])
	}
	b, err := bson.Marshal(packedComments{Comments: docs})
	if err != nil {
		return nil, fmt.Errorf("store: pack thread: %w", err)
	}
	return b, nil
}

// Thread reads a proposal's thread by _id.
func (db *DB) Thread(ctx context.Context, proposalID string) (*insieme.Thread, error) {
	return db.threadFrom(ctx, db.r, proposalID)
}

// threadFrom reads a thread through one of the connections (writes read through the write
// connection, which has seen its own writes).
func (db *DB) threadFrom(ctx context.Context, from *mongo.Database, proposalID string) (*insieme.Thread, error) {
	var d threadDoc
	err := from.Collection(colThreads).FindOne(ctx, bson.M{"_id": proposalID}).Decode(&d)
	if err != nil {
		if e := fail(err, "thread"); insieme.ErrorCode(e) == insieme.ENOTFOUND {
			return &insieme.Thread{ProposalID: proposalID}, nil
		}
		return nil, fail(err, "thread")
	}
	return d.thread()
}

// lockThread serialises one node's rewrites of a thread document (each reads, changes and
// writes it back under its version), so that the node's own requests do not make each other
// retry; another node's write still moves the version and makes the loser read again.
func (db *DB) lockThread(proposalID string) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(proposalID))
	m := &db.threadLocks[h.Sum32()%uint32(len(db.threadLocks))]
	m.Lock()
	return m.Unlock
}

// writeThread rewrites the cached thread with comments if its version is still from's
// (creating it when from is 0); false when another write got there first.
func (db *DB) writeThread(ctx context.Context, from *insieme.Thread, comments []insieme.Comment) (bool, error) {
	packed, err := pack(comments)
	if err != nil {
		return false, err
	}
	col := db.w.Collection(colThreads)
	if from.Version == 0 {
		_, err := col.InsertOne(ctx, bson.M{"_id": from.ProposalID, "forumId": from.ForumID, "packed": packed, "version": int64(1)})
		if mongo.IsDuplicateKeyError(err) {
			return false, nil
		}
		return err == nil, fail(err, "thread")
	}
	res, err := col.UpdateOne(ctx, bson.M{"_id": from.ProposalID, "version": from.Version},
		bson.M{"$set": bson.M{"packed": packed, "version": from.Version + 1}, "$unset": bson.M{"comments": ""}})
	if err != nil {
		return false, fail(err, "thread")
	}
	return res.MatchedCount > 0, nil
}

// updateThread applies edit to the latest cached thread and writes it back under its version,
// reading again when another write got in first; it returns the thread as written.
func (db *DB) updateThread(ctx context.Context, proposalID, forumID string, edit func(comments []insieme.Comment) []insieme.Comment) (*insieme.Thread, error) {
	defer db.lockThread(proposalID)()
	for attempt := 0; ; attempt++ {
		t, err := db.threadFrom(ctx, db.w, proposalID)
		if err != nil {
			return nil, err
		}
		if t.ForumID == "" {
			t.ForumID = forumID
		}
		comments := edit(slices.Clone(t.Comments))
		ok, err := db.writeThread(ctx, t, comments)
		if err != nil {
			return nil, err
		}
		if ok {
			return &insieme.Thread{ProposalID: proposalID, ForumID: t.ForumID, Comments: comments, Version: t.Version + 1}, nil
		}
		if attempt == 20 {
			return nil, insieme.Errorf(insieme.ECONFLICT, "The discussion changed meanwhile; try again.")
		}
	}
}

// ReplaceThreadCache rewrites the cached thread as t holds it, under t's version: tests use it
// to make the cache lose what concurrent writers on FerretDB can make it lose.
func (db *DB) ReplaceThreadCache(ctx context.Context, t *insieme.Thread) error {
	ok, err := db.writeThread(ctx, t, t.Comments)
	if err == nil && !ok {
		return insieme.Errorf(insieme.ECONFLICT, "The discussion changed meanwhile; try again.")
	}
	if err == nil {
		t.Version++
	}
	return err
}

// cacheTimeout bounds the steps after a change's own insert (the cached thread, the older
// revisions' text), which run to the end even when the request that made the change is gone.
const cacheTimeout = 15 * time.Second

// AppendComment inserts the comment's own document, then adds it to the cached thread. Once
// the insert succeeded the comment is stored: if the thread could not be updated, it returns
// a nil thread and no error (the caller has the proposal repaired).
func (db *DB) AppendComment(ctx context.Context, proposalID, forumID string, c insieme.Comment) (*insieme.Thread, error) {
	if _, err := db.w.Collection(colComments).InsertOne(ctx, commentRecord{ID: c.ID, ProposalID: proposalID, ForumID: forumID, Comment: toCommentDoc(c), StoredAt: time.Now().UTC()}); err != nil {
		return nil, fail(err, "comment")
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cacheTimeout)
	defer cancel()
	t, err := db.updateThread(ctx, proposalID, forumID, func(comments []insieme.Comment) []insieme.Comment {
		if slices.ContainsFunc(comments, func(x insieme.Comment) bool { return x.ID == c.ID }) {
			return comments // a rebuild got it in first
		}
		return append(comments, c)
	})
	if err != nil {
		return nil, nil
	}
	return t, nil
}

// ChangeComment changes a comment through its revisions: change gets the newest revision the
// node knows of (and the thread), and the result is inserted as the next revision under
// revisionID. An insert is atomic on every store, also between nodes sharing a FerretDB, so two
// changes made at the same instant cannot both become revision n: the loser reads the winner's
// revision n and applies its change on top of it as n+1 (change may refuse it then). Only then
// is the cached thread rewritten; a rewrite lost to another node is mended by a rebuild, which
// takes each comment's highest revision. The older revisions' text is emptied. Once the
// revision is stored, a failure of the later steps returns a nil thread and no error.
func (db *DB) ChangeComment(ctx context.Context, proposalID, commentID string, change func(t *insieme.Thread, c *insieme.Comment) error) (*insieme.Thread, *insieme.Comment, error) {
	t, err := db.threadFrom(ctx, db.w, proposalID)
	if err != nil {
		return nil, nil, err
	}
	cur := t.Find(commentID)
	if cur == nil {
		// The cached thread may miss it for a moment (a rewrite lost to another node, before
		// the rebuild): its first revision tells.
		var rec commentRecord
		if err := db.w.Collection(colComments).FindOne(ctx, bson.M{"_id": commentID}).Decode(&rec); err != nil {
			if e := fail(err, "comment"); insieme.ErrorCode(e) != insieme.ENOTFOUND {
				return nil, nil, e
			}
			return nil, nil, insieme.Errorf(insieme.ENOTFOUND, "comment not found.")
		}
		t.Comments = append(t.Comments, rec.Comment.comment())
		cur = &t.Comments[len(t.Comments)-1]
	}
	latest := *cur
	var claimed insieme.Comment
	for attempt := 0; ; attempt++ {
		next := latest
		*cur = latest // change sees the thread with the comment as it now is
		if err := change(t, &next); err != nil {
			return nil, nil, err
		}
		next.Rev = latest.Rev + 1
		_, err := db.w.Collection(colComments).InsertOne(ctx, commentRecord{ID: revisionID(commentID, next.Rev),
			ProposalID: proposalID, ForumID: t.ForumID, Comment: toCommentDoc(next), StoredAt: time.Now().UTC()})
		if err == nil {
			claimed = next
			break
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, nil, fail(err, "comment")
		}
		if attempt == 20 {
			return nil, nil, insieme.Errorf(insieme.ECONFLICT, "The comment changed meanwhile; try again.")
		}
		// Someone else made revision next.Rev: start from theirs.
		var won commentRecord
		if err := db.w.Collection(colComments).FindOne(ctx, bson.M{"_id": revisionID(commentID, next.Rev)}).Decode(&won); err != nil {
			return nil, nil, fail(err, "comment")
		}
		latest = won.Comment.comment()
	}
	// The revision is stored: what follows runs to the end, and its failure only leaves the
	// cache behind (a nil thread: the caller has the proposal repaired).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cacheTimeout)
	defer cancel()
	blanked := db.blankOlderRevisions(ctx, commentID, claimed.Rev)
	written, err := db.updateThread(ctx, proposalID, t.ForumID, func(comments []insieme.Comment) []insieme.Comment {
		for i := range comments {
			if comments[i].ID == commentID {
				if comments[i].Rev < claimed.Rev {
					comments[i] = claimed
				}
				return comments
			}
		}
		return append(comments, claimed)
	})
	if err != nil || blanked != nil {
		return nil, &claimed, nil
	}
	return written, written.Find(commentID), nil
}

// blankOlderRevisions empties the text of a comment's revision before rev and of its first
// document: a person who edits or deletes a comment expects the old text gone, not kept out of
// sight. Earlier revisions were emptied by the changes that followed them (and a rebuild
// finishes a clean-up cut short). The documents stay: their _ids keep a late node from claiming
// those revisions again. Every write goes by _id alone, the only filter FerretDB on SQLite
// serves without scanning the collection.
func (db *DB) blankOlderRevisions(ctx context.Context, commentID string, rev int64) error {
	col := db.w.Collection(colComments)
	var first commentRecord
	err := col.FindOne(ctx, bson.M{"_id": commentID}).Decode(&first)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return fail(err, "comment")
	}
	blank := bson.M{"$set": bson.M{"body": "", "bodyHtml": ""}}
	if err == nil && first.Comment.Rev < rev && (first.Comment.Body != "" || first.Comment.BodyHTML != "") {
		if _, err := col.UpdateOne(ctx, bson.M{"_id": commentID}, blank); err != nil {
			return fail(err, "comment")
		}
	}
	if rev > 1 {
		if _, err := col.UpdateOne(ctx, bson.M{"_id": revisionID(commentID, rev-1)}, blank); err != nil {
			return fail(err, "comment")
		}
	}
	return nil
}

// RebuildThread merges a proposal's comments' own documents into the cached thread (a filter:
// it scans on FerretDB's SQLite backend, so it runs in the background, never on a request):
// for each comment the highest revision wins; a comment only the thread holds keeps its place
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
		if cached.ForumID == "" {
			cached.ForumID = forumID
		}
		merged := slices.Clone(cached.Comments)
		at := make(map[string]int, len(merged))
		for i := range merged {
			at[merged[i].ID] = i
		}
		newest := make(map[string]int64, len(recs))
		for i := range recs {
			c := recs[i].Comment.comment()
			if r, ok := newest[c.ID]; !ok || c.Rev > r {
				newest[c.ID] = c.Rev
			}
			if j, ok := at[c.ID]; !ok {
				at[c.ID] = len(merged)
				merged = append(merged, c)
			} else if c.Rev > merged[j].Rev {
				merged[j] = c
			}
		}
		for i := range recs {
			// A change whose clean-up of older text did not finish: finish it.
			c := &recs[i].Comment
			if (c.Body != "" || c.BodyHTML != "") && c.Rev < max(newest[c.ID], merged[at[c.ID]].Rev) {
				if _, err := db.w.Collection(colComments).UpdateOne(ctx, bson.M{"_id": recs[i].ID},
					bson.M{"$set": bson.M{"body": "", "bodyHtml": ""}}); err != nil {
					return nil, false, fail(err, "comment")
				}
			}
		}
		for _, c := range cached.Comments {
			if r, ok := newest[c.ID]; !ok || c.Rev > r {
				// Only the thread has this revision (a store from before revisions had their
				// own documents): store it as one.
				id := c.ID
				if ok {
					id = revisionID(c.ID, c.Rev)
				}
				_, err := db.w.Collection(colComments).InsertOne(ctx, commentRecord{ID: id, ProposalID: proposalID, ForumID: cached.ForumID, Comment: toCommentDoc(c)})
				if err != nil && !mongo.IsDuplicateKeyError(err) {
					return nil, false, fail(err, "comment")
				}
			}
		}
		if sameComments(cached.Comments, merged) {
			return cached, false, nil
		}
		unlock := db.lockThread(proposalID)
		ok, err := db.writeThread(ctx, cached, merged)
		unlock()
		if err != nil {
			return nil, false, err
		}
		if !ok {
			if attempt < 5 {
				continue // someone changed the thread meanwhile: merge again
			}
			return nil, false, insieme.Errorf(insieme.ECONFLICT, "The discussion changed meanwhile; try again.")
		}
		return &insieme.Thread{ProposalID: proposalID, ForumID: cached.ForumID, Comments: merged, Version: cached.Version + 1}, true, nil
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

// RecentChanges lists what was stored since a time that a stopped node could have left
// behind: comments and their revisions, supports, and noted changes (support withdrawals).
// Filters: the background sweep runs it (see App.RepairChangedSince).
func (db *DB) RecentChanges(ctx context.Context, since time.Time) (*insieme.RecentChanges, error) {
	out := &insieme.RecentChanges{Comments: map[string][]insieme.CommentRevision{}}
	var recs []struct {
		ProposalID string `bson:"proposalId"`
		ID         string `bson:"id"`
		Rev        int64  `bson:"rev"`
	}
	if err := findAll(ctx, db.r.Collection(colComments), bson.M{"storedAt": bson.M{"$gte": since}}, &recs,
		options.Find().SetProjection(bson.M{"proposalId": 1, "id": 1, "rev": 1})); err != nil {
		return nil, fail(err, "comments")
	}
	for _, r := range recs {
		out.Comments[r.ProposalID] = append(out.Comments[r.ProposalID], insieme.CommentRevision{ID: r.ID, Rev: r.Rev})
	}
	seen := map[string]bool{}
	for col, field := range map[string]string{colSupports: "createdAt", colChanges: "at"} {
		var docs []struct {
			ProposalID string `bson:"proposalId"`
		}
		if err := findAll(ctx, db.r.Collection(col), bson.M{field: bson.M{"$gte": since}}, &docs,
			options.Find().SetProjection(bson.M{"proposalId": 1})); err != nil {
			return nil, fail(err, col)
		}
		for _, d := range docs {
			if !seen[d.ProposalID] {
				seen[d.ProposalID] = true
				out.Supports = append(out.Supports, d.ProposalID)
			}
		}
	}
	slices.Sort(out.Supports)
	return out, nil
}

// NoteChange notes, before a change that leaves nothing behind to find (a withdrawn support
// is a deletion), that a proposal's counts are about to change; the sweep checks them.
func (db *DB) NoteChange(ctx context.Context, proposalID string) error {
	_, err := db.w.Collection(colChanges).InsertOne(ctx, bson.M{"_id": proposalID + ":" + bson.NewObjectID().Hex(),
		"proposalId": proposalID, "at": time.Now().UTC()})
	return fail(err, "change")
}

// SupportCounts counts the supports of some proposals in one pass.
func (db *DB) SupportCounts(ctx context.Context, proposalIDs []string) (map[string]int, error) {
	out := make(map[string]int, len(proposalIDs))
	if len(proposalIDs) == 0 {
		return out, nil
	}
	cur, err := db.r.Collection(colSupports).Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.M{"proposalId": bson.M{"$in": proposalIDs}}}},
		{{Key: "$group", Value: bson.M{"_id": "$proposalId", "n": bson.M{"$sum": 1}}}},
	})
	if err != nil {
		return nil, fail(err, "supports")
	}
	var groups []struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := cur.All(ctx, &groups); err != nil {
		return nil, fail(err, "supports")
	}
	for _, g := range groups {
		out[g.ID] = g.N
	}
	return out, nil
}

// CommentsBy lists a person's comments, oldest first (a filter: for data downloads).
func (db *DB) CommentsBy(ctx context.Context, accountID string) ([]insieme.Comment, error) {
	var recs []commentRecord
	if err := findAll(ctx, db.r.Collection(colComments), bson.M{"authorId": accountID}, &recs,
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "comments")
	}
	// A comment's revisions are documents of their own: the highest is the comment.
	out := make([]insieme.Comment, 0, len(recs))
	at := make(map[string]int, len(recs))
	for i := range recs {
		c := recs[i].Comment.comment()
		if j, ok := at[c.ID]; ok {
			if c.Rev > out[j].Rev {
				out[j] = c
			}
			continue
		}
		at[c.ID] = len(out)
		out = append(out, c)
	}
	return out, nil
}
