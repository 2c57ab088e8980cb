package app

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// Live polls. The hosts write a poll's definition and status (a version-checked document,
// like the session); participants' ballots are append-only documents keyed by (poll, voter,
// version), the version drawn on this node without reading the store. Ballots arriving
// together are stored in one batch, each acknowledged only once its batch is stored. Every
// node keeps a running count of each voter's latest ballot: its own ballots and, through
// LiveRoom, the other nodes' batches. Results go to the room coalesced (at most a few a
// second per poll), and the final tally is recounted from the stored ballots at close.

// Batching and coalescing.
const (
	ballotBatchSize    = 200                    // ballots per insert at most
	ballotBatchWait    = 5 * time.Millisecond   // how long the first ballot of a batch waits for others
	ballotFlushes      = 4                      // batches being stored at once, per node
	ballotStoreTimeout = 15 * time.Second       // a batch's insert, at most
	resultsEvery       = 250 * time.Millisecond // poll.results per poll and node, at most ~4 a second
	// resultsDeliveries bounds what a poll's results cost a node: at most this many
	// deliveries a second, so a hall of 19,000 gets them about every 2 s rather than 4 times
	// a second (76,000 frames a second, which starved the ballots' own inserts of CPU).
	resultsDeliveries = 10000
	resultsEveryMax   = 3 * time.Second
	// pollCloseGrace lets other nodes' batches accepted before a close reach the store before
	// the recount reads it (a node that stores one later recounts itself: see flushBallots).
	pollCloseGrace = 200 * time.Millisecond
)

// PollInput is the poll form of poll.create and poll.update; nil fields stay as they are.
type PollInput struct {
	ID            string           `json:"id"`
	Kind          *string          `json:"kind"`
	Title         *insieme.Texts   `json:"title"`
	Options       *[]insieme.Texts `json:"options"`
	MaxChoices    *int             `json:"maxChoices"`
	GuestsMayVote *bool            `json:"guestsMayVote"`
	ShowResults   *string          `json:"showResults"`
}

// VoteInput is a ballot as sent: the fields of the poll's kind.
type VoteInput struct {
	Poll    string   `json:"poll"`
	Choices []int    `json:"choices,omitempty"`
	Ranking []int    `json:"ranking,omitempty"`
	Scale   int      `json:"scale,omitempty"`
	Words   []string `json:"words,omitempty"`
}

// VoteResult acknowledges a stored ballot.
type VoteResult struct {
	Version int64 `json:"version"`
}

// PollView is a poll as shown: its results when the viewer may see them, and the viewer's
// own latest ballot.
type PollView struct {
	ID            string          `json:"id"`
	SessionID     string          `json:"sessionId"`
	Kind          string          `json:"kind"`
	Title         insieme.Texts   `json:"title"`
	Options       []insieme.Texts `json:"options,omitempty"`
	MaxChoices    int             `json:"maxChoices,omitempty"`
	GuestsMayVote bool            `json:"guestsMayVote"`
	ShowResults   string          `json:"showResults"`
	Status        string          `json:"status"`
	OpenedAt      *time.Time      `json:"openedAt,omitempty"`
	ClosedAt      *time.Time      `json:"closedAt,omitempty"`
	Results       *ResultsView    `json:"results,omitempty"`
	Mine          *BallotView     `json:"mine,omitempty"`
	Version       int64           `json:"version"`
}

// ResultsView is a poll's tally as shown (absolute values). Final is set once the tally was
// recounted from the stored ballots at close.
type ResultsView struct {
	Voters       int        `json:"voters"`
	Guests       int        `json:"guests"`
	Accounts     int        `json:"accounts"`
	Counts       []int      `json:"counts,omitempty"`
	Points       []int      `json:"points,omitempty"`
	Distribution []int      `json:"distribution,omitempty"`
	Average      *float64   `json:"average,omitempty"`
	Words        []WordView `json:"words,omitempty"`
	Final        bool       `json:"final"`
}

// WordView is a word of a word cloud.
type WordView struct {
	Word  string `json:"word"`
	Count int    `json:"count"`
}

// BallotView is a participant's own ballot.
type BallotView struct {
	Version int64    `json:"version"`
	Choices []int    `json:"choices,omitempty"`
	Ranking []int    `json:"ranking,omitempty"`
	Scale   int      `json:"scale,omitempty"`
	Words   []string `json:"words,omitempty"`
}

var (
	errPollNotHere     = &insieme.Error{Code: insieme.ENOTFOUND, Message: "This poll is not part of this session."}
	errPollNotOpen     = &insieme.Error{Code: insieme.ECONFLICT, Message: "This poll is not open."}
	errPollNotDraft    = &insieme.Error{Code: insieme.ECONFLICT, Message: "Only a poll that was never opened can be changed or deleted."}
	errPollClosed      = &insieme.Error{Code: insieme.ECONFLICT, Message: "This poll is closed."}
	errGuestsMayNot    = &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Guests may not vote in this poll."}
	errSessionNotLive  = &insieme.Error{Code: insieme.ECONFLICT, Message: "The session is not live."}
	errBallotNotStored = &insieme.Error{Code: insieme.EUNAVAILABLE, Message: "Your vote was not saved; send it again."}
	errNoChange        = errors.New("no change")
)

