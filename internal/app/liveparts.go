package app

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// What participants write in a live session (questions, upvotes, raised hands) is inserted in
// documents of its own, by whichever node serves them. Each node keeps a copy per session,
// read from the store the first time the session needs it (a filter by session, which scans
// on FerretDB's SQLite backend: so once per session per node, never per request) and then kept
// current by the live events every node publishes to LiveRoom after its writes (its own
// included, which come back and are applied again: application is idempotent). Counts (votes,
// the queue) are derived from the copy.
//
// Votes and the queue are pushed to the session's room coalesced: the node that took an
// upvote or a hand marks it, and publishes the absolute values a moment later. A node that
// published recently and then learns of another node's upvote or hand publishes again, so the
// last value a room sees counts every node's writes.

const (
	// partsFlushEvery is how long a node gathers changes to votes and the queue before
	// publishing them (a few updates a second per session at most).
	partsFlushEvery = 250 * time.Millisecond
	// partsRecentFlush: a node that published a session's values this recently publishes them
	// again when another node's change arrives.
	partsRecentFlush = 2 * time.Second
	// maxPartsSessions bounds the sessions a node keeps (as liveRooms does).
	maxPartsSessions = maxLiveRooms
	// partsLoadTimeout bounds reading a session's questions, upvotes and hands.
	partsLoadTimeout = 30 * time.Second
)

// liveParts is this node's copy of the participants' writes, per session.
type liveParts struct {
	mu       sync.Mutex
	node     string // tells this node's events from the others'
	sessions map[string]*sessionParts
	tick     uint64
}

// sessionParts is one session's questions, upvotes and hands; guarded by liveParts.mu.
type sessionParts struct {
	id      string
	ready   chan struct{} // closed once loaded (or failed)
	err     error
	loading bool
	early   []liveEvent // events that arrived while loading, applied after it
	used    uint64

	questions map[string]*insieme.Question
	upvotes   map[string]map[string]bool // question → voters
	gone      map[string]bool            // questions erased
	hands     map[string]*insieme.Hand   // participant → hand

	dirtyVotes   map[string]bool
	dirtyQueue   bool
	flushPending bool
	votesAt      time.Time // when this node last published votes
	queueAt      time.Time // when this node last published the queue
}

// Events' payloads (liveEvent.Data) for the kinds "question", "upvote" and "hand".
type questionEvent struct {
	Node     string            `json:"node"`
	Question *insieme.Question `json:"question,omitempty"` // asked
	ID       string            `json:"id,omitempty"`       // a status change or an erasure
	Status   string            `json:"status,omitempty"`
	Deleted  bool              `json:"deleted,omitempty"`
}

type upvoteEvent struct {
	Node     string `json:"node"`
	Question string `json:"question"`
	Voter    string `json:"voter"`
	Removed  bool   `json:"removed,omitempty"`
}

type handEvent struct {
	Node        string    `json:"node"`
	Participant string    `json:"participant"`
	Name        string    `json:"name,omitempty"`
	Guest       bool      `json:"guest,omitempty"`
	Since       time.Time `json:"since"`
	Raised      bool      `json:"raised"`
}

func (ps *liveParts) nodeID() string {
	if ps.node == "" {
		ps.node = newID()[:12]
	}
	return ps.node
}

func (ps *liveParts) clear() {
	ps.mu.Lock()
	ps.sessions = nil
	ps.mu.Unlock()
}

