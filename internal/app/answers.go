package app

import (
	"context"
	"slices"
	"time"

	"github.com/insieme/insieme/internal/catalog"
	"github.com/insieme/insieme/internal/insieme"
)

// TimelineEntryView is one step of a proposal's public record.
type TimelineEntryView struct {
	ID        string      `json:"id"`
	Kind      string      `json:"kind"`
	Status    string      `json:"status,omitempty"`
	TextHTML  string      `json:"textHtml"`
	By        *PersonView `json:"by,omitempty"`
	ByOrg     *OrgRef     `json:"byOrganisation,omitempty"`
	CreatedAt time.Time   `json:"createdAt"`
}

// Timeline is a proposal's record: every status change, answer and update, with dates.
func (a *App) Timeline(ctx context.Context, p *insieme.Principal, proposalID string) ([]TimelineEntryView, error) {
	if _, _, err := a.visibleProposal(ctx, p, proposalID); err != nil {
		return nil, err
	}
	es, err := a.store.Timeline(ctx, proposalID)
	if err != nil {
		return nil, err
	}
	out := make([]TimelineEntryView, len(es))
	for i, e := range es {
		v := TimelineEntryView{ID: e.ID, Kind: e.Kind, Status: e.Status, TextHTML: e.TextHTML, CreatedAt: e.CreatedAt}
		if e.ByAccount != "" {
			pv, err := a.person(ctx, e.ByAccount)
			if err != nil {
				return nil, err
			}
			v.By = &pv
		}
		if e.ByOrg != "" {
			if ref, err := a.orgRef(ctx, e.ByOrg); err == nil {
				v.ByOrg = ref
			}
		}
		out[i] = v
	}
	return out, nil
}

// AnswerInput is the municipality's answer: a new status with its text, or a progress update
// (no status).
type AnswerInput struct {
	Status string
	Text   string
}

// answerable is the status a municipality may set.
var answerable = []string{insieme.ProposalEvaluation, insieme.ProposalAccepted, insieme.ProposalRejected, insieme.ProposalImplemented}

// Answer records the municipality's official answer or progress update, moves the status,
// tells the followers and publishes the change.
func (a *App) Answer(ctx context.Context, p *insieme.Principal, proposalID string, in AnswerInput) (*ProposalView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	pr, f, err := a.visibleProposal(ctx, p, proposalID)
	if err != nil {
		return nil, err
	}
	if ok, err := a.managesForum(ctx, p, f); err != nil {
		return nil, err
	} else if !ok {
		return nil, &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the municipality's staff answer proposals of its forum."}
	}
	text := trimSpace(in.Text)
	var v insieme.Invalid
	insieme.CheckText(&v, "text", text, in.Status == "" || in.Status == insieme.ProposalRejected, insieme.MaxAnswerText)
	if in.Status != "" && !slices.Contains(answerable, in.Status) {
		v.Add("status", insieme.FInvalidValue)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if pr.Status == insieme.ProposalWithdrawn {
		return nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "The author withdrew this proposal."}
	}
	if in.Status == pr.Status {
		return nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "The proposal already has this status; post an update instead."}
	}
	now := a.Now()
	entry := insieme.TimelineEntry{ID: newID(), Kind: insieme.EntryUpdate, Text: text, TextHTML: a.markup.Markdown(text),
		ByAccount: p.AccountID, ByOrg: f.MunicipalityID, CreatedAt: now}
	upd := insieme.ProposalUpdate{}
	if in.Status != "" {
		entry.Kind, entry.Status = insieme.EntryStatus, in.Status
		upd.Status = &in.Status
		if pr.AnsweredAt == nil {
			upd.AnsweredAt = &now
		}
	}
	// The entry first: a crash between the two leaves a visible answer, never a silent status.
	if err := a.store.AppendTimeline(ctx, pr.ID, entry); err != nil {
		return nil, err
	}
	if upd.Status != nil {
		if pr, err = a.store.UpdateProposal(ctx, pr.ID, upd, now); err != nil {
			return nil, err
		}
		a.catalogPut(ctx, pr)
	}
	a.proposalChanged(ctx, "proposal.updated", pr, f)
	if !pr.Hidden {
		a.publish(ctx, "forum:"+f.ID, map[string]any{"type": "proposal.timeline", "proposalId": pr.ID})
	}
	kind := "proposal.update"
	if in.Status != "" {
		kind = "proposal.answer"
	}
	// Followers may be thousands: told after the answer, not within it.
	n := Notification{Kind: kind, ProposalID: pr.ID, Status: in.Status}
	a.background(ctx, func(ctx context.Context) { a.notifyFollowers(ctx, n.ProposalID, p.AccountID, n) })
	return a.proposalView(ctx, p, pr, f)
}

// Overdue lists a forum's proposals past the municipality's answer date, oldest first.
func (a *App) Overdue(ctx context.Context, p *insieme.Principal, forumID string) ([]ProposalSummary, error) {
	f, err := a.visibleForum(ctx, p, forumID)
	if err != nil {
		return nil, err
	}
	// Overdue: still "submitted" (no status answer yet) and older than the answer period.
	cutoff := a.Now().Add(-time.Duration(f.AnswerDays) * 24 * time.Hour)
	var entries []catalog.Entry
	for cursor := ""; ; {
		page, err := a.cat().Query(catalog.Query{ForumID: f.ID, Status: insieme.ProposalSubmitted, Sort: "newest", Cursor: cursor, Limit: 100})
		if err != nil {
			return nil, err
		}
		for _, e := range page.Items {
			if e.CreatedAt.Before(cutoff) {
				entries = append(entries, e)
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	slices.Reverse(entries)
	out := make([]ProposalSummary, 0, len(entries))
	for _, e := range entries {
		pr := &insieme.Proposal{ID: e.ID, ForumID: e.ForumID, AuthorID: e.AuthorID, OrgID: e.OrgID, Title: e.Title,
			Language: e.Language, Category: e.Category, Status: e.Status, Supports: e.Supports, Comments: e.Comments, CreatedAt: e.CreatedAt}
		s, err := a.summary(ctx, pr, f)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
