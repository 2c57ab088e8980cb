package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"
)

// The workshop run (-workshop): a facilitator sets up a workshop; N guests join by code; each
// writes a card in the brainstorm; in the cluster phase everyone moves their card at -edit-rate
// a second for -duration while every participant records when each move reaches it; then
// everyone spends their dots at once (and tries one more), and the tally the workshop stores
// at the end of the vote must count exactly the acknowledged dots.

// workshopResult is a workshop run's figures.
type workshopResult struct {
	Clients      int            `json:"clients"`
	Ready        int            `json:"ready"`
	Nodes        int            `json:"nodes"`
	Workers      int            `json:"workers"`
	EditRate     float64        `json:"editRate"`
	Edits        int            `json:"edits"`
	EditErrors   int            `json:"editErrors"`
	Deliveries   int            `json:"deliveries"`
	Missing      int            `json:"missing"`
	P50ms        int            `json:"p50Ms"`
	P90ms        int            `json:"p90Ms"`
	P99ms        int            `json:"p99Ms"`
	MaxMs        int            `json:"maxMs"`
	MemoryMB     []float64      `json:"nodeMemoryMB"`
	Dots         int            `json:"dots"`
	DotMillis    int64          `json:"dotMillis"`
	DotErrors    int            `json:"dotErrors"`
	OverBudget   int            `json:"overBudgetAccepted"`
	TallyExact   bool           `json:"tallyExact"`
	Expected     map[string]int `json:"-"`
	Counted      map[string]int `json:"-"`
	CPUs         int            `json:"cpus"`
	StartedAt    time.Time      `json:"startedAt"`
	SetUpMillis  int64          `json:"setUpMillis"`
	CountedTotal int            `json:"countedDots"`
}

// editHash keys a board edit's id in the participants' maps (8 bytes instead of a string).
func editHash(id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64()
}

// posVersion precedes, in a card's versions, the id of the edit that set its position (the
// position itself is an object, "pos":{...}, so it does not match).
var posVersion = []byte(`"pos":"`)

// receivedEdits records when the position edits named in a board event arrived.
func (p *participant) receivedEdits(data []byte, at time.Time) {
	for {
		i := bytes.Index(data, posVersion)
		if i < 0 {
			return
		}
		data = data[i+len(posVersion):]
		j := bytes.IndexByte(data, '"')
		if j < 0 {
			return
		}
		h := editHash(string(data[:j]))
		if _, ok := p.edits[h]; !ok {
			p.edits[h] = at.UnixNano()
		}
		data = data[j:]
	}
}

// cardAck is the part of a card in acks the load generator reads.
type cardAck struct {
	ID       string            `json:"id"`
	Versions map[string]string `json:"versions"`
}

