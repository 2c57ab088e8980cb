package app

import (
	"context"
	"sync"
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

// Open data is downloaded by anyone, and building it reads every proposal and its timeline:
// each node keeps a forum's built export for a short while, for a bounded number of forums.
const (
	openDataTTL       = 60 * time.Second
	maxCachedOpenData = 32 // an export of a large forum may weigh megabytes
)

// openDataCache holds built exports per forum. It holds only what anyone may download (the
// export never depends on who asks), and it is read only after the caller's visibility check.
type openDataCache struct {
	mu     sync.Mutex
	forums map[string]cachedOpenData
}

type cachedOpenData struct {
	d       *OpenData
	expires time.Time
}

func (c *openDataCache) get(forumID string, now time.Time) (*OpenData, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.forums[forumID]
	// Expired, or built "later" than now (the wall clock stepped back): build it again.
	if !ok || !now.Before(e.expires) || now.Before(e.expires.Add(-openDataTTL)) {
		return nil, false
	}
	return e.d, true
}

func (c *openDataCache) put(forumID string, d *OpenData, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.forums == nil {
		c.forums = map[string]cachedOpenData{}
	}
	if _, ok := c.forums[forumID]; !ok && len(c.forums) >= maxCachedOpenData {
		for k, e := range c.forums { // expired ones first
			if !now.Before(e.expires) {
				delete(c.forums, k)
			}
		}
		for k := range c.forums { // then any one: a rough but bounded eviction
			if len(c.forums) < maxCachedOpenData {
				break
			}
			delete(c.forums, k)
		}
	}
	c.forums[forumID] = cachedOpenData{d: d, expires: now.Add(openDataTTL)}
}

// ForumOpenData returns a forum's open data (hidden proposals left out). The result may be
// shared with other callers: never modify it. It may be up to openDataTTL old.
func (a *App) ForumOpenData(ctx context.Context, p *insieme.Principal, forumID string) (*OpenData, error) {
	// Who may see the forum is decided on every call, before the cache is consulted.
	f, err := a.visibleForum(ctx, p, forumID)
	if err != nil {
		return nil, err
	}
	if d, ok := a.openData.get(f.ID, a.Now()); ok {
		return a.stillPublic(d), nil
	}
	d, err := a.buildOpenData(ctx, f)
	if err != nil {
		return nil, err
	}
	a.openData.put(f.ID, d, a.Now())
	return d, nil
}

// stillPublic leaves out of a cached export the proposals hidden (or removed) since it was
// built, as this node's catalogue knows them: moderation takes effect at once, not after the
// cache's lifetime. Nothing is read from the store.
func (a *App) stillPublic(d *OpenData) *OpenData {
	cat := a.cat()
	public := func(id string) bool {
		e, ok := cat.Get(id)
		return ok && !e.Hidden
	}
	n := 0
	for _, p := range d.Proposals {
		if public(p.ID) {
			n++
		}
	}
	if n == len(d.Proposals) {
		return d
	}
	out := *d
	out.Proposals = make([]OpenProposal, 0, n)
	for _, p := range d.Proposals {
		if public(p.ID) {
			out.Proposals = append(out.Proposals, p)
		}
	}
	return &out
}

// buildOpenData reads a forum's open data from the store.
func (a *App) buildOpenData(ctx context.Context, f *insieme.Forum) (*OpenData, error) {
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
