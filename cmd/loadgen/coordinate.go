package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"
)

// result is one run's figures.
type result struct {
	Clients     int       `json:"clients"`
	Ready       int       `json:"ready"`
	Nodes       int       `json:"nodes"`
	Workers     int       `json:"workers"`
	Broadcasts  int       `json:"broadcasts"`
	Rate        float64   `json:"rate"`
	Deliveries  int       `json:"deliveries"`
	Missing     int       `json:"missing"`
	Gaps        int       `json:"gaps"`
	Reconnects  int64     `json:"reconnects"`
	P50ms       int       `json:"p50Ms"`
	P90ms       int       `json:"p90Ms"`
	P99ms       int       `json:"p99Ms"`
	MaxMs       int       `json:"maxMs"`
	MinMs       int       `json:"minMs"`
	// the host's HTTP action, request to response (the event is published before it answers)
	ActionP50ms int `json:"actionP50Ms"`
	ActionP99ms int `json:"actionP99Ms"`
	PerSecond   float64   `json:"deliveriesPerSecond"`
	MemoryMB    []float64 `json:"nodeMemoryMB"`
	Ballots     int       `json:"ballots,omitempty"`
	BallotMs    int64     `json:"ballotMillis,omitempty"`
	Voters      int       `json:"voters,omitempty"`
	Uncertain   int       `json:"uncertainVoters,omitempty"`
	TallyExact  *bool     `json:"tallyExact,omitempty"`
	Expected    []int     `json:"expectedTally,omitempty"`
	Final       []int     `json:"finalTally,omitempty"`
	CPUs        int       `json:"cpus"`
	StartedAt   time.Time `json:"startedAt"`
	SetUpMillis int64     `json:"setUpMillis"`
}

func coordinate(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	res := &result{Clients: o.clients, Nodes: len(o.nodes), Workers: o.workers, Rate: o.rate, CPUs: runtime.NumCPU(), StartedAt: time.Now().UTC()}
	h := newHost(o.nodes)
	if err := h.signIn(ctx, o.email, o.password); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	session, code, err := h.setUp(ctx, o.forum)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "session %s, code %s; joining %d participants over %d workers\n", session, code, o.clients, o.workers)

	// Participants join, spread over the workers.
	start := time.Now()
	workers, err := startWorkers(ctx, o, session, code, stderr)
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

	// The host broadcasts at a steady rate.
	var state sessionState
	if err := h.call(ctx, "GET", "/api/v1/sessions/"+session, nil, &state); err != nil {
		return err
	}
	sent := map[int64]int64{}
	actions := map[int]int{} // round trip in ms → actions
	tick := time.NewTicker(time.Duration(float64(time.Second) / o.rate))
	end := time.Now().Add(o.duration)
	broadcastStart := time.Now()
	for time.Now().Before(end) && ctx.Err() == nil {
		v, at, err := h.broadcast(ctx, session, &state)
		if err != nil {
			fmt.Fprintln(stderr, "broadcast:", err)
		} else {
			sent[v] = at.UnixNano()
			actions[int(time.Since(at).Milliseconds())]++
		}
		<-tick.C
	}
	tick.Stop()
	elapsed := time.Since(broadcastStart)
	time.Sleep(2 * time.Second) // the last deliveries
	res.Broadcasts = len(sent)

	buckets := map[int]int{}
	if err := each(func(w *workerProc) error {
		var a reportAnswer
		if err := w.ask(command{Cmd: "report", Sent: sent}, &a); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for ms, n := range a.Buckets {
			buckets[ms] += n
		}
		res.Deliveries += a.Received
		res.Missing += a.Missing
		res.Gaps += a.Gaps
		res.Reconnects += a.Reconnects
		return nil
	}); err != nil {
		return err
	}
	res.P50ms, res.P90ms, res.P99ms, res.MaxMs = percentiles(buckets)
	res.MinMs = minKey(buckets)
	res.ActionP50ms, _, res.ActionP99ms, _ = percentiles(actions)
	res.PerSecond = float64(res.Deliveries) / elapsed.Seconds()
	for _, m := range o.metrics {
		res.MemoryMB = append(res.MemoryMB, h.memory(ctx, m)/(1<<20))
	}

	if o.ballots {
		if err := ballots(ctx, o, h, session, workers, each, res, &mu); err != nil {
			return err
		}
	}
	if o.jsonOut {
		return json.NewEncoder(stdout).Encode(res)
	}
	printResult(stdout, res)
	if res.TallyExact != nil && !*res.TallyExact {
		return errors.New("the final tally does not count each voter's latest acknowledged ballot")
	}
	return nil
}

// startWorkers starts the worker processes, the participants spread over them.
func startWorkers(ctx context.Context, o *options, target, code string, stderr io.Writer) ([]*workerProc, error) {
	workers := make([]*workerProc, 0, o.workers)
	per := (o.clients + o.workers - 1) / o.workers
	for i := range o.workers {
		n := min(per, o.clients-i*per)
		if n <= 0 {
			break
		}
		w, err := startWorker(ctx, o, i*per, n, target, code, stderr)
		if err != nil {
			stopWorkers(workers)
			return nil, err
		}
		workers = append(workers, w)
	}
	return workers, nil
}

func stopWorkers(workers []*workerProc) {
	for _, w := range workers {
		_ = w.ask(command{Cmd: "quit"}, new(struct{}))
		_ = w.in.Close()
		_ = w.cmd.Wait()
	}
}

