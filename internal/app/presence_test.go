package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// presenceNode is a tracker stepped by hand on a fake clock; what it publishes to LiveRoom
// reaches its peers, the rest is recorded.
type presenceNode struct {
	t     *testing.T
	tr    *presenceTracker
	now   *time.Time
	peers []*presenceNode

	mu   sync.Mutex
	pubs []presencePub // to session:<id> and session-host:<id>
	sent int           // LiveRoom events sent
}

func newPresenceNodes(t *testing.T, ids ...string) []*presenceNode {
	now := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	var nodes []*presenceNode
	for _, id := range ids {
		n := &presenceNode{t: t, now: &now}
		n.tr = newPresenceTracker(id, n.publish, nil)
		n.tr.manual = true
		n.tr.now = func() time.Time { return *n.now }
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		for _, m := range nodes {
			if m != n {
				n.peers = append(n.peers, m)
			}
		}
	}
	return nodes
}

func (n *presenceNode) publish(_ context.Context, room string, data any) {
	if room != LiveRoom {
		n.mu.Lock()
		n.pubs = append(n.pubs, presencePub{room, data})
		n.mu.Unlock()
		return
	}
	ev := data.(liveEvent)
	b, _ := json.Marshal(ev) // as the broker carries it
	var got liveEvent
	if err := json.Unmarshal(b, &got); err != nil || got.Kind != "presence" {
		n.t.Fatalf("LiveRoom event %s: %v", b, err)
	}
	var np nodePresence
	if err := json.Unmarshal(got.Data, &np); err != nil {
		n.t.Fatal(err)
	}
	n.mu.Lock()
	n.sent++
	n.mu.Unlock()
	n.tr.apply(got.Session, np) // a node hears its own events too, and ignores them
	for _, p := range n.peers {
		p.tr.apply(got.Session, np)
	}
}

// take returns and forgets what was published to session rooms, as "room presence g/a" and
// "room presence.list name,name".
func (n *presenceNode) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, p := range n.pubs {
		switch d := p.data.(type) {
		case presenceEvent:
			out = append(out, fmt.Sprintf("%s presence %d/%d", p.room, d.Guests, d.Accounts))
		case presenceListEvent:
			s := fmt.Sprintf("%s presence.list %d/%d", p.room, d.Guests, d.Accounts)
			for _, pp := range d.Participants {
				s += " " + pp.Name
			}
			out = append(out, s)
		default:
			n.t.Fatalf("unexpected publish %T", p.data)
		}
	}
	n.pubs = nil
	return out
}

func (n *presenceNode) sentCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sent
}

func guestP(id, name string) *insieme.Principal {
	return &insieme.Principal{ID: id, Name: name, Guest: true}
}

func accountP(id, name string) *insieme.Principal {
	return &insieme.Principal{ID: id, AccountID: id, Name: name}
}

func expectPubs(t *testing.T, n *presenceNode, want ...string) {
	t.Helper()
	got := n.take()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("published\n  %q\nwant\n  %q", got, want)
	}
}

func (n *presenceNode) advance(d time.Duration) { *n.now = n.now.Add(d) }

