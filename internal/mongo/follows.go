package mongo

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

var _ insieme.FollowStore = (*DB)(nil)

// followersDoc's _id is the proposal; followers is a set of account ids ($addToSet, $pull of
// an exact value: both work on FerretDB).
type followersDoc struct {
	ID        string   `bson:"_id"`
	Followers []string `bson:"followers"`
}

type inboxDoc struct {
	ID            string            `bson:"_id"`
	Notifications []notificationDoc `bson:"notifications"`
	ReadAt        time.Time         `bson:"readAt"`
}

type notificationDoc struct {
	ID         string    `bson:"id"`
	Kind       string    `bson:"kind"`
	ProposalID string    `bson:"proposalId"`
	CommentID  string    `bson:"commentId"`
	CaseID     string    `bson:"caseId"`
	Status     string    `bson:"status"`
	CreatedAt  time.Time `bson:"createdAt"`
}

// followDoc is one follow, under a unique _id "<proposal>:<account>": the truth the
// followers document caches, so several nodes on one FerretDB never lose a follow.
type followDoc struct {
	ID         string `bson:"_id"`
	ProposalID string `bson:"proposalId"`
	AccountID  string `bson:"accountId"`
}

func followID(proposalID, accountID string) string { return proposalID + ":" + accountID }

// Follow adds a follower (idempotent): its own document, then the proposal's cached set.
func (db *DB) Follow(ctx context.Context, proposalID, accountID string) error {
	_, err := db.w.Collection(colFollows).InsertOne(ctx, followDoc{ID: followID(proposalID, accountID), ProposalID: proposalID, AccountID: accountID})
	if e := fail(err, "follow"); e != nil && insieme.ErrorCode(e) != insieme.ECONFLICT {
		return e
	}
	_, err = db.w.Collection(colFollowers).UpdateOne(ctx, bson.M{"_id": proposalID},
		bson.M{"$addToSet": bson.M{"followers": accountID}}, options.UpdateOne().SetUpsert(true))
	return fail(err, "follow")
}

// Unfollow removes a follower (idempotent).
func (db *DB) Unfollow(ctx context.Context, proposalID, accountID string) error {
	if _, err := db.w.Collection(colFollows).DeleteOne(ctx, bson.M{"_id": followID(proposalID, accountID)}); err != nil {
		return fail(err, "follow")
	}
	_, err := db.w.Collection(colFollowers).UpdateOne(ctx, bson.M{"_id": proposalID}, bson.M{"$pull": bson.M{"followers": accountID}})
	return fail(err, "follow")
}

// Followers lists a proposal's followers (the cached set: one read by _id).
func (db *DB) Followers(ctx context.Context, proposalID string) ([]string, error) {
	var d followersDoc
	err := db.r.Collection(colFollowers).FindOne(ctx, bson.M{"_id": proposalID}).Decode(&d)
	if e := fail(err, "followers"); insieme.ErrorCode(e) == insieme.ENOTFOUND {
		return nil, nil
	} else if e != nil {
		return nil, e
	}
	return d.Followers, nil
}

// RebuildFollowers rewrites a proposal's cached set of followers from the follows when it
// differs (a filter: it scans on FerretDB's SQLite backend; for background repairs).
func (db *DB) RebuildFollowers(ctx context.Context, proposalID string) (bool, error) {
	var docs []followDoc
	if err := findAll(ctx, db.r.Collection(colFollows), bson.M{"proposalId": proposalID}, &docs); err != nil {
		return false, fail(err, "followers")
	}
	truth := make([]string, len(docs))
	for i := range docs {
		truth[i] = docs[i].AccountID
	}
	var d followersDoc
	err := db.w.Collection(colFollowers).FindOne(ctx, bson.M{"_id": proposalID}).Decode(&d)
	if e := fail(err, "followers"); e != nil && insieme.ErrorCode(e) != insieme.ENOTFOUND {
		return false, e
	}
	slices.Sort(truth)
	cached := slices.Clone(d.Followers)
	slices.Sort(cached)
	if slices.Equal(truth, cached) {
		return false, nil
	}
	_, err = db.w.Collection(colFollowers).UpdateOne(ctx, bson.M{"_id": proposalID},
		bson.M{"$set": bson.M{"followers": truth}}, options.UpdateOne().SetUpsert(true))
	return err == nil, fail(err, "followers")
}

