package app

import (
	"context"

	"github.com/insieme/insieme/internal/insieme"
)

// Cards and clusters: each message becomes inserts (a card or cluster once, one edit per
// field changed), stored in batches (boardbatch.go) and acknowledged once stored.

var (
	errBoardLocked  = &insieme.Error{Code: insieme.ECONFLICT, Message: "The board is locked."}
	errNotCardOwner = &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the card's author may change it."}
	errMayNotMove   = &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the facilitators may move cards now."}
	errNoCard       = &insieme.Error{Code: insieme.ENOTFOUND, Message: "card not found."}
	errNoCluster    = &insieme.Error{Code: insieme.ENOTFOUND, Message: "cluster not found."}
)

// CardInput is the fields of card.create, card.edit, card.move and card.hide.
type CardInput struct {
	Card    string   `json:"card"`
	Text    *string  `json:"text"`
	Colour  *string  `json:"colour"`
	X       *float64 `json:"x"`
	Y       *float64 `json:"y"`
	Cluster *string  `json:"cluster"`
	Hidden  *bool    `json:"hidden"`
}

// ClusterInput is the fields of cluster.create and cluster.edit.
type ClusterInput struct {
	Cluster string   `json:"cluster"`
	Name    *string  `json:"name"`
	X       *float64 `json:"x"`
	Y       *float64 `json:"y"`
}

// boardAccess checks p may take an action on the board now: the phase allows it and, for
// participants, the board is not locked.
func (a *App) boardAccess(ctx context.Context, p *insieme.Principal, id, action string) (*workshopRoom, *insieme.Workshop, bool, error) {
	r, w, fac, err := a.workshopAccess(ctx, p, id)
	if err != nil {
		return nil, nil, false, err
	}
	if !insieme.PhaseAllows(action, w.Phase) {
		return nil, nil, false, insieme.ErrPhase(w.Phase)
	}
	return r, w, fac, nil
}

func checkLock(w *insieme.Workshop, facilitator bool) error {
	if w.Locked && !facilitator {
		return errBoardLocked
	}
	return nil
}

// mayMove: facilitators; in the cluster phase participants too, unless the setting says no.
func mayMove(w *insieme.Workshop, facilitator bool) error {
	if facilitator || (w.Phase == insieme.PhaseCluster && !w.Settings.FacilitatorMoves) {
		return nil
	}
	return errMayNotMove
}

func checkCardText(v *insieme.Invalid, s *string) {
	if s == nil {
		return
	}
	*s = insieme.CleanText(*s)
	insieme.CheckText(v, "text", *s, true, insieme.MaxCardText)
}

func checkColour(v *insieme.Invalid, s *string) {
	if s != nil && !insieme.IsCardColour(*s) {
		v.Add("colour", insieme.FInvalidValue)
	}
}

func checkPos(v *insieme.Invalid, x, y *float64) {
	if (x == nil) != (y == nil) {
		v.Add("pos", insieme.FRequired)
		return
	}
	if x != nil && (*x < 0 || *x > insieme.MaxCanvas || *y < 0 || *y > insieme.MaxCanvas || *x != *x || *y != *y) {
		v.Add("pos", insieme.FInvalidValue)
		v.Limit("pos", insieme.MaxCanvas)
	}
}

// CreateCard writes a new card in the brainstorm; the author's own view is acknowledged.
func (a *App) CreateCard(ctx context.Context, p *insieme.Principal, id string, in CardInput) (*CardView, error) {
	r, w, fac, err := a.boardAccess(ctx, p, id, insieme.ActCardCreate)
	if err != nil {
		return nil, err
	}
	if err := checkLock(w, fac); err != nil {
		return nil, err
	}
	if err := a.cardRoom(r, p.ID); err != nil {
		return nil, err
	}
	var v insieme.Invalid
	if in.Text == nil {
		v.Add("text", insieme.FRequired)
	}
	checkCardText(&v, in.Text)
	checkColour(&v, in.Colour)
	if err := v.Err(); err != nil {
		return nil, err
	}
	colour := "yellow"
	if in.Colour != nil {
		colour = *in.Colour
	}
	c := &insieme.Card{ID: id + "~" + newID()[:16], WorkshopID: id, AuthorID: p.ID, CreatedAt: a.Now()}
	if p.Guest {
		c.AuthorName = p.Name
	}
	a.workshops.mu.Lock()
	c.Group = r.groupOf(p.ID)
	text, col := a.newEdit(r, c.ID, insieme.FieldText), a.newEdit(r, c.ID, insieme.FieldColour)
	a.workshops.mu.Unlock()
	text.Text, col.Text = *in.Text, colour
	if err := a.submitBoard(ctx, &boardOp{room: r, cards: []*insieme.Card{c}, edits: []*insieme.BoardEdit{text, col}}); err != nil {
		return nil, err
	}
	a.publishCard(ctx, r, c.ID)
	return a.myCard(ctx, r, c.ID, p, fac)
}

