package app

import (
	"context"
	"encoding/json"

	"github.com/insieme/insieme/internal/insieme"
)

// CloseRemoved is the websocket close code for someone a host removed from a live session
// (docs/PROTOCOL.md): the client says so and does not rejoin that session.
const CloseRemoved = 4004

var errRemoved = &insieme.Error{Code: insieme.EFORBIDDEN, Message: "A host removed you from this session."}

// roomDisconnecter is a Live that can close a person's connections to one room only, on
// every node (cmd/insieme's adapter); otherwise all of the person's connections are closed.
type roomDisconnecter interface {
	DisconnectFromRoom(principalID, room string, code int)
}

// isGuestID tells a guest's id ("g" and 20 hex digits) from an account's (32 hex digits).
func isGuestID(id string) bool { return len(id) == 21 && id[0] == 'g' }

func (a *App) removeAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m struct {
		sessionMsg
		Participant string `json:"participant"`
	}
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return nil, a.RemoveParticipant(ctx, p, m.Session, m.Participant)
}

var errNoParticipant = &insieme.Error{Code: insieme.ENOTFOUND, Message: "This session has no such participant."}

// RemoveParticipant removes someone from a live session (its hosts). A guest's tokens are
// revoked and their connections closed; an account is barred from the session (it can no
// longer join its room, act in it or see it) and its connections to the session's room are
// closed; their raised hand goes down. Hosts cannot be removed. Removing someone removed
// already changes nothing.
func (a *App) RemoveParticipant(ctx context.Context, p *insieme.Principal, sessionID, participantID string) error {
	if participantID == "" {
		return insieme.FieldError("participant", insieme.FRequired)
	}
	guest := isGuestID(participantID)
	_, err := a.hostAction(ctx, p, sessionID, func(s *insieme.LiveSession) error {
		if s.Status == insieme.SessionEnded {
			return errSessionEnded
		}
		if participantID == p.ID {
			return &insieme.Error{Code: insieme.EINVALID, Message: "You cannot remove yourself.",
				Fields: map[string]string{"participant": insieme.FInvalidValue}}
		}
		if guest {
			// Scoped to this session: a host of one session cannot revoke another's guests.
			err := a.store.RevokeGuest(ctx, participantID, insieme.JoinSession, s.ID)
			if insieme.ErrorCode(err) == insieme.ENOTFOUND {
				return errNoParticipant
			} else if err != nil {
				return err
			}
		} else {
			acct, err := a.store.Account(ctx, participantID)
			if insieme.ErrorCode(err) == insieme.ENOTFOUND {
				return errNoParticipant
			} else if err != nil {
				return err
			}
			f, err := a.store.Forum(ctx, s.ForumID)
			if err != nil {
				return err
			}
			target := &insieme.Principal{ID: acct.ID, AccountID: acct.ID, Name: acct.DisplayName, Admin: acct.Role == insieme.RoleAdmin}
			if host, err := a.hosts(ctx, target, s, f); err != nil {
				return err
			} else if host {
				return &insieme.Error{Code: insieme.ECONFLICT, Message: "A host of the session cannot be removed from it."}
			}
		}
		switch {
		case s.IsRemoved(participantID):
		case len(s.Removed) < insieme.MaxRemoved:
			s.Removed = append(s.Removed, participantID)
		case !guest: // a guest's revoked tokens are enough; an account needs the list
			return &insieme.Error{Code: insieme.ETOOMANY, Message: "Too many people were removed from this session."}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Their raised hand goes down (best effort: the removal stands either way).
	if _, err := a.RemoveHand(ctx, p, sessionID, participantID); err != nil {
		a.log.Warn("removed participant's hand not lowered", "session", sessionID, "err", err)
	}
	if guest {
		// A guest's token served this session only: close every connection it opened.
		a.live.DisconnectPrincipal(participantID, CloseRemoved)
	} else if rd, ok := a.live.(roomDisconnecter); ok {
		rd.DisconnectFromRoom(participantID, "session:"+sessionID, CloseRemoved)
	} else {
		a.live.DisconnectPrincipal(participantID, CloseRemoved)
	}
	return nil
}