// ballotClock draws ballot versions: max(last+1, now in nanoseconds, floor), so a voter's
// later ballot on this process always has a higher version, and with floor (one more than
// the voter's latest version this node knows of) a later one on another node too, even when
// that node's clock is behind.
var ballotClock atomic.Int64

func nextBallotVersion(floor int64) int64 {
	for {
		last := ballotClock.Load()
		v := max(last+1, time.Now().UnixNano(), floor)
		if ballotClock.CompareAndSwap(last, v) {
			return v
		}
	}
}

// livePolls is this node's state of the polls of the live sessions it serves: loaded from
// the store once per session (a scan of its ballots), then kept by this node's batches and
// the other nodes' events.
type livePolls struct {
	mu    sync.Mutex
	rooms map[string]*pollRoom // by session id
	batch ballotBatch
}

// pollRoom is one session's polls on this node.
type pollRoom struct {
	session string
	ready   chan struct{} // closed once loaded (err says whether it failed)
	err     error
	loading bool
	polls   map[string]*pollState
	// While loading, events are applied as they come and the stored state is merged in
	// afterwards; deletions and erasures seen meanwhile are applied again after the merge.
	deleted map[string]bool
	erased  []string
}

// pollState is one poll on this node.
type pollState struct {
	poll     *insieme.Poll // nil while only ballots are known (never modified: replaced)
	count    *insieme.Count
	inflight int  // ballots accepted on this node and not yet answered
	closing  bool // this node is closing it (and recounts after its ballots are stored)
	timer    *time.Timer
	lastSent time.Time
}

func (r *pollRoom) state(pollID string) *pollState {
	st := r.polls[pollID]
	if st == nil {
		st = &pollState{count: insieme.NewCount()}
		r.polls[pollID] = st
	}
	return st
}