func TestPresenceOneNodeCoalescesAndBeats(t *testing.T) {
	nodes := newPresenceNodes(t, "n1")
	n := nodes[0]
	amina, bo := guestP("g1", "Amina"), accountP("a1", "Bo")
	n.tr.joined("s1", amina)
	n.tr.joined("s1", bo)
	n.tr.joined("s1", bo) // a second tab: still one person
	if !n.tr.step(false) {
		t.Fatal("a node with participants stops stepping")
	}
	expectPubs(t, n, "session:s1 presence 1/1", "session-host:s1 presence.list 1/1 Amina Bo")
	if n.sentCount() != 1 {
		t.Fatalf("%d LiveRoom events", n.sentCount())
	}
	if c := n.tr.counts("s1"); c != (PresenceCounts{Guests: 1, Accounts: 1}) {
		t.Fatalf("counts %+v", c)
	}

	// Within the second: nothing is published; after it, the change is.
	n.advance(300 * time.Millisecond)
	n.tr.left("s1", bo) // one tab of two: no change
	n.tr.joined("s1", guestP("g2", "Chen"))
	n.tr.step(false)
	expectPubs(t, n)
	if n.sentCount() != 1 {
		t.Fatalf("%d LiveRoom events within a second", n.sentCount())
	}
	n.advance(time.Second)
	n.tr.step(false)
	expectPubs(t, n, "session:s1 presence 2/1", "session-host:s1 presence.list 2/1 Amina Bo Chen")
	if n.sentCount() != 2 {
		t.Fatalf("%d LiveRoom events", n.sentCount())
	}

	// Nothing changes: a heartbeat every 15 s, and no client events.
	for range 20 {
		n.advance(time.Second)
		n.tr.step(false)
	}
	expectPubs(t, n)
	if n.sentCount() != 3 {
		t.Fatalf("%d LiveRoom events after 20 quiet seconds, want one heartbeat", n.sentCount())
	}

	// Everyone leaves: the empty presence goes out, then the node stops stepping.
	n.tr.left("s1", amina)
	n.tr.left("s1", bo)
	n.tr.left("s1", guestP("g2", "Chen"))
	n.tr.left("s1", guestP("g9", "never joined")) // ignored
	n.tr.left("s9", amina)                        // an unknown session: ignored
	n.advance(time.Second)
	if n.tr.step(false) {
		t.Fatal("an idle node keeps stepping")
	}
	expectPubs(t, n, "session:s1 presence 0/0", "session-host:s1 presence.list 0/0")
	if n.sentCount() != 4 {
		t.Fatalf("%d LiveRoom events", n.sentCount())
	}

	peak, guests, accounts, ids := n.tr.attendance("s1")
	if peak != 3 || guests != 2 || accounts != 1 || fmt.Sprint(ids) != "[a1 g1 g2]" {
		t.Fatalf("attendance: peak %d, %d guests, %d accounts, %v", peak, guests, accounts, ids)
	}
	if peak, g, a, ids := n.tr.attendance("nothing"); peak != 0 || g != 0 || a != 0 || ids == nil || len(ids) != 0 {
		t.Fatalf("attendance of an unknown session: %d %d %d %v", peak, g, a, ids)
	}
}

func TestPresenceAcrossNodes(t *testing.T) {
	nodes := newPresenceNodes(t, "aaa", "bbb")
	a, b := nodes[0], nodes[1]
	amina, bo, chen := guestP("g1", "Amina"), accountP("a1", "Bo"), guestP("g2", "Chen")
	a.tr.joined("s1", amina)
	b.tr.joined("s1", bo)
	b.tr.joined("s1", amina) // the same guest on both nodes counts once
	a.tr.step(false)
	expectPubs(t, a, "session:s1 presence 1/0", "session-host:s1 presence.list 1/0 Amina")
	// Only the smallest node with participants publishes totals.
	b.tr.step(false)
	expectPubs(t, b)
	a.advance(time.Second)
	a.tr.step(false)
	expectPubs(t, a, "session:s1 presence 1/1", "session-host:s1 presence.list 1/1 Amina Bo")
	if c := b.tr.counts("s1"); c != (PresenceCounts{Guests: 1, Accounts: 1}) {
		t.Fatalf("node b counts %+v", c)
	}

	// A change on b reaches the clients through a.
	a.advance(time.Second)
	b.tr.joined("s1", chen)
	b.tr.step(false)
	a.tr.step(false)
	expectPubs(t, b)
	expectPubs(t, a, "session:s1 presence 2/1", "session-host:s1 presence.list 2/1 Amina Bo Chen")

	// a's participants leave: b (which has some) takes over; a publishes nothing more.
	a.advance(time.Second)
	a.tr.left("s1", amina)
	a.tr.step(false)
	b.tr.step(false)
	expectPubs(t, a)
	expectPubs(t, b, "session:s1 presence 2/1", "session-host:s1 presence.list 2/1 Amina Bo Chen")
	a.advance(time.Second)
	b.tr.left("s1", amina)
	b.tr.step(false)
	a.tr.step(false)
	expectPubs(t, a)
	expectPubs(t, b, "session:s1 presence 1/1", "session-host:s1 presence.list 1/1 Bo Chen")

	// b goes silent (crashed): a forgets it after 45 s and, being the only node left,
	// publishes the empty room once.
	for range 46 {
		a.advance(time.Second)
		a.tr.step(false)
	}
	expectPubs(t, a, "session:s1 presence 0/0", "session-host:s1 presence.list 0/0")
	if c := a.tr.counts("s1"); c != (PresenceCounts{}) {
		t.Fatalf("counts after b expired: %+v", c)
	}

	// Attendance as each node saw it: the peak of the totals, everyone seen anywhere.
	for _, n := range nodes {
		peak, guests, accounts, ids := n.tr.attendance("s1")
		if peak != 3 || guests != 2 || accounts != 1 || fmt.Sprint(ids) != "[a1 g1 g2]" {
			t.Fatalf("attendance on %s: peak %d, %d guests, %d accounts, %v", n.tr.node, peak, guests, accounts, ids)
		}
	}
}

