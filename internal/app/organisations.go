package app

import (
	"context"
	"fmt"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// OrgView is an organisation as the API shows it. Members are those who chose to be listed,
// or all of them for the organisation's managers and admins.
type OrgView struct {
	ID          string       `json:"id"`
	Kind        string       `json:"kind"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Territory   string       `json:"territory"`
	Verified    bool         `json:"verified"`
	CreatedAt   time.Time    `json:"createdAt"`
	Members     []MemberView `json:"members,omitempty"`
	MyRole      string       `json:"myRole,omitempty"`
	CanManage   bool         `json:"canManage,omitempty"`
}

// MemberView is one member of an organisation.
type MemberView struct {
	PersonView
	Role   string `json:"role"`
	Listed bool   `json:"listed"`
}

// MembershipView is one of the signed-in person's memberships.
type MembershipView struct {
	Organisation OrgView `json:"organisation"`
	Role         string  `json:"role"`
	Listed       bool    `json:"listed"`
}

// InvitationView is an invitation; Email only for the organisation's managers.
type InvitationView struct {
	ID               string    `json:"id"`
	OrganisationID   string    `json:"organisationId"`
	OrganisationName string    `json:"organisationName"`
	Role             string    `json:"role"`
	Email            string    `json:"email,omitempty"`
	CreatedAt        time.Time `json:"createdAt"`
	ExpiresAt        time.Time `json:"expiresAt"`
}

func orgSummary(o *insieme.Organisation) OrgView {
	return OrgView{ID: o.ID, Kind: o.Kind, Name: o.Name, Description: o.Description, Territory: o.Territory,
		Verified: o.Verified, CreatedAt: o.CreatedAt}
}

var errForbidden = &insieme.Error{Code: insieme.EFORBIDDEN, Message: "You may not do this."}

// membership returns p's membership of the organisation, or nil.
func (a *App) membership(ctx context.Context, p *insieme.Principal, orgID string) (*insieme.Membership, error) {
	if !p.IsAccount() {
		return nil, nil
	}
	m, err := a.store.Member(ctx, orgID, p.AccountID)
	if insieme.ErrorCode(err) == insieme.ENOTFOUND {
		return nil, nil
	}
	return m, err
}

// managesMembers: admins, and owners of an association. A municipality's staff are named by
// admins only.
func managesMembers(o *insieme.Organisation, p *insieme.Principal, m *insieme.Membership) bool {
	if p != nil && p.Admin {
		return true
	}
	return o.Kind == insieme.KindAssociation && m != nil && m.Role == insieme.MemberOwner
}

// editsProfile: admins, owners of an association, staff of a municipality.
func editsProfile(o *insieme.Organisation, p *insieme.Principal, m *insieme.Membership) bool {
	if managesMembers(o, p, m) {
		return true
	}
	return o.Kind == insieme.KindMunicipality && m != nil && m.Role == insieme.MemberStaff
}

// OrganisationInput is the organisation form; nil fields stay as they are on update.
type OrganisationInput struct {
	Kind        string
	Name        *string
	Description *string
	Territory   *string
}

func checkOrgInput(v *insieme.Invalid, in *OrganisationInput, creating bool) {
	if in.Name != nil || creating {
		name := ""
		if in.Name != nil {
			name = insieme.CleanText(*in.Name)
			in.Name = &name
		}
		insieme.CheckText(v, "name", name, true, insieme.MaxOrgName)
	}
	if in.Description != nil {
		d := trimSpace(*in.Description)
		in.Description = &d
		insieme.CheckText(v, "description", d, false, insieme.MaxOrgDescription)
	}
	if in.Territory != nil {
		t := insieme.CleanText(*in.Territory)
		in.Territory = &t
		insieme.CheckText(v, "territory", t, false, insieme.MaxTerritory)
	}
}

// CreateOrganisation creates an association (anyone signed in, who becomes its owner) or a
// municipality (admins only; staff are invited afterwards).
func (a *App) CreateOrganisation(ctx context.Context, p *insieme.Principal, in OrganisationInput) (*OrgView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	var v insieme.Invalid
	if in.Kind != insieme.KindAssociation && in.Kind != insieme.KindMunicipality {
		v.Add("kind", insieme.FInvalidValue)
	}
	checkOrgInput(&v, &in, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.Kind == insieme.KindMunicipality && !p.Admin {
		return nil, &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only administrators create municipalities."}
	}
	now := a.Now()
	o := &insieme.Organisation{ID: newID(), Kind: in.Kind, Name: *in.Name, Description: deref(in.Description),
		Territory: deref(in.Territory), CreatedBy: p.AccountID, CreatedAt: now, UpdatedAt: now}
	var owner *insieme.Membership
	if o.Kind == insieme.KindAssociation {
		// Nobody is listed publicly until they choose to be, owners included.
		owner = &insieme.Membership{OrgID: o.ID, AccountID: p.AccountID, Role: insieme.MemberOwner, Listed: false, CreatedAt: now}
	}
	if err := a.store.CreateOrganisation(ctx, o, owner); err != nil {
		return nil, err
	}
	return a.Organisation(ctx, p, o.ID)
}

// Organisation shows an organisation with the members p may see.
func (a *App) Organisation(ctx context.Context, p *insieme.Principal, id string) (*OrgView, error) {
	o, err := a.store.Organisation(ctx, id)
	if err != nil {
		return nil, err
	}
	m, err := a.membership(ctx, p, id)
	if err != nil {
		return nil, err
	}
	view := orgSummary(o)
	seesAll := managesMembers(o, p, m) || (m != nil && o.Kind == insieme.KindMunicipality)
	ms, err := a.store.Members(ctx, id)
	if err != nil {
		return nil, err
	}
	view.Members = []MemberView{}
	for _, mm := range ms {
		if !mm.Listed && !seesAll && (m == nil || mm.AccountID != m.AccountID) {
			continue
		}
		pv, err := a.person(ctx, mm.AccountID)
		if err != nil {
			return nil, err
		}
		view.Members = append(view.Members, MemberView{PersonView: pv, Role: mm.Role, Listed: mm.Listed})
	}
	if m != nil {
		view.MyRole = m.Role
	}
	view.CanManage = managesMembers(o, p, m)
	return &view, nil
}

// Organisations lists organisations of a kind ("" for all), without members.
func (a *App) Organisations(ctx context.Context, kind string) ([]OrgView, error) {
	if kind != "" && kind != insieme.KindAssociation && kind != insieme.KindMunicipality {
		return nil, insieme.FieldError("kind", insieme.FInvalidValue)
	}
	os, err := a.store.ListOrganisations(ctx, kind)
	if err != nil {
		return nil, err
	}
	out := make([]OrgView, len(os))
	for i, o := range os {
		out[i] = orgSummary(o)
	}
	return out, nil
}

// UpdateOrganisation edits an organisation's profile.
func (a *App) UpdateOrganisation(ctx context.Context, p *insieme.Principal, id string, in OrganisationInput) (*OrgView, error) {
	o, m, err := a.orgFor(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !editsProfile(o, p, m) {
		return nil, errForbidden
	}
	var v insieme.Invalid
	checkOrgInput(&v, &in, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := a.store.UpdateOrganisation(ctx, id, insieme.OrganisationUpdate{Name: in.Name, Description: in.Description, Territory: in.Territory}, a.Now()); err != nil {
		return nil, err
	}
	a.orgChanged(ctx, id)
	return a.Organisation(ctx, p, id)
}

// Verify sets an organisation's verified badge (admins).
func (a *App) Verify(ctx context.Context, p *insieme.Principal, id string, verified bool) (*OrgView, error) {
	if err := a.requireAdmin(ctx, p); err != nil {
		return nil, err
	}
	if _, err := a.store.UpdateOrganisation(ctx, id, insieme.OrganisationUpdate{Verified: &verified}, a.Now()); err != nil {
		return nil, err
	}
	a.orgChanged(ctx, id)
	return a.Organisation(ctx, p, id)
}

// orgFor loads an organisation and p's membership; EUNAUTHORIZED for anonymous callers.
func (a *App) orgFor(ctx context.Context, p *insieme.Principal, id string) (*insieme.Organisation, *insieme.Membership, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, nil, err
	}
	o, err := a.store.Organisation(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	m, err := a.membership(ctx, p, id)
	return o, m, err
}

// orgChanged tells the organisation's live room; its snapshot is the public view.
func (a *App) orgChanged(ctx context.Context, id string) {
	a.names.forget(id)
	o, err := a.Organisation(ctx, nil, id)
	if err != nil {
		return
	}
	a.publish(ctx, "org:"+id, map[string]any{"type": "organisation.updated", "organisation": o})
}

// Memberships lists the signed-in person's organisations.
func (a *App) Memberships(ctx context.Context, p *insieme.Principal) ([]MembershipView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	ms, err := a.store.MembershipsOf(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	out := make([]MembershipView, 0, len(ms))
	for _, m := range ms {
		o, err := a.store.Organisation(ctx, m.OrgID)
		if insieme.ErrorCode(err) == insieme.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, MembershipView{Organisation: orgSummary(o), Role: m.Role, Listed: m.Listed})
	}
	return out, nil
}

// validRole says whether a role can be given in this kind of organisation.
func validRole(kind, role string) bool {
	if kind == insieme.KindMunicipality {
		return role == insieme.MemberStaff
	}
	return role == insieme.MemberOwner || role == insieme.MemberMember
}

// Invite asks an email address to join. The answer is the same whether or not the address has
// an account, so nobody learns who is registered.
func (a *App) Invite(ctx context.Context, p *insieme.Principal, orgID, email, role string) (*InvitationView, error) {
	o, m, err := a.orgFor(ctx, p, orgID)
	if err != nil {
		return nil, err
	}
	if !managesMembers(o, p, m) {
		return nil, errForbidden
	}
	email = insieme.NormaliseEmail(email)
	var v insieme.Invalid
	insieme.CheckEmail(&v, "email", email)
	if !validRole(o.Kind, role) {
		v.Add("role", insieme.FInvalidValue)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := a.Now()
	secret := newSecret()
	inv := &insieme.Invitation{ID: HashSecret(secret), OrgID: o.ID, Email: email, Role: role, InvitedBy: p.AccountID,
		Status: insieme.InvitePending, CreatedAt: now, ExpiresAt: now.Add(insieme.InvitationTTL)}
	if err := a.store.CreateInvitation(ctx, inv); err != nil {
		return nil, err
	}
	accountID := ""
	if acct, err := a.store.AccountByEmail(ctx, email); err == nil {
		accountID = acct.ID
		a.publish(ctx, "participant:"+acct.ID, map[string]any{"type": "invitation.received"})
	}
	if err := a.sendMail(ctx, email, accountID, "invitation", fmt.Sprintf("Invitation to join %s on Insieme", o.Name),
		fmt.Sprintf("You are invited to join %q on Insieme as %s.\n\nTo accept, sign in (or create an account) and open this link within 14 days:\n%s/invite?token=%s\n\nIf you do not want to join, ignore this message.\n", o.Name, role, a.baseURL, secret)); err != nil {
		return nil, err
	}
	return invitationView(inv, o, true), nil
}

func invitationView(inv *insieme.Invitation, o *insieme.Organisation, withEmail bool) *InvitationView {
	v := &InvitationView{ID: inv.ID, OrganisationID: o.ID, OrganisationName: o.Name, Role: inv.Role, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}
	if withEmail {
		v.Email = inv.Email
	}
	return v
}

// OrgInvitations lists an organisation's pending invitations (its managers).
func (a *App) OrgInvitations(ctx context.Context, p *insieme.Principal, orgID string) ([]*InvitationView, error) {
	o, m, err := a.orgFor(ctx, p, orgID)
	if err != nil {
		return nil, err
	}
	if !managesMembers(o, p, m) {
		return nil, errForbidden
	}
	is, err := a.store.InvitationsOf(ctx, orgID)
	if err != nil {
		return nil, err
	}
	now := a.Now()
	out := []*InvitationView{}
	for _, inv := range is {
		if now.Before(inv.ExpiresAt) {
			out = append(out, invitationView(inv, o, true))
		}
	}
	return out, nil
}

// RevokeInvitation withdraws a pending invitation.
func (a *App) RevokeInvitation(ctx context.Context, p *insieme.Principal, orgID, invID string) error {
	o, m, err := a.orgFor(ctx, p, orgID)
	if err != nil {
		return err
	}
	if !managesMembers(o, p, m) {
		return errForbidden
	}
	inv, err := a.store.Invitation(ctx, invID)
	if err != nil {
		return err
	}
	if inv.OrgID != orgID {
		return insieme.Errorf(insieme.ENOTFOUND, "invitation not found.")
	}
	return a.store.SetInvitationStatus(ctx, invID, insieme.InviteRevoked)
}

// MyInvitations lists the pending invitations to the signed-in person's confirmed address.
func (a *App) MyInvitations(ctx context.Context, p *insieme.Principal) ([]*InvitationView, error) {
	acct, err := a.account(ctx, p)
	if err != nil {
		return nil, err
	}
	out := []*InvitationView{}
	if !acct.EmailConfirmed {
		return out, nil
	}
	is, err := a.store.InvitationsFor(ctx, acct.Email)
	if err != nil {
		return nil, err
	}
	now := a.Now()
	for _, inv := range is {
		if !now.Before(inv.ExpiresAt) {
			continue
		}
		o, err := a.store.Organisation(ctx, inv.OrgID)
		if err != nil {
			continue
		}
		out = append(out, invitationView(inv, o, false))
	}
	return out, nil
}

// AcceptInvitationToken accepts with the secret from the mail: holding it proves the mailbox.
func (a *App) AcceptInvitationToken(ctx context.Context, p *insieme.Principal, token string) (*MembershipView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, insieme.FieldError("token", insieme.FRequired)
	}
	inv, err := a.store.Invitation(ctx, HashSecret(token))
	if insieme.ErrorCode(err) == insieme.ENOTFOUND {
		return nil, &insieme.Error{Code: insieme.EINVALID, Message: "This invitation has expired or was withdrawn.", Fields: map[string]string{"token": insieme.FInvalidValue}}
	} else if err != nil {
		return nil, err
	}
	return a.accept(ctx, p, inv)
}

// AcceptInvitation accepts an invitation from the list: the signed-in person's confirmed
// address must be the invited one.
func (a *App) AcceptInvitation(ctx context.Context, p *insieme.Principal, id string) (*MembershipView, error) {
	inv, err := a.invitationForMe(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return a.accept(ctx, p, inv)
}

// DeclineInvitation declines an invitation from the list.
func (a *App) DeclineInvitation(ctx context.Context, p *insieme.Principal, id string) error {
	inv, err := a.invitationForMe(ctx, p, id)
	if err != nil {
		return err
	}
	return a.store.SetInvitationStatus(ctx, inv.ID, insieme.InviteDeclined)
}

func (a *App) invitationForMe(ctx context.Context, p *insieme.Principal, id string) (*insieme.Invitation, error) {
	acct, err := a.account(ctx, p)
	if err != nil {
		return nil, err
	}
	inv, err := a.store.Invitation(ctx, id)
	if err != nil {
		return nil, err
	}
	// Someone else's invitation looks like no invitation at all.
	if !acct.EmailConfirmed || inv.Email != acct.Email {
		return nil, insieme.Errorf(insieme.ENOTFOUND, "invitation not found.")
	}
	return inv, nil
}

func (a *App) accept(ctx context.Context, p *insieme.Principal, inv *insieme.Invitation) (*MembershipView, error) {
	if inv.Status != insieme.InvitePending || !a.Now().Before(inv.ExpiresAt) {
		return nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "This invitation is no longer open."}
	}
	o, err := a.store.Organisation(ctx, inv.OrgID)
	if err != nil {
		return nil, err
	}
	// Mark it used first, so it cannot be accepted twice.
	if err := a.store.SetInvitationStatus(ctx, inv.ID, insieme.InviteAccepted); err != nil {
		return nil, err
	}
	m := &insieme.Membership{OrgID: o.ID, AccountID: p.AccountID, Role: inv.Role, Listed: false, CreatedAt: a.Now()}
	if err := a.store.AddMember(ctx, m); err != nil {
		if insieme.ErrorCode(err) == insieme.ECONFLICT {
			return nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "You are already a member of this organisation."}
		}
		return nil, err
	}
	a.orgChanged(ctx, o.ID)
	return &MembershipView{Organisation: orgSummary(o), Role: m.Role, Listed: m.Listed}, nil
}

// MemberInput changes a member's role (managers) or listing (the member).
type MemberInput struct {
	Role   *string
	Listed *bool
}

// UpdateMember changes a membership.
func (a *App) UpdateMember(ctx context.Context, p *insieme.Principal, orgID, accountID string, in MemberInput) error {
	o, m, err := a.orgFor(ctx, p, orgID)
	if err != nil {
		return err
	}
	if in.Role == nil && in.Listed == nil {
		return insieme.FieldError("role", insieme.FRequired)
	}
	// Who may not change this membership learns nothing about whether it exists.
	if !managesMembers(o, p, m) && accountID != p.AccountID {
		return errForbidden
	}
	target, err := a.store.Member(ctx, orgID, accountID)
	if err != nil {
		return err
	}
	if in.Role != nil {
		if !managesMembers(o, p, m) {
			return errForbidden
		}
		if !validRole(o.Kind, *in.Role) {
			return insieme.FieldError("role", insieme.FInvalidValue)
		}
		if target.Role == insieme.MemberOwner && *in.Role != insieme.MemberOwner {
			if err := a.notLastOwner(ctx, orgID); err != nil {
				return err
			}
		}
	}
	if in.Listed != nil && accountID != p.AccountID {
		return &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only members themselves choose whether they are listed."}
	}
	if err := a.store.UpdateMember(ctx, orgID, accountID, in.Role, in.Listed); err != nil {
		return err
	}
	a.orgChanged(ctx, orgID)
	return nil
}

// RemoveMember removes a member (managers) or lets a member leave.
func (a *App) RemoveMember(ctx context.Context, p *insieme.Principal, orgID, accountID string) error {
	o, m, err := a.orgFor(ctx, p, orgID)
	if err != nil {
		return err
	}
	if accountID != p.AccountID && !managesMembers(o, p, m) {
		return errForbidden
	}
	target, err := a.store.Member(ctx, orgID, accountID)
	if err != nil {
		return err
	}
	if target.Role == insieme.MemberOwner {
		if err := a.notLastOwner(ctx, orgID); err != nil {
			return err
		}
	}
	if err := a.store.RemoveMember(ctx, orgID, accountID); err != nil {
		return err
	}
	a.orgChanged(ctx, orgID)
	return nil
}

func (a *App) notLastOwner(ctx context.Context, orgID string) error {
	ms, err := a.store.Members(ctx, orgID)
	if err != nil {
		return err
	}
	owners := 0
	for _, m := range ms {
		if m.Role == insieme.MemberOwner {
			owners++
		}
	}
	if owners <= 1 {
		return &insieme.Error{Code: insieme.ECONFLICT, Message: "An association needs an owner: name another owner first."}
	}
	return nil
}

// canLeaveAll refuses an erasure that would leave an association with members but no owner.
func (a *App) canLeaveAll(ctx context.Context, accountID string) error {
	ms, err := a.store.MembershipsOf(ctx, accountID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Role != insieme.MemberOwner {
			continue
		}
		all, err := a.store.Members(ctx, m.OrgID)
		if err != nil {
			return err
		}
		if len(all) > 1 {
			if err := a.notLastOwner(ctx, m.OrgID); err != nil {
				return err
			}
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
