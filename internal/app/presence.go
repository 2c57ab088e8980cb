package app

import (
	"cmp"
	"context"
	"encoding/json"
	"hash/maphash"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// Presence: who is connected to a live session's room, "session:<id>".
//
// The hub tells each node who joins and leaves its own connections' rooms (Joined, Left). A
// node keeps, per session, its connected participants (id → name, guest, connections) and
// publishes them to LiveRoom ({node, participants}) when they change, at most once a second
// (less often for big sessions), and every 15 s while it has participants; every node keeps
// the other nodes' last word per session and forgets a node's after 45 s without news. The
// total (the union of every node's participants, by id) goes to the participants as a
// "presence" event and to the hosts as "presence.list", each at most once a second, from one
// node only: the node with the smallest id among those with participants (when no node has
// any, the smallest id among the nodes heard of), whenever its view of the total changed or
// it took over from another node. So two nodes do not publish the same change twice, and a
// change on any node reaches the clients within about two seconds.
//
// Hosts connected to the session's room count like anyone. Presence is operational state,
// timed by the real clock (not the app's, which tests and the development clock move).

const (
	presenceCoalesce  = time.Second      // at most one publish a second per session and kind
	presenceHeartbeat = 15 * time.Second // a node with participants repeats its presence
	presenceExpiry    = 45 * time.Second // a node silent this long has left the session
	presenceTick      = 200 * time.Millisecond
	// maxPresenceNodeList bounds the participants one node lists in its LiveRoom event
	// (about 70 bytes each); beyond it, totals add the nodes' counts (a person connected to
	// two nodes then counts twice) and attendance misses the unlisted.
	maxPresenceNodeList = 1000
	// maxPresenceHostList bounds the hosts' list (the counts stay exact).
	maxPresenceHostList = 500
	// maxPresenceSessions bounds the sessions a node keeps presence and attendance for.
	maxPresenceSessions = 1000
)

// PresenceCounts is how many participants are connected to a session now.
type PresenceCounts struct {
	Guests   int `json:"guests"`
	Accounts int `json:"accounts"`
}

// PresentPerson is someone connected to a session's room.
type PresentPerson struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Guest bool   `json:"guest"`
}

// nodePresence is one node's presence in a session, the Data of a "presence" liveEvent.
type nodePresence struct {
	Node         string          `json:"node"`
	Participants []PresentPerson `json:"participants"`
	PresenceCounts
	Truncated bool `json:"truncated,omitempty"` // more participants than listed
}

// presenceEvent is the "presence" event of session:<id>.
type presenceEvent struct {
	Type string `json:"type"`
	PresenceCounts
}

// presenceListEvent is the "presence.list" event of session-host:<id>.
type presenceListEvent struct {
	Type         string          `json:"type"`
	Participants []PresentPerson `json:"participants"`
	PresenceCounts
	Truncated bool `json:"truncated,omitempty"` // more participants than listed (see the counts)
}

type localPerson struct {
	name  string
	guest bool
	conns int
}

type remotePresence struct {
	at        time.Time
	people    map[string]PresentPerson
	counts    PresenceCounts
	truncated bool
}

func (r *remotePresence) total() int { return r.counts.Guests + r.counts.Accounts }

// presenceView is a node's view of a session's total.
type presenceView struct {
	counts    PresenceCounts
	list      []PresentPerson // sorted by name, at most maxPresenceHostList
	truncated bool
	sig       uint64 // a hash of the whole list, to tell when it changed
}

// sessionPresence is one node's presence state of a session, with its attendance.
type sessionPresence struct {
	local  map[string]*localPerson
	remote map[string]*remotePresence // by node

	localChanged bool // since the last publish to LiveRoom
	localPubAt   time.Time

	viewDirty bool
	view      presenceView
	pubCounts PresenceCounts // last published to session:<id> by this node
	pubAt     time.Time
	pubSig    uint64 // last list published to session-host:<id> by this node
	pubListAt time.Time
	// pubFollower: another node published the totals when this node last looked; when this
	// node takes over, what it published before says nothing of what the clients have now.
	pubFollower bool
	touched     time.Time

	// attendance: the peak of the totals this node saw, everyone seen here or listed by others
	peak         int
	seenGuests   map[string]bool
	seenAccounts map[string]bool
}

