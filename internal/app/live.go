package app

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/insieme/insieme/internal/insieme"
)

// The live-room hooks: who may join which room and what its current state is.

// Authorize says whether p may join a live room (realtime.Hooks).
func (a *App) Authorize(ctx context.Context, p *insieme.Principal, room string) error {
	kind, id, ok := strings.Cut(room, ":")
	if !ok || id == "" {
		return insieme.Errorf(insieme.EINVALID, "Unknown room.")
	}
	switch kind {
	case "participant":
		if p == nil {
			return errUnauthorized
		}
		if p.ID != id {
			return errForbidden
		}
		return nil
	case "org":
		_, err := a.store.Organisation(ctx, id)
		return err
	case "forum":
		_, err := a.visibleForum(ctx, p, id)
		return err
	case "session":
		return a.authorizeSession(ctx, p, id)
	case "session-host":
		return a.authorizeSessionHost(ctx, p, id)
	case "workshop":
		return a.authorizeWorkshop(ctx, p, id)
	}
	return insieme.Errorf(insieme.ENOTFOUND, "Unknown room.")
}

// Snapshot is a live room's current state as p may see it (realtime.Hooks).
func (a *App) Snapshot(ctx context.Context, p *insieme.Principal, room string) (json.RawMessage, error) {
	kind, id, _ := strings.Cut(room, ":")
	var v any
	var err error
	switch kind {
	case "participant":
		if p.IsAccount() {
			v, err = a.Me(ctx, p)
		} else {
			v = p
		}
	case "org":
		v, err = a.Organisation(ctx, p, id)
	case "forum":
		v, err = a.Forum(ctx, p, id)
	case "session":
		v, err = a.sessionState(ctx, p, id)
	case "session-host":
		v, err = a.hostState(ctx, p, id)
	case "workshop":
		v, err = a.workshopState(ctx, p, id)
	default:
		return nil, insieme.Errorf(insieme.ENOTFOUND, "Unknown room.")
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}
