package app

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/insieme/insieme/internal/insieme"
)

// ForumView is a forum as the API shows it.
type ForumView struct {
	ID            string        `json:"id"`
	Municipality  OrgRef        `json:"municipality"`
	Title         insieme.Texts `json:"title"`
	Description   insieme.Texts `json:"description"`
	Territory     string        `json:"territory"`
	Languages     []string      `json:"languages"`
	Categories    []string      `json:"categories"`
	Status        string        `json:"status"`
	OpensAt       *time.Time    `json:"opensAt"`
	ClosesAt      *time.Time    `json:"closesAt"`
	AnswerDays    int           `json:"answerDays"`
	ReportLimit   int           `json:"reportLimit"`
	SupportLimit  int           `json:"supportLimit"`
	PersonalPosts bool          `json:"personalPosts"`
	AcceptsPosts  bool          `json:"acceptsPosts"`
	CreatedAt     time.Time     `json:"createdAt"`
	CanManage     bool          `json:"canManage,omitempty"`
	Mediator      bool          `json:"mediator,omitempty"`
	Facilitator   bool          `json:"facilitator,omitempty"` // may run the forum's workshops
}

// OrgRef names an organisation.
type OrgRef struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Verified bool   `json:"verified"`
}

func (a *App) forumView(ctx context.Context, p *insieme.Principal, f *insieme.Forum) (*ForumView, error) {
	v := &ForumView{ID: f.ID, Title: f.Title, Description: f.Description, Territory: f.Territory,
		Languages: f.Languages, Categories: f.Categories, Status: f.Status, OpensAt: f.OpensAt, ClosesAt: f.ClosesAt,
		AnswerDays: f.AnswerDays, ReportLimit: f.ReportLimit, SupportLimit: f.SupportLimit, PersonalPosts: f.PersonalPosts,
		AcceptsPosts: f.AcceptsPosts(a.Now()), CreatedAt: f.CreatedAt}
	if o, err := a.store.Organisation(ctx, f.MunicipalityID); err == nil {
		v.Municipality = OrgRef{ID: o.ID, Name: o.Name, Verified: o.Verified}
	} else if insieme.ErrorCode(err) != insieme.ENOTFOUND {
		return nil, err
	}
	manages, err := a.managesForum(ctx, p, f)
	if err != nil {
		return nil, err
	}
	v.CanManage = manages
	v.Facilitator = manages
	if p.IsAccount() {
		if r, err := a.store.ForumRole(ctx, f.ID, p.AccountID); err == nil {
			v.Mediator = r.Role == insieme.RoleMediator
			v.Facilitator = v.Facilitator || r.Role == insieme.RoleFacilitator
		}
	}
	return v, nil
}

// managesForum: admins and the staff of the forum's municipality.
func (a *App) managesForum(ctx context.Context, p *insieme.Principal, f *insieme.Forum) (bool, error) {
	return a.isStaffOf(ctx, p, f.MunicipalityID)
}

// isStaffOf: admins, and staff of that municipality.
func (a *App) isStaffOf(ctx context.Context, p *insieme.Principal, municipalityID string) (bool, error) {
	if !p.IsAccount() {
		return false, nil
	}
	if p.Admin {
		return true, nil
	}
	m, err := a.membership(ctx, p, municipalityID)
	if err != nil {
		return false, err
	}
	return m != nil && m.Role == insieme.MemberStaff, nil
}

// ForumInput is the forum form; nil fields stay as they are on update.
type ForumInput struct {
	MunicipalityID string
	Title          *insieme.Texts
	Description    *insieme.Texts
	Territory      *string
	Languages      *[]string
	Categories     *[]string
	Status         *string
	OpensAt        **time.Time
	ClosesAt       **time.Time
	AnswerDays     *int
	ReportLimit    *int
	SupportLimit   *int
	PersonalPosts  *bool
}