// cardRoom refuses a card past the workshop's or the person's number of cards (this node's
// copy counts: a burst on several nodes may pass the bound by a few, never by many).
func (a *App) cardRoom(r *workshopRoom, author string) error {
	a.workshops.mu.Lock()
	total, mine := len(r.cards), 0
	for _, c := range r.cards {
		if c.AuthorID == author {
			mine++
		}
	}
	a.workshops.mu.Unlock()
	switch {
	case total >= insieme.MaxCards:
		return &insieme.Error{Code: insieme.ECONFLICT, Message: "This workshop has as many cards as it can take.", Limits: map[string]int{"cards": insieme.MaxCards}}
	case mine >= insieme.MaxCardsPerPerson:
		return &insieme.Error{Code: insieme.ECONFLICT, Message: "You wrote as many cards as one person may.", Limits: map[string]int{"cards": insieme.MaxCardsPerPerson}}
	}
	return nil
}

// myCard is a card as p sees it.
func (a *App) myCard(ctx context.Context, r *workshopRoom, cardID string, p *insieme.Principal, fac bool) (*CardView, error) {
	a.workshops.mu.Lock()
	var cv *CardView
	if c := r.cards[cardID]; c != nil {
		cv = r.cardView(c, &viewer{id: p.ID, facilitator: fac})
	}
	a.workshops.mu.Unlock()
	if cv == nil {
		return nil, errNoCard
	}
	return cv, a.nameAuthors(ctx, []*CardView{cv})
}

// cardOf finds a card of the workshop.
func (a *App) cardOf(r *workshopRoom, cardID string) (*insieme.Card, error) {
	a.workshops.mu.Lock()
	defer a.workshops.mu.Unlock()
	c := r.cards[cardID]
	if c == nil || r.fields[cardID][insieme.FieldText] == nil {
		return nil, errNoCard
	}
	return c, nil
}

