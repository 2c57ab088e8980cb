package mongo

import (
	"context"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

type accountDoc struct {
	ID             string    `bson:"_id"`
	Email          string    `bson:"email"`
	DisplayName    string    `bson:"displayName"`
	Language       string    `bson:"language"`
	PasswordHash   string    `bson:"passwordHash"`
	Role           string    `bson:"role"`
	Status         string    `bson:"status"`
	EmailConfirmed bool      `bson:"emailConfirmed"`
	CreatedAt      time.Time `bson:"createdAt"`
	UpdatedAt      time.Time `bson:"updatedAt"`
}

func (d *accountDoc) account() *insieme.Account {
	return &insieme.Account{ID: d.ID, Email: d.Email, DisplayName: d.DisplayName, Language: d.Language,
		PasswordHash: d.PasswordHash, Role: d.Role, Status: d.Status, EmailConfirmed: d.EmailConfirmed,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
}

// emailDoc reserves an address: its _id is the address, so uniqueness and look-up both go by _id.
type emailDoc struct {
	ID        string `bson:"_id"`
	AccountID string `bson:"accountId"`
}

// CreateAccount reserves the email, then inserts the account; ECONFLICT when the email is taken.
func (db *DB) CreateAccount(ctx context.Context, a *insieme.Account) error {
	if _, err := db.w.Collection(colAccountEmails).InsertOne(ctx, emailDoc{ID: a.Email, AccountID: a.ID}); err != nil {
		if e := fail(err, "account"); insieme.ErrorCode(e) == insieme.ECONFLICT {
			return &insieme.Error{Code: insieme.ECONFLICT, Message: "An account with this email already exists.",
				Fields: map[string]string{"email": insieme.FTaken}}
		}
		return fail(err, "account")
	}
	doc := accountDoc{ID: a.ID, Email: a.Email, DisplayName: a.DisplayName, Language: a.Language,
		PasswordHash: a.PasswordHash, Role: a.Role, Status: a.Status, EmailConfirmed: a.EmailConfirmed,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	if _, err := db.w.Collection(colAccounts).InsertOne(ctx, doc); err != nil {
		// Release the address so the person can try again.
		_, _ = db.w.Collection(colAccountEmails).DeleteOne(context.WithoutCancel(ctx), bson.M{"_id": a.Email})
		return fail(err, "account")
	}
	return nil
}

// Account finds an account by id.
func (db *DB) Account(ctx context.Context, id string) (*insieme.Account, error) {
	var d accountDoc
	if err := db.r.Collection(colAccounts).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "account")
	}
	return d.account(), nil
}

// AccountByEmail finds an account by its normalised email.
func (db *DB) AccountByEmail(ctx context.Context, email string) (*insieme.Account, error) {
	var e emailDoc
	if err := db.r.Collection(colAccountEmails).FindOne(ctx, bson.M{"_id": email}).Decode(&e); err != nil {
		return nil, fail(err, "account")
	}
	return db.Account(ctx, e.AccountID)
}

// UpdateAccount changes the given fields and returns the account as stored.
func (db *DB) UpdateAccount(ctx context.Context, id string, upd insieme.AccountUpdate) (*insieme.Account, error) {
	set := bson.M{"updatedAt": time.Now().UTC()}
	if upd.DisplayName != nil {
		set["displayName"] = *upd.DisplayName
	}
	if upd.Language != nil {
		set["language"] = *upd.Language
	}
	if upd.PasswordHash != nil {
		set["passwordHash"] = *upd.PasswordHash
	}
	if upd.Status != nil {
		set["status"] = *upd.Status
	}
	if upd.EmailConfirmed != nil {
		set["emailConfirmed"] = *upd.EmailConfirmed
	}
	if upd.Role != nil {
		set["role"] = *upd.Role
	}
	res, err := db.w.Collection(colAccounts).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": set})
	if err != nil {
		return nil, fail(err, "account")
	}
	if res.MatchedCount == 0 {
		return nil, insieme.Errorf(insieme.ENOTFOUND, "account not found.")
	}
	return db.Account(ctx, id)
}

// ListAccounts pages through accounts in id order (an admin view; it scans the collection).
func (db *DB) ListAccounts(ctx context.Context, f insieme.AccountFilter) ([]*insieme.Account, error) {
	filter := bson.M{"status": bson.M{"$ne": insieme.StatusErased}}
	if f.After != "" {
		filter["_id"] = bson.M{"$gt": f.After}
	}
	if f.Query != "" {
		q := regexp.QuoteMeta(f.Query)
		filter["$or"] = bson.A{
			bson.M{"email": bson.M{"$regex": q, "$options": "i"}},
			bson.M{"displayName": bson.M{"$regex": q, "$options": "i"}},
		}
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	cur, err := db.r.Collection(colAccounts).Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fail(err, "accounts")
	}
	var docs []accountDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fail(err, "accounts")
	}
	out := make([]*insieme.Account, len(docs))
	for i := range docs {
		out[i] = docs[i].account()
	}
	return out, nil
}

// CountAccounts counts accounts (any status).
func (db *DB) CountAccounts(ctx context.Context) (int64, error) {
	n, err := db.r.Collection(colAccounts).CountDocuments(ctx, bson.M{})
	return n, fail(err, "accounts")
}

// EraseAccount forgets the person: email, name and password go; the id stays as a tombstone so
// what they wrote keeps an author ("former participant"). The email's reservation is released.
func (db *DB) EraseAccount(ctx context.Context, id string, now time.Time) error {
	a, err := db.Account(ctx, id)
	if err != nil {
		return err
	}
	// The email field stays present (a tombstone value) so it never collides in a unique index.
	_, err = db.w.Collection(colAccounts).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{
		"email": "erased:" + id, "displayName": "", "passwordHash": "", "language": "",
		"status": insieme.StatusErased, "emailConfirmed": false, "role": insieme.RoleUser, "updatedAt": now,
	}})
	if err != nil {
		return fail(err, "account")
	}
	if a.Email != "" {
		if _, err := db.w.Collection(colAccountEmails).DeleteOne(ctx, bson.M{"_id": a.Email, "accountId": id}); err != nil {
			return fail(err, "account")
		}
	}
	return nil
}
