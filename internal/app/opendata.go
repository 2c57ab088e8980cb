package app

import (
	"context"
	"time"

	"github.com/insieme/insieme/internal/catalog"
	"github.com/insieme/insieme/internal/insieme"
)

// OpenProposal is a proposal in a forum's open data: no personal data, only what the forum
// shows publicly about it (an association is named, a person never).
type OpenProposal struct {
	ID           string          `json:"id"`
	Title        string          `json:"title"`
	Body         string          `json:"body"`
	Language     string          `json:"language"`
	Category     string          `json:"category"`
	Status       string          `json:"status"`
	Organisation string          `json:"organisation"`
	Supports     int             `json:"supports"`
	Comments     int             `json:"comments"`
	CreatedAt    time.Time       `json:"createdAt"`
	DueAt        time.Time       `json:"dueAt"`
	AnsweredAt   *time.Time      `json:"answeredAt"`
	Timeline     []OpenTimeEntry `json:"timeline"`
}

// OpenTimeEntry is one step of a proposal's public record in the open data.
type OpenTimeEntry struct {
	Kind   string    `json:"kind"`
	Status string    `json:"status,omitempty"`
	Text   string    `json:"text"`
	By     string    `json:"by,omitempty"` // the municipality that answered
	At     time.Time `json:"at"`
}

// OpenData is a forum's proposals, counts, answers and timelines for download.
type OpenData struct {
	Forum        string         `json:"forum"`
	Title        insieme.Texts  `json:"title"`
	Territory    string         `json:"territory"`
	Exported     time.Time      `json:"exportedAt"`
	License      string         `json:"license"`
	Proposals    []OpenProposal `json:"proposals"`
	AnswerDays   int            `json:"answerDays"`
	Municipality string         `json:"municipality"`
}

// ForumOpenData gathers a forum's open data (hidden proposals left out).
func (a *App) ForumOpenData(ctx context.Context, p *insieme.Principal, forumID string) (*OpenData, error) {
	f, err := a.visibleForum(ctx, p, forumID)
	if err != nil {
		return nil, err
	}
	out := &OpenData{Forum: f.ID, Title: f.Title, Territory: f.Territory, Exported: a.Now(), License: "CC BY 4.0",
		AnswerDays: f.AnswerDays, Proposals: []OpenProposal{}}
	if o, err := a.store.Organisation(ctx, f.MunicipalityID); err == nil {
		out.Municipality = o.Name
	}
	orgs := map[string]string{}
	for cursor := ""; ; {
		page, err := a.cat().Query(catalog.Query{ForumID: f.ID, Sort: "newest", Cursor: cursor, Limit: 100})
		if err != nil {
			return nil, err
		}
		for _, e := range page.Items {
			pr, err := a.store.Proposal(ctx, e.ID)
			if insieme.ErrorCode(err) == insieme.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, err
			}
			op := OpenProposal{ID: pr.ID, Title: pr.Title, Body: pr.Body, Language: pr.Language, Category: pr.Category, Status: pr.Status,
				Supports: pr.Supports, Comments: pr.Comments, CreatedAt: pr.CreatedAt, DueAt: dueAt(pr, f), AnsweredAt: pr.AnsweredAt,
				Timeline: []OpenTimeEntry{}}
			if pr.OrgID != "" {
				name, ok := orgs[pr.OrgID]
				if !ok {
					if o, err := a.store.Organisation(ctx, pr.OrgID); err == nil {
						name = o.Name
					}
					orgs[pr.OrgID] = name
				}
				op.Organisation = name
			}
			es, err := a.store.Timeline(ctx, pr.ID)
			if err != nil {
				return nil, err
			}
			for _, te := range es {
				e := OpenTimeEntry{Kind: te.Kind, Status: te.Status, Text: te.Text, At: te.CreatedAt}
				if te.ByOrg != "" {
					e.By = out.Municipality
				}
				op.Timeline = append(op.Timeline, e)
			}
			out.Proposals = append(out.Proposals, op)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	return out, nil
}
