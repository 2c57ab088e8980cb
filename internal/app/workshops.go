package app

import (
	"context"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// Co-design workshops (docs/WORKSHOPS.md): facilitators write the workshop's document (phases,
// timer, lock, spotlight, settings) one version-checked rewrite at a time; participants' cards,
// edits, group choices and dots are inserts of their own (board.go, dots.go). Every change is
// published to the room "workshop:<id>", with the brainstorm kept private (boardview.go).

// WorkshopInput is the workshop form; nil fields stay as they are on update.
type WorkshopInput struct {
	Title       *string                `json:"title"`
	Brief       *insieme.Texts         `json:"brief"`
	ScheduledAt *time.Time             `json:"scheduledAt"`
	Settings    *WorkshopSettingsInput `json:"settings"`
	Groups      *[]WorkshopGroupView   `json:"groups"`
}

// WorkshopSettingsInput are the settings of the form; nil fields stay as they are.
type WorkshopSettingsInput struct {
	Anonymous        *bool `json:"anonymous"`
	Dots             *int  `json:"dots"`
	MaxDotsPerCard   *int  `json:"maxDotsPerCard"`
	FacilitatorMoves *bool `json:"facilitatorMoves"`
}

// WorkshopSettingsView are a workshop's settings as shown.
type WorkshopSettingsView struct {
	Anonymous        bool `json:"anonymous"`
	Dots             int  `json:"dots"`
	MaxDotsPerCard   int  `json:"maxDotsPerCard"`
	FacilitatorMoves bool `json:"facilitatorMoves"`
}

// WorkshopGroupView is a table (an empty id in the form makes a new one).
type WorkshopGroupView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// DotResultView is a card's or cluster's dots once the vote ended.
type DotResultView struct {
	Target string `json:"target"`
	Dots   int    `json:"dots"`
}

// WorkshopView is a workshop as shown; JoinCode to facilitators only.
type WorkshopView struct {
	ID             string               `json:"id"`
	ForumID        string               `json:"forumId"`
	Title          string               `json:"title"`
	Brief          insieme.Texts        `json:"brief"`
	ScheduledAt    time.Time            `json:"scheduledAt"`
	Settings       WorkshopSettingsView `json:"settings"`
	Groups         []WorkshopGroupView  `json:"groups"`
	Phase          string               `json:"phase"`
	PhaseStartedAt time.Time            `json:"phaseStartedAt"`
	TimerEndsAt    *time.Time           `json:"timerEndsAt"`
	Locked         bool                 `json:"locked"`
	Spotlight      string               `json:"spotlight"`
	JoinCode       string               `json:"joinCode,omitempty"`
	Facilitator    bool                 `json:"facilitator"`
	Results        []DotResultView      `json:"results,omitempty"` // once the vote ended
	CreatedAt      time.Time            `json:"createdAt"`
	Version        int64                `json:"version"`
	ServerTime     time.Time            `json:"serverTime"` // clients correct their countdowns by it
}

// WorkshopSummary is a workshop in its forum's list.
type WorkshopSummary struct {
	ID           string        `json:"id"`
	Title        string        `json:"title"`
	Brief        insieme.Texts `json:"brief"`
	ScheduledAt  time.Time     `json:"scheduledAt"`
	Phase        string        `json:"phase"`
	Participants int           `json:"participants"`
}

var (
	errNotFacilitator = &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the workshop's facilitators may do this."}
	errWorkshopClosed = &insieme.Error{Code: insieme.ECONFLICT, Message: "This workshop is closed."}
	errWorkshopGone   = &insieme.Error{Code: insieme.ENOTFOUND, Message: "workshop not found."}
)

func checkWorkshop(v *insieme.Invalid, in *WorkshopInput, creating bool) {
	if in.Title != nil || creating {
		t := ""
		if in.Title != nil {
			t = insieme.CleanText(*in.Title)
		}
		in.Title = &t
		insieme.CheckText(v, "title", t, true, insieme.MaxWorkshopTitle)
	}
	if in.Brief != nil || creating {
		checkTexts(v, "brief", in.Brief, true, insieme.MaxWorkshopBrief)
		if in.Brief != nil {
			clean := insieme.Texts{}
			for lang, s := range *in.Brief {
				if s = plainText(s); s != "" {
					clean[lang] = s
				}
			}
			in.Brief = &clean
		}
	}
	if creating && in.ScheduledAt == nil {
		v.Add("scheduledAt", insieme.FRequired)
	}
	if s := in.Settings; s != nil {
		if s.Dots != nil && (*s.Dots < 1 || *s.Dots > insieme.MaxDots) {
			v.Add("dots", insieme.FInvalidValue)
			v.Limit("dots", insieme.MaxDots)
		}
		if s.MaxDotsPerCard != nil && *s.MaxDotsPerCard < 1 {
			v.Add("maxDotsPerCard", insieme.FInvalidValue)
		}
	}
	if in.Groups != nil {
		if len(*in.Groups) > insieme.MaxGroups {
			v.Add("groups", insieme.FTooLong)
			v.Limit("groups", insieme.MaxGroups)
		}
		for i := range *in.Groups {
			g := &(*in.Groups)[i]
			g.Name = insieme.CleanText(g.Name)
			insieme.CheckText(v, "groups", g.Name, true, insieme.MaxGroupName)
		}
	}
}

// plainText keeps a multi-line plain text: control characters but newlines dropped, trimmed.
func plainText(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\n' || (r >= 0x20 && r != 0x7f && r != 0xfffd) {
			out = append(out, r)
		}
	}
	return trimSpace(string(out))
}

