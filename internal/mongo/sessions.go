package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/insieme/insieme/internal/insieme"
)

type sessionDoc struct {
	ID         string    `bson:"_id"`
	AccountID  string    `bson:"accountId"`
	CreatedAt  time.Time `bson:"createdAt"`
	ExpiresAt  time.Time `bson:"expiresAt"`
	LastSeenAt time.Time `bson:"lastSeenAt"`
}

func (d *sessionDoc) session() *insieme.Session {
	return &insieme.Session{ID: d.ID, AccountID: d.AccountID, CreatedAt: d.CreatedAt.UTC(),
		ExpiresAt: d.ExpiresAt.UTC(), LastSeenAt: d.LastSeenAt.UTC()}
}

type tokenDoc struct {
	ID        string    `bson:"_id"`
	Kind      string    `bson:"kind"`
	AccountID string    `bson:"accountId"`
	Email     string    `bson:"email"`
	CreatedAt time.Time `bson:"createdAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

func (d *tokenDoc) token() *insieme.OneTimeToken {
	return &insieme.OneTimeToken{ID: d.ID, Kind: d.Kind, AccountID: d.AccountID, Email: d.Email,
		CreatedAt: d.CreatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC()}
}

// CreateSession stores a new session.
func (db *DB) CreateSession(ctx context.Context, s *insieme.Session) error {
	_, err := db.w.Collection(colSessions).InsertOne(ctx, sessionDoc{ID: s.ID, AccountID: s.AccountID,
		CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, LastSeenAt: s.LastSeenAt})
	return fail(err, "session")
}

// Session finds a session that has not expired.
func (db *DB) Session(ctx context.Context, id string, now time.Time) (*insieme.Session, error) {
	var d sessionDoc
	if err := db.r.Collection(colSessions).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "session")
	}
	if !now.Before(d.ExpiresAt) {
		return nil, insieme.Errorf(insieme.ENOTFOUND, "session not found.")
	}
	return d.session(), nil
}

// TouchSession records that the session was used.
func (db *DB) TouchSession(ctx context.Context, id string, now time.Time) error {
	_, err := db.w.Collection(colSessions).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"lastSeenAt": now}})
	return fail(err, "session")
}

// DeleteSession ends one session.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	_, err := db.w.Collection(colSessions).DeleteOne(ctx, bson.M{"_id": id})
	return fail(err, "session")
}

// DeleteSessions ends every session of an account except keep.
func (db *DB) DeleteSessions(ctx context.Context, accountID, keep string) error {
	filter := bson.M{"accountId": accountID}
	if keep != "" {
		filter["_id"] = bson.M{"$ne": keep}
	}
	_, err := db.w.Collection(colSessions).DeleteMany(ctx, filter)
	return fail(err, "sessions")
}

// SessionsOf lists an account's sessions.
func (db *DB) SessionsOf(ctx context.Context, accountID string) ([]*insieme.Session, error) {
	var docs []sessionDoc
	if err := findAll(ctx, db.r.Collection(colSessions), bson.M{"accountId": accountID}, &docs); err != nil {
		return nil, fail(err, "sessions")
	}
	out := make([]*insieme.Session, len(docs))
	for i := range docs {
		out[i] = docs[i].session()
	}
	return out, nil
}

// CreateToken stores a one-time token.
func (db *DB) CreateToken(ctx context.Context, t *insieme.OneTimeToken) error {
	_, err := db.w.Collection(colTokens).InsertOne(ctx, tokenDoc{ID: t.ID, Kind: t.Kind, AccountID: t.AccountID,
		Email: t.Email, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt})
	return fail(err, "token")
}

// TakeToken deletes and returns a token; deleting first makes it work once even if two
// requests race.
func (db *DB) TakeToken(ctx context.Context, id, kind string, now time.Time) (*insieme.OneTimeToken, error) {
	var d tokenDoc
	if err := db.w.Collection(colTokens).FindOneAndDelete(ctx, bson.M{"_id": id, "kind": kind}).Decode(&d); err != nil {
		return nil, fail(err, "link")
	}
	if !now.Before(d.ExpiresAt) {
		return nil, insieme.Errorf(insieme.ENOTFOUND, "link not found.")
	}
	return d.token(), nil
}

// TokensOf lists an account's outstanding tokens.
func (db *DB) TokensOf(ctx context.Context, accountID string) ([]*insieme.OneTimeToken, error) {
	var docs []tokenDoc
	if err := findAll(ctx, db.r.Collection(colTokens), bson.M{"accountId": accountID}, &docs); err != nil {
		return nil, fail(err, "tokens")
	}
	out := make([]*insieme.OneTimeToken, len(docs))
	for i := range docs {
		out[i] = docs[i].token()
	}
	return out, nil
}

// DeleteTokensOf removes an account's tokens.
func (db *DB) DeleteTokensOf(ctx context.Context, accountID string) error {
	_, err := db.w.Collection(colTokens).DeleteMany(ctx, bson.M{"accountId": accountID})
	return fail(err, "tokens")
}

// DeleteExpired removes expired sessions, tokens, guests, join codes and pending invitations (the janitor's job:
// FerretDB has no TTL indexes).
func (db *DB) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, col := range []string{colSessions, colTokens, colGuests, colJoinCodes} {
		res, err := db.w.Collection(col).DeleteMany(ctx, bson.M{"expiresAt": bson.M{"$lte": now}})
		if err != nil {
			return total, fail(err, col)
		}
		total += res.DeletedCount
	}
	// Expired invitations, and answered or withdrawn ones: the invitee's address is kept only
	// while the invitation is open.
	res, err := db.w.Collection(colInvitations).DeleteMany(ctx, bson.M{"$or": bson.A{
		bson.M{"expiresAt": bson.M{"$lte": now}},
		bson.M{"status": bson.M{"$ne": insieme.InvitePending}},
	}})
	if err != nil {
		return total, fail(err, colInvitations)
	}
	total += res.DeletedCount
	// Notes of changes are for the sweeps of the next minutes (see NoteChange).
	res, err = db.w.Collection(colChanges).DeleteMany(ctx, bson.M{"at": bson.M{"$lte": now.Add(-24 * time.Hour)}})
	if err != nil {
		return total, fail(err, colChanges)
	}
	return total + res.DeletedCount, nil
}