func (sp *sessionPresence) localCounts() PresenceCounts {
	var c PresenceCounts
	for _, lp := range sp.local {
		if lp.guest {
			c.Guests++
		} else {
			c.Accounts++
		}
	}
	return c
}

func (sp *sessionPresence) seen(id string, guest bool) {
	if guest {
		sp.seenGuests[id] = true
	} else {
		sp.seenAccounts[id] = true
	}
}

// presenceTracker is a node's presence state of every session it hears of.
type presenceTracker struct {
	node    string
	now     func() time.Time
	publish func(ctx context.Context, room string, data any)
	log     *slog.Logger
	manual  bool // tests call step themselves: no loop goroutine

	seed   maphash.Seed
	stepMu sync.Mutex // one step (and its publishes) at a time, so a node's events keep their order

	mu       sync.Mutex
	sessions map[string]*sessionPresence
	running  bool // the loop goroutine runs
}

func newPresenceTracker(node string, publish func(ctx context.Context, room string, data any), log *slog.Logger) *presenceTracker {
	return &presenceTracker{node: node, now: time.Now, publish: publish, log: log, seed: maphash.MakeSeed(),
		sessions: map[string]*sessionPresence{}}
}

// session returns a session's state, making it (and making room for it). Called locked.
func (t *presenceTracker) session(id string, now time.Time) *sessionPresence {
	sp := t.sessions[id]
	if sp == nil {
		if len(t.sessions) >= maxPresenceSessions {
			t.evict()
		}
		sp = &sessionPresence{local: map[string]*localPerson{}, remote: map[string]*remotePresence{},
			seenGuests: map[string]bool{}, seenAccounts: map[string]bool{}}
		t.sessions[id] = sp
	}
	sp.touched = now
	return sp
}

// evict forgets the least recently touched session without local participants.
func (t *presenceTracker) evict() {
	var oldest string
	var at time.Time
	for id, sp := range t.sessions {
		if len(sp.local) == 0 && !sp.localChanged && (oldest == "" || sp.touched.Before(at)) {
			oldest, at = id, sp.touched
		}
	}
	if oldest != "" {
		delete(t.sessions, oldest)
	}
}

// joined counts a connection of p to a session's room.
func (t *presenceTracker) joined(sessionID string, p *insieme.Principal) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sp := t.session(sessionID, t.now())
	lp := sp.local[p.ID]
	if lp == nil {
		lp = &localPerson{name: p.Name, guest: p.Guest}
		sp.local[p.ID] = lp
		sp.localChanged, sp.viewDirty = true, true
		sp.seen(p.ID, p.Guest)
	}
	lp.conns++
	t.ensureLoop()
}

// left uncounts a connection of p to a session's room.
func (t *presenceTracker) left(sessionID string, p *insieme.Principal) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sp := t.sessions[sessionID]
	if sp == nil {
		return // evicted meanwhile: it had no local participants, so nothing to undo
	}
	lp := sp.local[p.ID]
	if lp == nil {
		return
	}
	if lp.conns--; lp.conns <= 0 {
		delete(sp.local, p.ID)
		sp.localChanged, sp.viewDirty = true, true
	}
	sp.touched = t.now()
	t.ensureLoop()
}