// pollRoom returns this node's state of a session's polls, loading it on first need.
func (a *App) pollRoom(ctx context.Context, sessionID string) (*pollRoom, error) {
	ps := &a.polls
	ps.mu.Lock()
	if ps.rooms == nil {
		ps.rooms = map[string]*pollRoom{}
	}
	r := ps.rooms[sessionID]
	if r == nil {
		r = &pollRoom{session: sessionID, ready: make(chan struct{}), loading: true, polls: map[string]*pollState{}, deleted: map[string]bool{}}
		a.evictPollRooms()
		ps.rooms[sessionID] = r
		ps.mu.Unlock()
		// Detached: a client going away must not fail the others waiting for the load.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		a.loadPollRoom(lctx, r)
		cancel()
	} else {
		ps.mu.Unlock()
	}
	select {
	case <-r.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	return r, nil
}

// evictPollRooms bounds the sessions kept: over maxLiveRooms it forgets those without open
// polls (they are read again when needed). Call with the lock held.
func (a *App) evictPollRooms() {
	ps := &a.polls
	if len(ps.rooms) < maxLiveRooms {
		return
	}
	for id, r := range ps.rooms {
		if r.active() {
			continue
		}
		delete(ps.rooms, id)
		if len(ps.rooms) < maxLiveRooms {
			return
		}
	}
}

// active says whether the room is loading, has an open poll, or ballots on their way.
func (r *pollRoom) active() bool {
	if r.loading {
		return true
	}
	for _, st := range r.polls {
		if st.inflight > 0 || st.poll == nil || st.poll.Status == insieme.PollOpen {
			return true
		}
	}
	return false
}

func (a *App) loadPollRoom(ctx context.Context, r *pollRoom) {
	polls, err := a.store.PollsOf(ctx, r.session)
	var ballots []*insieme.Ballot
	if err == nil && slices.ContainsFunc(polls, func(p *insieme.Poll) bool { return p.Status != insieme.PollDraft }) {
		ballots, err = a.store.SessionBallots(ctx, r.session)
	}
	ps := &a.polls
	ps.mu.Lock()
	defer ps.mu.Unlock()
	defer close(r.ready)
	if err != nil {
		r.err = err
		if ps.rooms[r.session] == r {
			delete(ps.rooms, r.session) // the next request tries again
		}
		return
	}
	for _, p := range polls {
		if r.deleted[p.ID] {
			continue
		}
		if st := r.state(p.ID); st.poll == nil || st.poll.Version < p.Version {
			st.poll = p
		}
	}
	stored := map[string]int{} // ballot documents per poll
	for _, b := range ballots {
		stored[b.PollID]++
		if !r.deleted[b.PollID] {
			r.state(b.PollID).count.Add(b)
		}
	}
	// A closed poll with more stored ballots than its final tally read (a node stored one
	// after the close and went away before recounting), or without a final tally (its
	// recount failed): recount it.
	var recount []string
	for _, p := range polls {
		if p.Status == insieme.PollClosed && !r.deleted[p.ID] && (p.Final == nil || stored[p.ID] > p.Final.Ballots) {
			recount = append(recount, p.ID)
		}
	}
	if len(recount) > 0 {
		a.background(ctx, func(ctx context.Context) {
			for _, id := range recount {
				if _, err := a.recountPoll(ctx, id); err != nil {
					a.log.Warn("recount on load", "poll", id, "err", err)
				}
			}
		})
	}
	for _, voter := range r.erased {
		for _, st := range r.polls {
			st.count.Remove(voter)
		}
	}
	r.loading, r.deleted, r.erased = false, nil, nil
}

// resetPolls forgets every session's polls (a broker outage: other nodes' ballots may have
// been missed); they are loaded again from the store when next needed.
func (a *App) resetPolls() {
	a.polls.mu.Lock()
	a.polls.rooms = nil
	a.polls.mu.Unlock()
}

// participantSession is the session p takes part in: guests only in the one they joined,
// accounts in those of forums they may see.
func (a *App) participantSession(ctx context.Context, p *insieme.Principal, id string) (*insieme.LiveSession, error) {
	if p == nil {
		return nil, errUnauthorized
	}
	s, err := a.liveSession(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.IsRemoved(p.ID) { // hosts are never removed
		return nil, errRemoved
	}
	if p.Guest {
		if p.Scope != insieme.JoinSession+":"+s.ID {
			return nil, insieme.Errorf(insieme.ENOTFOUND, "session not found.")
		}
		return s, nil
	}
	if _, err := a.visibleForum(ctx, p, s.ForumID); err != nil {
		if insieme.ErrorCode(err) == insieme.ENOTFOUND {
			return nil, insieme.Errorf(insieme.ENOTFOUND, "session not found.")
		}
		return nil, err
	}
	return s, nil
}

// Vote stores p's ballot in an open poll of a live session and acknowledges it once stored.
func (a *App) Vote(ctx context.Context, p *insieme.Principal, sessionID string, in VoteInput) (*VoteResult, error) {
	s, err := a.participantSession(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	if in.Poll == "" {
		return nil, insieme.FieldError("poll", insieme.FRequired)
	}
	switch s.Status {
	case insieme.SessionEnded:
		return nil, errSessionEnded
	case insieme.SessionLive:
	default:
		return nil, errSessionNotLive
	}
	r, err := a.pollRoom(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	b := &insieme.Ballot{PollID: in.Poll, SessionID: s.ID, VoterID: p.ID, Guest: p.Guest, Choices: in.Choices, Ranking: in.Ranking,
		Scale: in.Scale, Words: in.Words, CreatedAt: a.Now()}
	ps := &a.polls
	ps.mu.Lock()
	st := r.polls[in.Poll]
	var poll *insieme.Poll
	if st != nil {
		poll = st.poll
	}
	switch {
	case poll == nil:
		err = errPollNotHere
	case poll.Status != insieme.PollOpen:
		err = errPollNotOpen
	case p.Guest && !poll.GuestsMayVote:
		err = errGuestsMayNot
	default:
		err = poll.CheckBallot(b)
	}
	if err != nil {
		ps.mu.Unlock()
		return nil, err
	}
	// Above the voter's latest version known here, should it come from a node whose clock
	// is ahead of this one's.
	var floor int64
	if l := st.count.Latest(p.ID); l != nil {
		floor = l.Version + 1
	}
	b.Version = nextBallotVersion(floor)
	st.inflight++ // a close on this node waits for it
	ps.mu.Unlock()
	err = a.submitBallot(ctx, b)
	ps.mu.Lock()
	st.inflight--
	ps.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &VoteResult{Version: b.Version}, nil
}

// ballotBatch groups the ballots arriving on this node into batched inserts.
type ballotBatch struct {
	mu       sync.Mutex
	queue    []*queuedBallot
	timer    *time.Timer
	flushing int
}

type queuedBallot struct {
	ctx  context.Context
	b    *insieme.Ballot
	done chan error // buffered: the flusher never waits for a voter
}

// submitBallot queues a ballot and waits until its batch is stored (nil) or not (an error).
func (a *App) submitBallot(ctx context.Context, b *insieme.Ballot) error {
	q := &queuedBallot{ctx: ctx, b: b, done: make(chan error, 1)}
	bb := &a.polls.batch
	bb.mu.Lock()
	bb.queue = append(bb.queue, q)
	a.kickBallots()
	bb.mu.Unlock()
	select {
	case err := <-q.done:
		return err
	case <-ctx.Done():
		// Not acknowledged, though it may still be stored (and count while it is the voter's
		// newest): the voter is told to send it again.
		return errBallotNotStored
	}
}

// kickBallots starts storing what is queued: full batches at once, a partial one when its
// first ballot has waited ballotBatchWait. Call with bb.mu held.
func (a *App) kickBallots() {
	bb := &a.polls.batch
	for bb.flushing < ballotFlushes && len(bb.queue) >= ballotBatchSize {
		a.startFlush(ballotBatchSize)
	}
	if len(bb.queue) > 0 && bb.timer == nil && bb.flushing < ballotFlushes {
		bb.timer = time.AfterFunc(ballotBatchWait, func() {
			bb.mu.Lock()
			defer bb.mu.Unlock()
			bb.timer = nil
			if len(bb.queue) > 0 && bb.flushing < ballotFlushes {
				a.startFlush(min(len(bb.queue), ballotBatchSize))
			}
			a.kickBallots()
		})
	}
}

// startFlush takes n queued ballots and stores them in the background. Call with bb.mu held.
func (a *App) startFlush(n int) {
	bb := &a.polls.batch
	batch := slices.Clone(bb.queue[:n])
	bb.queue = slices.Delete(bb.queue, 0, n)
	bb.flushing++
	go a.flushBallots(batch)
}

// flushBallots stores a batch, applies what was stored to this node's counts, tells the other
// nodes, and only then answers each voter.
func (a *App) flushBallots(batch []*queuedBallot) {
	defer func() {
		bb := &a.polls.batch
		bb.mu.Lock()
		bb.flushing--
		if len(bb.queue) > 0 { // they waited for this insert already: no more waiting
			a.startFlush(min(len(bb.queue), ballotBatchSize))
		}
		a.kickBallots()
		bb.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), ballotStoreTimeout)
	defer cancel()
	bs := make([]*insieme.Ballot, len(batch))
	for i, q := range batch {
		bs[i] = q.b
	}
	errs := make([]error, len(batch))
	err := a.store.InsertBallots(ctx, bs)
	var be *insieme.BatchError
	switch {
	case err == nil:
	case errors.As(err, &be):
		for i, e := range be.Failed {
			a.log.Warn("ballot not stored", "poll", bs[i].PollID, "err", e)
			errs[i] = errBallotNotStored
		}
	default:
		a.log.Error("ballots not stored", "count", len(bs), "err", err)
		for i := range errs {
			errs[i] = errBallotNotStored
		}
	}
	var stored []*insieme.Ballot
	for i, b := range bs {
		if errs[i] == nil {
			stored = append(stored, b)
		}
	}
	if len(stored) > 0 {
		a.applyBallots(stored)
		bySession := map[string][]*insieme.Ballot{}
		var pollIDs []string
		for _, b := range stored {
			bySession[b.SessionID] = append(bySession[b.SessionID], b)
			if !slices.Contains(pollIDs, b.PollID) {
				pollIDs = append(pollIDs, b.PollID)
			}
		}
		for sid, sbs := range bySession {
			data, _ := json.Marshal(sbs)
			a.publish(ctx, LiveRoom, liveEvent{Session: sid, Kind: "ballots", Data: data})
		}
		// A poll closed elsewhere before or while these were stored (this node may not have
		// heard of it: the broker down, the event late): the close's recount may have missed
		// them. Each poll is read again now they are stored: either it is closed already and
		// this node recounts (the stored tally only grows: see recountPoll), or it closes later
		// and that close's recount reads them.
		a.background(ctx, func(ctx context.Context) { a.recountIfClosed(ctx, pollIDs) })
	}
	for i, q := range batch {
		q.done <- errs[i]
	}
}

// recountIfClosed reads each poll (one point read) after some of its ballots were stored:
// a closed one is kept on this node (so it refuses further ballots) and recounted, unless
// this node is closing it (its close recounts once this node's ballots are stored).
func (a *App) recountIfClosed(ctx context.Context, pollIDs []string) {
	for _, id := range pollIDs {
		poll, err := a.store.Poll(ctx, id)
		if err != nil {
			if insieme.ErrorCode(err) != insieme.ENOTFOUND {
				a.log.Warn("reading a poll after its ballots", "poll", id, "err", err)
			}
			continue
		}
		if poll.Status != insieme.PollClosed {
			continue
		}
		a.putPoll(poll)
		if a.pollClosing(poll) {
			continue
		}
		if _, err := a.recountPoll(ctx, id); err != nil {
			a.log.Warn("recount after a close", "poll", id, "err", err)
		}
	}
}

// pollClosing says whether this node is closing the poll.
func (a *App) pollClosing(p *insieme.Poll) bool {
	ps := &a.polls
	ps.mu.Lock()
	defer ps.mu.Unlock()
	r := ps.rooms[p.SessionID]
	return r != nil && r.polls[p.ID] != nil && r.polls[p.ID].closing
}

// applyBallots counts stored ballots on this node (its own batches and other nodes' events;
// applying one twice changes nothing) and schedules results.
func (a *App) applyBallots(bs []*insieme.Ballot) {
	ps := &a.polls
	ps.mu.Lock()
	defer ps.mu.Unlock()
	changed := map[*pollState]*pollRoom{}
	for _, b := range bs {
		r := ps.rooms[b.SessionID]
		if r == nil || r.deleted[b.PollID] {
			continue // not loaded here: a load reads it from the store
		}
		st := r.state(b.PollID)
		if st.count.Add(b) {
			changed[st] = r
		}
	}
	for st, r := range changed {
		a.scheduleResults(r, st)
	}
}

// scheduleResults publishes a poll's results soon: at most one poll.results per resultsEvery
// per poll on this node, however many ballots arrive. Call with the lock held.
func (a *App) scheduleResults(r *pollRoom, st *pollState) {
	if st.timer != nil || st.poll == nil || st.poll.Status == insieme.PollDraft {
		return
	}
	wait := max(0, time.Until(st.lastSent.Add(resultsInterval(a.presence.counts(r.session)))))
	sid, pid := r.session, st.poll.ID
	st.timer = time.AfterFunc(wait, func() { a.sendResults(sid, pid) })
}

// resultsInterval is how often a poll's results may go to a room of this many people (counted
// across every node, while each node publishes its own: conservative with several nodes).
func resultsInterval(c PresenceCounts) time.Duration {
	n := c.Guests + c.Accounts
	return min(max(resultsEvery, time.Duration(n)*time.Second/resultsDeliveries), resultsEveryMax)
}

func (a *App) sendResults(sessionID, pollID string) {
	ps := &a.polls
	ps.mu.Lock()
	r := ps.rooms[sessionID]
	if r == nil || r.polls[pollID] == nil {
		ps.mu.Unlock()
		return
	}
	st := r.polls[pollID]
	st.timer, st.lastSent = nil, time.Now()
	p := st.poll
	if p == nil || p.Status == insieme.PollDraft {
		ps.mu.Unlock()
		return
	}
	res := resultsOf(st)
	ps.mu.Unlock()
	room := "session:" + sessionID
	if !p.ResultsPublic() {
		room = "session-host:" + sessionID // hosts follow the results participants do not see yet
	}
	a.publish(context.Background(), room, map[string]any{"type": "poll.results", "poll": pollID, "results": res})
}

// resultsOf is a poll's results on this node: the stored final tally once there is one,
// the running count until then. Call with the lock held.
func resultsOf(st *pollState) *ResultsView {
	p := st.poll
	if p.Status == insieme.PollClosed && p.Final != nil {
		return resultsView(p, p.Final, true)
	}
	return resultsView(p, st.count.Tally(p), false)
}

func resultsView(p *insieme.Poll, t *insieme.Tally, final bool) *ResultsView {
	v := &ResultsView{Voters: t.Voters, Guests: t.Guests, Accounts: t.Accounts, Counts: t.Counts, Points: t.Points,
		Distribution: t.Distribution, Final: final}
	if p.Kind == insieme.PollScale {
		avg := t.Average
		v.Average = &avg
	}
	if p.Kind == insieme.PollWords {
		v.Words = make([]WordView, 0, len(t.Words))
		for _, w := range t.Words {
			v.Words = append(v.Words, WordView{Word: w.Word, Count: w.Count})
		}
	}
	return v
}

func pollView(p *insieme.Poll) *PollView {
	return &PollView{ID: p.ID, SessionID: p.SessionID, Kind: p.Kind, Title: p.Title, Options: p.Options, MaxChoices: p.MaxChoices,
		GuestsMayVote: p.GuestsMayVote, ShowResults: p.ShowResults, Status: p.Status, OpenedAt: p.OpenedAt, ClosedAt: p.ClosedAt,
		Version: p.Version}
}

func ballotView(b *insieme.Ballot) *BallotView {
	return &BallotView{Version: b.Version, Choices: b.Choices, Ranking: b.Ranking, Scale: b.Scale, Words: b.Words}
}

// pollViews is a session's polls as p sees them: hosts see drafts and every result;
// participants see the polls once opened, their results when shown, and their own ballot.
func (a *App) pollViews(ctx context.Context, p *insieme.Principal, sessionID string, host bool) ([]*PollView, error) {
	r, err := a.pollRoom(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	ps := &a.polls
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := []*PollView{}
	for _, st := range r.polls {
		if st.poll == nil || (st.poll.Status == insieme.PollDraft && !host) {
			continue
		}
		v := pollView(st.poll)
		if host || st.poll.ResultsPublic() {
			v.Results = resultsOf(st)
		}
		if p != nil {
			if b := st.count.Latest(p.ID); b != nil {
				v.Mine = ballotView(b)
			}
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		pi, pj := r.polls[out[i].ID].poll, r.polls[out[j].ID].poll
		if !pi.CreatedAt.Equal(pj.CreatedAt) {
			return pi.CreatedAt.Before(pj.CreatedAt)
		}
		return pi.ID < pj.ID
	})
	return out, nil
}

// pollHost checks that p hosts the session.
func (a *App) pollHost(ctx context.Context, p *insieme.Principal, sessionID string) (*insieme.LiveSession, error) {
	s, err := a.requireHost(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	// Loaded before any change, so the acknowledged poll carries this node's results and a
	// close waits for this node's ballots.
	if _, err := a.pollRoom(ctx, s.ID); err != nil {
		return nil, err
	}
	return s, nil
}

func applyPollInput(p *insieme.Poll, in PollInput) {
	if in.Kind != nil {
		p.Kind = *in.Kind
	}
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.Options != nil {
		p.Options = slices.Clone(*in.Options)
	}
	if in.MaxChoices != nil {
		p.MaxChoices = *in.MaxChoices
	}
	if in.GuestsMayVote != nil {
		p.GuestsMayVote = *in.GuestsMayVote
	}
	if in.ShowResults != nil {
		p.ShowResults = *in.ShowResults
	}
}

// CreatePoll prepares a draft poll in a session (its hosts; not once the session ended).
func (a *App) CreatePoll(ctx context.Context, p *insieme.Principal, sessionID string, in PollInput) (*PollView, error) {
	s, err := a.pollHost(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	if s.Status == insieme.SessionEnded {
		return nil, errSessionEnded
	}
	poll := &insieme.Poll{ID: newID(), SessionID: s.ID, Status: insieme.PollDraft, CreatedBy: p.AccountID, CreatedAt: a.Now()}
	applyPollInput(poll, in)
	if in.Options != nil && len(*in.Options) > insieme.MaxPollOptions {
		return nil, tooMany("options", insieme.MaxPollOptions)
	}
	var v insieme.Invalid
	insieme.CheckPoll(&v, poll)
	if err := v.Err(); err != nil {
		return nil, err
	}
	r, err := a.pollRoom(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	a.polls.mu.Lock()
	n := len(r.polls)
	a.polls.mu.Unlock()
	if n >= insieme.MaxPollsPerSession {
		return nil, tooMany("poll", insieme.MaxPollsPerSession)
	}
	if err := a.store.CreatePoll(ctx, poll); err != nil {
		return nil, err
	}
	a.pollChanged(ctx, poll)
	return a.hostPollView(poll), nil
}

func tooMany(field string, limit int) error {
	var v insieme.Invalid
	v.Add(field, insieme.FTooLong)
	v.Limit(field, limit)
	return v.Err()
}

// hostPollView is a poll as its hosts see it, with this node's results.
func (a *App) hostPollView(p *insieme.Poll) *PollView {
	v := pollView(p)
	if p.Status == insieme.PollDraft {
		return v
	}
	a.polls.mu.Lock()
	defer a.polls.mu.Unlock()
	if r := a.polls.rooms[p.SessionID]; r != nil && r.polls[p.ID] != nil && r.polls[p.ID].poll != nil {
		v.Results = resultsOf(r.polls[p.ID])
	} else if p.Final != nil {
		v.Results = resultsView(p, p.Final, true)
	}
	return v
}

// changePoll applies a host's change to one of the session's polls under its lock, with a
// version check against other nodes; errNoChange leaves it as it is.
func (a *App) changePoll(ctx context.Context, sessionID, pollID string, change func(p *insieme.Poll) error) (*insieme.Poll, error) {
	if pollID == "" {
		return nil, insieme.FieldError("poll", insieme.FRequired)
	}
	defer a.locks.lock("poll:" + pollID)()
	for attempt := 0; ; attempt++ {
		poll, err := a.store.Poll(ctx, pollID)
		if insieme.ErrorCode(err) == insieme.ENOTFOUND || (err == nil && poll.SessionID != sessionID) {
			return nil, errPollNotHere
		} else if err != nil {
			return nil, err
		}
		if err := change(poll); errors.Is(err, errNoChange) {
			return poll, nil
		} else if err != nil {
			return nil, err
		}
		err = a.store.SavePoll(ctx, poll)
		if insieme.ErrorCode(err) == insieme.ECONFLICT && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		a.pollChanged(ctx, poll)
		return poll, nil
	}
}

// UpdatePoll changes a draft poll.
func (a *App) UpdatePoll(ctx context.Context, p *insieme.Principal, sessionID string, in PollInput) (*PollView, error) {
	s, err := a.pollHost(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	if s.Status == insieme.SessionEnded {
		return nil, errSessionEnded
	}
	if in.Options != nil && len(*in.Options) > insieme.MaxPollOptions {
		return nil, tooMany("options", insieme.MaxPollOptions)
	}
	poll, err := a.changePoll(ctx, s.ID, in.ID, func(poll *insieme.Poll) error {
		if poll.Status != insieme.PollDraft {
			return errPollNotDraft
		}
		kind := poll.Kind
		applyPollInput(poll, in)
		if poll.Kind != kind && in.MaxChoices == nil {
			poll.MaxChoices = 0 // the new kind's default
		}
		var v insieme.Invalid
		insieme.CheckPoll(&v, poll)
		return v.Err()
	})
	if err != nil {
		return nil, err
	}
	return a.hostPollView(poll), nil
}

// DeletePoll deletes a draft poll.
func (a *App) DeletePoll(ctx context.Context, p *insieme.Principal, sessionID, pollID string) error {
	s, err := a.pollHost(ctx, p, sessionID)
	if err != nil {
		return err
	}
	if pollID == "" {
		return insieme.FieldError("poll", insieme.FRequired)
	}
	defer a.locks.lock("poll:" + pollID)()
	for attempt := 0; ; attempt++ {
		poll, err := a.store.Poll(ctx, pollID)
		if insieme.ErrorCode(err) == insieme.ENOTFOUND || (err == nil && poll.SessionID != s.ID) {
			return errPollNotHere
		} else if err != nil {
			return err
		}
		if poll.Status != insieme.PollDraft {
			return errPollNotDraft
		}
		err = a.store.DeletePoll(ctx, poll)
		if insieme.ErrorCode(err) == insieme.ECONFLICT && attempt < 5 {
			continue
		}
		if err != nil {
			return err
		}
		a.pollDeleted(ctx, s.ID, pollID)
		data, _ := json.Marshal(pollEvent{Deleted: pollID})
		a.publish(ctx, LiveRoom, liveEvent{Session: s.ID, Kind: "poll", Data: data})
		a.publish(ctx, "session-host:"+s.ID, map[string]any{"type": "poll.deleted", "id": pollID})
		return nil
	}
}

// OpenPoll opens a draft poll for ballots (the session must be live).
func (a *App) OpenPoll(ctx context.Context, p *insieme.Principal, sessionID, pollID string) (*PollView, error) {
	s, err := a.pollHost(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	poll, err := a.changePoll(ctx, s.ID, pollID, func(poll *insieme.Poll) error {
		switch poll.Status {
		case insieme.PollOpen:
			return errNoChange
		case insieme.PollClosed:
			return errPollClosed
		}
		if cur, err := a.liveSession(ctx, s.ID); err != nil {
			return err
		} else if cur.Status == insieme.SessionEnded {
			return errSessionEnded
		} else if cur.Status != insieme.SessionLive {
			return &insieme.Error{Code: insieme.ECONFLICT, Message: "Start the session first."}
		}
		now := a.Now()
		poll.Status, poll.OpenedAt = insieme.PollOpen, &now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a.hostPollView(poll), nil
}

// ClosePoll closes an open poll: no more ballots; the final tally is recounted from the
// stored ballots and kept with the poll.
func (a *App) ClosePoll(ctx context.Context, p *insieme.Principal, sessionID, pollID string) (*PollView, error) {
	s, err := a.pollHost(ctx, p, sessionID)
	if err != nil {
		return nil, err
	}
	poll, err := a.closePollStatus(ctx, s.ID, pollID)
	if err != nil {
		return nil, err
	}
	if poll.Final == nil { // a recount that failed earlier is tried again
		if poll, err = a.finishPolls(ctx, []*insieme.Poll{poll}); err != nil {
			return nil, err
		}
	}
	return a.hostPollView(poll), nil
}

func (a *App) closePollStatus(ctx context.Context, sessionID, pollID string) (*insieme.Poll, error) {
	return a.changePoll(ctx, sessionID, pollID, func(poll *insieme.Poll) error {
		switch poll.Status {
		case insieme.PollDraft:
			return errPollNotOpen
		case insieme.PollClosed:
			return errNoChange
		}
		now := a.Now()
		poll.Status, poll.ClosedAt = insieme.PollClosed, &now
		return nil
	})
}

// finishPolls recounts closed polls once the ballots accepted before the close are stored:
// this node's own, waited for, and other nodes', given pollCloseGrace. It returns the last
// poll with its final tally.
func (a *App) finishPolls(ctx context.Context, polls []*insieme.Poll) (*insieme.Poll, error) {
	ps := &a.polls
	states := func() []*pollState {
		var out []*pollState
		for _, p := range polls {
			if r := ps.rooms[p.SessionID]; r != nil && r.polls[p.ID] != nil {
				out = append(out, r.polls[p.ID])
			}
		}
		return out
	}
	ps.mu.Lock()
	for _, st := range states() {
		st.closing = true
	}
	ps.mu.Unlock()
	defer func() {
		ps.mu.Lock()
		for _, st := range states() {
			st.closing = false
		}
		ps.mu.Unlock()
	}()
	deadline := time.Now().Add(ballotStoreTimeout)
	for time.Now().Before(deadline) {
		ps.mu.Lock()
		busy := slices.ContainsFunc(states(), func(st *pollState) bool { return st.inflight > 0 })
		ps.mu.Unlock()
		if !busy {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(pollCloseGrace)
	var last *insieme.Poll
	var errs []error
	for _, p := range polls {
		done, err := a.recountPoll(ctx, p.ID)
		if err != nil {
			a.log.Error("final recount", "poll", p.ID, "err", err)
			errs = append(errs, err)
			continue
		}
		last = done
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return last, nil
}

// recountPoll counts a closed poll's stored ballots and keeps the tally with the poll,
// unless a recount that read at least as many ballots is kept already (ballots are only
// added, so a later read never sees fewer).
func (a *App) recountPoll(ctx context.Context, pollID string) (*insieme.Poll, error) {
	bs, err := a.store.Ballots(ctx, pollID)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		poll, err := a.store.Poll(ctx, pollID)
		if err != nil {
			return nil, err
		}
		if poll.Status != insieme.PollClosed {
			return poll, nil
		}
		t := insieme.CountBallots(poll, bs)
		if poll.Final != nil && poll.Final.Ballots >= t.Ballots {
			return poll, nil
		}
		poll.Final = t
		err = a.store.SavePoll(ctx, poll)
		if insieme.ErrorCode(err) == insieme.ECONFLICT && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		a.pollChanged(ctx, poll)
		return poll, nil
	}
}

// closeSessionPolls closes a session's open polls when it ends, each with its final recount.
func (a *App) closeSessionPolls(ctx context.Context, s *insieme.LiveSession) {
	r, err := a.pollRoom(ctx, s.ID)
	if err != nil {
		a.log.Error("closing the polls of an ended session", "session", s.ID, "err", err)
		return
	}
	var ids []string
	a.polls.mu.Lock()
	for id, st := range r.polls {
		if st.poll != nil && (st.poll.Status == insieme.PollOpen || (st.poll.Status == insieme.PollClosed && st.poll.Final == nil)) {
			ids = append(ids, id)
		}
	}
	a.polls.mu.Unlock()
	var closed []*insieme.Poll
	for _, id := range ids {
		poll, err := a.closePollStatus(ctx, s.ID, id)
		if err != nil {
			a.log.Error("closing a poll of an ended session", "poll", id, "err", err)
			continue
		}
		closed = append(closed, poll)
	}
	if len(closed) > 0 {
		if _, err := a.finishPolls(ctx, closed); err != nil {
			a.log.Error("final recounts of an ended session", "session", s.ID, "err", err)
		}
	}
}

// pollEvent tells the other nodes about a host's change to a poll.
type pollEvent struct {
	Poll    *insieme.Poll `json:"poll,omitempty"`
	Deleted string        `json:"deleted,omitempty"`
}

// pollChanged keeps the poll on this node, tells the other nodes, and publishes its state:
// drafts to the hosts only, the others to everyone (with results when shown).
func (a *App) pollChanged(ctx context.Context, p *insieme.Poll) {
	a.putPoll(p)
	data, _ := json.Marshal(pollEvent{Poll: p})
	a.publish(ctx, LiveRoom, liveEvent{Session: p.SessionID, Kind: "poll", Version: p.Version, Data: data})
	if p.Status == insieme.PollDraft {
		a.publish(ctx, "session-host:"+p.SessionID, map[string]any{"type": "poll.state", "poll": pollView(p)})
		return
	}
	v := pollView(p)
	if p.ResultsPublic() {
		v.Results = a.hostPollView(p).Results
	}
	a.publish(ctx, "session:"+p.SessionID, map[string]any{"type": "poll.state", "poll": v})
}

// putPoll keeps a poll's newer version on this node (when its session is loaded here).
func (a *App) putPoll(p *insieme.Poll) {
	ps := &a.polls
	ps.mu.Lock()
	defer ps.mu.Unlock()
	r := ps.rooms[p.SessionID]
	if r == nil || r.deleted[p.ID] {
		return
	}
	st := r.state(p.ID)
	if st.poll == nil || st.poll.Version < p.Version {
		st.poll = p
	}
}

func (a *App) pollDeleted(_ context.Context, sessionID, pollID string) {
	ps := &a.polls
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if r := ps.rooms[sessionID]; r != nil {
		if st := r.polls[pollID]; st != nil && st.timer != nil {
			st.timer.Stop()
		}
		delete(r.polls, pollID)
		if r.loading {
			r.deleted[pollID] = true
		}
	}
}

// applyPollEvent applies another node's (or this node's own) poll change or ballots.
func (a *App) applyPollEvent(ctx context.Context, ev liveEvent) {
	switch ev.Kind {
	case "poll":
		var pe pollEvent
		if err := json.Unmarshal(ev.Data, &pe); err != nil {
			a.log.Warn("poll event not understood", "err", err)
			return
		}
		if pe.Deleted != "" {
			a.pollDeleted(ctx, ev.Session, pe.Deleted)
		} else if pe.Poll != nil && pe.Poll.ID != "" && pe.Poll.SessionID == ev.Session {
			a.putPoll(pe.Poll)
		}
	case "ballots":
		var bs []*insieme.Ballot
		if err := json.Unmarshal(ev.Data, &bs); err != nil {
			a.log.Warn("ballots event not understood", "err", err)
			return
		}
		bs = slices.DeleteFunc(bs, func(b *insieme.Ballot) bool { return b == nil || b.PollID == "" || b.VoterID == "" })
		for _, b := range bs {
			b.SessionID = ev.Session
		}
		a.applyBallots(bs)
	case "ballots.erased":
		var voter string
		if json.Unmarshal(ev.Data, &voter) == nil && voter != "" {
			a.forgetVoter(voter)
		}
	}
}

// forgetVoter takes an erased account's ballots out of this node's running counts (closed
// polls keep their stored final tally).
func (a *App) forgetVoter(voter string) {
	ps := &a.polls
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, r := range ps.rooms {
		if r.loading {
			r.erased = append(r.erased, voter)
		}
		for _, st := range r.polls {
			if st.count.Remove(voter) {
				a.scheduleResults(r, st)
			}
		}
	}
}

// pollAction messages.
type pollRefMsg struct {
	sessionMsg
	Poll string `json:"poll"`
}

func (a *App) pollCreateAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m struct {
		sessionMsg
		Poll PollInput `json:"poll"`
	}
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.CreatePoll(ctx, p, m.Session, m.Poll)
}

func (a *App) pollUpdateAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m struct {
		sessionMsg
		Poll PollInput `json:"poll"`
	}
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.UpdatePoll(ctx, p, m.Session, m.Poll)
}

func (a *App) pollDeleteAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m pollRefMsg
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return nil, a.DeletePoll(ctx, p, m.Session, m.Poll)
}

func (a *App) pollOpenAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m pollRefMsg
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.OpenPoll(ctx, p, m.Session, m.Poll)
}

func (a *App) pollCloseAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m pollRefMsg
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.ClosePoll(ctx, p, m.Session, m.Poll)
}

func (a *App) pollVoteAction(ctx context.Context, p *insieme.Principal, msg json.RawMessage) (any, error) {
	var m struct {
		sessionMsg
		VoteInput
	}
	if err := decodeLive(msg, &m); err != nil {
		return nil, err
	}
	return a.Vote(ctx, p, m.Session, m.VoteInput)
}

// pollsPersonalData: an account's ballots are in its data download and go with it. Closed
// polls keep their final tallies (stored when they closed); open polls lose the ballots.
func (a *App) pollsPersonalData() []PersonalData {
	return []PersonalData{{Name: "ballots", Export: func(ctx context.Context, acct *insieme.Account) (any, error) {
		bs, err := a.store.BallotsBy(ctx, acct.ID)
		out := make([]map[string]any, 0, len(bs))
		for _, b := range bs {
			m := map[string]any{"pollId": b.PollID, "sessionId": b.SessionID, "version": b.Version, "createdAt": b.CreatedAt}
			switch {
			case b.Choices != nil:
				m["choices"] = b.Choices
			case b.Ranking != nil:
				m["ranking"] = b.Ranking
			case b.Words != nil:
				m["words"] = b.Words
			case b.Scale != 0:
				m["scale"] = b.Scale
			}
			out = append(out, m)
		}
		return out, err
	}, Erase: func(ctx context.Context, acct *insieme.Account) error {
		if err := a.store.DeleteBallotsBy(ctx, acct.ID); err != nil {
			return err
		}
		a.forgetVoter(acct.ID)
		data, _ := json.Marshal(acct.ID)
		a.publish(ctx, LiveRoom, liveEvent{Session: "*", Kind: "ballots.erased", Data: data})
		return nil
	}}}
}
