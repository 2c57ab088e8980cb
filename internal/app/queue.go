package app

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// The speaking queue of a live session: participants raise and lower their hand (a document
// each, keyed by session and participant, so raising twice changes nothing on any node); the
// hosts give the floor to someone (their hand goes down, the current turn ends), end a turn,
// or take a hand down. The queue is shown whole and in order, so everyone sees their place.

// HandView is a raised hand in the queue.
type HandView struct {
	ParticipantID string    `json:"participantId"`
	Name          string    `json:"name"`
	Guest         bool      `json:"guest,omitempty"`
	Since         time.Time `json:"since"`
}

// queue is the raised hands, longest raised first (under a.parts.mu).
func (sp *sessionParts) queue() []insieme.Hand {
	out := make([]insieme.Hand, 0, len(sp.hands))
	for _, h := range sp.hands {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(x, y insieme.Hand) int {
		if c := x.Since.Compare(y.Since); c != 0 {
			return c
		}
		return strings.Compare(x.ParticipantID, y.ParticipantID)
	})
	return out
}

// queueViews names the hands: guests by the name they chose, accounts by their account's.
func (a *App) queueViews(ctx context.Context, hands []insieme.Hand) ([]HandView, error) {
	out := make([]HandView, 0, len(hands))
	for _, h := range hands {
		v := HandView{ParticipantID: h.ParticipantID, Name: h.Name, Guest: h.Guest, Since: h.Since}
		if !h.Guest {
			pv, err := a.person(ctx, h.ParticipantID)
			if err != nil {
				return nil, err
			}
			v.Name = pv.DisplayName
		}
		out = append(out, v)
	}
	return out, nil
}