func checkTexts(v *insieme.Invalid, field string, t *insieme.Texts, required bool, max int) {
	if t == nil {
		if required {
			v.Add(field, insieme.FRequired)
		}
		return
	}
	clean := insieme.Texts{}
	for lang, s := range *t {
		if !slices.Contains(insieme.Languages, lang) {
			v.Add(field, insieme.FInvalidLanguage)
			return
		}
		if max <= insieme.MaxForumTitle {
			s = insieme.CleanText(s)
		} else {
			s = trimSpace(s)
		}
		if utf8.RuneCountInString(s) > max {
			v.Add(field, insieme.FTooLong)
			v.Limit(field, max)
			return
		}
		if s != "" {
			clean[lang] = s
		}
	}
	if required && len(clean) == 0 {
		v.Add(field, insieme.FRequired)
	}
	*t = clean
}

func checkForumInput(v *insieme.Invalid, in *ForumInput, creating bool) {
	checkTexts(v, "title", in.Title, creating, insieme.MaxForumTitle)
	checkTexts(v, "description", in.Description, false, insieme.MaxForumDescription)
	if in.Territory != nil {
		t := insieme.CleanText(*in.Territory)
		in.Territory = &t
		insieme.CheckText(v, "territory", t, false, insieme.MaxTerritory)
	}
	if in.Languages != nil {
		if len(*in.Languages) == 0 {
			v.Add("languages", insieme.FRequired)
		}
		for _, l := range *in.Languages {
			if !slices.Contains(insieme.Languages, l) {
				v.Add("languages", insieme.FInvalidLanguage)
			}
		}
	}
	if in.Categories != nil {
		cats := []string{}
		for _, c := range *in.Categories {
			c = strings.ToLower(insieme.CleanText(c))
			if c == "" || len(c) > insieme.MaxCategoryKey || strings.ContainsAny(c, " /") {
				v.Add("categories", insieme.FInvalidValue)
				break
			}
			if !slices.Contains(cats, c) {
				cats = append(cats, c)
			}
		}
		if len(cats) > insieme.MaxCategories {
			v.Add("categories", insieme.FTooLong)
			v.Limit("categories", insieme.MaxCategories)
		}
		in.Categories = &cats
	}
	if in.Status != nil && !slices.Contains([]string{insieme.ForumDraft, insieme.ForumOpen, insieme.ForumClosed}, *in.Status) {
		v.Add("status", insieme.FInvalidValue)
	}
	if in.OpensAt != nil && in.ClosesAt != nil && *in.OpensAt != nil && *in.ClosesAt != nil && !(*in.ClosesAt).After(**in.OpensAt) {
		v.Add("closesAt", insieme.FInvalidValue)
	}
	if in.AnswerDays != nil && (*in.AnswerDays < 1 || *in.AnswerDays > 365) {
		v.Add("answerDays", insieme.FInvalidValue)
	}
	if in.ReportLimit != nil && (*in.ReportLimit < 1 || *in.ReportLimit > 100) {
		v.Add("reportLimit", insieme.FInvalidValue)
	}
	if in.SupportLimit != nil && (*in.SupportLimit < 0 || *in.SupportLimit > 1000) {
		v.Add("supportLimit", insieme.FInvalidValue)
	}
}

