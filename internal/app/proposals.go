package app

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/insieme/insieme/internal/catalog"
	"github.com/insieme/insieme/internal/insieme"
	"github.com/insieme/insieme/internal/markup"
	"github.com/insieme/insieme/internal/search"
)

// ProposalView is a proposal as its page shows it.
type ProposalView struct {
	ProposalSummary
	Body      string     `json:"body"`
	BodyHTML  string     `json:"bodyHtml"`
	Place     *PlaceView `json:"place,omitempty"`
	UpdatedAt time.Time  `json:"updatedAt"`
	Supported bool       `json:"supported"`
	Following bool       `json:"following"`
	CanEdit   bool       `json:"canEdit,omitempty"`
	CanAnswer bool       `json:"canAnswer,omitempty"`
	// CanTranslate: the author, the forum's mediators and managers.
	CanTranslate bool              `json:"canTranslate,omitempty"`
	Translations []TranslationView `json:"translations"`
	// Origin is the workshop output the proposal came from ("came from workshop ...").
	Origin *OriginView `json:"origin,omitempty"`
}

// OriginView links a proposal back to the workshop cluster or action it came from.
type OriginView struct {
	WorkshopID    string `json:"workshopId"`
	WorkshopTitle string `json:"workshopTitle"`
	Source        string `json:"source"`
}

// ProposalSummary is a proposal in a list.
type ProposalSummary struct {
	ID           string     `json:"id"`
	ForumID      string     `json:"forumId"`
	Title        string     `json:"title"`
	Language     string     `json:"language"`
	Category     string     `json:"category"`
	Status       string     `json:"status"`
	Supports     int        `json:"supports"`
	Comments     int        `json:"comments"`
	Hidden       bool       `json:"hidden,omitempty"`
	Author       PersonView `json:"author"`
	Organisation *OrgRef    `json:"organisation,omitempty"`
	CreatedAt    time.Time  `json:"createdAt"`
	AnsweredAt   *time.Time `json:"answeredAt,omitempty"`
	DueAt        time.Time  `json:"dueAt"`
	Overdue      bool       `json:"overdue"`
}

// PlaceView is where a proposal is about.
type PlaceView struct {
	Name string   `json:"name"`
	Lat  *float64 `json:"lat,omitempty"`
	Lng  *float64 `json:"lng,omitempty"`
}

// ProposalPage is a page of a forum's proposals.
type ProposalPage struct {
	Items []ProposalSummary `json:"items"`
	Next  string            `json:"next,omitempty"`
	Total int               `json:"total"`
}

// newCatalog builds the empty read model.
func newCatalog() *catalog.Catalog { return catalog.New(search.Match) }

// LoadCatalog (re)builds the read model from the store: at start, and after a broker outage
// when other nodes' changes may have been missed. The new catalogue replaces the old at once.
func (a *App) LoadCatalog(ctx context.Context) (int, error) {
	// Proposals that change while the store is scanned are noted by ApplyCatalogEvent and
	// read again once the new catalogue is in place, so no write falls between the two.
	a.loadMu.Lock()
	a.loading, a.changedDuringLoad = true, map[string]bool{}
	a.loadMu.Unlock()
	fresh := newCatalog()
	n := 0
	err := a.store.AllProposals(ctx, func(p *insieme.Proposal) error {
		fresh.Put(catalog.FromProposal(p))
		n++
		return nil
	})
	a.loadMu.Lock()
	changed := a.changedDuringLoad
	a.loading, a.changedDuringLoad = false, nil
	if err == nil {
		a.catalog.Store(fresh)
	}
	a.loadMu.Unlock()
	if err != nil {
		return n, err
	}
	for id := range changed {
		a.refreshEntry(ctx, id)
	}
	// Changes of other nodes may have been missed: cached threads and names go too.
	a.threads.clear()
	a.names.clear()
	return n, nil
}

// CatalogRoom carries every node's changes to the read model (see ApplyCatalogEvent).
const CatalogRoom = "system:catalog"

