package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

var _ insieme.ProposalStore = (*DB)(nil)

// proposalDoc is a proposal as stored. Place and AnsweredAt are absent when unset (inserts
// omit them, updates $unset them). Its counts live apart (countsDoc): FerretDB rewrites whole
// documents, so a count written by one node could otherwise undo another node's answer.
type proposalDoc struct {
	ID         string     `bson:"_id"`
	ForumID    string     `bson:"forumId"`
	AuthorID   string     `bson:"authorId"`
	OrgID      string     `bson:"orgId"`
	Title      string     `bson:"title"`
	Body       string     `bson:"body"`
	BodyHTML   string     `bson:"bodyHtml"`
	Language   string     `bson:"language"`
	Category   string     `bson:"category"`
	Place      *placeDoc  `bson:"place,omitempty"`
	Status     string     `bson:"status"`
	Hidden     bool       `bson:"hidden"`
	Tokens     []string   `bson:"tokens"`
	Translated []string   `bson:"translated"` // absent (nil) in proposals stored by an earlier version
	Origin     *originDoc `bson:"origin,omitempty"`
	CreatedAt  time.Time  `bson:"createdAt"`
	UpdatedAt  time.Time  `bson:"updatedAt"`
	AnsweredAt *time.Time `bson:"answeredAt,omitempty"`
}

// originDoc is the workshop output a proposal came from.
type originDoc struct {
	WorkshopID    string `bson:"workshopId"`
	WorkshopTitle string `bson:"workshopTitle"`
	Source        string `bson:"source"`
}

func newOriginDoc(o *insieme.ProposalOrigin) *originDoc {
	if o == nil {
		return nil
	}
	return &originDoc{WorkshopID: o.WorkshopID, WorkshopTitle: o.WorkshopTitle, Source: o.Source}
}

func (d *originDoc) origin() *insieme.ProposalOrigin {
	if d == nil {
		return nil
	}
	return &insieme.ProposalOrigin{WorkshopID: d.WorkshopID, WorkshopTitle: d.WorkshopTitle, Source: d.Source}
}

// placeDoc is a subdocument; a place may be named without coordinates.
type placeDoc struct {
	Name string   `bson:"name"`
	Lat  *float64 `bson:"lat,omitempty"`
	Lng  *float64 `bson:"lng,omitempty"`
}

func newPlaceDoc(p *insieme.Place) *placeDoc {
	if p == nil {
		return nil
	}
	return &placeDoc{Name: p.Name, Lat: p.Lat, Lng: p.Lng}
}

func (d *placeDoc) place() *insieme.Place {
	if d == nil {
		return nil
	}
	return &insieme.Place{Name: d.Name, Lat: d.Lat, Lng: d.Lng}
}

// countsDoc's _id is the proposal id. On MongoDB $inc keeps it exact; on FerretDB shared by
// several nodes an $inc can be lost, and the app recounts from the supports and comments.
type countsDoc struct {
	ID       string `bson:"_id"`
	Supports int    `bson:"supports"`
	Comments int    `bson:"comments"`
}

func (d *proposalDoc) proposal(c countsDoc) *insieme.Proposal {
	return &insieme.Proposal{ID: d.ID, ForumID: d.ForumID, AuthorID: d.AuthorID, OrgID: d.OrgID, Title: d.Title,
		Body: d.Body, BodyHTML: d.BodyHTML, Language: d.Language, Category: d.Category, Place: d.Place.place(),
		Status: d.Status, Supports: c.Supports, Comments: c.Comments, Hidden: d.Hidden, Tokens: d.Tokens, Translated: d.Translated,
		Origin: d.Origin.origin(), CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), AnsweredAt: utcPtr(d.AnsweredAt)}
}

// translationDoc's _id is "<proposal>:<lang>": one translation per language, replaced in place.
type translationDoc struct {
	ID           string    `bson:"_id"`
	ProposalID   string    `bson:"proposalId"`
	Language     string    `bson:"language"`
	Title        string    `bson:"title"`
	Body         string    `bson:"body"`
	BodyHTML     string    `bson:"bodyHtml"`
	TranslatorID string    `bson:"translatorId"`
	Machine      bool      `bson:"machine"`
	CreatedAt    time.Time `bson:"createdAt"`
	UpdatedAt    time.Time `bson:"updatedAt"`
}

func translationID(proposalID, lang string) string { return proposalID + ":" + lang }