// applyWorkshopInput copies a validated form onto a workshop.
func applyWorkshopInput(w *insieme.Workshop, in WorkshopInput) error {
	if in.Title != nil {
		w.Title = *in.Title
	}
	if in.Brief != nil {
		w.Brief = *in.Brief
	}
	if in.ScheduledAt != nil {
		w.ScheduledAt = in.ScheduledAt.UTC()
	}
	if s := in.Settings; s != nil {
		if (s.Dots != nil || s.MaxDotsPerCard != nil) && insieme.PhaseIndex(w.Phase) >= insieme.PhaseIndex(insieme.PhaseVote) {
			return insieme.ErrPhase(w.Phase)
		}
		if s.Anonymous != nil && *s.Anonymous != w.Settings.Anonymous {
			// People write cards trusting the setting they saw: after the lobby it stays, or
			// turning it off would show every anonymous card's author.
			if w.Phase != insieme.PhaseLobby {
				return insieme.ErrPhase(w.Phase)
			}
			w.Settings.Anonymous = *s.Anonymous
		}
		if s.Dots != nil {
			w.Settings.Dots = *s.Dots
		}
		if s.MaxDotsPerCard != nil {
			w.Settings.MaxDotsPerCard = *s.MaxDotsPerCard
		}
		if s.FacilitatorMoves != nil {
			w.Settings.FacilitatorMoves = *s.FacilitatorMoves
		}
		if s.MaxDotsPerCard == nil && w.Settings.MaxDotsPerCard > w.Settings.Dots {
			w.Settings.MaxDotsPerCard = w.Settings.Dots // fewer dots than the old maximum: the maximum follows
		}
		if w.Settings.MaxDotsPerCard > w.Settings.Dots {
			return &insieme.Error{Code: insieme.EINVALID, Message: "Some fields are not valid.",
				Fields: map[string]string{"maxDotsPerCard": insieme.FInvalidValue}, Limits: map[string]int{"maxDotsPerCard": w.Settings.Dots}}
		}
	}
	if in.Groups != nil {
		groups := make([]insieme.WorkshopGroup, 0, len(*in.Groups))
		for _, g := range *in.Groups {
			id := g.ID
			if id == "" || w.Group(id) == nil {
				id = newID()[:8]
			}
			groups = append(groups, insieme.WorkshopGroup{ID: id, Name: g.Name})
		}
		w.Groups = groups
	}
	return nil
}

// facilitates: the forum's managers (its municipality's staff, admins) and the accounts given
// the forum role facilitator.
func (a *App) facilitates(ctx context.Context, p *insieme.Principal, f *insieme.Forum) (bool, error) {
	if !p.IsAccount() {
		return false, nil
	}
	if ok, err := a.managesForum(ctx, p, f); err != nil || ok {
		return ok, err
	}
	r, err := a.store.ForumRole(ctx, f.ID, p.AccountID)
	if insieme.ErrorCode(err) == insieme.ENOTFOUND {
		return false, nil
	}
	return err == nil && r.Role == insieme.RoleFacilitator, err
}

