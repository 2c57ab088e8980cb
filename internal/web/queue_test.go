package web

import (
	"context"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

func (qe *qaEnv) queue(session string, who any, typ string, extra ...any) []app.HandView {
	qe.t.Helper()
	msg := map[string]any{"type": typ}
	for i := 0; i+1 < len(extra); i += 2 {
		msg[extra[i].(string)] = extra[i+1]
	}
	r := qe.act(session, who, msg)
	if r.status != 200 {
		qe.t.Fatalf("%s: %d %s", typ, r.status, r.body)
	}
	var q []app.HandView
	r.json(qe.t, &q)
	return q
}

func order(q []app.HandView) []string {
	out := make([]string, len(q))
	for i, h := range q {
		out[i] = h.Name
	}
	return out
}

func sameOrder(q []app.HandView, names ...string) bool {
	got := order(q)
	if len(got) != len(names) {
		return false
	}
	for i := range got {
		if got[i] != names[i] {
			return false
		}
	}
	return true
}

// Hands queue in the order raised; raising twice changes nothing; the floor goes to whom the
// host chooses (their hand goes down, the previous turn ends); everyone hears the whole queue.
func TestHandsQueueAndFloorHandover(t *testing.T) {
	qe := newQAEnv(t)
	id, code := qe.session(false, false)
	g := qe.guest(code, "Ghita")
	q := qe.queue(id, qe.member, "hand.raise")
	first := q[0].Since
	qe.clock.Add(time.Second)
	qe.queue(id, g, "hand.raise")
	qe.clock.Add(time.Second)
	q = qe.queue(id, qe.other, "hand.raise")
	if !sameOrder(q, "ZainabQuarzo", "Ghita", "Other") || q[1].ParticipantID != g.p.ID || !q[1].Guest || q[0].ParticipantID != qe.member.id {
		t.Fatalf("queue: %+v", q)
	}
	qe.clock.Add(time.Second)
	if q := qe.queue(id, qe.member, "hand.raise"); !sameOrder(q, "ZainabQuarzo", "Ghita", "Other") || !q[0].Since.Equal(first) {
		t.Fatalf("raising again moved the hand: %+v", q)
	}
	qe.quiet()
	st, _ := qe.state(qe.app, g.p, id)
	if !sameOrder(st.Queue, "ZainabQuarzo", "Ghita", "Other") {
		t.Fatalf("snapshot's queue: %+v", st.Queue)
	}
	if hs, _ := qe.db.HandsOf(context.Background(), id); len(hs) != 3 {
		t.Fatalf("stored hands: %d", len(hs))
	}

	// The host gives the floor to the guest, out of order.
	r := qe.act(id, qe.staff, map[string]any{"type": "floor.give", "participant": g.p.ID})
	var sv app.SessionView
	r.json(t, &sv)
	if r.status != 200 || sv.Floor == nil || sv.Floor.ParticipantID != g.p.ID || sv.Floor.Name != "Ghita" || !sv.Floor.StartedAt.Equal(qe.clock.Now()) {
		t.Fatalf("floor to the guest: %d %s", r.status, r.body)
	}
	qe.clock.Add(90 * time.Second)
	// Then to the first in the queue (an account: named by its account).
	r = qe.act(id, qe.cohost, map[string]any{"type": "floor.give", "participant": qe.member.id})
	r.json(t, &sv)
	if r.status != 200 || sv.Floor.ParticipantID != qe.member.id || sv.Floor.Name != "ZainabQuarzo" {
		t.Fatalf("floor to the member: %d %s", r.status, r.body)
	}
	qe.quiet()
	st, _ = qe.state(qe.app, qe.principal(qe.other), id)
	if !sameOrder(st.Queue, "Other") || st.Session.Floor.ParticipantID != qe.member.id {
		t.Fatalf("after two turns: %+v %+v", st.Queue, st.Session.Floor)
	}
	s, err := qe.db.LiveSession(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Turns) != 1 || s.Turns[0].ParticipantID != g.p.ID || s.Turns[0].EndedAt == nil || s.Turns[0].EndedAt.Sub(s.Turns[0].StartedAt) != 90*time.Second {
		t.Fatalf("turns: %+v", s.Turns)
	}
	if s.Floor.Name != "" {
		t.Fatalf("an account's name is stored in the turn: %+v", s.Floor)
	}
	queues := ofType(t, qe.broker.published("session:"+id), "queue.state")
	if len(queues) == 0 {
		t.Fatal("no queue.state events")
	}
	if last := queues[len(queues)-1]["queue"].([]any); len(last) != 1 || last[0].(map[string]any)["name"] != "Other" {
		t.Fatalf("last queue.state: %v", last)
	}

	// The floor ends; the host takes a hand down; a participant lowers theirs.
	r = qe.act(id, qe.admin, map[string]any{"type": "floor.end"})
	var ended app.SessionView
	r.json(t, &ended)
	if r.status != 200 || ended.Floor != nil {
		t.Fatalf("floor.end: %d %s", r.status, r.body)
	}
	if q := qe.queue(id, qe.staff, "hand.remove", "participant", qe.other.id); len(q) != 0 {
		t.Fatalf("after hand.remove: %+v", q)
	}
	qe.queue(id, g, "hand.raise")
	if q := qe.queue(id, g, "hand.lower"); len(q) != 0 {
		t.Fatalf("after hand.lower: %+v", q)
	}
	if q := qe.queue(id, g, "hand.lower"); len(q) != 0 {
		t.Fatalf("lowering twice: %+v", q)
	}
	// The floor goes to accounts or raised hands only.
	if r := qe.act(id, qe.staff, map[string]any{"type": "floor.give", "participant": "gnobody"}); r.status != 400 {
		t.Fatalf("floor to nobody: %d %s", r.status, r.body)
	}
	if r := qe.act(id, qe.staff, map[string]any{"type": "floor.give"}); r.status != 400 {
		t.Fatalf("floor to no one: %d %s", r.status, r.body)
	}

	// A hand is in the data download and goes with the erasure.
	qe.queue(id, qe.member, "hand.raise")
	var data map[string]any
	qe.do("GET", "/api/v1/me/export", qe.member.secret, nil).json(t, &data)
	if hs, _ := data["hands"].([]any); len(hs) != 1 {
		t.Fatalf("the download's hands: %v", data["hands"])
	}
	if r := qe.do("DELETE", "/api/v1/me", qe.member.secret, map[string]any{"password": qe.member.password}); r.status != 204 {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	qe.quiet()
	if st, _ := qe.state(qe.app, g.p, id); len(st.Queue) != 0 {
		t.Fatalf("an erased person's hand: %+v", st.Queue)
	}
}

// Every host action of the queue refuses guests and participant accounts with forbidden, and
// serves the municipality's staff, co-hosts and admins.
func TestQueueActionsAreForHosts(t *testing.T) {
	qe := newQAEnv(t)
	id, code := qe.session(false, false)
	g := qe.guest(code, "Ana")
	raiser := qe.guest(code, "Bruno")
	for _, role := range qe.hostRoles(g) {
		for _, msg := range []map[string]any{
			{"type": "floor.give", "participant": raiser.p.ID},
			{"type": "floor.end"},
			{"type": "hand.remove", "participant": raiser.p.ID},
		} {
			qe.queue(id, raiser, "hand.raise")
			r := qe.act(id, role.who, msg)
			switch {
			case role.ok && r.status != 200:
				t.Fatalf("%s %s: %d %s", role.name, msg["type"], r.status, r.body)
			case !role.ok && (r.status != 403 || r.errorOf(t).Code != insieme.EFORBIDDEN):
				t.Fatalf("%s %s: %d %s, want forbidden", role.name, msg["type"], r.status, r.body)
			}
		}
	}
	// Nothing a refused action did stayed: the queue has Bruno, the floor is the last host's.
	s, _ := qe.db.LiveSession(context.Background(), id)
	if s.Floor != nil {
		t.Fatalf("floor: %+v", s.Floor)
	}
	// Through the app, with the guest's principal, as over the websocket.
	ctx := context.Background()
	for name, err := range map[string]error{
		"floor.give":  func() error { _, err := qe.app.GiveFloor(ctx, g.p, id, raiser.p.ID); return err }(),
		"floor.end":   func() error { _, err := qe.app.EndFloor(ctx, g.p, id); return err }(),
		"hand.remove": func() error { _, err := qe.app.RemoveHand(ctx, g.p, id, raiser.p.ID); return err }(),
	} {
		if insieme.ErrorCode(err) != insieme.EFORBIDDEN {
			t.Fatalf("guest %s through the app: %v", name, err)
		}
	}
	// Signed out: unauthorized.
	if r := qe.act(id, nil, map[string]any{"type": "floor.end"}); r.status != 401 {
		t.Fatalf("signed out: %d %s", r.status, r.body)
	}
}