func (d *translationDoc) translation() *insieme.Translation {
	return &insieme.Translation{ProposalID: d.ProposalID, Language: d.Language, Title: d.Title, Body: d.Body,
		BodyHTML: d.BodyHTML, TranslatorID: d.TranslatorID, Machine: d.Machine,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
}

// supportDoc's _id is "<proposal>:<account>": the unique _id makes a second support by the
// same person a duplicate-key error on every store, without reading first.
type supportDoc struct {
	ID         string    `bson:"_id"`
	ProposalID string    `bson:"proposalId"`
	ForumID    string    `bson:"forumId"`
	AccountID  string    `bson:"accountId"`
	CreatedAt  time.Time `bson:"createdAt"`
}

func supportID(proposalID, accountID string) string { return proposalID + ":" + accountID }

func (d *supportDoc) support() *insieme.Support {
	return &insieme.Support{ProposalID: d.ProposalID, ForumID: d.ForumID, AccountID: d.AccountID, CreatedAt: d.CreatedAt.UTC()}
}

// CreateProposal inserts a proposal, then its counts; ECONFLICT when the id is taken (the
// counts of the proposal holding it are left alone).
func (db *DB) CreateProposal(ctx context.Context, p *insieme.Proposal) error {
	_, err := db.w.Collection(colProposals).InsertOne(ctx, proposalDoc{ID: p.ID, ForumID: p.ForumID, AuthorID: p.AuthorID,
		OrgID: p.OrgID, Title: p.Title, Body: p.Body, BodyHTML: p.BodyHTML, Language: p.Language, Category: p.Category,
		Place: newPlaceDoc(p.Place), Status: p.Status, Hidden: p.Hidden,
		Tokens: p.Tokens, Translated: nonNil(p.Translated), Origin: newOriginDoc(p.Origin), CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		AnsweredAt: p.AnsweredAt})
	if err != nil {
		return fail(err, "proposal")
	}
	// A missing counts document reads as zero; this one only makes later increments cheap.
	_, err = db.w.Collection(colCounts).UpdateOne(ctx, bson.M{"_id": p.ID},
		bson.M{"$setOnInsert": bson.M{"supports": p.Supports, "comments": p.Comments}}, options.UpdateOne().SetUpsert(true))
	return fail(err, "proposal")
}

// Proposal finds a proposal by id, with its counts (two look-ups by _id).
func (db *DB) Proposal(ctx context.Context, id string) (*insieme.Proposal, error) {
	var d proposalDoc
	if err := db.r.Collection(colProposals).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "proposal")
	}
	c, err := db.counts(ctx, id)
	if err != nil {
		return nil, err
	}
	return d.proposal(c), nil
}

// ProposalOnly finds a proposal by id without its counts (one look-up by _id).
func (db *DB) ProposalOnly(ctx context.Context, id string) (*insieme.Proposal, error) {
	var d proposalDoc
	if err := db.r.Collection(colProposals).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "proposal")
	}
	return d.proposal(countsDoc{}), nil
}

// counts reads a proposal's counts; zero when it has none stored.
func (db *DB) counts(ctx context.Context, id string) (countsDoc, error) {
	var c countsDoc
	err := db.r.Collection(colCounts).FindOne(ctx, bson.M{"_id": id}).Decode(&c)
	if e := fail(err, "proposal"); e != nil && insieme.ErrorCode(e) != insieme.ENOTFOUND {
		return c, e
	}
	return c, nil
}

// UpdateProposal changes the given fields ($set; $unset for a place set back to none) and
// returns the proposal as stored. It never touches the counts.
func (db *DB) UpdateProposal(ctx context.Context, id string, upd insieme.ProposalUpdate, now time.Time) (*insieme.Proposal, error) {
	set := bson.M{"updatedAt": now}
	unset := bson.M{}
	if upd.Title != nil {
		set["title"] = *upd.Title
	}
	if upd.Body != nil {
		set["body"] = *upd.Body
	}
	if upd.BodyHTML != nil {
		set["bodyHtml"] = *upd.BodyHTML
	}
	if upd.Language != nil {
		set["language"] = *upd.Language
	}
	if upd.Category != nil {
		set["category"] = *upd.Category
	}
	if upd.Place != nil {
		if *upd.Place == nil {
			unset["place"] = ""
		} else {
			set["place"] = newPlaceDoc(*upd.Place)
		}
	}
	if upd.Status != nil {
		set["status"] = *upd.Status
	}
	if upd.Hidden != nil {
		set["hidden"] = *upd.Hidden
	}
	if upd.Tokens != nil {
		set["tokens"] = *upd.Tokens
	}
	if upd.Translated != nil {
		set["translated"] = nonNil(*upd.Translated)
	}
	if upd.AnsweredAt != nil {
		set["answeredAt"] = *upd.AnsweredAt
	}
	res, err := db.w.Collection(colProposals).UpdateOne(ctx, bson.M{"_id": id}, setUnset(set, unset))
	if err != nil {
		return nil, fail(err, "proposal")
	}
	if res.MatchedCount == 0 {
		return nil, insieme.Errorf(insieme.ENOTFOUND, "proposal not found.")
	}
	return db.Proposal(ctx, id)
}