// sessionQueue is a session's queue as shown.
func (a *App) sessionQueue(ctx context.Context, sessionID string) ([]HandView, error) {
	sp, err := a.sessionParts(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	return a.partsQueue(ctx, sp)
}

func (a *App) partsQueue(ctx context.Context, sp *sessionParts) ([]HandView, error) {
	a.parts.mu.Lock()
	hands := sp.queue()
	a.parts.mu.Unlock()
	return a.queueViews(ctx, hands)
}

// RaiseHand puts p in the session's queue (once: raising again changes nothing).
func (a *App) RaiseHand(ctx context.Context, p *insieme.Principal, sessionID string) ([]HandView, error) {
	s, err := a.participantAction(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	sp, err := a.sessionParts(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	a.parts.mu.Lock()
	_, raised := sp.hands[p.ID]
	a.parts.mu.Unlock()
	if !raised {
		h := &insieme.Hand{SessionID: s.ID, ParticipantID: p.ID, Guest: p.Guest, Since: a.Now()}
		if p.Guest {
			h.Name = p.Name
		}
		err := a.store.RaiseHand(ctx, h)
		switch insieme.ErrorCode(err) {
		case "":
			a.partWritten(ctx, sp, "hand", handEvent{Participant: p.ID, Name: h.Name, Guest: h.Guest, Since: h.Since, Raised: true})
		case insieme.ECONFLICT:
			// Raised already, on another node or by a concurrent request: its event follows.
		default:
			return nil, err
		}
	}
	return a.partsQueue(ctx, sp)
}

// lowerHand takes a participant's hand down, if it is up.
func (a *App) lowerHand(ctx context.Context, sp *sessionParts, participantID string) error {
	lowered, err := a.store.LowerHand(ctx, sp.id, participantID)
	if err != nil {
		return err
	}
	if lowered {
		a.partWritten(ctx, sp, "hand", handEvent{Participant: participantID, Raised: false})
	}
	return nil
}

// LowerHand takes p out of the session's queue.
func (a *App) LowerHand(ctx context.Context, p *insieme.Principal, sessionID string) ([]HandView, error) {
	if p == nil {
		return nil, errUnauthorized
	}
	s, _, _, err := a.sessionAccess(ctx, p, sessionID) // also once the session ended
	if err != nil {
		return nil, err
	}
	sp, err := a.sessionParts(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	if err := a.lowerHand(ctx, sp, p.ID); err != nil {
		return nil, err
	}
	return a.partsQueue(ctx, sp)
}

// RemoveHand takes someone's hand down (hosts).
func (a *App) RemoveHand(ctx context.Context, p *insieme.Principal, sessionID, participantID string) ([]HandView, error) {
	s, err := a.requireHost(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	if participantID == "" {
		return nil, insieme.FieldError("participant", insieme.FRequired)
	}
	sp, err := a.sessionParts(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	if err := a.lowerHand(ctx, sp, participantID); err != nil {
		return nil, err
	}
	return a.partsQueue(ctx, sp)
}

// GiveFloor gives someone the floor (hosts): the current turn ends, theirs starts, and their
// hand goes down. Anyone with a raised hand may be given it, and accounts without one.
func (a *App) GiveFloor(ctx context.Context, p *insieme.Principal, sessionID, participantID string) (*SessionView, error) {
	if _, err := a.requireHost(ctx, p, sessionID); err != nil {
		return nil, err
	}
	if participantID == "" {
		return nil, insieme.FieldError("participant", insieme.FRequired)
	}
	sp, err := a.sessionParts(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	s, err := a.hostAction(ctx, p, sessionID, func(s *insieme.LiveSession) error {
		if s.Status != insieme.SessionLive {
			return &insieme.Error{Code: insieme.ECONFLICT, Message: "Start the session first."}
		}
		// Guests are named by the name on their hand; accounts by their account (by id, so
		// the minutes follow an erasure).
		a.parts.mu.Lock()
		h, raised := sp.hands[participantID]
		name := ""
		if raised {
			name = h.Name
		}
		a.parts.mu.Unlock()
		if !raised {
			acct, err := a.store.Account(ctx, participantID)
			if insieme.ErrorCode(err) == insieme.ENOTFOUND || (err == nil && !acct.Active()) {
				return insieme.FieldError("participant", insieme.FInvalidValue)
			} else if err != nil {
				return err
			}
		}
		now := a.Now()
		endTurn(s, now)
		s.Floor = &insieme.Turn{ParticipantID: participantID, Name: name, StartedAt: now}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := a.lowerHand(ctx, sp, participantID); err != nil {
		a.log.Warn("hand not lowered after the floor was given", "session", sessionID, "err", err)
	}
	return a.sessionView(ctx, p, s, true)
}

// EndFloor ends the current speaker's turn (hosts).
func (a *App) EndFloor(ctx context.Context, p *insieme.Principal, sessionID string) (*SessionView, error) {
	if _, err := a.requireHost(ctx, p, sessionID); err != nil {
		return nil, err
	}
	s, err := a.hostAction(ctx, p, sessionID, func(s *insieme.LiveSession) error {
		if s.Status == insieme.SessionEnded {
			return errSessionEnded
		}
		endTurn(s, a.Now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a.sessionView(ctx, p, s, true)
}

// Live messages about the queue.

type participantMsg struct {
	sessionMsg
	Participant string `json:"participant"`
}

func (a *App) raiseHandAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m sessionMsg
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.RaiseHand(ctx, p, m.Session)
}

func (a *App) lowerHandAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m sessionMsg
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.LowerHand(ctx, p, m.Session)
}

func (a *App) removeHandAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m participantMsg
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.RemoveHand(ctx, p, m.Session, m.Participant)
}

func (a *App) giveFloorAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m participantMsg
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.GiveFloor(ctx, p, m.Session, m.Participant)
}

func (a *App) endFloorAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m sessionMsg
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.EndFloor(ctx, p, m.Session)
}

// eraseHandsBy takes a person's raised hands down.
func (a *App) eraseHandsBy(ctx context.Context, acct *insieme.Account) error {
	hs, err := a.store.HandsBy(ctx, acct.ID)
	if err != nil {
		return err
	}
	for _, h := range hs {
		sp, err := a.sessionParts(ctx, h.SessionID)
		if err != nil {
			return err
		}
		if err := a.lowerHand(ctx, sp, acct.ID); err != nil {
			return err
		}
	}
	return nil
}
