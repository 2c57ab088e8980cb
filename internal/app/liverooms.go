package app

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/insieme/insieme/internal/insieme"
)

// LiveRoom carries every node's changes to live sessions to the other nodes (see
// ApplyLiveEvent); clients never join it.
const LiveRoom = "system:live"

// liveEvent says what changed in a live session. A "session" event names the version the
// hosts' state reached (nodes re-read it by _id); the participants' inserts (ballots,
// upvotes, hands, questions) travel in Data so every node can apply them without a read.
type liveEvent struct {
	Session string          `json:"session"`
	Kind    string          `json:"kind"`
	Version int64           `json:"version,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// maxLiveRooms bounds the sessions a node keeps in memory.
const maxLiveRooms = 500

// liveRooms is this node's copy of the live sessions it serves: read from the store once,
// then kept current by the live events of every node, so a thousand clients' snapshots cost
// no store reads.
type liveRooms struct {
	mu       sync.Mutex
	sessions map[string]*insieme.LiveSession
}

// session returns this node's copy of a session (never modify it).
func (r *liveRooms) session(id string) (*insieme.LiveSession, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sessions[id]
	return s, ok
}

// putSession keeps a session unless a newer version is kept already.
func (r *liveRooms) putSession(s *insieme.LiveSession) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sessions == nil {
		r.sessions = map[string]*insieme.LiveSession{}
	}
	if old, ok := r.sessions[s.ID]; ok && old.Version > s.Version {
		return
	}
	if _, ok := r.sessions[s.ID]; !ok && len(r.sessions) >= maxLiveRooms {
		for k, old := range r.sessions { // ended sessions first, then any one
			if old.Status == insieme.SessionEnded {
				delete(r.sessions, k)
				break
			}
		}
		for k := range r.sessions {
			if len(r.sessions) < maxLiveRooms {
				break
			}
			delete(r.sessions, k)
		}
	}
	r.sessions[s.ID] = s
}

// stale says whether this node's copy is older than version (or absent).
func (r *liveRooms) stale(id string, version int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sessions[id]
	return !ok || s.Version < version
}

func (r *liveRooms) drop(id string) {
	r.mu.Lock()
	delete(r.sessions, id)
	r.mu.Unlock()
}

func (r *liveRooms) clear() {
	r.mu.Lock()
	r.sessions = nil
	r.mu.Unlock()
}

// ApplyLiveEvent applies another node's (or this node's own) change to a live session.
func (a *App) ApplyLiveEvent(ctx context.Context, data []byte) {
	var ev liveEvent
	if err := json.Unmarshal(data, &ev); err != nil || ev.Session == "" {
		a.log.Warn("live event not understood", "err", err)
		return
	}
	switch ev.Kind {
	case "session":
		if a.rooms.stale(ev.Session, ev.Version) {
			if s, err := a.store.LiveSession(ctx, ev.Session); err == nil {
				a.rooms.putSession(s)
			} else {
				a.rooms.drop(ev.Session)
			}
		}
	case "presence":
		a.applyPresence(ev)
	default:
		a.applyParticipantEvent(ctx, ev)
	}
}

// ResetLive forgets this node's copies after a broker outage: other nodes' changes may have
// been missed, so they are read again from the store when next needed.
func (a *App) ResetLive() {
	a.rooms.clear()
	a.resetParticipantState()
	a.presence.reset()
}