// AllProposals calls each for every proposal in id order, decoding one document at a time;
// it stops at the first error each returns and returns it.
func (db *DB) AllProposals(ctx context.Context, each func(*insieme.Proposal) error) error {
	counts := map[string]countsDoc{}
	var cs []countsDoc
	if err := findAll(ctx, db.r.Collection(colCounts), bson.M{}, &cs); err != nil {
		return fail(err, "proposals")
	}
	for _, c := range cs {
		counts[c.ID] = c
	}
	cur, err := db.r.Collection(colProposals).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return fail(err, "proposals")
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	for cur.Next(ctx) {
		var d proposalDoc
		if err := cur.Decode(&d); err != nil {
			return fail(err, "proposals")
		}
		if err := each(d.proposal(counts[d.ID])); err != nil {
			return err
		}
	}
	return fail(cur.Err(), "proposals")
}

// ProposalsBy lists the proposals an account wrote, oldest first (it filters, so it scans on
// the embedded store: for exports and erasure, not for pages).
func (db *DB) ProposalsBy(ctx context.Context, accountID string) ([]*insieme.Proposal, error) {
	var docs []proposalDoc
	if err := findAll(ctx, db.r.Collection(colProposals), bson.M{"authorId": accountID}, &docs,
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "proposals")
	}
	out := make([]*insieme.Proposal, len(docs))
	for i := range docs {
		c, err := db.counts(ctx, docs[i].ID)
		if err != nil {
			return nil, err
		}
		out[i] = docs[i].proposal(c)
	}
	return out, nil
}

// AddToCounts adds to the support and comment counts in one $inc and returns the proposal
// as stored after it. No projection: FerretDB v1 cannot combine one with findAndModify's
// returned document.
func (db *DB) AddToCounts(ctx context.Context, id string, supports, comments int) (*insieme.Proposal, error) {
	var d proposalDoc
	if err := db.r.Collection(colProposals).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "proposal")
	}
	var c countsDoc
	err := db.w.Collection(colCounts).FindOneAndUpdate(ctx, bson.M{"_id": id},
		bson.M{"$inc": bson.M{"supports": supports, "comments": comments}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&c)
	if err != nil {
		return nil, fail(err, "proposal")
	}
	return d.proposal(c), nil
}

// SetCounts writes counts recounted from the supports and comments, if the kept ones are
// still those the recount started from (was); it says whether it wrote them.
func (db *DB) SetCounts(ctx context.Context, id string, was, now insieme.Counts) (bool, error) {
	res, err := db.w.Collection(colCounts).UpdateOne(ctx, bson.M{"_id": id, "supports": was.Supports, "comments": was.Comments},
		bson.M{"$set": bson.M{"supports": now.Supports, "comments": now.Comments}})
	if err != nil {
		return false, fail(err, "proposal")
	}
	if res.MatchedCount > 0 {
		return true, nil
	}
	// No counts document at all (it reads as zero): make one.
	res, err = db.w.Collection(colCounts).UpdateOne(ctx, bson.M{"_id": id},
		bson.M{"$setOnInsert": bson.M{"supports": now.Supports, "comments": now.Comments}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return false, fail(err, "proposal")
	}
	return res.UpsertedCount > 0, nil
}

// PutTranslation inserts a proposal's translation into a language, or replaces the one there
// is (a replace with upsert, keyed by _id).
func (db *DB) PutTranslation(ctx context.Context, t *insieme.Translation) error {
	id := translationID(t.ProposalID, t.Language)
	_, err := db.w.Collection(colTranslations).ReplaceOne(ctx, bson.M{"_id": id}, translationDoc{ID: id,
		ProposalID: t.ProposalID, Language: t.Language, Title: t.Title, Body: t.Body, BodyHTML: t.BodyHTML,
		TranslatorID: t.TranslatorID, Machine: t.Machine, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt},
		options.Replace().SetUpsert(true))
	return fail(err, "translation")
}

// Translations lists a proposal's translations by language.
func (db *DB) Translations(ctx context.Context, proposalID string, langs []string) ([]*insieme.Translation, error) {
	// One point look-up per language ("<proposal>:<lang>"): a filter on proposalId would scan
	// the whole collection on FerretDB's SQLite backend.
	if langs == nil {
		langs = insieme.Languages
	}
	out := []*insieme.Translation{}
	for _, lang := range langs {
		var d translationDoc
		err := db.r.Collection(colTranslations).FindOne(ctx, bson.M{"_id": proposalID + ":" + lang}).Decode(&d)
		if e := fail(err, "translation"); insieme.ErrorCode(e) == insieme.ENOTFOUND {
			continue
		} else if e != nil {
			return nil, e
		}
		out = append(out, d.translation())
	}
	return out, nil
}

// TranslationsBy lists the translations a person made, oldest first.
func (db *DB) TranslationsBy(ctx context.Context, accountID string) ([]*insieme.Translation, error) {
	return db.translations(ctx, bson.M{"translatorId": accountID}, bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})
}