// CreateForum opens a forum of a municipality (its staff, or admins).
func (a *App) CreateForum(ctx context.Context, p *insieme.Principal, in ForumInput) (*ForumView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	var v insieme.Invalid
	if in.MunicipalityID == "" {
		v.Add("municipalityId", insieme.FRequired)
	}
	checkForumInput(&v, &in, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	o, err := a.store.Organisation(ctx, in.MunicipalityID)
	if insieme.ErrorCode(err) == insieme.ENOTFOUND || (err == nil && o.Kind != insieme.KindMunicipality) {
		return nil, insieme.FieldError("municipalityId", insieme.FInvalidValue)
	} else if err != nil {
		return nil, err
	}
	if ok, err := a.isStaffOf(ctx, p, o.ID); err != nil {
		return nil, err
	} else if !ok {
		return nil, &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the municipality's staff open its forums."}
	}
	now := a.Now()
	f := &insieme.Forum{ID: newID(), MunicipalityID: o.ID, Title: *in.Title, Description: insieme.Texts{},
		Languages: []string{"it"}, Categories: insieme.DefaultCategories, Status: insieme.ForumDraft,
		AnswerDays: insieme.DefaultAnswerDays, ReportLimit: insieme.DefaultReportLimit, CreatedBy: p.AccountID,
		CreatedAt: now, UpdatedAt: now}
	applyForumInput(f, &in)
	if err := a.store.CreateForum(ctx, f); err != nil {
		return nil, err
	}
	return a.forumView(ctx, p, f)
}

func applyForumInput(f *insieme.Forum, in *ForumInput) {
	if in.Description != nil {
		f.Description = *in.Description
	}
	if in.Territory != nil {
		f.Territory = *in.Territory
	}
	if in.Languages != nil {
		f.Languages = *in.Languages
	}
	if in.Categories != nil {
		f.Categories = *in.Categories
	}
	if in.Status != nil {
		f.Status = *in.Status
	}
	if in.OpensAt != nil {
		f.OpensAt = *in.OpensAt
	}
	if in.ClosesAt != nil {
		f.ClosesAt = *in.ClosesAt
	}
	if in.AnswerDays != nil {
		f.AnswerDays = *in.AnswerDays
	}
	if in.ReportLimit != nil {
		f.ReportLimit = *in.ReportLimit
	}
	if in.SupportLimit != nil {
		f.SupportLimit = *in.SupportLimit
	}
	if in.PersonalPosts != nil {
		f.PersonalPosts = *in.PersonalPosts
	}
}

// Forum shows a forum. Drafts are visible to their managers only.
func (a *App) Forum(ctx context.Context, p *insieme.Principal, id string) (*ForumView, error) {
	f, err := a.visibleForum(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return a.forumView(ctx, p, f)
}

func (a *App) visibleForum(ctx context.Context, p *insieme.Principal, id string) (*insieme.Forum, error) {
	f, err := a.store.Forum(ctx, id)
	if err != nil {
		return nil, err
	}
	if f.Status == insieme.ForumDraft {
		ok, err := a.managesForum(ctx, p, f)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, insieme.Errorf(insieme.ENOTFOUND, "forum not found.")
		}
	}
	return f, nil
}

// Forums lists the forums p may see: open and closed ones, and drafts p manages.
func (a *App) Forums(ctx context.Context, p *insieme.Principal) ([]*ForumView, error) {
	fs, err := a.store.ListForums(ctx)
	if err != nil {
		return nil, err
	}
	out := []*ForumView{}
	for _, f := range fs {
		if f.Status == insieme.ForumDraft {
			if ok, err := a.managesForum(ctx, p, f); err != nil || !ok {
				continue
			}
		}
		v, err := a.forumView(ctx, p, f)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// UpdateForum edits a forum (its municipality's staff, or admins).
func (a *App) UpdateForum(ctx context.Context, p *insieme.Principal, id string, in ForumInput) (*ForumView, error) {
	f, err := a.manageableForum(ctx, p, id)
	if err != nil {
		return nil, err
	}
	var v insieme.Invalid
	if in.OpensAt == nil && in.ClosesAt != nil && *in.ClosesAt != nil && f.OpensAt != nil {
		in.OpensAt = &f.OpensAt
	}
	checkForumInput(&v, &in, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	upd := insieme.ForumUpdate{Title: in.Title, Description: in.Description, Territory: in.Territory, Languages: in.Languages,
		Categories: in.Categories, Status: in.Status, OpensAt: in.OpensAt, ClosesAt: in.ClosesAt, AnswerDays: in.AnswerDays,
		ReportLimit: in.ReportLimit, SupportLimit: in.SupportLimit, PersonalPost: in.PersonalPosts}
	f, err = a.store.UpdateForum(ctx, id, upd, a.Now())
	if err != nil {
		return nil, err
	}
	view, err := a.forumView(ctx, nil, f)
	if err == nil {
		a.publish(ctx, "forum:"+id, map[string]any{"type": "forum.updated", "forum": view})
	}
	return a.forumView(ctx, p, f)
}

func (a *App) manageableForum(ctx context.Context, p *insieme.Principal, id string) (*insieme.Forum, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	f, err := a.visibleForum(ctx, p, id)
	if err != nil {
		return nil, err
	}
	ok, err := a.managesForum(ctx, p, f)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errForbidden
	}
	return f, nil
}