func coordinateWorkshop(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	res := &workshopResult{Clients: o.clients, Nodes: len(o.nodes), Workers: o.workers, EditRate: o.editRate, CPUs: runtime.NumCPU(), StartedAt: time.Now().UTC()}
	h := newHost(o.nodes)
	if err := h.signIn(ctx, o.email, o.password); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	forum, err := h.forum(ctx, o.forum)
	if err != nil {
		return err
	}
	var ws struct {
		ID       string `json:"id"`
		JoinCode string `json:"joinCode"`
	}
	if err := h.call(ctx, "POST", "/api/v1/forums/"+forum+"/workshops", map[string]any{
		"title": "Laboratorio di carico", "brief": map[string]string{"it": "Che cosa serve al quartiere?"}, "scheduledAt": time.Now().UTC(),
		"settings": map[string]any{"dots": o.dots, "maxDotsPerCard": o.dots}}, &ws); err != nil {
		return fmt.Errorf("workshop: %w", err)
	}
	phase := func(name string) error {
		return h.call(ctx, "POST", "/api/v1/workshops/"+ws.ID+"/actions", map[string]any{"type": "workshop.phase", "phase": name}, nil)
	}
	fmt.Fprintf(stderr, "workshop %s, code %s; joining %d participants over %d workers\n", ws.ID, ws.JoinCode, o.clients, o.workers)

	start := time.Now()
	workers, err := startWorkers(ctx, o, ws.ID, ws.JoinCode, stderr)
	if err != nil {
		return err
	}
	defer stopWorkers(workers)
	var mu sync.Mutex
	each := func(f func(w *workerProc) error) error { return eachWorker(workers, f) }
	if err := each(func(w *workerProc) error {
		var a readyAnswer
		if err := w.readAnswer(&a); err != nil {
			return err
		}
		mu.Lock()
		res.Ready += a.Ready
		mu.Unlock()
		return nil
	}); err != nil {
		return err
	}
	res.SetUpMillis = time.Since(start).Milliseconds()
	fmt.Fprintf(stderr, "%d of %d participants in the room after %v\n", res.Ready, o.clients, time.Since(start).Round(time.Millisecond))

	// Brainstorm: a card each.
	if err := phase("brainstorm"); err != nil {
		return fmt.Errorf("brainstorm: %w", err)
	}
	var cards []string
	if err := each(func(w *workerProc) error {
		var a cardsAnswer
		if err := w.ask(command{Cmd: "cards"}, &a); err != nil {
			return err
		}
		mu.Lock()
		cards = append(cards, a.Cards...)
		mu.Unlock()
		return nil
	}); err != nil {
		return err
	}
	if len(cards) == 0 {
		return errors.New("no participant could write a card")
	}

	// Cluster: everyone moves their card at the edit rate; every move must reach everyone.
	if err := phase("cluster"); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	time.Sleep(time.Second) // the board.state of the reveal reaches everyone first
	sent := map[uint64]int64{}
	if err := each(func(w *workerProc) error {
		var a editsAnswer
		if err := w.ask(command{Cmd: "edits", Rate: o.editRate, Duration: o.duration}, &a); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		maps.Copy(sent, a.Sent)
		res.EditErrors += a.Errors
		return nil
	}); err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // the last deliveries
	res.Edits = len(sent)
	buckets := map[int]int{}
	if err := each(func(w *workerProc) error {
		var a reportAnswer
		if err := w.ask(command{Cmd: "edit-report", Edits: sent}, &a); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for ms, n := range a.Buckets {
			buckets[ms] += n
		}
		res.Deliveries += a.Received
		res.Missing += a.Missing
		return nil
	}); err != nil {
		return err
	}
	res.P50ms, res.P90ms, res.P99ms, res.MaxMs = percentiles(buckets)
	for _, m := range o.metrics {
		res.MemoryMB = append(res.MemoryMB, h.memory(ctx, m)/(1<<20))
	}

	// Vote: everyone spends their dots at once, and one more.
	if err := phase("vote"); err != nil {
		return fmt.Errorf("vote: %w", err)
	}
	res.Expected = map[string]int{}
	if err := each(func(w *workerProc) error {
		var a dotsAnswer
		if err := w.ask(command{Cmd: "dots", Targets: cards, Dots: o.dots}, &a); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for t, n := range a.Counts {
			res.Expected[t] += n
			res.Dots += n
		}
		res.DotErrors += a.Errors
		res.OverBudget += a.OverBudget
		res.DotMillis = max(res.DotMillis, a.Millis)
		return nil
	}); err != nil {
		return err
	}
	if err := phase("plan"); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	// The tally the workshop stored when the vote ended, counted from the stored dots.
	var after struct {
		Results []struct {
			Target string `json:"target"`
			Dots   int    `json:"dots"`
		} `json:"results"`
	}
	if err := h.call(ctx, "GET", "/api/v1/workshops/"+ws.ID, nil, &after); err != nil {
		return err
	}
	res.Counted = map[string]int{}
	for _, r := range after.Results {
		res.Counted[r.Target] += r.Dots
		res.CountedTotal += r.Dots
	}
	res.TallyExact = maps.Equal(res.Expected, res.Counted) && res.OverBudget == 0 && res.DotErrors == 0
	err = writeResult(o, stdout, res, func(w io.Writer) { printWorkshopResult(w, res) })
	if err == nil && !res.TallyExact {
		err = errors.New("the stored dot tally does not count exactly the acknowledged dots")
	}
	return err
}

func printWorkshopResult(w io.Writer, r *workshopResult) {
	fmt.Fprintf(w, "clients %d (ready %d) on %d node(s), %d workers, %d CPUs\n", r.Clients, r.Ready, r.Nodes, r.Workers, r.CPUs)
	fmt.Fprintf(w, "card moves %d at %.1f/s each (errors %d): deliveries %d, missing %d\n", r.Edits, r.EditRate, r.EditErrors, r.Deliveries, r.Missing)
	fmt.Fprintf(w, "latency move → delivery to everyone: p50 %d ms, p90 %d ms, p99 %d ms, max %d ms\n", r.P50ms, r.P90ms, r.P99ms, r.MaxMs)
	fmt.Fprintf(w, "node memory (RSS, MB): %v\n", r.MemoryMB)
	fmt.Fprintf(w, "dots %d acknowledged in %d ms (errors %d, over budget accepted %d); stored tally %d: exact %v\n",
		r.Dots, r.DotMillis, r.DotErrors, r.OverBudget, r.CountedTotal, r.TallyExact)
}

