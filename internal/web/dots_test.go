package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// wsAct sends a workshop message to a node as the websocket does (the same handlers).
func wsAct(a *app.App, p *insieme.Principal, workshop, typ string, fields map[string]any) (any, error) {
	msg := map[string]any{"type": typ, "workshop": workshop}
	for k, v := range fields {
		msg[k] = v
	}
	raw, _ := json.Marshal(msg)
	return a.WorkshopActions()[typ](context.Background(), p, raw)
}

// votingWorkshop is a workshop in the vote phase with cards and clusters, on an app whose
// events are recorded; it returns the targets.
func votingWorkshop(t *testing.T, we *workshopEnv, live *capLive) []string {
	t.Helper()
	we.useLive(live)
	fac := we.principal(we.facilitator)
	we.move(insieme.PhaseBrainstorm)
	var targets []string
	for i := range 4 {
		v, err := wsAct(we.app, fac, we.ws.ID, "card.create", map[string]any{"text": fmt.Sprintf("idea %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, v.(*app.CardView).ID)
	}
	we.move(insieme.PhaseCluster)
	for i := range 2 {
		v, err := wsAct(we.app, fac, we.ws.ID, "cluster.create", map[string]any{"name": fmt.Sprintf("tema %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, v.(*app.ClusterView).ID)
	}
	we.move(insieme.PhaseVote)
	return targets
}

// useLive serves HTTP with an app of the same store whose events are recorded.
func (we *workshopEnv) useLive(live *capLive) {
	we.t.Helper()
	a := app.New(app.Deps{Store: we.db, Live: live, Clock: we.clock, Hasher: testHasher})
	cfg, err := loadTestConfig()
	if err != nil {
		we.t.Fatal(err)
	}
	srv, err := NewServer(Deps{App: a, Config: cfg, Logger: discard(), StorePing: we.db.Ping})
	if err != nil {
		we.t.Fatal(err)
	}
	we.env.app, we.env.srv = a, srv
}

// 300 voters with 5 dots each (at most 2 on one target) spend them all at once on two nodes
// sharing the store, which do not hear of each other's dots; some voters send from both
// nodes at once, and every voter tries more than the budget and more than the per-target
// maximum. Every refusal is right, no budget or maximum is exceeded, and the tally counted
// from the store at the end of the vote is every acknowledged dot, exactly. Until then the
// room never sees where dots went.
func TestThreeHundredVotersSpendTheirDotsExactly(t *testing.T) {
	we := newWorkshopEnv(t, map[string]any{"dots": 5, "maxDotsPerCard": 2})
	live := &capLive{}
	targets := votingWorkshop(t, we, live)
	nodeA := we.app
	nodeB := app.New(app.Deps{Store: we.db, Live: &capLive{}, Clock: we.clock, Hasher: testHasher})
	const voters = 300
	ps := make([]*insieme.Principal, voters)
	var wg sync.WaitGroup
	for i := range voters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := nodeA.Join(context.Background(), nil, app.JoinInput{Code: we.ws.JoinCode, Name: fmt.Sprintf("Votante %d", i)})
			if err != nil {
				t.Error(err)
				return
			}
			ps[i] = res.Principal
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var mu sync.Mutex
	net := map[string]int{} // target → acknowledged adds minus removes
	count := func(target string, d int) {
		mu.Lock()
		net[target] += d
		mu.Unlock()
	}
	errs := make(chan error, voters*2)
	for i, p := range ps {
		rng := rand.New(rand.NewPCG(uint64(i), 3))
		if i%3 == 0 {
			// From both nodes at once: four adds each, on two targets (so the per-target
			// maximum bites as well as the budget).
			two := []string{targets[rng.IntN(3)], targets[3+rng.IntN(3)]}
			for _, node := range []*app.App{nodeA, nodeB} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := range 4 {
						target := two[k%2]
						v, err := wsAct(node, p, we.ws.ID, "dot.add", map[string]any{"target": target})
						switch {
						case err == nil:
							count(target, 1)
							if md := v.(*app.MyDots); md.Left < 0 || len(md.Dots) > 5 {
								errs <- fmt.Errorf("%s: %+v", p.Name, md)
							}
						case insieme.ErrorCode(err) != insieme.ECONFLICT:
							errs <- fmt.Errorf("%s: %v", p.Name, err)
						}
					}
				}()
			}
			continue
		}
		// One node, one message at a time: every answer is known in advance.
		node := []*app.App{nodeA, nodeB}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			spent, on := 0, map[string]int{}
			for k := range 8 {
				target := targets[rng.IntN(len(targets))]
				if k == 6 && spent > 0 { // take one back, then spend it again
					var back string
					for tg, n := range on {
						if n > 0 && (back == "" || tg < back) {
							back = tg
						}
					}
					if _, err := wsAct(node, p, we.ws.ID, "dot.remove", map[string]any{"target": back}); err != nil {
						errs <- fmt.Errorf("%s: remove: %v", p.Name, err)
						return
					}
					count(back, -1)
					spent, on[back] = spent-1, on[back]-1
				}
				v, err := wsAct(node, p, we.ws.ID, "dot.add", map[string]any{"target": target})
				var e *insieme.Error
				switch {
				case spent == 5:
					if insieme.ErrorCode(err) != insieme.ECONFLICT || !asError(err, &e) || e.Limits["dots"] != 0 || e.Limits["maxDotsPerCard"] != 0 {
						errs <- fmt.Errorf("%s: a sixth dot: %v", p.Name, err)
						return
					}
				case on[target] == 2:
					if insieme.ErrorCode(err) != insieme.ECONFLICT || !asError(err, &e) || e.Limits["maxDotsPerCard"] != 2 || e.Limits["dots"] != 5-spent {
						errs <- fmt.Errorf("%s: a third dot on one target: %v", p.Name, err)
						return
					}
				default:
					if err != nil {
						errs <- fmt.Errorf("%s: dot %d: %v", p.Name, k, err)
						return
					}
					spent, on[target] = spent+1, on[target]+1
					count(target, 1)
					if md := v.(*app.MyDots); md.Left != 5-spent || len(md.Dots) != spent {
						errs <- fmt.Errorf("%s: acknowledged %+v after %d dots", p.Name, md, spent)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	// The store holds every acknowledged dot and no voter beyond a limit.
	dots, err := we.db.DotsOf(context.Background(), we.ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	perVoter, perTarget := map[string]int{}, map[string]int{}
	for _, d := range dots {
		perVoter[d.VoterID]++
		perTarget[d.VoterID+" "+d.Target]++
	}
	for v, n := range perVoter {
		if n > 5 {
			t.Errorf("voter %s has %d dots", v, n)
		}
	}
	for k, n := range perTarget {
		if n > 2 {
			t.Errorf("%s has %d dots on one target", k, n)
		}
	}
	total := 0
	for _, n := range net {
		total += n
	}
	if len(dots) != total {
		t.Fatalf("stored %d dots, acknowledged %d", len(dots), total)
	}
	// Until the vote ends nobody sees where the dots went, facilitators included.
	for _, secret := range []string{we.member.secret, we.facilitator.secret} {
		if st := we.state(secret); st.Results != nil || st.Workshop.Results != nil {
			t.Fatalf("results during the vote: %+v", st.Results)
		}
	}
	for _, e := range live.in("workshop:" + we.ws.ID) {
		if strings.Contains(string(e.data), "dots.results") || strings.Contains(string(e.data), targets[0]) && strings.Contains(string(e.data), `"dots"`) {
			t.Fatalf("the room learnt where dots went: %s", e.data)
		}
	}
	// The end of the vote counts the stored dots: exactly the acknowledged ones.
	we.move(insieme.PhasePlan)
	st := we.state(we.member.secret)
	got := map[string]int{}
	for _, r := range st.Results {
		got[r.Target] = r.Dots
	}
	for target, n := range net {
		if got[target] != n {
			t.Errorf("%s: %d dots counted, %d acknowledged", target, got[target], n)
		}
	}
	for i := 1; i < len(st.Results); i++ {
		if st.Results[i].Dots > st.Results[i-1].Dots {
			t.Fatalf("results not ranked: %+v", st.Results)
		}
	}
	we.app.Wait()
	found := false
	for _, e := range live.in("workshop:" + we.ws.ID) {
		found = found || strings.Contains(string(e.data), `"type":"dots.results"`)
	}
	if !found {
		t.Fatal("the room was not sent the results")
	}
	if _, err := wsAct(nodeB, ps[1], we.ws.ID, "dot.add", map[string]any{"target": targets[0]}); insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("a dot after the vote: %v", err)
	}
}

func asError(err error, e **insieme.Error) bool {
	x, ok := err.(*insieme.Error)
	*e = x
	return ok
}

// A dot taken back on another node frees the slot on this one, though this node never heard
// of it: a refusal is checked against the store.
func TestADotRemovedElsewhereCanBeSpentAgain(t *testing.T) {
	we := newWorkshopEnv(t, map[string]any{"dots": 2, "maxDotsPerCard": 2})
	targets := votingWorkshop(t, we, &capLive{})
	nodeA := we.app
	nodeB := app.New(app.Deps{Store: we.db, Live: &capLive{}, Clock: we.clock, Hasher: testHasher})
	p := we.principal(we.member)
	for range 2 {
		if _, err := wsAct(nodeA, p, we.ws.ID, "dot.add", map[string]any{"target": targets[0]}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := wsAct(nodeB, p, we.ws.ID, "dot.remove", map[string]any{"target": targets[0]}); err != nil {
		t.Fatal(err)
	}
	v, err := wsAct(nodeA, p, we.ws.ID, "dot.add", map[string]any{"target": targets[1]})
	if err != nil {
		t.Fatalf("the freed dot: %v", err)
	}
	if md := v.(*app.MyDots); md.Left != 0 || len(md.Dots) != 2 {
		t.Fatalf("dots: %+v", md)
	}
	if _, err := wsAct(nodeA, p, we.ws.ID, "dot.add", map[string]any{"target": targets[2]}); insieme.ErrorCode(err) != insieme.ECONFLICT {
		t.Fatalf("a third dot: %v", err)
	}
	// And the reverse: a dot spent on A is taken back on B, which never heard of it.
	if _, err := wsAct(nodeB, p, we.ws.ID, "dot.remove", map[string]any{"target": targets[1]}); err != nil {
		t.Fatalf("removing a dot spent elsewhere: %v", err)
	}
}