// EditCard changes a card's text or colour (its author, in the brainstorm and the reveal).
func (a *App) EditCard(ctx context.Context, p *insieme.Principal, id string, in CardInput) (*CardView, error) {
	r, w, fac, err := a.workshopAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	c, err := a.cardOf(r, in.Card)
	if err != nil {
		return nil, err
	}
	if !insieme.PhaseAllows(insieme.ActCardEdit, w.Phase) {
		return nil, insieme.ErrPhase(w.Phase)
	}
	if c.AuthorID == "" || c.AuthorID != p.ID {
		return nil, errNotCardOwner
	}
	if err := checkLock(w, fac); err != nil {
		return nil, err
	}
	var v insieme.Invalid
	checkCardText(&v, in.Text)
	checkColour(&v, in.Colour)
	if in.Text == nil && in.Colour == nil {
		v.Add("text", insieme.FRequired)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var edits []*insieme.BoardEdit
	a.workshops.mu.Lock()
	if in.Text != nil {
		e := a.newEdit(r, c.ID, insieme.FieldText)
		e.Text = *in.Text
		edits = append(edits, e)
	}
	if in.Colour != nil {
		e := a.newEdit(r, c.ID, insieme.FieldColour)
		e.Text = *in.Colour
		edits = append(edits, e)
	}
	a.workshops.mu.Unlock()
	return a.storeCardEdits(ctx, r, c.ID, p, fac, edits)
}

func (a *App) storeCardEdits(ctx context.Context, r *workshopRoom, cardID string, p *insieme.Principal, fac bool, edits []*insieme.BoardEdit) (*CardView, error) {
	if err := a.submitBoard(ctx, &boardOp{room: r, edits: edits}); err != nil {
		return nil, err
	}
	a.publishCard(ctx, r, cardID)
	return a.myCard(ctx, r, cardID, p, fac)
}

// MoveCard moves a card on the canvas and in or out of a cluster.
func (a *App) MoveCard(ctx context.Context, p *insieme.Principal, id string, in CardInput) (*CardView, error) {
	r, w, fac, err := a.workshopAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	c, err := a.cardOf(r, in.Card)
	if err != nil {
		return nil, err
	}
	if !insieme.PhaseAllows(insieme.ActCardMove, w.Phase) {
		return nil, insieme.ErrPhase(w.Phase)
	}
	if err := mayMove(w, fac); err != nil {
		return nil, err
	}
	if err := checkLock(w, fac); err != nil {
		return nil, err
	}
	var v insieme.Invalid
	checkPos(&v, in.X, in.Y)
	if in.X == nil && in.Cluster == nil {
		v.Add("pos", insieme.FRequired)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var edits []*insieme.BoardEdit
	a.workshops.mu.Lock()
	if in.Cluster != nil && *in.Cluster != "" && r.clusters[*in.Cluster] == nil {
		a.workshops.mu.Unlock()
		return nil, unknownIn("cluster")
	}
	if in.X != nil {
		e := a.newEdit(r, c.ID, insieme.FieldPos)
		e.X, e.Y = *in.X, *in.Y
		edits = append(edits, e)
	}
	if in.Cluster != nil {
		e := a.newEdit(r, c.ID, insieme.FieldCluster)
		e.Text = *in.Cluster
		edits = append(edits, e)
	}
	a.workshops.mu.Unlock()
	return a.storeCardEdits(ctx, r, c.ID, p, fac, edits)
}

// HideCard hides or shows a card (facilitators, after the reveal).
func (a *App) HideCard(ctx context.Context, p *insieme.Principal, id string, in CardInput) (*CardView, error) {
	r, w, fac, err := a.workshopAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	c, err := a.cardOf(r, in.Card)
	if err != nil {
		return nil, err
	}
	if !insieme.PhaseAllows(insieme.ActCardHide, w.Phase) {
		return nil, insieme.ErrPhase(w.Phase)
	}
	if !fac {
		return nil, errNotFacilitator
	}
	if in.Hidden == nil {
		return nil, insieme.FieldError("hidden", insieme.FRequired)
	}
	a.workshops.mu.Lock()
	e := a.newEdit(r, c.ID, insieme.FieldHidden)
	a.workshops.mu.Unlock()
	e.Bool = *in.Hidden
	return a.storeCardEdits(ctx, r, c.ID, p, fac, []*insieme.BoardEdit{e})
}

// CreateCluster makes a named cluster in the cluster phase.
func (a *App) CreateCluster(ctx context.Context, p *insieme.Principal, id string, in ClusterInput) (*ClusterView, error) {
	r, w, fac, err := a.boardAccess(ctx, p, id, insieme.ActClusterCreate)
	if err != nil {
		return nil, err
	}
	if err := mayMove(w, fac); err != nil {
		return nil, err
	}
	if err := checkLock(w, fac); err != nil {
		return nil, err
	}
	var v insieme.Invalid
	name := ""
	if in.Name != nil {
		name = insieme.CleanText(*in.Name)
	}
	insieme.CheckText(&v, "name", name, true, insieme.MaxClusterName)
	checkPos(&v, in.X, in.Y)
	if err := v.Err(); err != nil {
		return nil, err
	}
	a.workshops.mu.Lock()
	clusters := len(r.clusters)
	a.workshops.mu.Unlock()
	if clusters >= insieme.MaxClusters {
		return nil, &insieme.Error{Code: insieme.ECONFLICT, Message: "This workshop has as many clusters as it can take.", Limits: map[string]int{"clusters": insieme.MaxClusters}}
	}
	c := &insieme.Cluster{ID: id + "~k" + newID()[:16], WorkshopID: id, CreatedBy: p.ID, CreatedAt: a.Now()}
	a.workshops.mu.Lock()
	edits := []*insieme.BoardEdit{a.newEdit(r, c.ID, insieme.FieldName)}
	edits[0].Text = name
	if in.X != nil {
		e := a.newEdit(r, c.ID, insieme.FieldPos)
		e.X, e.Y = *in.X, *in.Y
		edits = append(edits, e)
	}
	a.workshops.mu.Unlock()
	if err := a.submitBoard(ctx, &boardOp{room: r, clusters: []*insieme.Cluster{c}, edits: edits}); err != nil {
		return nil, err
	}
	return a.clusterChanged(ctx, r, c.ID)
}

func (a *App) clusterChanged(ctx context.Context, r *workshopRoom, clusterID string) (*ClusterView, error) {
	a.publishCluster(ctx, r, clusterID)
	a.workshops.mu.Lock()
	defer a.workshops.mu.Unlock()
	c := r.clusters[clusterID]
	if c == nil {
		return nil, errNoCluster
	}
	return r.clusterView(c), nil
}

// EditCluster renames or moves a cluster.
func (a *App) EditCluster(ctx context.Context, p *insieme.Principal, id string, in ClusterInput) (*ClusterView, error) {
	r, w, fac, err := a.workshopAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	a.workshops.mu.Lock()
	known := r.clusters[in.Cluster] != nil
	a.workshops.mu.Unlock()
	if !known {
		return nil, errNoCluster
	}
	if !insieme.PhaseAllows(insieme.ActClusterEdit, w.Phase) {
		return nil, insieme.ErrPhase(w.Phase)
	}
	if err := mayMove(w, fac); err != nil {
		return nil, err
	}
	if err := checkLock(w, fac); err != nil {
		return nil, err
	}
	var v insieme.Invalid
	if in.Name != nil {
		n := insieme.CleanText(*in.Name)
		in.Name = &n
		insieme.CheckText(&v, "name", n, true, insieme.MaxClusterName)
	}
	checkPos(&v, in.X, in.Y)
	if in.Name == nil && in.X == nil {
		v.Add("name", insieme.FRequired)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var edits []*insieme.BoardEdit
	a.workshops.mu.Lock()
	if in.Name != nil {
		e := a.newEdit(r, in.Cluster, insieme.FieldName)
		e.Text = *in.Name
		edits = append(edits, e)
	}
	if in.X != nil {
		e := a.newEdit(r, in.Cluster, insieme.FieldPos)
		e.X, e.Y = *in.X, *in.Y
		edits = append(edits, e)
	}
	a.workshops.mu.Unlock()
	if err := a.submitBoard(ctx, &boardOp{room: r, edits: edits}); err != nil {
		return nil, err
	}
	return a.clusterChanged(ctx, r, in.Cluster)
}
