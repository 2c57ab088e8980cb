package app

import (
	"context"
	"crypto/rand"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// Live sessions: a municipality's forum meets live (in a hall, hybrid or online) and people
// take part from their phones. The hosts (the forum's municipality staff, admins, and the
// co-hosts they name) write the session's state one action at a time; participants' own
// writes (ballots, questions, upvotes, hands) are inserts of their own (see polls.go,
// questions.go, queue.go). Every change is published to the room "session:<id>".

// SessionInput is the session form; nil fields stay as they are on update.
type SessionInput struct {
	Title        *insieme.Texts
	ScheduledAt  *time.Time
	Mode         *string
	Place        *string
	StreamURL    *string
	Agenda       *[]AgendaItemInput
	CoHosts      *[]string
	GuestsMayAsk *bool
	PreModerate  *bool
}

// AgendaItemInput is one agenda item in the form; an empty ID makes a new item.
type AgendaItemInput struct {
	ID      string        `json:"id"`
	Title   insieme.Texts `json:"title"`
	Minutes int           `json:"minutes"`
}

// AgendaItemView is an agenda item as shown.
type AgendaItemView struct {
	ID      string        `json:"id"`
	Title   insieme.Texts `json:"title"`
	Minutes int           `json:"minutes"`
}

// TurnView is someone's turn on the floor.
type TurnView struct {
	ParticipantID string     `json:"participantId"`
	Name          string     `json:"name"`
	StartedAt     time.Time  `json:"startedAt"`
	EndedAt       *time.Time `json:"endedAt,omitempty"`
}

// SessionView is a live session as shown. Code is shown to hosts only (they put it on the
// projector); participants already know it.
type SessionView struct {
	ID            string           `json:"id"`
	ForumID       string           `json:"forumId"`
	Title         insieme.Texts    `json:"title"`
	ScheduledAt   time.Time        `json:"scheduledAt"`
	Mode          string           `json:"mode"`
	Place         string           `json:"place,omitempty"`
	StreamURL     string           `json:"streamUrl,omitempty"`
	Status        string           `json:"status"`
	Code          string           `json:"code,omitempty"`
	Agenda        []AgendaItemView `json:"agenda"`
	Current       string           `json:"current,omitempty"`
	CurrentSince  *time.Time       `json:"currentSince,omitempty"`
	Floor         *TurnView        `json:"floor,omitempty"`
	GuestsMayAsk  bool             `json:"guestsMayAsk"`
	PreModerate   bool             `json:"preModerate"`
	CoHosts       []PersonView     `json:"coHosts,omitempty"`
	StartedAt     *time.Time       `json:"startedAt,omitempty"`
	EndedAt       *time.Time       `json:"endedAt,omitempty"`
	Host          bool             `json:"host"`
	Version       int64            `json:"version"`
	ServerTime    time.Time        `json:"serverTime"` // clients correct their countdowns by it
	HasMinutes    bool             `json:"hasMinutes,omitempty"`
	ForumTitle    insieme.Texts    `json:"forumTitle,omitempty"`
	Participating bool             `json:"participating,omitempty"`
}

var (
	errSessionEnded = &insieme.Error{Code: insieme.ECONFLICT, Message: "This session has ended."}
	errNotHost      = &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the session's hosts may do this."}
	errBadCode      = &insieme.Error{Code: insieme.ENOTFOUND, Message: "No live session or workshop has this code; check it and try again."}
)

func checkSession(v *insieme.Invalid, in *SessionInput, creating bool) {
	checkTexts(v, "title", in.Title, creating, insieme.MaxSessionTitle)
	if creating && in.ScheduledAt == nil {
		v.Add("scheduledAt", insieme.FRequired)
	}
	if in.Mode != nil || creating {
		if in.Mode == nil {
			m := insieme.ModeInPerson
			in.Mode = &m
		}
		switch *in.Mode {
		case insieme.ModeInPerson, insieme.ModeHybrid, insieme.ModeOnline:
		default:
			v.Add("mode", insieme.FInvalidValue)
		}
	}
	if in.Place != nil {
		p := insieme.CleanText(*in.Place)
		in.Place = &p
		insieme.CheckText(v, "place", p, false, insieme.MaxSessionPlace)
	}
	if in.StreamURL != nil {
		s := strings.TrimSpace(*in.StreamURL)
		in.StreamURL = &s
		if s != "" {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				v.Add("streamUrl", insieme.FInvalidValue)
			}
		}
		insieme.CheckText(v, "streamUrl", s, false, insieme.MaxStreamURL)
	}
	if in.Agenda != nil {
		if len(*in.Agenda) > insieme.MaxAgendaItems {
			v.Add("agenda", insieme.FTooLong)
			v.Limit("agenda", insieme.MaxAgendaItems)
		}
		for i := range *in.Agenda {
			it := &(*in.Agenda)[i]
			checkTexts(v, "agenda", &it.Title, true, insieme.MaxSessionTitle)
			if it.Minutes < 0 || it.Minutes > insieme.MaxAgendaMinutes {
				v.Add("agenda", insieme.FInvalidValue)
			}
		}
	}
	if in.CoHosts != nil && len(*in.CoHosts) > insieme.MaxCoHosts {
		v.Add("coHosts", insieme.FTooLong)
		v.Limit("coHosts", insieme.MaxCoHosts)
	}
}