// catalogEvent says a proposal changed. Nodes re-read it from the store by _id rather than
// trust the event's order: whichever event comes last, the read model ends at the stored
// state. Thread says its comments changed too (a support does not drop cached threads).
type catalogEvent struct {
	ID     string `json:"id"`
	Thread bool   `json:"thread,omitempty"`
	// Version is the thread's version after the change (0 when unknown): a node reads the
	// thread again until it has at least that one.
	Version int64 `json:"version,omitempty"`
}

func (a *App) cat() *catalog.Catalog { return a.catalog.Load() }

// catalogPut updates this node's read model at once and tells every node.
func (a *App) catalogPut(ctx context.Context, pr *insieme.Proposal) {
	a.cat().Put(catalog.FromProposal(pr))
	a.publish(ctx, CatalogRoom, catalogEvent{ID: pr.ID})
}

// catalogCounts updates a proposal's counts here at once and tells every node (and whether
// its thread changed with them).
// threadVersion is the thread's version when the change added to it, 0 when it did not.
func (a *App) catalogCounts(ctx context.Context, pr *insieme.Proposal, threadVersion int64) {
	a.cat().SetCounts(pr.ID, pr.Supports, pr.Comments)
	a.publish(ctx, CatalogRoom, catalogEvent{ID: pr.ID, Thread: threadVersion > 0, Version: threadVersion})
}

// ApplyCatalogEvent refreshes one proposal of the read model from the store. A node re-reads
// its own changes too, on purpose: two of its requests may apply their results out of order,
// and this read after the last event ends at the stored state.
func (a *App) ApplyCatalogEvent(ctx context.Context, data []byte) {
	var ev catalogEvent
	if err := json.Unmarshal(data, &ev); err != nil || ev.ID == "" {
		a.log.Warn("catalog event not understood", "err", err)
		return
	}
	if ev.Thread {
		a.refreshThread(ctx, ev.ID, ev.Version)
	}
	a.loadMu.Lock()
	if a.loading {
		a.changedDuringLoad[ev.ID] = true
	}
	a.loadMu.Unlock()
	a.refreshEntry(ctx, ev.ID)
}

// refreshEntry reads one proposal again into the read model.
func (a *App) refreshEntry(ctx context.Context, id string) {
	pr, err := a.store.Proposal(ctx, id)
	if err != nil {
		a.log.Warn("catalog refresh failed", "proposal", id, "err", err)
		return
	}
	a.cat().Put(catalog.FromProposal(pr))
}

func dueAt(p *insieme.Proposal, f *insieme.Forum) time.Time {
	return p.CreatedAt.Add(time.Duration(f.AnswerDays) * 24 * time.Hour)
}

func (a *App) summary(ctx context.Context, p *insieme.Proposal, f *insieme.Forum) (ProposalSummary, error) {
	s := ProposalSummary{ID: p.ID, ForumID: p.ForumID, Title: p.Title, Language: p.Language, Category: p.Category,
		Status: p.Status, Supports: p.Supports, Comments: p.Comments, Hidden: p.Hidden, CreatedAt: p.CreatedAt,
		AnsweredAt: p.AnsweredAt, DueAt: dueAt(p, f)}
	s.Overdue = p.AnsweredAt == nil && p.Status == insieme.ProposalSubmitted && a.Now().After(s.DueAt)
	var err error
	if s.Author, err = a.person(ctx, p.AuthorID); err != nil {
		return s, err
	}
	if p.OrgID != "" {
		if s.Organisation, err = a.orgRef(ctx, p.OrgID); err != nil {
			return s, err
		}
	}
	return s, nil
}

// ProposalInput is the proposal form; nil fields stay as they are on update.
type ProposalInput struct {
	OrgID    string
	Title    *string
	Body     *string
	Language *string
	Category *string
	Place    **PlaceView
	Origin   *insieme.ProposalOrigin // set by the app only (a workshop's output), never from a request
}

