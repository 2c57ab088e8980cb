package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

type mailDoc struct {
	ID        string    `bson:"_id"`
	To        string    `bson:"to"`
	AccountID string    `bson:"accountId"`
	Kind      string    `bson:"kind"`
	Subject   string    `bson:"subject"`
	Body      string    `bson:"body"`
	CreatedAt time.Time `bson:"createdAt"`
}

func (d *mailDoc) mail() *insieme.Mail {
	return &insieme.Mail{ID: d.ID, To: d.To, AccountID: d.AccountID, Kind: d.Kind, Subject: d.Subject, Body: d.Body, CreatedAt: d.CreatedAt.UTC()}
}

// AddMail stores a mail in the outbox.
func (db *DB) AddMail(ctx context.Context, m *insieme.Mail) error {
	_, err := db.w.Collection(colOutbox).InsertOne(ctx, mailDoc{ID: m.ID, To: m.To, AccountID: m.AccountID, Kind: m.Kind,
		Subject: m.Subject, Body: m.Body, CreatedAt: m.CreatedAt})
	return fail(err, "mail")
}

// ListMail lists the newest mails first.
func (db *DB) ListMail(ctx context.Context, limit int) ([]*insieme.Mail, error) {
	return db.mails(ctx, bson.M{}, limit)
}

// MailTo lists the mails sent to an account or to its address.
func (db *DB) MailTo(ctx context.Context, accountID, email string) ([]*insieme.Mail, error) {
	return db.mails(ctx, mailFilter(accountID, email), 0)
}

// DeleteMailTo removes the mails sent to an account or to its address.
func (db *DB) DeleteMailTo(ctx context.Context, accountID, email string) error {
	_, err := db.w.Collection(colOutbox).DeleteMany(ctx, mailFilter(accountID, email))
	return fail(err, "mail")
}

func mailFilter(accountID, email string) bson.M {
	or := bson.A{bson.M{"accountId": accountID}}
	if email != "" {
		or = append(or, bson.M{"to": email})
	}
	return bson.M{"$or": or}
}

func (db *DB) mails(ctx context.Context, filter bson.M, limit int) ([]*insieme.Mail, error) {
	opts := options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}})
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	var docs []mailDoc
	if err := findAll(ctx, db.r.Collection(colOutbox), filter, &docs, opts); err != nil {
		return nil, fail(err, "mail")
	}
	out := make([]*insieme.Mail, len(docs))
	for i := range docs {
		out[i] = docs[i].mail()
	}
	return out, nil
}
