package insieme

import (
	"context"
	"time"
)

// Organisation kinds and member roles.
const (
	KindAssociation  = "association"
	KindMunicipality = "municipality"

	MemberOwner  = "owner"
	MemberMember = "member"
	MemberStaff  = "staff" // staff of a municipality, named by admins
)

// Limits of organisation fields.
const (
	MaxOrgName        = 120
	MaxOrgDescription = 4000
	MaxTerritory      = 120
	InvitationTTL     = 14 * 24 * time.Hour
)

// Organisation is an association or a municipality.
type Organisation struct {
	ID          string
	Kind        string
	Name        string
	Description string
	Territory   string
	Verified    bool
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Membership ties an account to an organisation with a role. Listed members appear on the
// public organisation page.
type Membership struct {
	OrgID     string
	AccountID string
	Role      string
	Listed    bool
	CreatedAt time.Time
}

// Invitation statuses.
const (
	InvitePending  = "pending"
	InviteAccepted = "accepted"
	InviteDeclined = "declined"
	InviteRevoked  = "revoked"
)

// Invitation asks the holder of an email address to join an organisation. ID is the hash of
// the secret sent by mail.
type Invitation struct {
	ID        string
	OrgID     string
	Email     string
	Role      string
	InvitedBy string
	Status    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// OrganisationUpdate lists the fields to change; nil means unchanged.
type OrganisationUpdate struct {
	Name        *string
	Description *string
	Territory   *string
	Verified    *bool
}

// OrganisationStore keeps organisations, memberships and invitations. ENOTFOUND for unknown
// ids; ECONFLICT when a membership already exists.
type OrganisationStore interface {
	CreateOrganisation(ctx context.Context, o *Organisation, owner *Membership) error
	Organisation(ctx context.Context, id string) (*Organisation, error)
	ListOrganisations(ctx context.Context, kind string) ([]*Organisation, error)
	UpdateOrganisation(ctx context.Context, id string, upd OrganisationUpdate, now time.Time) (*Organisation, error)
	OrganisationsCreatedBy(ctx context.Context, accountID string) ([]*Organisation, error)

	AddMember(ctx context.Context, m *Membership) error
	Member(ctx context.Context, orgID, accountID string) (*Membership, error)
	Members(ctx context.Context, orgID string) ([]*Membership, error)
	MembershipsOf(ctx context.Context, accountID string) ([]*Membership, error)
	UpdateMember(ctx context.Context, orgID, accountID string, role *string, listed *bool) error
	RemoveMember(ctx context.Context, orgID, accountID string) error

	CreateInvitation(ctx context.Context, inv *Invitation) error
	Invitation(ctx context.Context, id string) (*Invitation, error)
	InvitationsOf(ctx context.Context, orgID string) ([]*Invitation, error)
	InvitationsFor(ctx context.Context, email string) ([]*Invitation, error)
	InvitationsBy(ctx context.Context, accountID string) ([]*Invitation, error)
	SetInvitationStatus(ctx context.Context, id, status string) error
	// EraseInvitationsBy forgets who sent invitations (the invitation stays for its recipient).
	EraseInvitationsBy(ctx context.Context, accountID string) error
	DeleteInvitationsFor(ctx context.Context, email string) error
}
