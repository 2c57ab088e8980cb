package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

var _ insieme.ForumStore = (*DB)(nil)

// forumDoc is a forum as stored. Title and Description are subdocuments keyed by language
// code ({"it": "...", "ar": "..."}). OpensAt and ClosesAt are absent when unset: inserts omit
// them and updates $unset them, so "no date" has one stored form.
type forumDoc struct {
	ID             string            `bson:"_id"`
	MunicipalityID string            `bson:"municipalityId"`
	Title          map[string]string `bson:"title"`
	Description    map[string]string `bson:"description"`
	Territory      string            `bson:"territory"`
	Languages      []string          `bson:"languages"`
	Categories     []string          `bson:"categories"`
	Status         string            `bson:"status"`
	OpensAt        *time.Time        `bson:"opensAt,omitempty"`
	ClosesAt       *time.Time        `bson:"closesAt,omitempty"`
	AnswerDays     int               `bson:"answerDays"`
	ReportLimit    int               `bson:"reportLimit"`
	SupportLimit   int               `bson:"supportLimit"`
	PersonalPosts  bool              `bson:"personalPosts"`
	CreatedBy      string            `bson:"createdBy"`
	CreatedAt      time.Time         `bson:"createdAt"`
	UpdatedAt      time.Time         `bson:"updatedAt"`
}

func newForumDoc(f *insieme.Forum) forumDoc {
	return forumDoc{ID: f.ID, MunicipalityID: f.MunicipalityID, Title: textsDoc(f.Title), Description: textsDoc(f.Description),
		Territory: f.Territory, Languages: f.Languages, Categories: f.Categories, Status: f.Status,
		OpensAt: f.OpensAt, ClosesAt: f.ClosesAt, AnswerDays: f.AnswerDays, ReportLimit: f.ReportLimit,
		SupportLimit: f.SupportLimit, PersonalPosts: f.PersonalPosts, CreatedBy: f.CreatedBy,
		CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
}

func (d *forumDoc) forum() *insieme.Forum {
	return &insieme.Forum{ID: d.ID, MunicipalityID: d.MunicipalityID, Title: insieme.Texts(d.Title),
		Description: insieme.Texts(d.Description), Territory: d.Territory, Languages: d.Languages,
		Categories: d.Categories, Status: d.Status, OpensAt: utcPtr(d.OpensAt), ClosesAt: utcPtr(d.ClosesAt),
		AnswerDays: d.AnswerDays, ReportLimit: d.ReportLimit, SupportLimit: d.SupportLimit,
		PersonalPosts: d.PersonalPosts, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
}

// textsDoc stores a text in several languages as a subdocument; a nil one as an empty
// subdocument, so the field is always a document.
func textsDoc(t insieme.Texts) map[string]string {
	if t == nil {
		return map[string]string{}
	}
	return t
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// forumRoleDoc's _id is "<forum>:<account>": one role per person per forum, found by _id.
type forumRoleDoc struct {
	ID        string    `bson:"_id"`
	ForumID   string    `bson:"forumId"`
	AccountID string    `bson:"accountId"`
	Role      string    `bson:"role"`
	CreatedAt time.Time `bson:"createdAt"`
}

func forumRoleID(forumID, accountID string) string { return forumID + ":" + accountID }

func (d *forumRoleDoc) role() *insieme.ForumRole {
	return &insieme.ForumRole{ForumID: d.ForumID, AccountID: d.AccountID, Role: d.Role, CreatedAt: d.CreatedAt.UTC()}
}

// CreateForum inserts a forum; ECONFLICT when the id is taken.
func (db *DB) CreateForum(ctx context.Context, f *insieme.Forum) error {
	_, err := db.w.Collection(colForums).InsertOne(ctx, newForumDoc(f))
	return fail(err, "forum")
}

// Forum finds a forum by id.
func (db *DB) Forum(ctx context.Context, id string) (*insieme.Forum, error) {
	var d forumDoc
	if err := db.r.Collection(colForums).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "forum")
	}
	return d.forum(), nil
}

// ListForums lists every forum, oldest first. It scans the collection, which stays small (a
// forum per municipality and cycle).
func (db *DB) ListForums(ctx context.Context) ([]*insieme.Forum, error) {
	var docs []forumDoc
	if err := findAll(ctx, db.r.Collection(colForums), bson.M{}, &docs, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "forums")
	}
	out := make([]*insieme.Forum, len(docs))
	for i := range docs {
		out[i] = docs[i].forum()
	}
	return out, nil
}