func (a *App) checkProposal(v *insieme.Invalid, f *insieme.Forum, in *ProposalInput, creating bool) {
	if in.Title != nil || creating {
		title, ok := "", true
		if in.Title != nil {
			title, ok = markup.PlainText(*in.Title, insieme.MaxProposalTitle)
			in.Title = &title
		}
		switch {
		case !ok:
			v.Add("title", insieme.FTooLong)
			v.Limit("title", insieme.MaxProposalTitle)
		case title == "":
			v.Add("title", insieme.FRequired)
		}
	}
	if in.Body != nil || creating {
		body := ""
		if in.Body != nil {
			body = trimSpace(*in.Body)
			in.Body = &body
		}
		insieme.CheckText(v, "body", body, true, insieme.MaxProposalBody)
	}
	if in.Language != nil || creating {
		if in.Language == nil {
			v.Add("language", insieme.FRequired)
		} else {
			insieme.CheckLanguage(v, "language", *in.Language)
		}
	}
	if in.Category != nil || creating {
		if in.Category == nil || *in.Category == "" {
			v.Add("category", insieme.FRequired)
		} else if !slices.Contains(f.Categories, *in.Category) {
			v.Add("category", insieme.FInvalidValue)
		}
	}
	if in.Place != nil && *in.Place != nil {
		pl := *in.Place
		pl.Name = insieme.CleanText(pl.Name)
		insieme.CheckText(v, "place", pl.Name, true, insieme.MaxPlaceName)
		if (pl.Lat == nil) != (pl.Lng == nil) || (pl.Lat != nil && (*pl.Lat < -90 || *pl.Lat > 90 || *pl.Lng < -180 || *pl.Lng > 180)) {
			v.Add("place", insieme.FInvalidValue)
		}
	}
}

var errForumClosed = &insieme.Error{Code: insieme.ECONFLICT, Message: "This forum does not accept contributions now."}

// CreateProposal posts a proposal to a forum for an association p belongs to, or as p where the
// forum allows personal proposals.
func (a *App) CreateProposal(ctx context.Context, p *insieme.Principal, forumID string, in ProposalInput) (*ProposalView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	f, err := a.visibleForum(ctx, p, forumID)
	if err != nil {
		return nil, err
	}
	var v insieme.Invalid
	a.checkProposal(&v, f, &in, true)
	if in.OrgID == "" && !f.PersonalPosts {
		v.Add("organisationId", insieme.FRequired)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.OrgID != "" {
		o, err := a.store.Organisation(ctx, in.OrgID)
		if insieme.ErrorCode(err) == insieme.ENOTFOUND || (err == nil && o.Kind != insieme.KindAssociation) {
			return nil, insieme.FieldError("organisationId", insieme.FInvalidValue)
		} else if err != nil {
			return nil, err
		}
		m, err := a.membership(ctx, p, o.ID)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return nil, &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only members post for an association."}
		}
	}
	if !f.AcceptsPosts(a.Now()) {
		return nil, errForumClosed
	}
	now := a.Now()
	pr := &insieme.Proposal{ID: newID(), ForumID: f.ID, AuthorID: p.AccountID, OrgID: in.OrgID, Title: *in.Title,
		Body: *in.Body, BodyHTML: a.markup.Markdown(*in.Body), Language: *in.Language, Category: *in.Category,
		Place: toPlace(in.Place), Status: insieme.ProposalSubmitted, Origin: in.Origin, CreatedAt: now, UpdatedAt: now}
	pr.Tokens = search.Tokens(pr.Title + "\n" + pr.Body)
	if err := a.store.CreateProposal(ctx, pr); err != nil {
		return nil, err
	}
	a.catalogPut(ctx, pr)
	if err := a.store.Follow(ctx, pr.ID, p.AccountID); err != nil {
		a.log.Warn("author not following", "proposal", pr.ID, "err", err)
	}
	a.proposalChanged(ctx, "proposal.created", pr, f)
	return a.proposalView(ctx, p, pr, f)
}

func toPlace(pv **PlaceView) *insieme.Place {
	if pv == nil || *pv == nil {
		return nil
	}
	return &insieme.Place{Name: (*pv).Name, Lat: (*pv).Lat, Lng: (*pv).Lng}
}

// proposalChanged publishes a proposal's public summary to its forum's room.
func (a *App) proposalChanged(ctx context.Context, kind string, pr *insieme.Proposal, f *insieme.Forum) {
	if pr.Hidden {
		return
	}
	s, err := a.summary(ctx, pr, f)
	if err != nil {
		return
	}
	a.publish(ctx, "forum:"+f.ID, map[string]any{"type": kind, "proposal": s})
}