// apply takes another node's presence in a session.
func (t *presenceTracker) apply(sessionID string, np nodePresence) {
	if np.Node == "" || np.Node == t.node {
		return
	}
	now := t.now()
	r := &remotePresence{at: now, people: make(map[string]PresentPerson, len(np.Participants)),
		counts: PresenceCounts{Guests: np.Guests, Accounts: np.Accounts}, truncated: np.Truncated}
	for _, pp := range np.Participants {
		if pp.ID != "" {
			r.people[pp.ID] = pp
		}
	}
	if listed := len(r.people); !r.truncated && r.total() < listed {
		r.counts = PresenceCounts{} // counts missing: derive them from the list
		for _, pp := range r.people {
			if pp.Guest {
				r.counts.Guests++
			} else {
				r.counts.Accounts++
			}
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	sp := t.session(sessionID, now)
	sp.remote[np.Node] = r
	for id, pp := range r.people {
		sp.seen(id, pp.Guest)
	}
	sp.viewDirty = true
	if !t.leader(sp) {
		sp.pubFollower = true // another node leads now, even if it stops before this node steps
	}
	t.ensureLoop()
}

// reset: after a broker outage other nodes may have missed this node's presence (and it
// theirs): publish it again soon, and the totals too.
func (t *presenceTracker) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, sp := range t.sessions {
		if len(sp.local) > 0 {
			sp.localChanged = true
		}
		sp.viewDirty = true
		sp.pubCounts, sp.pubSig = PresenceCounts{Guests: -1, Accounts: -1}, 0 // whatever the view, publish it again
	}
	if len(t.sessions) > 0 {
		t.ensureLoop()
	}
}

// ensureLoop starts the loop goroutine unless it runs. Called locked.
func (t *presenceTracker) ensureLoop() {
	if t.running || t.manual {
		return
	}
	t.running = true
	go t.loop()
}

// loop steps every presenceTick until no session needs anything more.
func (t *presenceTracker) loop() {
	tick := time.NewTicker(presenceTick)
	defer tick.Stop()
	for range tick.C {
		if !t.step(false) {
			return
		}
	}
}

// flush publishes this node's pending presence changes at once (shutdown).
func (t *presenceTracker) flush() { t.step(true) }

type presencePub struct {
	room string
	data any
}

// step does what is due: this node's presence to the other nodes, expiries, totals to the
// clients. It reports whether a session still needs a later step (when not, the loop stops).
// force publishes this node's pending presence changes without waiting.
func (t *presenceTracker) step(force bool) (more bool) {
	t.stepMu.Lock()
	defer t.stepMu.Unlock()
	t.mu.Lock()
	now := t.now()
	var pubs []presencePub
	for id, sp := range t.sessions {
		t.expire(sp, now)
		if sp.localChanged && (force || now.Sub(sp.localPubAt) >= presenceInterval(len(sp.local))) ||
			len(sp.local) > 0 && now.Sub(sp.localPubAt) >= presenceHeartbeat {
			pubs = append(pubs, presencePub{LiveRoom, t.nodeEvent(id, sp)})
			sp.localChanged, sp.localPubAt = false, now
		}
		if sp.viewDirty {
			t.computeView(sp)
		}
		lead := t.leader(sp)
		if lead && sp.pubFollower {
			// Taking over from another node: the clients have its totals, whatever this node
			// last published; publish this node's view even if it equals that.
			sp.pubCounts, sp.pubSig = PresenceCounts{Guests: -1, Accounts: -1}, 0
		}
		sp.pubFollower = !lead
		if lead && sp.view.counts != sp.pubCounts && now.Sub(sp.pubAt) >= presenceCoalesce {
			pubs = append(pubs, presencePub{presenceRoom(id), presenceEvent{Type: "presence", PresenceCounts: sp.view.counts}})
			sp.pubCounts, sp.pubAt = sp.view.counts, now
		}
		if lead && sp.view.sig != sp.pubSig && now.Sub(sp.pubListAt) >= presenceInterval(len(sp.view.list)) {
			if !strings.HasPrefix(id, "workshop:") { // workshops have no host room
				pubs = append(pubs, presencePub{"session-host:" + id, presenceListEvent{Type: "presence.list",
					Participants: sp.view.list, PresenceCounts: sp.view.counts, Truncated: sp.view.truncated}})
			}
			sp.pubSig, sp.pubListAt = sp.view.sig, now
		}
		if sp.localChanged || len(sp.local) > 0 || sp.viewDirty ||
			lead && (sp.view.counts != sp.pubCounts || sp.view.sig != sp.pubSig) {
			more = true
		}
	}
	if !more && !force { // a flush leaves the loop (if any) to see for itself
		t.running = false
	}
	t.mu.Unlock()

	if len(pubs) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, p := range pubs {
			t.publish(ctx, p.room, p.data)
		}
	}
	return more
}

// presenceInterval is how often presence of n participants may be published: every second,
// one more per 250 participants (lists of thousands are big), at most every 5 s.
func presenceInterval(n int) time.Duration {
	return min(presenceCoalesce+time.Duration(n/250)*time.Second, 5*time.Second)
}