// cardsAnswer lists the cards a worker's participants wrote.
type cardsAnswer struct {
	Cards  []string `json:"cards"`
	Errors int      `json:"errors"`
}

// editsAnswer lists a worker's acknowledged moves: edit id hash → when it was sent (unix ns).
type editsAnswer struct {
	Sent   map[uint64]int64 `json:"sent"`
	Errors int              `json:"errors"`
}

// dotsAnswer counts a worker's acknowledged dots per target.
type dotsAnswer struct {
	Counts     map[string]int `json:"counts"`
	Errors     int            `json:"errors"`
	OverBudget int            `json:"overBudget"`
	Millis     int64          `json:"millis"`
}

// writeCards has each participant write one card.
func writeCards(ctx context.Context, ps []*participant) cardsAnswer {
	var ans cardsAnswer
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, p := range ps {
		if p.token == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			r := p.request(rctx, map[string]any{"type": "card.create", "workshop": p.session, "text": fmt.Sprintf("Idea %d", i), "colour": "yellow"})
			var c cardAck
			mu.Lock()
			defer mu.Unlock()
			if !r.ok || json.Unmarshal(r.data, &c) != nil || c.ID == "" {
				ans.Errors++
				return
			}
			p.card = c.ID
			ans.Cards = append(ans.Cards, c.ID)
		}()
	}
	wg.Wait()
	return ans
}

// moveCards has each participant move its card rate times a second for d, each move to a new
// random place, and records when each acknowledged move was sent.
func moveCards(ctx context.Context, ps []*participant, rate float64, d time.Duration) editsAnswer {
	ans := editsAnswer{Sent: map[uint64]int64{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for _, p := range ps {
		if p.token == "" || p.card == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the participants' ticks over the interval.
			every := time.Duration(float64(time.Second) / rate)
			time.Sleep(rand.N(every))
			tick := time.NewTicker(every)
			defer tick.Stop()
			for time.Now().Before(end) && ctx.Err() == nil {
				sent := time.Now()
				rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				r := p.request(rctx, map[string]any{"type": "card.move", "workshop": p.session, "card": p.card,
					"x": rand.IntN(10000), "y": rand.IntN(10000)})
				cancel()
				var c cardAck
				mu.Lock()
				if r.ok && json.Unmarshal(r.data, &c) == nil && c.Versions["pos"] != "" {
					ans.Sent[editHash(c.Versions["pos"])] = sent.UnixNano()
				} else {
					ans.Errors++
				}
				mu.Unlock()
				<-tick.C
			}
		}()
	}
	wg.Wait()
	return ans
}

// editReport measures, for every acknowledged move, when it reached each participant.
func editReport(ps []*participant, sent map[uint64]int64) reportAnswer {
	ans := reportAnswer{Buckets: map[int]int{}}
	for _, p := range ps {
		if p.token == "" {
			continue
		}
		p.mu.Lock()
		for id, at := range sent {
			got, ok := p.edits[id]
			if !ok {
				ans.Missing++
				continue
			}
			ans.Buckets[max(int((got-at)/1e6), 0)]++
			ans.Received++
		}
		p.mu.Unlock()
	}
	return ans
}

// spendDots has every participant spend its budget on random targets, all at once, then try
// one dot more, which must be refused.
func spendDots(ctx context.Context, ps []*participant, targets []string, budget int) dotsAnswer {
	start := time.Now()
	ans := dotsAnswer{Counts: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range ps {
		if p.token == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i <= budget; i++ {
				target := targets[rand.IntN(len(targets))]
				rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				r := p.request(rctx, map[string]any{"type": "dot.add", "workshop": p.session, "target": target})
				cancel()
				mu.Lock()
				switch {
				case r.ok && i < budget:
					ans.Counts[target]++
				case r.ok:
					ans.OverBudget++
					ans.Counts[target]++
				case i < budget:
					ans.Errors++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	ans.Millis = time.Since(start).Milliseconds()
	return ans
}
