package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// migrations bring a store written by an earlier version to the current layout. Each is
// idempotent (an interrupted one runs again whole) and is recorded in the meta collection
// once it completed, so a start pays for it once.
var migrations = []struct {
	name string
	run  func(ctx context.Context, db *DB) error
}{
	{"counts-apart-v1", migrateCounts},
	{"comment-documents-v1", migrateComments},
	{"follow-documents-v1", migrateFollows},
	{"comment-revisions-v1", migrateRevisions},
	{"counts-recount-v1", migrateRecount},
	{"comment-revisions-v2", migrateRevisionIDs},
	{"threads-packed-v1", migratePackThreads},
	{"comment-text-v1", migrateOlderText},
}

// migrate runs the migrations not yet recorded.
func (db *DB) migrate(ctx context.Context) error {
	for _, m := range migrations {
		err := db.w.Collection(colMeta).FindOne(ctx, bson.M{"_id": m.name}).Err()
		if err == nil {
			continue
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		// Nodes starting together may run a step side by side: a duplicate key means the
		// other got there first.
		if err := m.run(ctx, db); err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		// Nodes starting together run a migration side by side (each is idempotent); the
		// upserts recording it collide on _id, and the loser's duplicate key means it is done.
		if _, err := db.w.Collection(colMeta).UpdateOne(ctx, bson.M{"_id": m.name},
			bson.M{"$set": bson.M{"at": time.Now().UTC()}}, options.UpdateOne().SetUpsert(true)); err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// migrateCounts moves the counts kept on proposals into their own documents.
func migrateCounts(ctx context.Context, db *DB) error {
	var docs []struct {
		ID       string `bson:"_id"`
		Supports int    `bson:"supports"`
		Comments int    `bson:"comments"`
	}
	if err := findAll(ctx, db.w.Collection(colProposals), bson.M{"supports": bson.M{"$exists": true}}, &docs); err != nil {
		return err
	}
	for _, d := range docs {
		if _, err := db.w.Collection(colCounts).UpdateOne(ctx, bson.M{"_id": d.ID},
			bson.M{"$setOnInsert": bson.M{"supports": d.Supports, "comments": d.Comments}}, options.UpdateOne().SetUpsert(true)); err != nil {
			return err
		}
		if _, err := db.w.Collection(colProposals).UpdateOne(ctx, bson.M{"_id": d.ID},
			bson.M{"$unset": bson.M{"supports": "", "comments": ""}}); err != nil {
			return err
		}
	}
	return nil
}

// migrateComments gives every comment of the cached threads its own document.
func migrateComments(ctx context.Context, db *DB) error {
	var threads []threadDoc
	if err := findAll(ctx, db.w.Collection(colThreads), bson.M{}, &threads); err != nil {
		return err
	}
	for _, d := range threads {
		t, err := d.thread()
		if err != nil {
			return err
		}
		recs := make([]any, 0, len(t.Comments))
		for _, c := range t.Comments {
			recs = append(recs, commentRecord{ID: c.ID, ProposalID: t.ProposalID, ForumID: t.ForumID, Comment: toCommentDoc(c)})
		}
		if err := insertMissing(ctx, db.w.Collection(colComments), recs); err != nil {
			return err
		}
	}
	return nil
}

// migrateFollows gives every follow of the cached sets its own document.
func migrateFollows(ctx context.Context, db *DB) error {
	var sets []followersDoc
	if err := findAll(ctx, db.w.Collection(colFollowers), bson.M{}, &sets); err != nil {
		return err
	}
	for _, s := range sets {
		docs := make([]any, 0, len(s.Followers))
		for _, a := range s.Followers {
			docs = append(docs, followDoc{ID: followID(s.ID, a), ProposalID: s.ID, AccountID: a})
		}
		if err := insertMissing(ctx, db.w.Collection(colFollows), docs); err != nil {
			return err
		}
	}
	return nil
}

// insertMissing inserts documents, leaving those whose _id exists already.
func insertMissing(ctx context.Context, c *mongo.Collection, docs []any) error {
	if len(docs) == 0 {
		return nil
	}
	_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) {
		for _, we := range bwe.WriteErrors {
			if !mongo.IsDuplicateKeyError(we) {
				return err
			}
		}
		return nil
	}
	return err
}

// migrateRevisions gives comment documents written before revisions existed revision 0, and
// makes each agree with the thread's copy (the thread was the truth then).
func migrateRevisions(ctx context.Context, db *DB) error {
	if _, err := db.w.Collection(colComments).UpdateMany(ctx, bson.M{"rev": bson.M{"$exists": false}}, bson.M{"$set": bson.M{"rev": 0}}); err != nil {
		return err
	}
	var threads []threadDoc
	if err := findAll(ctx, db.w.Collection(colThreads), bson.M{}, &threads); err != nil {
		return err
	}
	for _, d := range threads {
		t, err := d.thread()
		if err != nil {
			return err
		}
		for _, c := range t.Comments {
			if _, err := db.w.Collection(colComments).ReplaceOne(ctx, bson.M{"_id": c.ID, "rev": bson.M{"$lte": c.Rev}},
				commentRecord{ID: c.ID, ProposalID: t.ProposalID, ForumID: t.ForumID, Comment: toCommentDoc(c)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// migrateRecount writes every proposal's counts from its supports and its thread: stores
// written while counts were moving apart could hold counts that missed earlier increments.
func migrateRecount(ctx context.Context, db *DB) error {
	cur, err := db.w.Collection(colSupports).Aggregate(ctx, mongo.Pipeline{
		{{Key: "$group", Value: bson.M{"_id": "$proposalId", "n": bson.M{"$sum": 1}}}},
	})
	if err != nil {
		return err
	}
	var groups []struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := cur.All(ctx, &groups); err != nil {
		return err
	}
	supports := map[string]int{}
	for _, g := range groups {
		supports[g.ID] = g.N
	}
	var threads []threadDoc
	if err := findAll(ctx, db.w.Collection(colThreads), bson.M{}, &threads); err != nil {
		return err
	}
	comments := map[string]int{}
	for _, d := range threads {
		t, err := d.thread()
		if err != nil {
			return err
		}
		comments[d.ID] = len(t.Comments)
	}
	var ids []struct {
		ID string `bson:"_id"`
	}
	if err := findAll(ctx, db.w.Collection(colProposals), bson.M{}, &ids, options.Find().SetProjection(bson.M{"_id": 1})); err != nil {
		return err
	}
	for _, p := range ids {
		if _, err := db.w.Collection(colCounts).UpdateOne(ctx, bson.M{"_id": p.ID},
			bson.M{"$set": bson.M{"supports": supports[p.ID], "comments": comments[p.ID]}}, options.UpdateOne().SetUpsert(true)); err != nil {
			return err
		}
	}
	return nil
}

// migrateRevisionIDs gives each comment changed before revisions were inserts of their own (its
// document rewritten in place, at revision n > 0) the document <comment>#n too, so that no
// later change can claim revision n again over it.
func migrateRevisionIDs(ctx context.Context, db *DB) error {
	var recs []commentRecord
	if err := findAll(ctx, db.w.Collection(colComments), bson.M{"rev": bson.M{"$gt": 0}}, &recs); err != nil {
		return err
	}
	docs := []any{}
	for _, r := range recs {
		if r.ID == r.Comment.ID { // the comment's first document, rewritten in place
			r.ID = revisionID(r.Comment.ID, r.Comment.Rev)
			docs = append(docs, r)
		}
	}
	return insertMissing(ctx, db.w.Collection(colComments), docs)
}

// migratePackThreads packs the threads stored as an array of comments (see threadDoc): their
// first read on a node would otherwise stay at the unpacked cost until their next change.
func migratePackThreads(ctx context.Context, db *DB) error {
	var docs []threadDoc
	if err := findAll(ctx, db.w.Collection(colThreads), bson.M{"comments": bson.M{"$exists": true}}, &docs); err != nil {
		return err
	}
	for _, d := range docs {
		t, err := d.thread()
		if err != nil {
			return err
		}
		// A write meanwhile (another node starting) packs it too: losing the race is fine.
		if _, err := db.writeThread(ctx, t, t.Comments); err != nil {
			return err
		}
	}
	return nil
}

// migrateOlderText empties the text of every comment document below its comment's highest
// revision (changes made before the older text was emptied at each change).
func migrateOlderText(ctx context.Context, db *DB) error {
	var recs []struct {
		ID       string `bson:"_id"`
		Comment  string `bson:"id"`
		Rev      int64  `bson:"rev"`
		Body     string `bson:"body"`
		BodyHTML string `bson:"bodyHtml"`
	}
	if err := findAll(ctx, db.w.Collection(colComments), bson.M{}, &recs,
		options.Find().SetProjection(bson.M{"id": 1, "rev": 1, "body": 1, "bodyHtml": 1})); err != nil {
		return err
	}
	newest := map[string]int64{}
	for _, r := range recs {
		newest[r.Comment] = max(newest[r.Comment], r.Rev)
	}
	for _, r := range recs {
		if r.Rev < newest[r.Comment] && (r.Body != "" || r.BodyHTML != "") {
			if _, err := db.w.Collection(colComments).UpdateOne(ctx, bson.M{"_id": r.ID},
				bson.M{"$set": bson.M{"body": "", "bodyHtml": ""}}); err != nil {
				return err
			}
		}
	}
	return nil
}