func (db *DB) translations(ctx context.Context, filter bson.M, sort bson.D) ([]*insieme.Translation, error) {
	var docs []translationDoc
	if err := findAll(ctx, db.r.Collection(colTranslations), filter, &docs, options.Find().SetSort(sort)); err != nil {
		return nil, fail(err, "translations")
	}
	out := make([]*insieme.Translation, len(docs))
	for i := range docs {
		out[i] = docs[i].translation()
	}
	return out, nil
}

// AddSupport records a person's support; ECONFLICT when they already support the proposal.
// The caller adds to the count (AddToCounts) only after this succeeds.
func (db *DB) AddSupport(ctx context.Context, s *insieme.Support) error {
	_, err := db.w.Collection(colSupports).InsertOne(ctx, supportDoc{ID: supportID(s.ProposalID, s.AccountID),
		ProposalID: s.ProposalID, ForumID: s.ForumID, AccountID: s.AccountID, CreatedAt: s.CreatedAt})
	if mongo.IsDuplicateKeyError(err) {
		return insieme.Errorf(insieme.ECONFLICT, "You already support this proposal.")
	}
	return fail(err, "support")
}

// RemoveSupport withdraws a person's support; ENOTFOUND when there was none, so the caller
// subtracts from the count only for a support that existed.
func (db *DB) RemoveSupport(ctx context.Context, proposalID, accountID string) error {
	res, err := db.w.Collection(colSupports).DeleteOne(ctx, bson.M{"_id": supportID(proposalID, accountID)})
	if err != nil {
		return fail(err, "support")
	}
	if res.DeletedCount == 0 {
		return insieme.Errorf(insieme.ENOTFOUND, "support not found.")
	}
	return nil
}

// HasSupport reports whether a person supports a proposal (a point look-up by _id).
func (db *DB) HasSupport(ctx context.Context, proposalID, accountID string) (bool, error) {
	err := db.r.Collection(colSupports).FindOne(ctx, bson.M{"_id": supportID(proposalID, accountID)},
		options.FindOne().SetProjection(bson.M{"_id": 1})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, fail(err, "support")
	}
	return true, nil
}

// SupportsBy lists a person's supports, oldest first.
func (db *DB) SupportsBy(ctx context.Context, accountID string) ([]*insieme.Support, error) {
	var docs []supportDoc
	if err := findAll(ctx, db.r.Collection(colSupports), bson.M{"accountId": accountID}, &docs,
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "supports")
	}
	out := make([]*insieme.Support, len(docs))
	for i := range docs {
		out[i] = docs[i].support()
	}
	return out, nil
}

// CountSupports counts a proposal's supports from the stored supports. It is for repairing
// the kept count only, never for a request path: on FerretDB's SQLite backend a count on
// anything but _id scans and decodes the whole supports collection (indexes do not help).
func (db *DB) CountSupports(ctx context.Context, proposalID string) (int, error) {
	n, err := db.r.Collection(colSupports).CountDocuments(ctx, bson.M{"proposalId": proposalID})
	if err != nil {
		return 0, fail(err, "supports")
	}
	return int(n), nil
}

// nonNil stores an empty list as an empty array, so "none" differs from "unknown" (absent).
func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}
