package app

import (
	"context"
	"time"

	"github.com/insieme/insieme/internal/insieme"
	"github.com/insieme/insieme/internal/markup"
)

// MachineTranslator is the seam for a translation service. None can be reached from where
// Insieme runs today, so Deps.Translator is nil and translations are made by people; a
// service plugged in here would store its translations with Machine set, labelled as such.
type MachineTranslator interface {
	Translate(ctx context.Context, text, from, to string) (string, error)
}

// TranslationView is a proposal in another language.
type TranslationView struct {
	Language   string     `json:"language"`
	Title      string     `json:"title"`
	BodyHTML   string     `json:"bodyHtml"`
	Translator PersonView `json:"translator"`
	Machine    bool       `json:"machine,omitempty"`
	UpdatedAt  time.Time  `json:"updatedAt"`
}

func (a *App) translationViews(ctx context.Context, pr *insieme.Proposal) ([]TranslationView, error) {
	ts, err := a.store.Translations(ctx, pr.ID, pr.Translated)
	if err != nil {
		return nil, err
	}
	out := make([]TranslationView, 0, len(ts))
	for _, t := range ts {
		pv, err := a.person(ctx, t.TranslatorID)
		if err != nil {
			return nil, err
		}
		out = append(out, TranslationView{Language: t.Language, Title: t.Title, BodyHTML: t.BodyHTML, Translator: pv,
			Machine: t.Machine, UpdatedAt: t.UpdatedAt})
	}
	return out, nil
}

// canTranslate: the author, the forum's mediators and its managers.
func (a *App) canTranslate(ctx context.Context, p *insieme.Principal, pr *insieme.Proposal, f *insieme.Forum) (bool, error) {
	if !p.IsAccount() {
		return false, nil
	}
	if pr.AuthorID == p.AccountID {
		return true, nil
	}
	if r, err := a.store.ForumRole(ctx, f.ID, p.AccountID); err == nil && r.Role == insieme.RoleMediator {
		return true, nil
	} else if err != nil && insieme.ErrorCode(err) != insieme.ENOTFOUND {
		return false, err
	}
	return a.managesForum(ctx, p, f)
}

// TranslationInput is a translation form.
type TranslationInput struct {
	Language, Title, Body string
}

// Translate adds or replaces a proposal's translation into one language, and makes the
// proposal findable by the translated words.
func (a *App) Translate(ctx context.Context, p *insieme.Principal, proposalID string, in TranslationInput) (*TranslationView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	pr, f, err := a.visibleProposal(ctx, p, proposalID)
	if err != nil {
		return nil, err
	}
	if ok, err := a.canTranslate(ctx, p, pr, f); err != nil {
		return nil, err
	} else if !ok {
		return nil, &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the author and the forum's mediators translate a proposal."}
	}
	var v insieme.Invalid
	insieme.CheckLanguage(&v, "language", in.Language)
	if in.Language == pr.Language {
		v.Add("language", insieme.FInvalidValue)
	}
	title, ok := markup.PlainText(in.Title, insieme.MaxProposalTitle)
	if !ok {
		v.Add("title", insieme.FTooLong)
		v.Limit("title", insieme.MaxProposalTitle)
	} else if title == "" {
		v.Add("title", insieme.FRequired)
	}
	body := trimSpace(in.Body)
	insieme.CheckText(&v, "body", body, true, insieme.MaxProposalBody)
	if err := v.Err(); err != nil {
		return nil, err
	}
	// One translation of a proposal at a time on this node: each rewrites the proposal's
	// search tokens and its list of languages from every stored translation.
	defer a.locks.lock("translations:" + pr.ID)()
	now := a.Now()
	t := &insieme.Translation{ProposalID: pr.ID, Language: in.Language, Title: title, Body: body, BodyHTML: a.markup.Markdown(body),
		TranslatorID: p.AccountID, CreatedAt: now, UpdatedAt: now}
	if err := a.store.PutTranslation(ctx, t); err != nil {
		return nil, err
	}
	// Search covers the original and every translation; the languages listed are those
	// stored (read again: a translation made meanwhile on another node counts too).
	tokens, translated, err := a.proposalTokens(ctx, pr.ID, pr.Title, pr.Body, t)
	if err != nil {
		return nil, err
	}
	if pr, err = a.store.UpdateProposal(ctx, pr.ID, insieme.ProposalUpdate{Tokens: &tokens, Translated: &translated}, pr.UpdatedAt); err != nil {
		return nil, err
	}
	a.catalogPut(ctx, pr)
	if !pr.Hidden {
		a.publish(ctx, "forum:"+f.ID, map[string]any{"type": "proposal.translated", "proposalId": pr.ID, "language": in.Language})
	}
	pv, err := a.person(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	return &TranslationView{Language: t.Language, Title: t.Title, BodyHTML: t.BodyHTML, Translator: pv, UpdatedAt: now}, nil
}

// MediatorView is one of a forum's cultural mediators.
type MediatorView struct {
	PersonView
	Since time.Time `json:"since"`
}

// AddMediator gives the mediator role in a forum to the account with this email. The answer is
// the same whether or not the address has an account.
func (a *App) AddMediator(ctx context.Context, p *insieme.Principal, forumID, email string) error {
	return a.addForumRole(ctx, p, forumID, email, insieme.RoleMediator)
}

// Mediators lists a forum's mediators (its managers).
func (a *App) Mediators(ctx context.Context, p *insieme.Principal, forumID string) ([]MediatorView, error) {
	return a.forumRoleHolders(ctx, p, forumID, insieme.RoleMediator)
}

// RemoveMediator takes the role away.
func (a *App) RemoveMediator(ctx context.Context, p *insieme.Principal, forumID, accountID string) error {
	return a.removeForumRole(ctx, p, forumID, accountID, insieme.RoleMediator)
}