// sessionParts returns this node's copy of a session's questions, upvotes and hands, reading
// them from the store the first time; callers read and change its fields under a.parts.mu.
func (a *App) sessionParts(ctx context.Context, sessionID string) (*sessionParts, error) {
	ps := &a.parts
	ps.mu.Lock()
	sp := ps.sessions[sessionID]
	ps.tick++
	if sp != nil {
		sp.used = ps.tick
		ps.mu.Unlock()
	} else {
		sp = &sessionParts{id: sessionID, ready: make(chan struct{}), loading: true, used: ps.tick}
		ps.keep(sp)
		ps.mu.Unlock()
		a.loadParts(ctx, sp)
	}
	select {
	case <-sp.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if sp.err != nil {
		return nil, sp.err
	}
	return sp, nil
}

// keep adds a session, forgetting the least recently used one past the bound.
func (ps *liveParts) keep(sp *sessionParts) {
	if ps.sessions == nil {
		ps.sessions = map[string]*sessionParts{}
	}
	for len(ps.sessions) >= maxPartsSessions {
		var oldest *sessionParts
		for _, s := range ps.sessions {
			if !s.loading && (oldest == nil || s.used < oldest.used) {
				oldest = s
			}
		}
		if oldest == nil {
			break
		}
		delete(ps.sessions, oldest.id)
	}
	ps.sessions[sp.id] = sp
}

// loadParts reads a session's questions, upvotes and hands, then applies the events that
// arrived meanwhile (they may repeat what was read: application is idempotent).
func (a *App) loadParts(ctx context.Context, sp *sessionParts) {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), partsLoadTimeout)
	defer cancel()
	qs, err := a.store.QuestionsOf(lctx, sp.id)
	var us []*insieme.Upvote
	if err == nil {
		us, err = a.store.UpvotesOf(lctx, sp.id)
	}
	var hs []*insieme.Hand
	if err == nil {
		hs, err = a.store.HandsOf(lctx, sp.id)
	}
	ps := &a.parts
	ps.mu.Lock()
	defer ps.mu.Unlock()
	defer close(sp.ready)
	sp.loading = false
	if err != nil {
		sp.err = err
		if ps.sessions[sp.id] == sp {
			delete(ps.sessions, sp.id) // the next call tries again
		}
		return
	}
	sp.questions = make(map[string]*insieme.Question, len(qs))
	sp.upvotes = map[string]map[string]bool{}
	sp.gone = map[string]bool{}
	sp.hands = make(map[string]*insieme.Hand, len(hs))
	sp.dirtyVotes = map[string]bool{}
	for _, q := range qs {
		sp.questions[q.ID] = q
	}
	for _, u := range us {
		sp.addUpvote(u.QuestionID, u.VoterID)
	}
	for _, h := range hs {
		sp.hands[h.ParticipantID] = h
	}
	for _, ev := range sp.early {
		a.applyPart(sp, ev)
	}
	sp.early = nil
}

func (sp *sessionParts) addUpvote(questionID, voter string) bool {
	if sp.gone[questionID] {
		return false
	}
	vs := sp.upvotes[questionID]
	if vs == nil {
		vs = map[string]bool{}
		sp.upvotes[questionID] = vs
	}
	if vs[voter] {
		return false
	}
	vs[voter] = true
	return true
}

// applyPartsEvent applies a question, upvote or hand event from any node (ApplyLiveEvent).
func (a *App) applyPartsEvent(ev liveEvent) {
	ps := &a.parts
	ps.mu.Lock()
	defer ps.mu.Unlock()
	sp := ps.sessions[ev.Session]
	if sp == nil {
		return // not kept here: read from the store when needed, the write included
	}
	if sp.loading {
		sp.early = append(sp.early, ev)
		return
	}
	if sp.err != nil {
		return
	}
	a.applyPart(sp, ev)
}

