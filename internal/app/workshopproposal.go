package app

import (
	"context"
	"errors"
	"maps"
	"strings"

	"github.com/insieme/insieme/internal/insieme"
)

// From output to proposal: a cluster or an action of a workshop becomes a proposal in the
// workshop's forum, which the municipality answers like any other. The proposal names its
// origin; the cluster (an edit of its "proposal" field) or the action records the proposal.

// WorkshopProposalInput is the form of POST /api/v1/workshops/{id}/proposals.
type WorkshopProposalInput struct {
	Source   string  `json:"source"`
	OrgID    string  `json:"orgId"`
	Title    *string `json:"title"`
	Body     *string `json:"body"`
	Language string  `json:"language"`
	Category string  `json:"category"`
}

var errAlreadyProposed = &insieme.Error{Code: insieme.ECONFLICT, Message: "This already became a proposal."}

// WorkshopProposal turns a cluster or an action into a proposal: facilitators post as
// themselves or for an association they belong to; members of an association for it.
func (a *App) WorkshopProposal(ctx context.Context, p *insieme.Principal, id string, in WorkshopProposalInput) (*ProposalView, error) {
	if p != nil && p.Guest {
		return nil, &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Sign in to post a proposal."}
	}
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	r, w, fac, err := a.workshopAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !insieme.PhaseAllows(insieme.ActProposal, w.Phase) {
		return nil, insieme.ErrPhase(w.Phase)
	}
	if !fac && in.OrgID == "" {
		return nil, &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only facilitators, and members of an association for it, post a workshop's output."}
	}
	title, body, proposed, isCluster, err := a.proposalSource(r, w, in)
	if err != nil {
		return nil, err
	}
	if proposed != "" {
		return nil, errAlreadyProposed
	}
	if in.Title != nil {
		title = *in.Title
	}
	if in.Body != nil {
		body = *in.Body
	}
	lang, cat := in.Language, in.Category
	pv, err := a.CreateProposal(ctx, p, w.ForumID, ProposalInput{OrgID: in.OrgID, Title: &title, Body: &body, Language: &lang, Category: &cat,
		Origin: &insieme.ProposalOrigin{WorkshopID: w.ID, WorkshopTitle: w.Title, Source: in.Source}})
	var e *insieme.Error
	if errors.As(err, &e) && e.Fields["organisationId"] != "" {
		// This route's field is orgId: name it so the client marks the right one.
		renamed := *e
		renamed.Fields = maps.Clone(e.Fields)
		renamed.Fields["orgId"] = renamed.Fields["organisationId"]
		delete(renamed.Fields, "organisationId")
		if v, ok := e.Limits["organisationId"]; ok {
			renamed.Limits = maps.Clone(e.Limits)
			renamed.Limits["orgId"] = v
			delete(renamed.Limits, "organisationId")
		}
		return nil, &renamed
	}
	if err != nil {
		return nil, err
	}
	if isCluster {
		a.workshops.mu.Lock()
		e := a.newEdit(r, in.Source, insieme.FieldProposal)
		a.workshops.mu.Unlock()
		e.Text = pv.ID
		if err := a.submitBoard(ctx, &boardOp{room: r, edits: []*insieme.BoardEdit{e}}); err != nil {
			a.log.Warn("cluster's proposal not recorded", "cluster", in.Source, "err", err)
		} else {
			a.publishCluster(ctx, r, in.Source)
		}
	} else if _, err := a.changeAction(ctx, r, in.Source, func(act *insieme.WorkshopAction) error {
		act.ProposalID = pv.ID
		return nil
	}); err != nil {
		a.log.Warn("action's proposal not recorded", "action", in.Source, "err", err)
	}
	return pv, nil
}

// proposalSource is the default title and body a cluster or action gives a proposal, and the
// proposal it already became, if any.
func (a *App) proposalSource(r *workshopRoom, w *insieme.Workshop, in WorkshopProposalInput) (title, body, proposed string, isCluster bool, err error) {
	a.workshops.mu.Lock()
	defer a.workshops.mu.Unlock()
	brief := textIn(w.Brief, in.Language)
	if c := r.clusters[in.Source]; c != nil {
		cv := r.clusterView(c)
		var b strings.Builder
		for _, card := range r.cardViews(nil) {
			if card.Cluster == c.ID && !card.Hidden {
				b.WriteString("- " + mdEscape.Replace(card.Text) + "\n") // plain text in a markdown body
			}
		}
		if brief != "" {
			b.WriteString("\n" + mdEscape.Replace(brief) + "\n")
		}
		return cv.Name, b.String(), cv.ProposalID, true, nil
	}
	if act := r.actions[in.Source]; act != nil {
		var b strings.Builder
		if act.Owner.Name != "" {
			b.WriteString("- " + mdEscape.Replace(act.Owner.Name) + "\n")
		}
		if act.Due != nil {
			b.WriteString("- " + act.Due.Format(dateLayout) + "\n")
		}
		if act.Resources != "" {
			b.WriteString("\n" + mdEscape.Replace(act.Resources) + "\n")
		}
		if brief != "" {
			b.WriteString("\n" + mdEscape.Replace(brief) + "\n")
		}
		return act.Title, b.String(), act.ProposalID, false, nil
	}
	return "", "", "", false, unknownIn("source")
}

// textIn is a text in a language, or in any language it has (the first by language code).
func textIn(t insieme.Texts, lang string) string {
	if s, ok := t[lang]; ok {
		return s
	}
	best := ""
	for l := range t {
		if best == "" || l < best {
			best = l
		}
	}
	return t[best]
}