// A node taking over the totals publishes its view even when it equals what it published
// before another node took over: the clients have the other node's totals now.
func TestPresenceTakeoverRepublishes(t *testing.T) {
	nodes := newPresenceNodes(t, "aaa", "bbb")
	a, b := nodes[0], nodes[1]
	watcher, guest := accountP("a1", "Bo"), guestP("g1", "Amina")
	b.tr.joined("s1", watcher)
	b.tr.step(false)
	a.tr.step(false)
	expectPubs(t, b, "session:s1 presence 0/1", "session-host:s1 presence.list 0/1 Bo")
	expectPubs(t, a)

	// A guest joins a, the smaller node with participants: a publishes the totals.
	a.advance(2 * time.Second)
	a.tr.joined("s1", guest)
	a.tr.step(false)
	b.tr.step(false)
	expectPubs(t, a, "session:s1 presence 1/1", "session-host:s1 presence.list 1/1 Amina Bo")
	expectPubs(t, b)

	// The guest leaves: b takes over, and its view, though the same as it published first,
	// is not what the clients have.
	a.advance(2 * time.Second)
	a.tr.left("s1", guest)
	a.tr.step(false)
	b.tr.step(false)
	expectPubs(t, a)
	expectPubs(t, b, "session:s1 presence 0/1", "session-host:s1 presence.list 0/1 Bo")
}

// When the last participants leave everywhere, one node publishes the empty room, not both.
func TestPresenceEmptyRoomIsPublishedOnce(t *testing.T) {
	nodes := newPresenceNodes(t, "aaa", "bbb")
	a, b := nodes[0], nodes[1]
	a.tr.joined("s1", guestP("g1", "Amina"))
	b.tr.joined("s1", guestP("g2", "Chen"))
	a.tr.step(false)
	b.tr.step(false)
	a.tr.step(false)
	a.take()
	b.take()
	a.advance(2 * time.Second)
	a.tr.left("s1", guestP("g1", "Amina"))
	b.tr.left("s1", guestP("g2", "Chen"))
	for range 3 {
		a.tr.step(false)
		b.tr.step(false)
		a.advance(time.Second)
	}
	all := append(a.take(), b.take()...)
	if fmt.Sprint(all) != fmt.Sprint([]string{"session:s1 presence 0/0", "session-host:s1 presence.list 0/0"}) {
		t.Fatalf("published %q", all)
	}
}

// A node lists at most maxPresenceNodeList participants; the others then add its counts.
func TestPresenceBigNodeListIsBounded(t *testing.T) {
	nodes := newPresenceNodes(t, "aaa", "bbb")
	a, b := nodes[0], nodes[1]
	for i := range maxPresenceNodeList + 100 {
		b.tr.joined("s1", guestP(fmt.Sprintf("g%020d", i), fmt.Sprint("guest ", i)))
	}
	a.tr.joined("s1", accountP("a1", "Bo"))
	b.tr.step(false)
	a.tr.step(false)
	if c := a.tr.counts("s1"); c != (PresenceCounts{Guests: maxPresenceNodeList + 100, Accounts: 1}) {
		t.Fatalf("counts %+v", c)
	}
	list, truncated := a.tr.list("s1")
	if len(list) != maxPresenceHostList || !truncated {
		t.Fatalf("host list of %d (truncated %v)", len(list), truncated)
	}
	got := a.take()
	if len(got) != 2 || got[0] != fmt.Sprintf("session:s1 presence %d/1", maxPresenceNodeList+100) {
		t.Fatalf("published %.200q", got)
	}
}