// CreateWorkshop adds a workshop to a forum (its facilitators).
func (a *App) CreateWorkshop(ctx context.Context, p *insieme.Principal, forumID string, in WorkshopInput) (*WorkshopView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	f, err := a.visibleForum(ctx, p, forumID)
	if err != nil {
		return nil, err
	}
	if ok, err := a.facilitates(ctx, p, f); err != nil {
		return nil, err
	} else if !ok {
		return nil, &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the forum's facilitators create workshops."}
	}
	var v insieme.Invalid
	checkWorkshop(&v, &in, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := a.Now()
	w := &insieme.Workshop{ID: newID(), ForumID: f.ID, Phase: insieme.PhaseLobby, PhaseStartedAt: now, CreatedBy: p.AccountID, CreatedAt: now,
		Settings: insieme.WorkshopSettings{Dots: insieme.DefaultDots, MaxDotsPerCard: insieme.DefaultMaxDotsPerCard}}
	if err := applyWorkshopInput(w, in); err != nil {
		return nil, err
	}
	code, err := a.newJoinCode(ctx, insieme.JoinWorkshop, w.ID, a.workshopCodeExpiry(w))
	if err != nil {
		return nil, err
	}
	w.JoinCode = code
	if err := a.store.CreateWorkshop(ctx, w); err != nil {
		_ = a.store.DeleteJoinCode(ctx, code)
		return nil, err
	}
	a.publish(ctx, "forum:"+f.ID, map[string]any{"type": "workshop.scheduled", "id": w.ID})
	return a.workshopView(w, true), nil
}

// workshopCodeExpiry: a day after the workshop's date, or after now when that is past.
func (a *App) workshopCodeExpiry(w *insieme.Workshop) time.Time {
	from := w.ScheduledAt
	if now := a.Now(); from.Before(now) {
		from = now
	}
	return from.Add(insieme.GuestTTL)
}

func (a *App) workshopView(w *insieme.Workshop, facilitator bool) *WorkshopView {
	v := &WorkshopView{ID: w.ID, ForumID: w.ForumID, Title: w.Title, Brief: w.Brief, ScheduledAt: w.ScheduledAt,
		Settings: WorkshopSettingsView{Anonymous: w.Settings.Anonymous, Dots: w.Settings.Dots, MaxDotsPerCard: w.Settings.MaxDotsPerCard,
			FacilitatorMoves: w.Settings.FacilitatorMoves},
		Groups: []WorkshopGroupView{}, Phase: w.Phase, PhaseStartedAt: w.PhaseStartedAt, TimerEndsAt: w.TimerEndsAt, Locked: w.Locked,
		Spotlight: w.Spotlight, Facilitator: facilitator, CreatedAt: w.CreatedAt, Version: w.Version, ServerTime: a.Now()}
	if facilitator {
		v.JoinCode = w.JoinCode
	}
	if w.VoteEnded() {
		v.Results = resultViews(w.Results)
	}
	for _, g := range w.Groups {
		v.Groups = append(v.Groups, WorkshopGroupView{ID: g.ID, Name: g.Name})
	}
	return v
}

// workshopAccess is p's way into a workshop: this node's copy, and whether p facilitates it.
// Workshops of a forum p may not see are not found; guests see only the one they joined.
func (a *App) workshopAccess(ctx context.Context, p *insieme.Principal, id string) (*workshopRoom, *insieme.Workshop, bool, error) {
	if p == nil {
		return nil, nil, false, errUnauthorized
	}
	if p.Guest && p.Scope != insieme.JoinWorkshop+":"+id {
		return nil, nil, false, errWorkshopGone
	}
	if !p.Guest && !a.workshopLoaded(id) {
		// Loading a board scans on FerretDB: only for someone who may see the workshop.
		w, err := a.store.Workshop(ctx, id)
		if err != nil {
			if insieme.ErrorCode(err) == insieme.ENOTFOUND {
				return nil, nil, false, errWorkshopGone
			}
			return nil, nil, false, err
		}
		if _, err := a.visibleForum(ctx, p, w.ForumID); err != nil {
			if insieme.ErrorCode(err) == insieme.ENOTFOUND {
				return nil, nil, false, errWorkshopGone
			}
			return nil, nil, false, err
		}
	}
	r, err := a.workshopRoom(ctx, id)
	if err != nil {
		if insieme.ErrorCode(err) == insieme.ENOTFOUND {
			return nil, nil, false, errWorkshopGone
		}
		return nil, nil, false, err
	}
	a.workshops.mu.Lock()
	w := r.w
	a.workshops.mu.Unlock()
	if p.Guest {
		return r, w, false, nil
	}
	f, err := a.visibleForum(ctx, p, w.ForumID)
	if err != nil {
		if insieme.ErrorCode(err) == insieme.ENOTFOUND {
			return nil, nil, false, errWorkshopGone
		}
		return nil, nil, false, err
	}
	fac, err := a.facilitates(ctx, p, f)
	return r, w, fac, err
}

// unknownIn is the answer to an id in a message's field that names nothing in the workshop
// (or nothing the sender may see): 404, naming the field.
func unknownIn(field string) error {
	return &insieme.Error{Code: insieme.ENOTFOUND, Message: "Nothing in this workshop has that id.", Fields: map[string]string{field: insieme.FInvalidValue}}
}

// workshopLoaded says whether this node holds a workshop's board already.
func (a *App) workshopLoaded(id string) bool {
	a.workshops.mu.Lock()
	defer a.workshops.mu.Unlock()
	r := a.workshops.rooms[id]
	return r != nil && !r.loading && r.err == nil
}

// Workshops lists a forum's workshops, soonest first.
func (a *App) Workshops(ctx context.Context, p *insieme.Principal, forumID string) ([]*WorkshopSummary, error) {
	f, err := a.visibleForum(ctx, p, forumID)
	if err != nil {
		return nil, err
	}
	ws, err := a.store.WorkshopsOf(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*WorkshopSummary, 0, len(ws))
	for _, w := range ws {
		s := &WorkshopSummary{ID: w.ID, Title: w.Title, Brief: w.Brief, ScheduledAt: w.ScheduledAt, Phase: w.Phase, Participants: w.Participants}
		// A running workshop's count comes from this node's copy when it has one: loading a
		// board (scans on FerretDB) for a list would cost every reader of the forum page.
		if w.Phase != insieme.PhaseClosed {
			if a.workshopLoaded(w.ID) {
				a.workshops.mu.Lock()
				if r := a.workshops.rooms[w.ID]; r != nil {
					s.Participants = len(r.participants())
				}
				a.workshops.mu.Unlock()
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// participants are everyone who wrote a card, sat at a table or spent a dot (under
// a.workshops.mu).
func (r *workshopRoom) participants() map[string]bool {
	ps := map[string]bool{}
	for _, c := range r.cards {
		if c.AuthorID != "" {
			ps[c.AuthorID] = true
		}
	}
	for id := range r.groups {
		ps[id] = true
	}
	for _, d := range r.dots {
		ps[d.VoterID] = true
	}
	return ps
}

// UpdateWorkshop changes a workshop's details and settings (its facilitators; not once closed).
func (a *App) UpdateWorkshop(ctx context.Context, p *insieme.Principal, id string, in WorkshopInput) (*WorkshopState, error) {
	var v insieme.Invalid
	checkWorkshop(&v, &in, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	w, err := a.facilitatorWrite(ctx, p, id, func(w *insieme.Workshop) error {
		if w.Phase == insieme.PhaseClosed {
			return errWorkshopClosed
		}
		return applyWorkshopInput(w, in)
	})
	if err != nil {
		return nil, err
	}
	if in.ScheduledAt != nil && w.JoinCode != "" {
		if err := a.store.ExpireJoinCode(ctx, w.JoinCode, a.workshopCodeExpiry(w)); err != nil {
			return nil, err
		}
	}
	a.publish(ctx, "forum:"+w.ForumID, map[string]any{"type": "workshop.updated", "id": w.ID})
	return a.workshopState(ctx, p, id)
}

// facilitatorWrite applies one facilitator's change to a workshop (see writeWorkshop).
func (a *App) facilitatorWrite(ctx context.Context, p *insieme.Principal, id string, change func(w *insieme.Workshop) error) (*insieme.Workshop, error) {
	if p != nil && p.Guest {
		return nil, errNotFacilitator
	}
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	return a.writeWorkshop(ctx, id, func(w *insieme.Workshop) error {
		f, err := a.visibleForum(ctx, p, w.ForumID)
		if err != nil {
			return errWorkshopGone
		}
		if ok, err := a.facilitates(ctx, p, f); err != nil {
			return err
		} else if !ok {
			return errNotFacilitator
		}
		return change(w)
	})
}

// writeWorkshop applies a change to a workshop under its lock on this node, with a version
// check against other nodes, and publishes the new state.
func (a *App) writeWorkshop(ctx context.Context, id string, change func(w *insieme.Workshop) error) (*insieme.Workshop, error) {
	defer a.locks.lock("workshop:" + id)()
	for attempt := 0; ; attempt++ {
		w, err := a.store.Workshop(ctx, id)
		if insieme.ErrorCode(err) == insieme.ENOTFOUND {
			return nil, errWorkshopGone
		} else if err != nil {
			return nil, err
		}
		if err := change(w); err != nil {
			return nil, err
		}
		err = a.store.SaveWorkshop(ctx, w)
		if insieme.ErrorCode(err) == insieme.ECONFLICT && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		a.workshopChanged(ctx, w)
		return w, nil
	}
}

// workshopChanged updates this node's copy, tells the other nodes, and publishes the public
// state to the workshop's room.
func (a *App) workshopChanged(ctx context.Context, w *insieme.Workshop) {
	if r, err := a.workshopRoom(ctx, w.ID); err == nil {
		a.workshops.mu.Lock()
		r.putWorkshop(w)
		a.workshops.mu.Unlock()
		a.workshopWritten(ctx, r, workshopEvent{Kind: "workshop", Version: w.Version})
	}
	a.publish(ctx, "workshop:"+w.ID, map[string]any{"type": "workshop.state", "workshop": a.workshopView(w, false)})
}