// eachWorker runs f for every worker at once and joins their errors.
func eachWorker(workers []*workerProc, f func(w *workerProc) error) error {
	var mu sync.Mutex
	var errs error
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(w); err != nil {
				mu.Lock()
				errs = errors.Join(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// readAnswer reads a worker's next answer without sending a command.
func (w *workerProc) readAnswer(answer any) error {
	if !w.out.Scan() {
		if err := w.out.Err(); err != nil {
			return err
		}
		return errors.New("worker ended")
	}
	return json.Unmarshal(w.out.Bytes(), answer)
}

// ballots runs the ballot burst: the host opens a poll, everyone votes (and changes their
// ballot), the host closes it, and its final tally, recounted from the stored ballots, must
// equal the sum of each voter's latest acknowledged ballot.
func ballots(ctx context.Context, o *options, h *host, session string, workers []*workerProc,
	each func(func(*workerProc) error) error, res *result, mu *sync.Mutex) error {
	opts := make([]map[string]string, o.options)
	for i := range opts {
		opts[i] = map[string]string{"it": fmt.Sprintf("Scelta %d", i+1)}
	}
	var poll struct {
		ID string `json:"id"`
	}
	if err := h.action(ctx, session, map[string]any{"type": "poll.create", "poll": map[string]any{"kind": "single",
		"title": map[string]string{"it": "Quale priorità?"}, "options": opts, "guestsMayVote": true, "showResults": "live"}}, &poll); err != nil {
		return fmt.Errorf("poll: %w", err)
	}
	if err := h.action(ctx, session, map[string]any{"type": "poll.open", "poll": poll.ID}, nil); err != nil {
		return fmt.Errorf("open poll: %w", err)
	}
	expected := make([]int, o.options)
	if err := each(func(w *workerProc) error {
		var a voteAnswer
		if err := w.ask(command{Cmd: "vote", Poll: poll.ID, Options: o.options, Changes: o.changes}, &a); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for i, n := range a.Counts {
			expected[i] += n
		}
		res.Voters += a.Voters
		res.Uncertain += a.Uncertain
		res.Ballots += a.Voters * (o.changes + 1)
		res.BallotMs = max(res.BallotMs, a.Millis)
		return nil
	}); err != nil {
		return err
	}
	var closed pollTally
	if err := h.action(ctx, session, map[string]any{"type": "poll.close", "poll": poll.ID}, &closed); err != nil {
		return fmt.Errorf("close poll: %w", err)
	}
	res.Expected, res.Final = expected, closed.counts(o.options)
	exact := slices.Equal(expected, res.Final) && res.Uncertain == 0
	res.TallyExact = &exact
	return nil
}

// pollTally is the part of a closed poll (poll.close's answer) the check reads: its results,
// which must be the final ones, recounted from the stored ballots.
type pollTally struct {
	Results *struct {
		Counts []int `json:"counts"`
		Final  bool  `json:"final"`
	} `json:"results"`
}

// counts are the final counts per option, nil unless the results are final and have n.
func (p *pollTally) counts(n int) []int {
	if p.Results != nil && p.Results.Final && len(p.Results.Counts) == n {
		return p.Results.Counts
	}
	return nil
}

// percentiles reads p50, p90, p99 and the maximum from latency buckets (ms → count).
func percentiles(b map[int]int) (p50, p90, p99, top int) {
	keys := make([]int, 0, len(b))
	total := 0
	for k, n := range b {
		keys = append(keys, k)
		total += n
	}
	if total == 0 {
		return
	}
	slices.Sort(keys)
	at := func(q float64) int {
		want := int(q * float64(total))
		seen := 0
		for _, k := range keys {
			seen += b[k]
			if seen > want {
				return k
			}
		}
		return keys[len(keys)-1]
	}
	return at(0.50), at(0.90), at(0.99), keys[len(keys)-1]
}

func minKey(b map[int]int) int {
	first := true
	least := 0
	for k := range b {
		if first || k < least {
			least, first = k, false
		}
	}
	return least
}

func printResult(w io.Writer, r *result) {
	fmt.Fprintf(w, "clients %d (ready %d) on %d node(s), %d workers, %d CPUs\n", r.Clients, r.Ready, r.Nodes, r.Workers, r.CPUs)
	fmt.Fprintf(w, "broadcasts %d at %.1f/s: deliveries %d (%.0f/s), missing %d, out of sequence %d, reconnects %d\n",
		r.Broadcasts, r.Rate, r.Deliveries, r.PerSecond, r.Missing, r.Gaps, r.Reconnects)
	fmt.Fprintf(w, "latency host action → delivery: p50 %d ms, p90 %d ms, p99 %d ms, max %d ms, min %d ms; the host's action answered in p50 %d ms, p99 %d ms\n",
		r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.MinMs, r.ActionP50ms, r.ActionP99ms)
	fmt.Fprintf(w, "node memory (RSS, MB): %v\n", r.MemoryMB)
	if r.TallyExact != nil {
		fmt.Fprintf(w, "ballots %d from %d voters in %d ms; uncertain %d; expected %v, final %v: exact %v\n",
			r.Ballots, r.Voters, r.BallotMs, r.Uncertain, r.Expected, r.Final, *r.TallyExact)
	}
}