// Following lists what an account follows (a filter: exports and erasure only).
func (db *DB) Following(ctx context.Context, accountID string) ([]string, error) {
	var docs []followDoc
	if err := findAll(ctx, db.r.Collection(colFollows), bson.M{"accountId": accountID}, &docs,
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "follows")
	}
	var out []string
	for _, d := range docs {
		out = append(out, d.ProposalID)
	}
	return out, nil
}

// UnfollowAll removes an account from every proposal it follows.
func (db *DB) UnfollowAll(ctx context.Context, accountID string) error {
	ids, err := db.Following(ctx, accountID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := db.Unfollow(ctx, id, accountID); err != nil {
			return err
		}
	}
	return nil
}

// Notify appends to an inbox, keeping the newest MaxInbox, and returns the inbox.
func (db *DB) Notify(ctx context.Context, accountID string, n insieme.Notification) (*insieme.Inbox, error) {
	doc := notificationDoc{ID: n.ID, Kind: n.Kind, ProposalID: n.ProposalID, CommentID: n.CommentID, CaseID: n.CaseID, Status: n.Status, CreatedAt: n.CreatedAt}
	var d inboxDoc
	err := db.w.Collection(colInboxes).FindOneAndUpdate(ctx, bson.M{"_id": accountID},
		bson.M{"$push": bson.M{"notifications": bson.M{"$each": bson.A{doc}, "$slice": -insieme.MaxInbox}},
			"$setOnInsert": bson.M{"readAt": time.Unix(0, 0).UTC()}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		return nil, fail(err, "inbox")
	}
	// FerretDB ignores $slice: trim here, only if nobody pushed meanwhile (the $size guard).
	if n := len(d.Notifications); n > insieme.MaxInbox {
		d.Notifications = d.Notifications[n-insieme.MaxInbox:]
		if _, err := db.w.Collection(colInboxes).UpdateOne(ctx, bson.M{"_id": accountID, "notifications": bson.M{"$size": n}},
			bson.M{"$set": bson.M{"notifications": d.Notifications}}); err != nil {
			return nil, fail(err, "inbox")
		}
	}
	return d.inbox(), nil
}

func (d *inboxDoc) inbox() *insieme.Inbox {
	b := &insieme.Inbox{AccountID: d.ID, ReadAt: d.ReadAt.UTC(), Notifications: make([]insieme.Notification, len(d.Notifications))}
	for i, n := range d.Notifications {
		b.Notifications[i] = insieme.Notification{ID: n.ID, Kind: n.Kind, ProposalID: n.ProposalID, CommentID: n.CommentID, CaseID: n.CaseID, Status: n.Status, CreatedAt: n.CreatedAt.UTC()}
	}
	return b
}

// Inbox reads a person's inbox (empty when none).
func (db *DB) Inbox(ctx context.Context, accountID string) (*insieme.Inbox, error) {
	var d inboxDoc
	err := db.r.Collection(colInboxes).FindOne(ctx, bson.M{"_id": accountID}).Decode(&d)
	if e := fail(err, "inbox"); insieme.ErrorCode(e) == insieme.ENOTFOUND {
		return &insieme.Inbox{AccountID: accountID, ReadAt: time.Unix(0, 0).UTC()}, nil
	} else if e != nil {
		return nil, e
	}
	return d.inbox(), nil
}

// MarkRead records that everything up to at was read.
func (db *DB) MarkRead(ctx context.Context, accountID string, at time.Time) error {
	_, err := db.w.Collection(colInboxes).UpdateOne(ctx, bson.M{"_id": accountID}, bson.M{"$max": bson.M{"readAt": at}})
	return fail(err, "inbox")
}

// DeleteInbox removes a person's inbox.
func (db *DB) DeleteInbox(ctx context.Context, accountID string) error {
	_, err := db.w.Collection(colInboxes).DeleteOne(ctx, bson.M{"_id": accountID})
	return fail(err, "inbox")
}
