package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/insieme/insieme/internal/insieme"
)

type orgDoc struct {
	ID          string    `bson:"_id"`
	Kind        string    `bson:"kind"`
	Name        string    `bson:"name"`
	Description string    `bson:"description"`
	Territory   string    `bson:"territory"`
	Verified    bool      `bson:"verified"`
	CreatedBy   string    `bson:"createdBy"`
	CreatedAt   time.Time `bson:"createdAt"`
	UpdatedAt   time.Time `bson:"updatedAt"`
}

func (d *orgDoc) org() *insieme.Organisation {
	return &insieme.Organisation{ID: d.ID, Kind: d.Kind, Name: d.Name, Description: d.Description,
		Territory: d.Territory, Verified: d.Verified, CreatedBy: d.CreatedBy,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
}

// memberDoc's _id is "<org>:<account>": one membership per person per organisation, found by _id.
type memberDoc struct {
	ID        string    `bson:"_id"`
	OrgID     string    `bson:"orgId"`
	AccountID string    `bson:"accountId"`
	Role      string    `bson:"role"`
	Listed    bool      `bson:"listed"`
	CreatedAt time.Time `bson:"createdAt"`
}

func memberID(orgID, accountID string) string { return orgID + ":" + accountID }

func (d *memberDoc) member() *insieme.Membership {
	return &insieme.Membership{OrgID: d.OrgID, AccountID: d.AccountID, Role: d.Role, Listed: d.Listed, CreatedAt: d.CreatedAt.UTC()}
}

type inviteDoc struct {
	ID        string    `bson:"_id"`
	OrgID     string    `bson:"orgId"`
	Email     string    `bson:"email"`
	Role      string    `bson:"role"`
	InvitedBy string    `bson:"invitedBy"`
	Status    string    `bson:"status"`
	CreatedAt time.Time `bson:"createdAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

func (d *inviteDoc) invitation() *insieme.Invitation {
	return &insieme.Invitation{ID: d.ID, OrgID: d.OrgID, Email: d.Email, Role: d.Role, InvitedBy: d.InvitedBy,
		Status: d.Status, CreatedAt: d.CreatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC()}
}

// CreateOrganisation inserts the organisation and, when given, its first member.
func (db *DB) CreateOrganisation(ctx context.Context, o *insieme.Organisation, owner *insieme.Membership) error {
	_, err := db.w.Collection(colOrganisations).InsertOne(ctx, orgDoc{ID: o.ID, Kind: o.Kind, Name: o.Name,
		Description: o.Description, Territory: o.Territory, Verified: o.Verified, CreatedBy: o.CreatedBy,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt})
	if err != nil {
		return fail(err, "organisation")
	}
	if owner != nil {
		return db.AddMember(ctx, owner)
	}
	return nil
}

// Organisation finds an organisation by id.
func (db *DB) Organisation(ctx context.Context, id string) (*insieme.Organisation, error) {
	var d orgDoc
	if err := db.r.Collection(colOrganisations).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "organisation")
	}
	return d.org(), nil
}

// ListOrganisations lists organisations by name, of one kind or all ("").
func (db *DB) ListOrganisations(ctx context.Context, kind string) ([]*insieme.Organisation, error) {
	filter := bson.M{}
	if kind != "" {
		filter["kind"] = kind
	}
	return db.orgs(ctx, filter)
}

// OrganisationsCreatedBy lists the organisations an account created.
func (db *DB) OrganisationsCreatedBy(ctx context.Context, accountID string) ([]*insieme.Organisation, error) {
	return db.orgs(ctx, bson.M{"createdBy": accountID})
}

func (db *DB) orgs(ctx context.Context, filter bson.M) ([]*insieme.Organisation, error) {
	var docs []orgDoc
	if err := findAll(ctx, db.r.Collection(colOrganisations), filter, &docs, options.Find().SetSort(bson.D{{Key: "name", Value: 1}})); err != nil {
		return nil, fail(err, "organisations")
	}
	out := make([]*insieme.Organisation, len(docs))
	for i := range docs {
		out[i] = docs[i].org()
	}
	return out, nil
}

// UpdateOrganisation changes the given fields.
func (db *DB) UpdateOrganisation(ctx context.Context, id string, upd insieme.OrganisationUpdate, now time.Time) (*insieme.Organisation, error) {
	set := bson.M{"updatedAt": now}
	if upd.Name != nil {
		set["name"] = *upd.Name
	}
	if upd.Description != nil {
		set["description"] = *upd.Description
	}
	if upd.Territory != nil {
		set["territory"] = *upd.Territory
	}
	if upd.Verified != nil {
		set["verified"] = *upd.Verified
	}
	res, err := db.w.Collection(colOrganisations).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": set})
	if err != nil {
		return nil, fail(err, "organisation")
	}
	if res.MatchedCount == 0 {
		return nil, insieme.Errorf(insieme.ENOTFOUND, "organisation not found.")
	}
	return db.Organisation(ctx, id)
}

// AddMember inserts a membership; ECONFLICT when the person is already a member.
func (db *DB) AddMember(ctx context.Context, m *insieme.Membership) error {
	_, err := db.w.Collection(colMembers).InsertOne(ctx, memberDoc{ID: memberID(m.OrgID, m.AccountID), OrgID: m.OrgID,
		AccountID: m.AccountID, Role: m.Role, Listed: m.Listed, CreatedAt: m.CreatedAt})
	return fail(err, "membership")
}

// Member finds one membership.
func (db *DB) Member(ctx context.Context, orgID, accountID string) (*insieme.Membership, error) {
	var d memberDoc
	if err := db.r.Collection(colMembers).FindOne(ctx, bson.M{"_id": memberID(orgID, accountID)}).Decode(&d); err != nil {
		return nil, fail(err, "membership")
	}
	return d.member(), nil
}

// Members lists an organisation's members, oldest first.
func (db *DB) Members(ctx context.Context, orgID string) ([]*insieme.Membership, error) {
	return db.members(ctx, bson.M{"orgId": orgID})
}

// MembershipsOf lists an account's memberships.
func (db *DB) MembershipsOf(ctx context.Context, accountID string) ([]*insieme.Membership, error) {
	return db.members(ctx, bson.M{"accountId": accountID})
}

func (db *DB) members(ctx context.Context, filter bson.M) ([]*insieme.Membership, error) {
	var docs []memberDoc
	if err := findAll(ctx, db.r.Collection(colMembers), filter, &docs, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})); err != nil {
		return nil, fail(err, "memberships")
	}
	out := make([]*insieme.Membership, len(docs))
	for i := range docs {
		out[i] = docs[i].member()
	}
	return out, nil
}

// UpdateMember changes a member's role or listing.
func (db *DB) UpdateMember(ctx context.Context, orgID, accountID string, role *string, listed *bool) error {
	set := bson.M{}
	if role != nil {
		set["role"] = *role
	}
	if listed != nil {
		set["listed"] = *listed
	}
	if len(set) == 0 {
		return nil
	}
	res, err := db.w.Collection(colMembers).UpdateOne(ctx, bson.M{"_id": memberID(orgID, accountID)}, bson.M{"$set": set})
	if err != nil {
		return fail(err, "membership")
	}
	if res.MatchedCount == 0 {
		return insieme.Errorf(insieme.ENOTFOUND, "membership not found.")
	}
	return nil
}

// RemoveMember deletes a membership.
func (db *DB) RemoveMember(ctx context.Context, orgID, accountID string) error {
	res, err := db.w.Collection(colMembers).DeleteOne(ctx, bson.M{"_id": memberID(orgID, accountID)})
	if err != nil {
		return fail(err, "membership")
	}
	if res.DeletedCount == 0 {
		return insieme.Errorf(insieme.ENOTFOUND, "membership not found.")
	}
	return nil
}

// CreateInvitation stores an invitation.
func (db *DB) CreateInvitation(ctx context.Context, inv *insieme.Invitation) error {
	_, err := db.w.Collection(colInvitations).InsertOne(ctx, inviteDoc{ID: inv.ID, OrgID: inv.OrgID, Email: inv.Email,
		Role: inv.Role, InvitedBy: inv.InvitedBy, Status: inv.Status, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt})
	return fail(err, "invitation")
}

// Invitation finds an invitation by id.
func (db *DB) Invitation(ctx context.Context, id string) (*insieme.Invitation, error) {
	var d inviteDoc
	if err := db.r.Collection(colInvitations).FindOne(ctx, bson.M{"_id": id}).Decode(&d); err != nil {
		return nil, fail(err, "invitation")
	}
	return d.invitation(), nil
}

// InvitationsOf lists an organisation's pending invitations.
func (db *DB) InvitationsOf(ctx context.Context, orgID string) ([]*insieme.Invitation, error) {
	return db.invitations(ctx, bson.M{"orgId": orgID, "status": insieme.InvitePending})
}

// InvitationsFor lists the pending invitations addressed to an email.
func (db *DB) InvitationsFor(ctx context.Context, email string) ([]*insieme.Invitation, error) {
	return db.invitations(ctx, bson.M{"email": email, "status": insieme.InvitePending})
}

// InvitationsBy lists every invitation an account sent.
func (db *DB) InvitationsBy(ctx context.Context, accountID string) ([]*insieme.Invitation, error) {
	return db.invitations(ctx, bson.M{"invitedBy": accountID})
}

func (db *DB) invitations(ctx context.Context, filter bson.M) ([]*insieme.Invitation, error) {
	var docs []inviteDoc
	if err := findAll(ctx, db.r.Collection(colInvitations), filter, &docs, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}})); err != nil {
		return nil, fail(err, "invitations")
	}
	out := make([]*insieme.Invitation, len(docs))
	for i := range docs {
		out[i] = docs[i].invitation()
	}
	return out, nil
}

// SetInvitationStatus moves a pending invitation to a final status; ECONFLICT if it is no
// longer pending.
func (db *DB) SetInvitationStatus(ctx context.Context, id, status string) error {
	res, err := db.w.Collection(colInvitations).UpdateOne(ctx, bson.M{"_id": id, "status": insieme.InvitePending}, bson.M{"$set": bson.M{"status": status}})
	if err != nil {
		return fail(err, "invitation")
	}
	if res.MatchedCount == 0 {
		return insieme.Errorf(insieme.ECONFLICT, "This invitation is no longer open.")
	}
	return nil
}

// EraseInvitationsBy forgets the sender of invitations.
func (db *DB) EraseInvitationsBy(ctx context.Context, accountID string) error {
	_, err := db.w.Collection(colInvitations).UpdateMany(ctx, bson.M{"invitedBy": accountID}, bson.M{"$set": bson.M{"invitedBy": ""}})
	return fail(err, "invitations")
}

// DeleteInvitationsFor removes every invitation addressed to an email.
func (db *DB) DeleteInvitationsFor(ctx context.Context, email string) error {
	_, err := db.w.Collection(colInvitations).DeleteMany(ctx, bson.M{"email": email})
	return fail(err, "invitations")
}