// After a broker outage a node publishes its presence again at once.
func TestPresenceResetRepublishes(t *testing.T) {
	nodes := newPresenceNodes(t, "aaa")
	n := nodes[0]
	n.tr.joined("s1", guestP("g1", "Amina"))
	n.tr.step(false)
	n.take()
	sent := n.sentCount()
	n.advance(2 * time.Second)
	n.tr.reset()
	n.tr.step(false)
	if n.sentCount() != sent+1 {
		t.Fatal("presence not published again after a reset")
	}
	expectPubs(t, n, "session:s1 presence 1/0", "session-host:s1 presence.list 1/0 Amina")
}

// The hooks count session rooms only, and named principals only.
func TestPresenceHooksCountSessionRoomsOnly(t *testing.T) {
	a := New(Deps{})
	a.presence.manual = true
	a.Joined("forum:f1", guestP("g1", "Amina"), "c1")
	a.Joined("session:s1", nil, "c2")
	a.Joined("session:s1", accountP("a1", "Bo"), "c3")
	a.Joined("session-host:s1", accountP("a1", "Bo"), "c4")
	if c := a.presence.counts("s1"); c != (PresenceCounts{Accounts: 1}) {
		t.Fatalf("counts %+v", c)
	}
	a.Left("session:s1", accountP("a1", "Bo"), "c3")
	a.Left("session:s1", nil, "c2")
	if c := a.presence.counts("s1"); c != (PresenceCounts{}) {
		t.Fatalf("counts %+v", c)
	}
	if peak, _, accounts, ids := a.attendance("s1"); peak != 1 || accounts != 1 || fmt.Sprint(ids) != "[a1]" {
		t.Fatalf("attendance %d %d %v", peak, accounts, ids)
	}
}

// Snapshots count without building the list; the count must be the one the list gives:
// people on several nodes once, and nodes that listed part of theirs by their counts.
func TestPresenceCountsAgreeWithTheView(t *testing.T) {
	nodes := newPresenceNodes(t, "aaa", "bbb", "ccc")
	a, b, c := nodes[0], nodes[1], nodes[2]
	check := func(step string) {
		t.Helper()
		for _, n := range nodes {
			n.tr.mu.Lock()
			sp := n.tr.sessions["s1"]
			dirty := sp != nil && sp.viewDirty
			n.tr.mu.Unlock()
			fast := n.tr.counts("s1")
			n.tr.mu.Lock()
			if sp != nil {
				n.tr.computeView(sp)
				if view := sp.view.counts; view != fast {
					t.Fatalf("%s, node %s (view dirty %v): counts %+v, the view %+v", step, n.tr.node, dirty, fast, view)
				}
			}
			n.tr.mu.Unlock()
		}
	}
	for i := range 30 {
		p := guestP(fmt.Sprint("g", i), fmt.Sprint("Guest ", i))
		if i%3 == 0 {
			p = accountP(fmt.Sprint("a", i), fmt.Sprint("Account ", i))
		}
		nodes[i%3].tr.joined("s1", p)
		if i%4 == 0 { // also connected to the next node
			nodes[(i+1)%3].tr.joined("s1", p)
		}
		if i%7 == 0 { // and to every node
			nodes[(i+2)%3].tr.joined("s1", p)
		}
		check(fmt.Sprint("join ", i))
		if i%5 == 4 {
			for _, n := range nodes {
				n.advance(time.Second)
				n.tr.step(false)
			}
			check(fmt.Sprint("step after join ", i))
		}
	}
	a.tr.left("s1", guestP("g1", "Guest 1"))
	b.tr.left("s1", guestP("g1", "Guest 1"))
	check("left")
	// A node that lists only part of its people: the totals add the counts.
	c.tr.apply("s1", nodePresence{Node: "ddd", Participants: []PresentPerson{{ID: "g2", Name: "Guest 2", Guest: true}},
		PresenceCounts: PresenceCounts{Guests: 500, Accounts: 20}, Truncated: true})
	check("truncated")
	if got := c.tr.counts("s1"); got.Guests < 500 || got.Accounts < 20 {
		t.Fatalf("truncated node's counts not added: %+v", got)
	}
}
