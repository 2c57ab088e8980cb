package app

import (
	"context"
	"encoding/json"

	"github.com/insieme/insieme/internal/insieme"
)

// SessionState is what a participant's screen shows of a live session: the snapshot of the
// room "session:<id>" (events then update it piece by piece, with absolute values).
type SessionState struct {
	Session *SessionView       `json:"session"`
	Me      *insieme.Principal `json:"me,omitempty"`
}

// sessionState builds p's view of a live session from this node's copies.
func (a *App) sessionState(ctx context.Context, p *insieme.Principal, id string) (*SessionState, error) {
	s, _, host, err := a.sessionAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	v, err := a.sessionView(ctx, p, s, host)
	if err != nil {
		return nil, err
	}
	st := &SessionState{Session: v, Me: p}
	return st, nil
}

// authorizeSession: a live session's room is for its participants: guests who joined it by
// code, and accounts who may see its forum.
func (a *App) authorizeSession(ctx context.Context, p *insieme.Principal, id string) error {
	if p == nil {
		return errUnauthorized
	}
	_, _, _, err := a.sessionAccess(ctx, p, id)
	return err
}

// LiveAction is a live message's handler: it answers p's message (its whole JSON object) with
// the value acknowledged, or an error. The same handlers serve the websocket and
// POST /api/v1/sessions/{id}/actions.
type LiveAction func(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error)

// LiveActions lists the live messages by type.
func (a *App) LiveActions() map[string]LiveAction {
	return map[string]LiveAction{
		"session.control": a.controlAction,
	}
}

// sessionMsg is the part every live session message has.
type sessionMsg struct {
	Session string `json:"session"`
}

func decodeLive(msg json.RawMessage, v any) error {
	if err := json.Unmarshal(msg, v); err != nil {
		return insieme.FieldError("message", insieme.FInvalidValue)
	}
	return nil
}

func (a *App) controlAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m struct {
		sessionMsg
		SessionAction
	}
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.ControlSession(ctx, p, m.Session, m.SessionAction)
}

// applyParticipantEvent applies a participant's insert made on any node.
func (a *App) applyParticipantEvent(_ context.Context, ev liveEvent) {
	a.log.Warn("live event of an unknown kind", "kind", ev.Kind)
}

// resetParticipantState forgets participants' state kept from events.
func (a *App) resetParticipantState() {}

// sessionEnded tells the room the session is over.
func (a *App) sessionEnded(ctx context.Context, s *insieme.LiveSession) {
	a.publish(ctx, "session:"+s.ID, map[string]any{"type": "session.ended", "id": s.ID})
}