func (a *App) proposalView(ctx context.Context, p *insieme.Principal, pr *insieme.Proposal, f *insieme.Forum) (*ProposalView, error) {
	s, err := a.summary(ctx, pr, f)
	if err != nil {
		return nil, err
	}
	v := &ProposalView{ProposalSummary: s, Body: pr.Body, BodyHTML: pr.BodyHTML, UpdatedAt: pr.UpdatedAt}
	if o := pr.Origin; o != nil {
		v.Origin = &OriginView{WorkshopID: o.WorkshopID, WorkshopTitle: o.WorkshopTitle, Source: o.Source}
	}
	if pr.Place != nil {
		v.Place = &PlaceView{Name: pr.Place.Name, Lat: pr.Place.Lat, Lng: pr.Place.Lng}
	}
	if v.Translations, err = a.translationViews(ctx, pr); err != nil {
		return nil, err
	}
	if v.CanTranslate, err = a.canTranslate(ctx, p, pr, f); err != nil {
		return nil, err
	}
	if p.IsAccount() {
		if v.Supported, err = a.store.HasSupport(ctx, pr.ID, p.AccountID); err != nil {
			return nil, err
		}
		if v.Following, err = a.follows(ctx, p, pr.ID); err != nil {
			return nil, err
		}
		v.CanEdit = pr.AuthorID == p.AccountID && pr.Supports == 0 && pr.Status == insieme.ProposalSubmitted
		if v.CanAnswer, err = a.managesForum(ctx, p, f); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// visibleProposal loads a proposal and its forum; a hidden proposal is visible to its author
// and the forum's moderators only.
func (a *App) visibleProposal(ctx context.Context, p *insieme.Principal, id string) (*insieme.Proposal, *insieme.Forum, error) {
	// The counts come from this node's read model, kept current by every node's events: one
	// store read fewer on the busiest page.
	pr, err := a.store.ProposalOnly(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if e, ok := a.cat().Get(id); ok {
		pr.Supports, pr.Comments = e.Supports, e.Comments
	} else if pr, err = a.store.Proposal(ctx, id); err != nil {
		return nil, nil, err
	}
	f, err := a.visibleForum(ctx, p, pr.ForumID)
	if err != nil {
		return nil, nil, err
	}
	if pr.Hidden && !(p.IsAccount() && p.AccountID == pr.AuthorID) {
		if ok, err := a.managesForum(ctx, p, f); err != nil || !ok {
			return nil, nil, insieme.Errorf(insieme.ENOTFOUND, "proposal not found.")
		}
	}
	return pr, f, nil
}

// Proposal shows one proposal.
func (a *App) Proposal(ctx context.Context, p *insieme.Principal, id string) (*ProposalView, error) {
	pr, f, err := a.visibleProposal(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return a.proposalView(ctx, p, pr, f)
}

// ProposalQuery is a forum list page's search, filters, sort and cursor.
type ProposalQuery struct {
	Text, Category, Status, Language, OrgID, Sort, Seed, Cursor string
	Limit                                                       int
}

// Proposals lists a forum's proposals from the read model.
func (a *App) Proposals(ctx context.Context, p *insieme.Principal, forumID string, q ProposalQuery) (*ProposalPage, error) {
	f, err := a.visibleForum(ctx, p, forumID)
	if err != nil {
		return nil, err
	}
	var v insieme.Invalid
	if q.Sort != "" && !slices.Contains([]string{"newest", "supports", "comments", "random"}, q.Sort) {
		v.Add("sort", insieme.FInvalidValue)
	}
	if q.Status != "" && !slices.Contains(insieme.ProposalStatuses, q.Status) {
		v.Add("status", insieme.FInvalidValue)
	}
	if q.Limit < 0 || q.Limit > 100 {
		v.Add("limit", insieme.FInvalidValue)
		v.Limit("limit", 100)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := a.cat().Query(catalog.Query{ForumID: f.ID, Terms: search.Query(q.Text), Category: q.Category, Status: q.Status,
		Language: q.Language, OrgID: q.OrgID, Sort: q.Sort, Seed: q.Seed, Cursor: q.Cursor, Limit: q.Limit})
	if errors.Is(err, catalog.ErrBadCursor) {
		return nil, insieme.FieldError("cursor", insieme.FInvalidValue)
	} else if err != nil {
		return nil, err
	}
	out := &ProposalPage{Items: make([]ProposalSummary, 0, len(page.Items)), Next: page.Next, Total: page.Total}
	for _, e := range page.Items {
		pr := &insieme.Proposal{ID: e.ID, ForumID: e.ForumID, AuthorID: e.AuthorID, OrgID: e.OrgID, Title: e.Title,
			Language: e.Language, Category: e.Category, Status: e.Status, Supports: e.Supports, Comments: e.Comments,
			CreatedAt: e.CreatedAt}
		s, err := a.summary(ctx, pr, f)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, s)
	}
	return out, nil
}

// UpdateProposal lets the author edit until the first support, or withdraw.
func (a *App) UpdateProposal(ctx context.Context, p *insieme.Principal, id string, in ProposalInput, withdraw bool) (*ProposalView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	pr, f, err := a.visibleProposal(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if pr.AuthorID != p.AccountID {
		return nil, &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the author changes a proposal."}
	}
	upd := insieme.ProposalUpdate{}
	if withdraw {
		if pr.Status != insieme.ProposalSubmitted && pr.Status != insieme.ProposalEvaluation {
			return nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "A proposal can be withdrawn only before the municipality's decision."}
		}
		st := insieme.ProposalWithdrawn
		upd.Status = &st
	}
	editing := in.Title != nil || in.Body != nil || in.Language != nil || in.Category != nil || in.Place != nil
	if editing {
		// The supports counted in the store, not in this node's read model, which may be an
		// event's trip behind another node's first support.
		exact, err := a.store.Proposal(ctx, id)
		if err != nil {
			return nil, err
		}
		if exact.Supports > 0 || pr.Status != insieme.ProposalSubmitted {
			return nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "A proposal cannot be edited once it has supports or an answer."}
		}
		var v insieme.Invalid
		a.checkProposal(&v, f, &in, false)
		if err := v.Err(); err != nil {
			return nil, err
		}
		upd.Title, upd.Body, upd.Language, upd.Category = in.Title, in.Body, in.Language, in.Category
		if in.Body != nil {
			html := a.markup.Markdown(*in.Body)
			upd.BodyHTML = &html
		}
		if in.Place != nil {
			pl := toPlace(in.Place)
			upd.Place = &pl
		}
		title, body := pr.Title, pr.Body
		if in.Title != nil {
			title = *in.Title
		}
		if in.Body != nil {
			body = *in.Body
		}
		defer a.locks.lock("translations:" + pr.ID)() // see Translate
		tokens, translated, err := a.proposalTokens(ctx, pr.ID, title, body)
		if err != nil {
			return nil, err
		}
		upd.Tokens, upd.Translated = &tokens, &translated
	}
	if withdraw {
		if err := a.store.AppendTimeline(ctx, pr.ID, insieme.TimelineEntry{ID: newID(), Kind: insieme.EntryStatus,
			Status: insieme.ProposalWithdrawn, ByAccount: p.AccountID, CreatedAt: a.Now()}); err != nil {
			return nil, err
		}
	}
	pr, err = a.store.UpdateProposal(ctx, id, upd, a.Now())
	if err != nil {
		return nil, err
	}
	a.catalogPut(ctx, pr)
	a.proposalChanged(ctx, "proposal.updated", pr, f)
	if withdraw {
		a.notifyFollowers(ctx, pr.ID, p.AccountID, Notification{Kind: "proposal.answer", ProposalID: pr.ID, Status: insieme.ProposalWithdrawn})
	}
	return a.proposalView(ctx, p, pr, f)
}

// SupportResult is a proposal's support state after a change.
type SupportResult struct {
	Supported bool `json:"supported"`
	Supports  int  `json:"supports"`
}

// Support adds p's support; supporting twice changes nothing.
func (a *App) Support(ctx context.Context, p *insieme.Principal, id string) (*SupportResult, error) {
	pr, f, err := a.supportable(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if f.SupportLimit > 0 {
		// One person's supports in a forum are counted and added one at a time on this node.
		defer a.locks.lock("supports:" + f.ID + ":" + p.AccountID)()
		mine, err := a.store.SupportsBy(ctx, p.AccountID)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, s := range mine {
			if s.ForumID == f.ID {
				n++
			}
		}
		if n >= f.SupportLimit {
			return nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "You have used every support this forum allows; withdraw one to support this proposal."}
		}
	}
	err = a.store.AddSupport(ctx, &insieme.Support{ProposalID: pr.ID, ForumID: f.ID, AccountID: p.AccountID, CreatedAt: a.Now()})
	if insieme.ErrorCode(err) == insieme.ECONFLICT {
		return &SupportResult{Supported: true, Supports: pr.Supports}, nil
	} else if err != nil {
		return nil, err
	}
	if err := a.store.Follow(ctx, pr.ID, p.AccountID); err != nil {
		a.log.Warn("supporter not following", "proposal", pr.ID, "err", err)
	}
	return a.countSupport(ctx, pr.ID, f, 1, true)
}

// Unsupport withdraws p's support; withdrawing twice changes nothing.
func (a *App) Unsupport(ctx context.Context, p *insieme.Principal, id string) (*SupportResult, error) {
	pr, f, err := a.supportable(ctx, p, id)
	if err != nil {
		return nil, err
	}
	// A withdrawal leaves no document behind: note it, so that the sweep checks the count
	// should this node stop before it is written.
	if err := a.store.NoteChange(ctx, pr.ID); err != nil {
		return nil, err
	}
	err = a.store.RemoveSupport(ctx, pr.ID, p.AccountID)
	if insieme.ErrorCode(err) == insieme.ENOTFOUND {
		return &SupportResult{Supported: false, Supports: pr.Supports}, nil
	} else if err != nil {
		return nil, err
	}
	return a.countSupport(ctx, pr.ID, f, -1, false)
}

// countSupport adds to the kept count after the support itself was stored, and publishes the
// absolute count (applying an event twice is harmless).
func (a *App) countSupport(ctx context.Context, id string, f *insieme.Forum, delta int, supported bool) (*SupportResult, error) {
	// The support (or its withdrawal) is stored: the rest runs to the end, and a count that
	// could not be written is repaired soon after.
	ctx = context.WithoutCancel(ctx)
	pr, err := a.store.AddToCounts(ctx, id, delta, 0)
	if err != nil {
		a.log.Warn("support count not written; repairing", "proposal", id, "err", err)
		a.repairSoon(ctx, id)
		e, _ := a.cat().Get(id)
		return &SupportResult{Supported: supported, Supports: max(e.Supports+delta, 0)}, nil
	}
	a.catalogCounts(ctx, pr, 0)
	a.publishCounts(ctx, pr)
	a.scheduleRepair(ctx, pr.ID)
	return &SupportResult{Supported: supported, Supports: pr.Supports}, nil
}

func (a *App) supportable(ctx context.Context, p *insieme.Principal, id string) (*insieme.Proposal, *insieme.Forum, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, nil, err
	}
	pr, f, err := a.visibleProposal(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	if !f.AcceptsPosts(a.Now()) {
		return nil, nil, errForumClosed
	}
	if pr.Status == insieme.ProposalWithdrawn || pr.Hidden {
		return nil, nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "This proposal cannot be supported now."}
	}
	return pr, f, nil
}

// proposalTokens are the search tokens of a proposal: its title and body and every
// translation, so any language finds it; and the languages it has translations in.
// just is a translation this request stored: included even if the read connection does not
// show it yet.
func (a *App) proposalTokens(ctx context.Context, id, title, body string, just ...*insieme.Translation) ([]string, []string, error) {
	ts, err := a.store.Translations(ctx, id, nil)
	if err != nil {
		return nil, nil, err
	}
	for _, j := range just {
		ts = slices.DeleteFunc(ts, func(t *insieme.Translation) bool { return t.Language == j.Language })
		ts = append(ts, j)
	}
	texts := []string{title, body}
	langs := []string{}
	for _, t := range ts {
		texts = append(texts, t.Title, t.Body)
		langs = append(langs, t.Language)
	}
	return search.Tokens(strings.Join(texts, "\n")), langs, nil
}
