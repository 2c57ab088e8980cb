package app

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// What each person may see of a board. During the brainstorm nobody (facilitators included)
// sees another's cards: card events go to the author's private room, the workshop's room gets
// counts only. Anonymous workshops never show a card's author to anyone. A hidden card's text
// is shown to facilitators and its author only.

// PosView is a position on the canvas.
type PosView struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// AuthorView is who wrote a card.
type AuthorView struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Guest  bool   `json:"guest,omitempty"`
	Former bool   `json:"former,omitempty"`
}

// CardView is a card as the viewer may see it. Versions maps each field to the key of the edit
// that set it: clients apply a field only when its version is newer than the one they show.
type CardView struct {
	ID        string            `json:"id"`
	Text      string            `json:"text"`
	Colour    string            `json:"colour"`
	Pos       PosView           `json:"pos"`
	Cluster   string            `json:"cluster"`
	Hidden    bool              `json:"hidden"`
	Group     string            `json:"group"`
	Author    *AuthorView       `json:"author,omitempty"`
	Mine      bool              `json:"mine,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
	Versions  map[string]string `json:"versions"`
}

// ClusterView is a cluster.
type ClusterView struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Pos        PosView           `json:"pos"`
	ProposalID string            `json:"proposalId,omitempty"`
	Versions   map[string]string `json:"versions"`
}

// CardCounts is how many cards were written (all a room sees during the brainstorm).
type CardCounts struct {
	Total   int            `json:"total"`
	ByGroup map[string]int `json:"byGroup"`
	Mine    *int           `json:"mine,omitempty"`
}

// viewer is who a view is built for: nil is the room's public view.
type viewer struct {
	id          string
	facilitator bool
}

// cardView builds a card's view (under a.workshops.mu); nil when the card has no text yet.
func (r *workshopRoom) cardView(c *insieme.Card, v *viewer) *CardView {
	f := r.fields[c.ID]
	if f[insieme.FieldText] == nil {
		return nil
	}
	cv := &CardView{ID: c.ID, Colour: "yellow", Group: c.Group, CreatedAt: c.CreatedAt, Versions: map[string]string{}}
	for field, e := range f {
		cv.Versions[field] = e.ID
		switch field {
		case insieme.FieldText:
			cv.Text = e.Text
		case insieme.FieldColour:
			cv.Colour = e.Text
		case insieme.FieldPos:
			cv.Pos = PosView{X: e.X, Y: e.Y}
		case insieme.FieldCluster:
			cv.Cluster = e.Text
		case insieme.FieldHidden:
			cv.Hidden = e.Bool
		}
	}
	mine := v != nil && c.AuthorID != "" && v.id == c.AuthorID
	cv.Mine = mine
	if cv.Hidden && !mine && (v == nil || !v.facilitator) {
		cv.Text = ""
	}
	if !r.w.Settings.Anonymous {
		cv.Author = &AuthorView{ID: c.AuthorID, Name: c.AuthorName, Guest: strings.HasPrefix(c.AuthorID, "g")}
	}
	return cv
}

func (r *workshopRoom) clusterView(c *insieme.Cluster) *ClusterView {
	cv := &ClusterView{ID: c.ID, Versions: map[string]string{}}
	for field, e := range r.fields[c.ID] {
		cv.Versions[field] = e.ID
		switch field {
		case insieme.FieldName:
			cv.Name = e.Text
		case insieme.FieldPos:
			cv.Pos = PosView{X: e.X, Y: e.Y}
		case insieme.FieldProposal:
			cv.ProposalID = e.Text
		}
	}
	return cv
}

// cardViews are the cards v may see, oldest first: during the brainstorm v's own only
// (under a.workshops.mu).
func (r *workshopRoom) cardViews(v *viewer) []*CardView {
	private := insieme.PhaseIndex(r.w.Phase) <= insieme.PhaseIndex(insieme.PhaseBrainstorm)
	out := []*CardView{}
	for _, c := range r.cards {
		if private && (v == nil || c.AuthorID == "" || c.AuthorID != v.id) {
			continue
		}
		if cv := r.cardView(c, v); cv != nil {
			out = append(out, cv)
		}
	}
	slices.SortFunc(out, func(x, y *CardView) int {
		if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out
}

func (r *workshopRoom) clusterViews() []*ClusterView {
	out := []*ClusterView{}
	for _, c := range r.clusters {
		out = append(out, r.clusterView(c))
	}
	slices.SortFunc(out, func(x, y *ClusterView) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// counts are the cards written, by table, and v's own when v is set (under a.workshops.mu).
func (r *workshopRoom) counts(v *viewer) CardCounts {
	cc := CardCounts{ByGroup: map[string]int{}}
	mine := 0
	for _, c := range r.cards {
		if r.fields[c.ID][insieme.FieldText] == nil {
			continue
		}
		cc.Total++
		if c.Group != "" {
			cc.ByGroup[c.Group]++
		}
		if v != nil && c.AuthorID != "" && c.AuthorID == v.id {
			mine++
		}
	}
	if v != nil {
		cc.Mine = &mine
	}
	return cc
}

// nameAuthors fills in the names of accounts that wrote cards (guests carry theirs).
func (a *App) nameAuthors(ctx context.Context, cards []*CardView) error {
	for _, c := range cards {
		if c.Author == nil || c.Author.Guest {
			continue
		}
		if c.Author.ID == "" {
			c.Author.Former = true
			continue
		}
		pv, err := a.person(ctx, c.Author.ID)
		if err != nil {
			return err
		}
		c.Author.Name, c.Author.Former = pv.DisplayName, pv.Former
	}
	return nil
}

// boardFlushEvery is how long a node gathers the board changes it accepted before sending
// them as one event: 300 people moving cards twice a second are 600 changes a second, and one
// event per change would be 180,000 frames a second to them; a batch every 20 ms is 50 a
// second per person, and adds at most 20 ms.
const boardFlushEvery = 20 * time.Millisecond

// publishCard sends a card's new state: to its author alone during the brainstorm (and the
// counts to the room), to the room afterwards, batched with the node's other board changes.
func (a *App) publishCard(ctx context.Context, r *workshopRoom, cardID string) {
	a.workshops.mu.Lock()
	c := r.cards[cardID]
	if c == nil {
		a.workshops.mu.Unlock()
		return
	}
	if insieme.PhaseIndex(r.w.Phase) > insieme.PhaseIndex(insieme.PhaseBrainstorm) {
		r.changed(cardID, false)
		a.scheduleBoardChanges(r)
		a.workshops.mu.Unlock()
		return
	}
	cv := r.cardView(c, &viewer{id: c.AuthorID})
	a.scheduleCounts(r)
	a.workshops.mu.Unlock()
	if cv == nil {
		return
	}
	if err := a.nameAuthors(ctx, []*CardView{cv}); err != nil {
		a.log.Warn("card not published", "card", cardID, "err", err)
		return
	}
	a.publish(ctx, "participant:"+c.AuthorID, map[string]any{"type": "card.state", "card": cv})
	// Another node may have revealed the board a moment ago, reading it before this card was
	// stored: then the card goes to the room too.
	if w, err := a.store.Workshop(ctx, r.id); err == nil && insieme.PhaseIndex(w.Phase) > insieme.PhaseIndex(insieme.PhaseBrainstorm) {
		a.workshops.mu.Lock()
		r.changed(cardID, false)
		a.scheduleBoardChanges(r)
		a.workshops.mu.Unlock()
	}
}

// publishCluster sends a cluster's new state to the room, batched with the node's other
// board changes.
func (a *App) publishCluster(ctx context.Context, r *workshopRoom, clusterID string) {
	a.workshops.mu.Lock()
	if r.clusters[clusterID] != nil {
		r.changed(clusterID, true)
		a.scheduleBoardChanges(r)
	}
	a.workshops.mu.Unlock()
}

// changed marks a card or cluster for the next board.changes (under a.workshops.mu).
func (r *workshopRoom) changed(id string, cluster bool) {
	if r.changedItems == nil {
		r.changedItems = map[string]bool{}
	}
	r.changedItems[id] = cluster
}

// scheduleBoardChanges sends the marked cards and clusters, as they are then, a moment from
// now (under a.workshops.mu).
func (a *App) scheduleBoardChanges(r *workshopRoom) {
	if r.changesPending {
		return
	}
	r.changesPending = true
	a.tasks.Add(1)
	time.AfterFunc(boardFlushEvery, func() {
		defer a.tasks.Done()
		a.workshops.mu.Lock()
		r.changesPending = false
		cards, clusters := []*CardView{}, []*ClusterView{}
		for id, cluster := range r.changedItems {
			if cluster {
				if k := r.clusters[id]; k != nil {
					clusters = append(clusters, r.clusterView(k))
				}
			} else if c := r.cards[id]; c != nil {
				if cv := r.cardView(c, nil); cv != nil {
					cards = append(cards, cv)
				}
			}
		}
		clear(r.changedItems)
		a.workshops.mu.Unlock()
		if len(cards) == 0 && len(clusters) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.nameAuthors(ctx, cards); err != nil {
			a.log.Warn("board changes not published", "workshop", r.id, "err", err)
			return
		}
		a.publish(ctx, "workshop:"+r.id, map[string]any{"type": "board.changes", "cards": cards, "clusters": clusters})
	})
}

// publishBoard sends every card and cluster to the room (the reveal).
func (a *App) publishBoard(ctx context.Context, id string) {
	r, err := a.workshopRoom(ctx, id)
	if err != nil {
		a.log.Warn("board not published", "workshop", id, "err", err)
		return
	}
	a.workshops.mu.Lock()
	cards, clusters := r.cardViews(nil), r.clusterViews()
	a.workshops.mu.Unlock()
	if err := a.nameAuthors(ctx, cards); err != nil {
		a.log.Warn("board not published", "workshop", id, "err", err)
		return
	}
	a.publish(ctx, "workshop:"+id, map[string]any{"type": "board.state", "cards": cards, "clusters": clusters})
}

// scheduleCounts publishes the room's card counts a moment from now (under a.workshops.mu).
func (a *App) scheduleCounts(r *workshopRoom) {
	if r.countsPending {
		return
	}
	r.countsPending = true
	a.tasks.Add(1)
	time.AfterFunc(partsFlushEvery, func() {
		defer a.tasks.Done()
		a.workshops.mu.Lock()
		r.countsPending = false
		r.countsAt = time.Now()
		cc := r.counts(nil)
		a.workshops.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.publish(ctx, "workshop:"+r.id, map[string]any{"type": "cards.count", "total": cc.Total, "byGroup": cc.ByGroup})
	})
}