// UpdateForum changes the given fields ($set; $unset for dates set back to none) and returns
// the forum as stored.
func (db *DB) UpdateForum(ctx context.Context, id string, upd insieme.ForumUpdate, now time.Time) (*insieme.Forum, error) {
	set := bson.M{"updatedAt": now}
	unset := bson.M{}
	if upd.Title != nil {
		set["title"] = textsDoc(*upd.Title)
	}
	if upd.Description != nil {
		set["description"] = textsDoc(*upd.Description)
	}
	if upd.Territory != nil {
		set["territory"] = *upd.Territory
	}
	if upd.Languages != nil {
		set["languages"] = *upd.Languages
	}
	if upd.Categories != nil {
		set["categories"] = *upd.Categories
	}
	if upd.Status != nil {
		set["status"] = *upd.Status
	}
	setOrUnsetTime(set, unset, "opensAt", upd.OpensAt)
	setOrUnsetTime(set, unset, "closesAt", upd.ClosesAt)
	if upd.AnswerDays != nil {
		set["answerDays"] = *upd.AnswerDays
	}
	if upd.ReportLimit != nil {
		set["reportLimit"] = *upd.ReportLimit
	}
	if upd.SupportLimit != nil {
		set["supportLimit"] = *upd.SupportLimit
	}
	if upd.PersonalPost != nil {
		set["personalPosts"] = *upd.PersonalPost
	}
	res, err := db.w.Collection(colForums).UpdateOne(ctx, bson.M{"_id": id}, setUnset(set, unset))
	if err != nil {
		return nil, fail(err, "forum")
	}
	if res.MatchedCount == 0 {
		return nil, insieme.Errorf(insieme.ENOTFOUND, "forum not found.")
	}
	return db.Forum(ctx, id)
}

// setOrUnsetTime adds an optional time to an update: nil leaves it unchanged, a pointer to
// nil removes it, a pointer to a time sets it.
func setOrUnsetTime(set, unset bson.M, field string, v **time.Time) {
	switch {
	case v == nil:
	case *v == nil:
		unset[field] = ""
	default:
		set[field] = **v
	}
}

// setUnset builds an update document; $unset only when there is something to remove.
func setUnset(set, unset bson.M) bson.M {
	u := bson.M{"$set": set}
	if len(unset) > 0 {
		u["$unset"] = unset
	}
	return u
}

// SetForumRole gives a person a role in a forum, replacing the role they had there.
func (db *DB) SetForumRole(ctx context.Context, r *insieme.ForumRole) error {
	id := forumRoleID(r.ForumID, r.AccountID)
	_, err := db.w.Collection(colForumRoles).ReplaceOne(ctx, bson.M{"_id": id}, forumRoleDoc{ID: id, ForumID: r.ForumID,
		AccountID: r.AccountID, Role: r.Role, CreatedAt: r.CreatedAt}, options.Replace().SetUpsert(true))
	return fail(err, "forum role")
}

// ForumRole finds a person's role in a forum.
func (db *DB) ForumRole(ctx context.Context, forumID, accountID string) (*insieme.ForumRole, error) {
	var d forumRoleDoc
	if err := db.r.Collection(colForumRoles).FindOne(ctx, bson.M{"_id": forumRoleID(forumID, accountID)}).Decode(&d); err != nil {
		return nil, fail(err, "forum role")
	}
	return d.role(), nil
}

// ForumRoles lists the roles given in a forum, oldest first.
func (db *DB) ForumRoles(ctx context.Context, forumID string) ([]*insieme.ForumRole, error) {
	return db.forumRoles(ctx, bson.M{"forumId": forumID})
}

// ForumRolesOf lists the roles a person has in any forum.
func (db *DB) ForumRolesOf(ctx context.Context, accountID string) ([]*insieme.ForumRole, error) {
	return db.forumRoles(ctx, bson.M{"accountId": accountID})
}

func (db *DB) forumRoles(ctx context.Context, filter bson.M) ([]*insieme.ForumRole, error) {
	var docs []forumRoleDoc
	if err := findAll(ctx, db.r.Collection(colForumRoles), filter, &docs, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "forum roles")
	}
	out := make([]*insieme.ForumRole, len(docs))
	for i := range docs {
		out[i] = docs[i].role()
	}
	return out, nil
}

// RemoveForumRole takes a person's role in a forum away; ENOTFOUND when they had none.
func (db *DB) RemoveForumRole(ctx context.Context, forumID, accountID string) error {
	res, err := db.w.Collection(colForumRoles).DeleteOne(ctx, bson.M{"_id": forumRoleID(forumID, accountID)})
	if err != nil {
		return fail(err, "forum role")
	}
	if res.DeletedCount == 0 {
		return insieme.Errorf(insieme.ENOTFOUND, "forum role not found.")
	}
	return nil
}