// nodeEvent is this node's presence in a session for LiveRoom. Called locked.
func (t *presenceTracker) nodeEvent(id string, sp *sessionPresence) liveEvent {
	np := nodePresence{Node: t.node, Participants: make([]PresentPerson, 0, min(len(sp.local), maxPresenceNodeList)),
		PresenceCounts: sp.localCounts()}
	for pid, lp := range sp.local {
		if len(np.Participants) == maxPresenceNodeList {
			np.Truncated = true
			break
		}
		np.Participants = append(np.Participants, PresentPerson{ID: pid, Name: lp.name, Guest: lp.guest})
	}
	data, _ := json.Marshal(np)
	return liveEvent{Session: id, Kind: "presence", Data: data}
}

// expire forgets the nodes not heard of for presenceExpiry. Called locked.
func (t *presenceTracker) expire(sp *sessionPresence, now time.Time) {
	for node, r := range sp.remote {
		if now.Sub(r.at) >= presenceExpiry {
			delete(sp.remote, node)
			sp.viewDirty = true
		}
	}
}

// computeView unites the participants of every node. Called locked.
func (t *presenceTracker) computeView(sp *sessionPresence) {
	union := make(map[string]PresentPerson, len(sp.local))
	for id, lp := range sp.local {
		union[id] = PresentPerson{ID: id, Name: lp.name, Guest: lp.guest}
	}
	sums := sp.localCounts()
	truncated := false
	for _, r := range sp.remote {
		for id, pp := range r.people {
			union[id] = pp
		}
		truncated = truncated || r.truncated
		sums.Guests += r.counts.Guests
		sums.Accounts += r.counts.Accounts
	}
	list := make([]PresentPerson, 0, len(union))
	var counts PresenceCounts
	for _, pp := range union {
		list = append(list, pp)
		if pp.Guest {
			counts.Guests++
		} else {
			counts.Accounts++
		}
	}
	if truncated { // some node listed only part of its participants: add the counts instead
		counts = PresenceCounts{Guests: max(counts.Guests, sums.Guests), Accounts: max(counts.Accounts, sums.Accounts)}
	}
	slices.SortFunc(list, func(a, b PresentPerson) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	var h maphash.Hash
	h.SetSeed(t.seed)
	for _, pp := range list {
		h.WriteString(pp.ID)
		h.WriteByte(0)
		h.WriteString(pp.Name)
		if pp.Guest {
			h.WriteByte(1)
		} else {
			h.WriteByte(2)
		}
	}
	v := presenceView{counts: counts, sig: h.Sum64(), list: list}
	if len(list) > maxPresenceHostList || truncated {
		v.list, v.truncated = list[:min(len(list), maxPresenceHostList)], true
	}
	sp.view, sp.viewDirty = v, false
	sp.peak = max(sp.peak, counts.Guests+counts.Accounts)
}

// leader says whether this node publishes a session's totals: the smallest node id among
// those with participants, or, when none has any, among those heard of. Called locked.
func (t *presenceTracker) leader(sp *sessionPresence) bool {
	anyRemote := false
	for node, r := range sp.remote {
		if r.total() > 0 {
			anyRemote = true
			if node < t.node {
				return false
			}
		}
	}
	if len(sp.local) > 0 {
		return true
	}
	if anyRemote {
		return false
	}
	for node := range sp.remote {
		if node < t.node {
			return false
		}
	}
	return true
}

// current brings a session's view up to date and returns it (nil when none). Called locked.
func (t *presenceTracker) current(sessionID string) *sessionPresence {
	sp := t.sessions[sessionID]
	if sp == nil {
		return nil
	}
	t.expire(sp, t.now())
	if sp.viewDirty {
		t.computeView(sp)
	}
	return sp
}

// counts is the total connected to a session, as this node knows it.
func (t *presenceTracker) counts(sessionID string) PresenceCounts {
	t.mu.Lock()
	defer t.mu.Unlock()
	sp := t.sessions[sessionID]
	if sp == nil {
		return PresenceCounts{}
	}
	t.expire(sp, t.now())
	if !sp.viewDirty {
		return sp.view.counts
	}
	// Every join's snapshot asks: count without building, sorting and hashing the list
	// (the loop does that at most every presenceTick), which for a hall of 10,000 joining
	// made the joins quadratic.
	c := sp.totalCounts()
	sp.peak = max(sp.peak, c.Guests+c.Accounts)
	return c
}

// totalCounts is the size of the union of every node's participants, as computeView counts
// it, without the list. Called locked.
func (sp *sessionPresence) totalCounts() PresenceCounts {
	counts := sp.localCounts()
	sums := counts
	truncated := false
	var others map[string]bool // listed by other nodes only
	for _, r := range sp.remote {
		truncated = truncated || r.truncated
		sums.Guests += r.counts.Guests
		sums.Accounts += r.counts.Accounts
		for id, pp := range r.people {
			if _, here := sp.local[id]; here || others[id] {
				continue
			}
			if others == nil {
				others = map[string]bool{}
			}
			others[id] = true
			if pp.Guest {
				counts.Guests++
			} else {
				counts.Accounts++
			}
		}
	}
	if truncated {
		counts = PresenceCounts{Guests: max(counts.Guests, sums.Guests), Accounts: max(counts.Accounts, sums.Accounts)}
	}
	return counts
}

// list is who is connected to a session (at most maxPresenceHostList, sorted by name) and
// whether there are more.
func (t *presenceTracker) list(sessionID string) ([]PresentPerson, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if sp := t.current(sessionID); sp != nil {
		return slices.Clone(sp.view.list), sp.view.truncated
	}
	return []PresentPerson{}, false
}

// attendance is a session's attendance as this node saw it.
func (t *presenceTracker) attendance(sessionID string) (peak, uniqueGuests, uniqueAccounts int, ids []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sp := t.current(sessionID)
	if sp == nil {
		return 0, 0, 0, []string{}
	}
	ids = make([]string, 0, len(sp.seenGuests)+len(sp.seenAccounts))
	for id := range sp.seenAccounts {
		ids = append(ids, id)
	}
	for id := range sp.seenGuests {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return sp.peak, len(sp.seenGuests), len(sp.seenAccounts), ids
}

// Joined counts a connection to a live session's or workshop's room (realtime.PresenceHooks).
func (a *App) Joined(room string, p *insieme.Principal, _ string) {
	if id, ok := presenceKey(room); ok && p != nil {
		a.presence.joined(id, p)
	}
}

// Left uncounts a connection to a live session's or workshop's room (realtime.PresenceHooks).
func (a *App) Left(room string, p *insieme.Principal, _ string) {
	if id, ok := presenceKey(room); ok && p != nil {
		a.presence.left(id, p)
	}
}

// presenceKey is how the tracker names a room's presence: a session by its id, a workshop by
// its room's name ("workshop:<id>").
func presenceKey(room string) (string, bool) {
	if id, ok := strings.CutPrefix(room, "session:"); ok {
		return id, true
	}
	return room, strings.HasPrefix(room, "workshop:")
}

// presenceRoom is the room a presence key's counts go to.
func presenceRoom(key string) string {
	if strings.HasPrefix(key, "workshop:") {
		return key
	}
	return "session:" + key
}

// applyPresence takes another node's presence in a session (a "presence" liveEvent).
func (a *App) applyPresence(ev liveEvent) {
	var np nodePresence
	if err := json.Unmarshal(ev.Data, &np); err != nil {
		a.log.Warn("presence event not understood", "err", err)
		return
	}
	a.presence.apply(ev.Session, np)
}

// attendance is a session's attendance for its minutes, as this node saw it: the peak of
// the participants connected at once (across nodes), how many different guests and accounts
// were connected, and their ids (accounts and guests, sorted; guests' ids start with "g").
// Participants connected only to another node for less than its publishing interval may be
// missed.
func (a *App) attendance(sessionID string) (peak, uniqueGuests, uniqueAccounts int, ids []string) {
	return a.presence.attendance(sessionID)
}

// presenceList is who is connected to a session's room now, for its hosts (at most
// maxPresenceHostList, sorted by name), and whether there are more.
func (a *App) presenceList(sessionID string) ([]PresentPerson, bool) {
	return a.presence.list(sessionID)
}
