package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// SessionState is what a participant's screen shows of a live session: the snapshot of the
// room "session:<id>" (events then update it piece by piece, with absolute values).
type SessionState struct {
	Session *SessionView       `json:"session"`
	Me      *insieme.Principal `json:"me,omitempty"`
	// Questions are the approved and answered questions and p's own pending ones, oldest
	// first (clients sort by votes or time); Queue is the raised hands in order.
	Questions []QuestionView `json:"questions"`
	Queue     []HandView     `json:"queue"`
	// Presence is how many participants are connected now, on every node.
	Presence PresenceCounts `json:"presence"`
	// Polls are the session's polls p may see, oldest first: hosts see drafts and every
	// result; participants see opened polls, results when shown, and their own ballot (mine).
	Polls []*PollView `json:"polls"`
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
	st := &SessionState{Session: v, Me: p, Presence: a.presence.counts(s.ID)}
	if st.Questions, err = a.sessionQuestions(ctx, p, s.ID); err != nil {
		return nil, err
	}
	if st.Queue, err = a.sessionQueue(ctx, s.ID); err != nil {
		return nil, err
	}
	if st.Polls, err = a.pollViews(ctx, p, s.ID, host); err != nil {
		return nil, err
	}
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

// HostState is the snapshot of the room "session-host:<id>": what only the hosts see.
type HostState struct {
	Pending []QuestionView `json:"pending"` // questions waiting for approval, oldest first
	// Participants are the people connected now, sorted by name (at most 500: then
	// ParticipantsTruncated is set, and Presence has the exact counts).
	Participants          []PresentPerson `json:"participants"`
	ParticipantsTruncated bool            `json:"participantsTruncated,omitempty"`
	Presence              PresenceCounts  `json:"presence"`
}

// authorizeSessionHost: the host room is for the session's hosts only.
func (a *App) authorizeSessionHost(ctx context.Context, p *insieme.Principal, id string) error {
	_, err := a.requireHost(ctx, p, id)
	return err
}

// hostState builds the host room's snapshot.
func (a *App) hostState(ctx context.Context, p *insieme.Principal, id string) (*HostState, error) {
	if err := a.authorizeSessionHost(ctx, p, id); err != nil {
		return nil, err
	}
	pending, err := a.pendingQuestions(ctx, p, id)
	if err != nil {
		return nil, err
	}
	st := &HostState{Pending: pending, Presence: a.presence.counts(id)}
	st.Participants, st.ParticipantsTruncated = a.presenceList(id)
	return st, nil
}

// LiveAction is a live message's handler: it answers p's message (its whole JSON object) with
// the value acknowledged, or an error. The same handlers serve the websocket and
// POST /api/v1/sessions/{id}/actions.
type LiveAction func(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error)

// LiveActions lists the live messages by type: the live sessions' and the workshops'.
func (a *App) LiveActions() map[string]LiveAction {
	actions := a.sessionActions()
	for typ, act := range a.WorkshopActions() {
		actions[typ] = act
	}
	return actions
}

// sessionActions lists the live sessions' messages by type.
func (a *App) sessionActions() map[string]LiveAction {
	return map[string]LiveAction{
		"session.control":    a.controlAction,
		"question.ask":       a.askAction,
		"question.upvote":    a.upvoteAction,
		"question.moderate":  a.moderateAction,
		"hand.raise":         a.raiseHandAction,
		"hand.lower":         a.lowerHandAction,
		"hand.remove":        a.removeHandAction,
		"floor.give":         a.giveFloorAction,
		"floor.end":          a.endFloorAction,
		"participant.remove": a.removeAction,
		"poll.create":        a.pollCreateAction,
		"poll.update":        a.pollUpdateAction,
		"poll.delete":        a.pollDeleteAction,
		"poll.open":          a.pollOpenAction,
		"poll.close":         a.pollCloseAction,
		"poll.vote":          a.pollVoteAction,
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
func (a *App) applyParticipantEvent(ctx context.Context, ev liveEvent) {
	switch ev.Kind {
	case "question", "upvote", "hand":
		a.applyPartsEvent(ev)
	case "poll", "ballots", "ballots.erased":
		a.applyPollEvent(ctx, ev)
	default:
		a.log.Warn("live event of an unknown kind", "kind", ev.Kind)
	}
}

// resetParticipantState forgets participants' state kept from events.
func (a *App) resetParticipantState() {
	a.parts.clear()
	a.resetPolls()
}

// sessionEnded closes the session's open polls (each with its final recount) and tells the
// room the session is over.
func (a *App) sessionEnded(ctx context.Context, s *insieme.LiveSession) {
	// The final recounts and the minutes must not be cut short by the host's request (a
	// websocket action has 15 s; closing polls may wait for ballots in flight).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	a.closeSessionPolls(ctx, s)
	if err := a.writeMinutes(ctx, s); err != nil {
		// The session's record stays in the store (polls, questions, the session's own
		// agenda runs and turns): the minutes can be written again from it.
		a.log.Error("minutes not written", "session", s.ID, "err", err)
	} else if pub, err := a.sessionView(ctx, nil, s, false); err == nil {
		// Now with its minutes: the pages show their links.
		a.publish(ctx, "session:"+s.ID, map[string]any{"type": "session.state", "session": pub})
		a.publish(ctx, "forum:"+s.ForumID, map[string]any{"type": "session.updated", "id": s.ID})
	}
	a.publish(ctx, "session:"+s.ID, map[string]any{"type": "session.ended", "id": s.ID})
}