// applyPart applies one event to a loaded session (under a.parts.mu).
func (a *App) applyPart(sp *sessionParts, ev liveEvent) {
	now := time.Now()
	switch ev.Kind {
	case "question":
		var e questionEvent
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			a.log.Warn("question event not understood", "err", err)
			return
		}
		switch {
		case e.Question != nil:
			if _, ok := sp.questions[e.Question.ID]; !ok && !sp.gone[e.Question.ID] {
				q := *e.Question
				sp.questions[q.ID] = &q
			}
		case e.Deleted:
			delete(sp.questions, e.ID)
			delete(sp.upvotes, e.ID)
			delete(sp.dirtyVotes, e.ID)
			sp.gone[e.ID] = true
		case e.Status != "":
			if q, ok := sp.questions[e.ID]; ok {
				q.Status = e.Status
			}
		}
	case "upvote":
		var e upvoteEvent
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			a.log.Warn("upvote event not understood", "err", err)
			return
		}
		changed := false
		if e.Removed {
			if vs := sp.upvotes[e.Question]; vs[e.Voter] {
				delete(vs, e.Voter)
				changed = true
			}
		} else {
			changed = sp.addUpvote(e.Question, e.Voter)
		}
		if changed && e.Node != a.parts.node && now.Sub(sp.votesAt) < partsRecentFlush {
			sp.dirtyVotes[e.Question] = true
			a.scheduleFlush(sp)
		}
	case "hand":
		var e handEvent
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			a.log.Warn("hand event not understood", "err", err)
			return
		}
		old, had := sp.hands[e.Participant]
		changed := false
		if e.Raised {
			if !had || !old.Since.Equal(e.Since) {
				sp.hands[e.Participant] = &insieme.Hand{SessionID: sp.id, ParticipantID: e.Participant, Name: e.Name, Guest: e.Guest, Since: e.Since}
				changed = true
			}
		} else if had {
			delete(sp.hands, e.Participant)
			changed = true
		}
		if changed && e.Node != a.parts.node && now.Sub(sp.queueAt) < partsRecentFlush {
			sp.dirtyQueue = true
			a.scheduleFlush(sp)
		}
	default:
		a.log.Warn("live event of an unknown kind", "kind", ev.Kind)
	}
}

// partWritten applies this node's write to its copy at once (the answer shows it), tells the
// other nodes, and marks what changed for the coalesced publication.
func (a *App) partWritten(ctx context.Context, sp *sessionParts, kind string, data any) {
	ps := &a.parts
	ps.mu.Lock()
	node := ps.nodeID()
	var raw []byte
	switch d := data.(type) {
	case questionEvent:
		d.Node = node
		raw, _ = json.Marshal(d)
	case upvoteEvent:
		d.Node = node
		raw, _ = json.Marshal(d)
		sp.dirtyVotes[d.Question] = true
		a.scheduleFlush(sp)
	case handEvent:
		d.Node = node
		raw, _ = json.Marshal(d)
		sp.dirtyQueue = true
		a.scheduleFlush(sp)
	}
	ev := liveEvent{Session: sp.id, Kind: kind, Data: raw}
	if !sp.loading && sp.err == nil {
		a.applyPart(sp, ev)
	}
	ps.mu.Unlock()
	a.publish(ctx, LiveRoom, ev)
}

// scheduleFlush publishes the marked votes and queue a moment from now (under a.parts.mu).
func (a *App) scheduleFlush(sp *sessionParts) {
	if sp.flushPending {
		return
	}
	sp.flushPending = true
	a.tasks.Add(1)
	time.AfterFunc(partsFlushEvery, func() {
		defer a.tasks.Done()
		a.flushParts(sp)
	})
}

// flushParts publishes the absolute votes of the marked questions and the queue.
func (a *App) flushParts(sp *sessionParts) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ps := &a.parts
	ps.mu.Lock()
	sp.flushPending = false
	now := time.Now()
	type votes struct {
		id string
		n  int
	}
	var vs []votes
	for id := range sp.dirtyVotes {
		if q, ok := sp.questions[id]; ok && q.Public() {
			vs = append(vs, votes{id, len(sp.upvotes[id])})
		}
	}
	clear(sp.dirtyVotes)
	if len(vs) > 0 {
		sp.votesAt = now
	}
	var hands []insieme.Hand
	queue := sp.dirtyQueue
	if queue {
		hands = sp.queue()
		sp.dirtyQueue = false
		sp.queueAt = now
	}
	ps.mu.Unlock()
	slices.SortFunc(vs, func(x, y votes) int { return strings.Compare(x.id, y.id) })
	for _, v := range vs {
		a.publish(ctx, "session:"+sp.id, map[string]any{"type": "question.votes", "question": v.id, "votes": v.n})
	}
	if queue {
		q, err := a.queueViews(ctx, hands)
		if err != nil {
			a.log.Warn("queue not published", "session", sp.id, "err", err)
			return
		}
		a.publish(ctx, "session:"+sp.id, map[string]any{"type": "queue.state", "queue": q})
	}
}