// CreateSession schedules a live session in a forum (its municipality's staff and admins).
func (a *App) CreateSession(ctx context.Context, p *insieme.Principal, forumID string, in SessionInput) (*SessionView, error) {
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	f, err := a.visibleForum(ctx, p, forumID)
	if err != nil {
		return nil, err
	}
	if ok, err := a.managesForum(ctx, p, f); err != nil {
		return nil, err
	} else if !ok {
		return nil, &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the municipality's staff schedule live sessions."}
	}
	var v insieme.Invalid
	checkSession(&v, &in, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := a.Now()
	s := &insieme.LiveSession{ID: newID(), ForumID: f.ID, Title: *in.Title, ScheduledAt: in.ScheduledAt.UTC(), Mode: *in.Mode,
		Status: insieme.SessionScheduled, CreatedBy: p.AccountID, CreatedAt: now, PreModerate: true}
	if err := a.applySessionInput(ctx, s, in); err != nil {
		return nil, err
	}
	code, err := a.newJoinCode(ctx, insieme.JoinSession, s.ID, a.codeExpiry(s))
	if err != nil {
		return nil, err
	}
	s.Code = code
	if err := a.store.CreateLiveSession(ctx, s); err != nil {
		_ = a.store.DeleteJoinCode(ctx, code)
		return nil, err
	}
	a.publish(ctx, "forum:"+f.ID, map[string]any{"type": "session.scheduled", "id": s.ID})
	return a.sessionView(ctx, p, s, true)
}

// applySessionInput copies the form onto a session (validated already).
func (a *App) applySessionInput(ctx context.Context, s *insieme.LiveSession, in SessionInput) error {
	if in.Title != nil {
		s.Title = *in.Title
	}
	if in.ScheduledAt != nil {
		s.ScheduledAt = in.ScheduledAt.UTC()
	}
	if in.Mode != nil {
		s.Mode = *in.Mode
	}
	if in.Place != nil {
		s.Place = *in.Place
	}
	if in.StreamURL != nil {
		s.StreamURL = *in.StreamURL
	}
	if in.GuestsMayAsk != nil {
		s.GuestsMayAsk = *in.GuestsMayAsk
	}
	if in.PreModerate != nil {
		s.PreModerate = *in.PreModerate
	}
	if in.Agenda != nil {
		items := make([]insieme.AgendaItem, 0, len(*in.Agenda))
		for _, it := range *in.Agenda {
			id := it.ID
			if id == "" || s.Item(id) == nil {
				id = newID()[:12]
			}
			items = append(items, insieme.AgendaItem{ID: id, Title: it.Title, Minutes: it.Minutes})
		}
		s.Agenda = items
		if s.Current != "" && s.Item(s.Current) == nil {
			s.Current = "" // the current item was removed
		}
	}
	if in.CoHosts != nil {
		hosts := []string{}
		for _, id := range *in.CoHosts {
			if slices.Contains(hosts, id) {
				continue
			}
			acct, err := a.store.Account(ctx, id)
			if err != nil || !acct.Active() {
				return insieme.FieldError("coHosts", insieme.FInvalidValue)
			}
			hosts = append(hosts, id)
		}
		s.CoHosts = hosts
	}
	return nil
}

// newJoinCode draws a join code no live session or workshop holds.
func (a *App) newJoinCode(ctx context.Context, kind, targetID string, expires time.Time) (string, error) {
	for attempt := 0; ; attempt++ {
		code := randomCode()
		err := a.store.PutJoinCode(ctx, &insieme.JoinCode{Code: code, Kind: kind, TargetID: targetID, ExpiresAt: expires})
		if insieme.ErrorCode(err) == insieme.ECONFLICT && attempt < 5 {
			continue
		}
		return code, err
	}
}

func randomCode() string {
	const alphabet = insieme.JoinCodeAlphabet
	b := make([]byte, insieme.JoinCodeLength)
	// Rejection sampling keeps every letter equally likely.
	limit := byte(256 - 256%len(alphabet))
	for i := 0; i < len(b); {
		var r [16]byte
		_, _ = rand.Read(r[:])
		for _, x := range r {
			if x < limit && i < len(b) {
				b[i] = alphabet[int(x)%len(alphabet)]
				i++
			}
		}
	}
	return string(b)
}

// sessionAccess loads a session with its forum and says whether p hosts it. Sessions of a
// forum p may not see are not found; guests see only the session they joined.
func (a *App) sessionAccess(ctx context.Context, p *insieme.Principal, id string) (*insieme.LiveSession, *insieme.Forum, bool, error) {
	s, err := a.liveSession(ctx, id)
	if err != nil {
		return nil, nil, false, err
	}
	if p != nil && p.Guest {
		if p.Scope != insieme.JoinSession+":"+s.ID {
			return nil, nil, false, insieme.Errorf(insieme.ENOTFOUND, "session not found.")
		}
	}
	f, err := a.visibleForum(ctx, p, s.ForumID)
	if err != nil {
		if insieme.ErrorCode(err) == insieme.ENOTFOUND {
			return nil, nil, false, insieme.Errorf(insieme.ENOTFOUND, "session not found.")
		}
		return nil, nil, false, err
	}
	host, err := a.hosts(ctx, p, s, f)
	if err == nil && !host && p != nil && s.IsRemoved(p.ID) {
		return nil, nil, false, errRemoved
	}
	return s, f, host, err
}

// hosts: the forum's managers (its municipality's staff, admins) and the named co-hosts.
func (a *App) hosts(ctx context.Context, p *insieme.Principal, s *insieme.LiveSession, f *insieme.Forum) (bool, error) {
	if !p.IsAccount() {
		return false, nil
	}
	if s.IsCoHost(p.AccountID) {
		return true, nil
	}
	return a.managesForum(ctx, p, f)
}

// requireHost refuses anyone but the session's hosts (guests first, without a look-up).
func (a *App) requireHost(ctx context.Context, p *insieme.Principal, sessionID string) (*insieme.LiveSession, error) {
	if p == nil {
		return nil, errUnauthorized
	}
	if p.Guest {
		return nil, errNotHost
	}
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	s, _, host, err := a.sessionAccess(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	if !host {
		return nil, errNotHost
	}
	return s, nil
}

func (a *App) sessionView(ctx context.Context, p *insieme.Principal, s *insieme.LiveSession, host bool) (*SessionView, error) {
	v := &SessionView{ID: s.ID, ForumID: s.ForumID, Title: s.Title, ScheduledAt: s.ScheduledAt, Mode: s.Mode, Place: s.Place,
		StreamURL: s.StreamURL, Status: s.Status, Agenda: []AgendaItemView{}, Current: s.Current, GuestsMayAsk: s.GuestsMayAsk,
		PreModerate: s.PreModerate, StartedAt: s.StartedAt, EndedAt: s.EndedAt, Host: host, Version: s.Version,
		ServerTime: a.Now(), HasMinutes: s.Status == insieme.SessionEnded && a.hasMinutes(ctx, s.ID)}
	if host {
		v.Code = s.Code
		for _, id := range s.CoHosts {
			pv, err := a.person(ctx, id)
			if err != nil {
				return nil, err
			}
			v.CoHosts = append(v.CoHosts, pv)
		}
	}
	for _, it := range s.Agenda {
		v.Agenda = append(v.Agenda, AgendaItemView{ID: it.ID, Title: it.Title, Minutes: it.Minutes})
	}
	if r := s.CurrentRun(); r != nil {
		since := r.StartedAt
		v.CurrentSince = &since
	}
	if s.Floor != nil {
		v.Floor = &TurnView{ParticipantID: s.Floor.ParticipantID, Name: s.Floor.Name, StartedAt: s.Floor.StartedAt}
		if v.Floor.Name == "" { // an account: named by its account, so an erasure reaches it
			pv, err := a.person(ctx, s.Floor.ParticipantID)
			if err != nil {
				return nil, err
			}
			v.Floor.Name = pv.DisplayName
		}
	}
	return v, nil
}

// Session shows a live session.
func (a *App) Session(ctx context.Context, p *insieme.Principal, id string) (*SessionView, error) {
	s, _, host, err := a.sessionAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return a.sessionView(ctx, p, s, host)
}

// Sessions lists a forum's live sessions, soonest first.
func (a *App) Sessions(ctx context.Context, p *insieme.Principal, forumID string) ([]*SessionView, error) {
	f, err := a.visibleForum(ctx, p, forumID)
	if err != nil {
		return nil, err
	}
	ss, err := a.store.LiveSessionsOf(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*SessionView, 0, len(ss))
	for _, s := range ss {
		host, err := a.hosts(ctx, p, s, f)
		if err != nil {
			return nil, err
		}
		v, err := a.sessionView(ctx, p, s, host)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// UpdateSession changes a session's details, agenda and settings (its hosts; not once ended).
func (a *App) UpdateSession(ctx context.Context, p *insieme.Principal, id string, in SessionInput) (*SessionView, error) {
	var v insieme.Invalid
	checkSession(&v, &in, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	s, err := a.hostAction(ctx, p, id, func(s *insieme.LiveSession) error {
		if s.Status == insieme.SessionEnded {
			return errSessionEnded
		}
		if in.CoHosts != nil {
			// Who hosts is the municipality's decision: co-hosts cannot name or drop co-hosts.
			f, err := a.visibleForum(ctx, p, s.ForumID)
			if err != nil {
				return err
			}
			if ok, err := a.managesForum(ctx, p, f); err != nil {
				return err
			} else if !ok {
				return &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only the municipality's staff name co-hosts."}
			}
		}
		return a.applySessionInput(ctx, s, in)
	})
	if err != nil {
		return nil, err
	}
	if in.ScheduledAt != nil && s.Code != "" {
		if err := a.store.ExpireJoinCode(ctx, s.Code, a.codeExpiry(s)); err != nil {
			return nil, err
		}
	}
	a.publish(ctx, "forum:"+s.ForumID, map[string]any{"type": "session.updated", "id": s.ID})
	return a.sessionView(ctx, p, s, true)
}

// hostAction applies one host action to a session under its lock, with a version check
// against other nodes, and publishes the new state.
func (a *App) hostAction(ctx context.Context, p *insieme.Principal, id string, change func(s *insieme.LiveSession) error) (*insieme.LiveSession, error) {
	if p != nil && p.Guest {
		return nil, errNotHost // a guest is a participant, never a host
	}
	if _, err := a.account(ctx, p); err != nil {
		return nil, err
	}
	defer a.locks.lock("session:" + id)()
	for attempt := 0; ; attempt++ {
		s, err := a.store.LiveSession(ctx, id)
		if err != nil {
			return nil, err
		}
		f, err := a.visibleForum(ctx, p, s.ForumID)
		if err != nil {
			return nil, insieme.Errorf(insieme.ENOTFOUND, "session not found.")
		}
		if host, err := a.hosts(ctx, p, s, f); err != nil {
			return nil, err
		} else if !host {
			return nil, errNotHost
		}
		if err := change(s); err != nil {
			return nil, err
		}
		err = a.store.SaveLiveSession(ctx, s)
		if insieme.ErrorCode(err) == insieme.ECONFLICT && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		a.sessionChanged(ctx, s)
		return s, nil
	}
}

// sessionChanged updates this node's copy, tells the other nodes, and publishes the public
// state to the session's room.
func (a *App) sessionChanged(ctx context.Context, s *insieme.LiveSession) {
	a.rooms.putSession(s)
	a.publish(ctx, LiveRoom, liveEvent{Session: s.ID, Kind: "session", Version: s.Version})
	pub, err := a.sessionView(ctx, nil, s, false)
	if err != nil {
		a.log.Warn("session view", "err", err)
		return
	}
	a.publish(ctx, "session:"+s.ID, map[string]any{"type": "session.state", "session": pub})
}

// SessionAction is a host's live control: start, end, go to an agenda item, next item.
type SessionAction struct {
	Action string `json:"action"`
	Item   string `json:"item,omitempty"`
}

// ControlSession applies a host's control to a session.
func (a *App) ControlSession(ctx context.Context, p *insieme.Principal, id string, in SessionAction) (*SessionView, error) {
	var endedCode string
	s, err := a.hostAction(ctx, p, id, func(s *insieme.LiveSession) error {
		now := a.Now()
		if s.Status == insieme.SessionEnded {
			return errSessionEnded
		}
		switch in.Action {
		case "start":
			if s.Status == insieme.SessionLive {
				return nil
			}
			s.Status, s.StartedAt = insieme.SessionLive, &now
			if s.Current == "" && len(s.Agenda) > 0 {
				goToItem(s, s.Agenda[0].ID, now)
			}
		case "end":
			goToItem(s, "", now)
			endTurn(s, now)
			endedCode = s.Code
			s.Status, s.EndedAt, s.Code = insieme.SessionEnded, &now, ""
		case "item":
			if in.Item != "" && s.Item(in.Item) == nil {
				return insieme.FieldError("item", insieme.FInvalidValue)
			}
			if s.Status != insieme.SessionLive {
				return &insieme.Error{Code: insieme.ECONFLICT, Message: "Start the session first."}
			}
			goToItem(s, in.Item, now)
		case "next":
			if s.Status != insieme.SessionLive {
				return &insieme.Error{Code: insieme.ECONFLICT, Message: "Start the session first."}
			}
			next := ""
			for i, it := range s.Agenda {
				if it.ID == s.Current && i+1 < len(s.Agenda) {
					next = s.Agenda[i+1].ID
				}
			}
			if s.Current == "" && len(s.Agenda) > 0 {
				next = s.Agenda[0].ID
			}
			goToItem(s, next, now)
		default:
			return insieme.FieldError("action", insieme.FInvalidValue)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if in.Action == "start" && s.Code != "" {
		if err := a.store.ExpireJoinCode(ctx, s.Code, a.codeExpiry(s)); err != nil {
			a.log.Warn("join code not extended", "session", id, "err", err)
		}
	}
	if in.Action == "start" || in.Action == "end" {
		a.publish(ctx, "forum:"+s.ForumID, map[string]any{"type": "session.updated", "id": s.ID})
	}
	if endedCode != "" {
		// The code stops working when the session ends; the session's guests are done too.
		if err := a.store.DeleteJoinCode(ctx, endedCode); err != nil {
			a.log.Warn("join code not removed", "session", id, "err", err)
		}
		a.sessionEnded(ctx, s)
	}
	return a.sessionView(ctx, p, s, true)
}

// goToItem closes the current agenda item's run and opens the next ("" for none).
func goToItem(s *insieme.LiveSession, item string, now time.Time) {
	if r := s.CurrentRun(); r != nil {
		r.EndedAt = &now
	}
	s.Current = item
	if item != "" {
		s.Runs = append(s.Runs, insieme.AgendaRun{ItemID: item, StartedAt: now})
	}
}

// endTurn closes the current speaker's turn.
func endTurn(s *insieme.LiveSession, now time.Time) {
	if s.Floor == nil {
		return
	}
	t := *s.Floor
	t.EndedAt = &now
	s.Turns = append(s.Turns, t)
	s.Floor = nil
}

// JoinInput is what someone types to join: the code, and a name when joining as a guest.
type JoinInput struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// JoinResult says what was joined. Token is set for a guest only: the client keeps it (never
// in a URL) and authenticates the live connection with it.
type JoinResult struct {
	Kind      string             `json:"kind"`
	ID        string             `json:"id"`
	Token     string             `json:"token,omitempty"`
	Principal *insieme.Principal `json:"principal"`
}

// Join opens a live session (or workshop) by its code: a signed-in person joins as themselves,
// anyone else as a guest with a name of their choice.
func (a *App) Join(ctx context.Context, p *insieme.Principal, in JoinInput) (*JoinResult, error) {
	code := insieme.NormaliseJoinCode(in.Code)
	if code == "" {
		return nil, insieme.FieldError("code", insieme.FRequired)
	}
	if len(code) != insieme.JoinCodeLength {
		return nil, errBadCode
	}
	jc, err := a.store.JoinCode(ctx, code)
	if insieme.ErrorCode(err) == insieme.ENOTFOUND {
		return nil, errBadCode
	} else if err != nil {
		return nil, err
	}
	now := a.Now()
	if !now.Before(jc.ExpiresAt) {
		return nil, errBadCode
	}
	if jc.Kind == insieme.JoinWorkshop {
		w, err := a.store.Workshop(ctx, jc.TargetID)
		if err != nil {
			return nil, err
		}
		if w.Phase == insieme.PhaseClosed {
			return nil, errWorkshopClosed
		}
	}
	if jc.Kind == insieme.JoinSession {
		s, err := a.liveSession(ctx, jc.TargetID)
		if err != nil {
			return nil, err
		}
		if s.Status == insieme.SessionEnded {
			return nil, errSessionEnded
		}
		if p != nil && s.IsRemoved(p.ID) {
			return nil, errRemoved
		}
	}
	if p.IsAccount() {
		return &JoinResult{Kind: jc.Kind, ID: jc.TargetID, Principal: p}, nil
	}
	name := insieme.CleanText(in.Name)
	var v insieme.Invalid
	insieme.CheckText(&v, "name", name, true, insieme.MaxGuestName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	token := newSecret()
	g := &insieme.Guest{ID: "g" + newID()[:20], TokenHash: HashSecret(token), Kind: jc.Kind, TargetID: jc.TargetID, Name: name,
		CreatedAt: now, ExpiresAt: jc.ExpiresAt}
	if err := a.store.CreateGuest(ctx, g); err != nil {
		return nil, err
	}
	return &JoinResult{Kind: jc.Kind, ID: jc.TargetID, Token: token, Principal: guestPrincipal(g)}, nil
}

func guestPrincipal(g *insieme.Guest) *insieme.Principal {
	return &insieme.Principal{ID: g.ID, Name: g.Name, Guest: true, Scope: g.Scope()}
}

// AuthenticateGuest turns a guest token into the guest; EUNAUTHORIZED when it is no valid one.
func (a *App) AuthenticateGuest(ctx context.Context, secret string) (*insieme.Principal, error) {
	g, err := a.authenticateGuest(ctx, secret)
	if err == nil && g == nil {
		return nil, errUnauthorized
	}
	return g, err
}

// authenticateGuest turns a guest token into the guest, or nil when it is none.
func (a *App) authenticateGuest(ctx context.Context, secret string) (*insieme.Principal, error) {
	g, err := a.store.GuestByToken(ctx, HashSecret(secret))
	if insieme.ErrorCode(err) == insieme.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if g.Revoked || !a.Now().Before(g.ExpiresAt) {
		return nil, errUnauthorized
	}
	return guestPrincipal(g), nil
}

// liveSession reads a session (this node's copy when it has one).
func (a *App) liveSession(ctx context.Context, id string) (*insieme.LiveSession, error) {
	if s, ok := a.rooms.session(id); ok {
		return s, nil
	}
	s, err := a.store.LiveSession(ctx, id)
	if err != nil {
		return nil, err
	}
	a.rooms.putSession(s)
	return s, nil
}

// codeExpiry is when a session's join code stops working (unless the session ends first): a
// day after its start, or after its scheduled time if it has not started.
func (a *App) codeExpiry(s *insieme.LiveSession) time.Time {
	from := s.ScheduledAt
	if s.StartedAt != nil {
		from = *s.StartedAt
	}
	if now := a.Now(); from.Before(now) && s.StartedAt == nil {
		from = now // scheduled in the past and not started: a day from now
	}
	return from.Add(insieme.GuestTTL)
}
