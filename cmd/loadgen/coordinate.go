package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"
)

// result is one run's figures.
type result struct {
	Clients     int     `json:"clients"`
	Ready       int     `json:"ready"`
	Nodes       int     `json:"nodes"`
	Workers     int     `json:"workers"`
	Source      string  `json:"source"`     // of the broadcasts: "host actions" or (-publish-redis) "events published through Redis"
	Broadcasts  int     `json:"broadcasts"` // host actions that published a new version, or events published
	Rate        float64 `json:"rate"`
	Concurrency int     `json:"concurrency"`
	Fired       int     `json:"actionsFired"`
	ActionErrs  int     `json:"actionErrors"`
	Deliveries  int     `json:"deliveries"`
	Missing     int     `json:"missing"`
	Gaps        int     `json:"gaps"`
	Reconnects  int64   `json:"reconnects"`
	P50ms       int     `json:"p50Ms"`
	P90ms       int     `json:"p90Ms"`
	P99ms       int     `json:"p99Ms"`
	MaxMs       int     `json:"maxMs"`
	MinMs       int     `json:"minMs"`
	// the host's HTTP action, request to response (the event is published before it answers)
	ActionP50ms int         `json:"actionP50Ms"`
	ActionP99ms int         `json:"actionP99Ms"`
	Offered     float64     `json:"offeredPerSecond"` // broadcasts × participants in the room, a second
	PerSecond   float64     `json:"deliveriesPerSecond"`
	MemoryMB    []float64   `json:"nodeMemoryMB"`
	SlowDrops   []float64   `json:"nodeSlowDropped"` // connections each node dropped as slow consumers (4000)
	PortBase    int         `json:"portBase"`        // -bind-ports (0: ephemeral ports)
	Fallbacks   int64       `json:"portFallbacks"`   // dials that could not bind their port
	Kill        *killResult `json:"kill,omitempty"`
	Ballots     int         `json:"ballots,omitempty"`
	BallotMs    int64       `json:"ballotMillis,omitempty"`
	Voters      int         `json:"voters,omitempty"`
	Uncertain   int         `json:"uncertainVoters,omitempty"`
	TallyExact  *bool       `json:"tallyExact,omitempty"`
	Expected    []int       `json:"expectedTally,omitempty"`
	Final       []int       `json:"finalTally,omitempty"`
	CPUs        int         `json:"cpus"`
	StartedAt   time.Time   `json:"startedAt"`
	SetUpMillis int64       `json:"setUpMillis"`
}

// killResult is the kill scenario's figures: the participants connected to the killed node
// when it died, and how they resumed on another node.
type killResult struct {
	PID          int     `json:"pid"`
	Node         string  `json:"node"` // "" when no node stopped answering
	AfterMs      int64   `json:"afterMs"`
	Participants int     `json:"participants"`
	Resumed      int     `json:"resumed"`
	Replayed     int     `json:"replayed"` // subscribed again with the missed events replayed
	Snapshot     int     `json:"snapshot"` // subscribed again afresh, with a snapshot
	Resync       int     `json:"resync"`   // resumed, then sent a snapshot ("resync")
	P50ms        int     `json:"resumeP50Ms"`
	P99ms        int     `json:"resumeP99Ms"`
	MaxMs        int     `json:"resumeMaxMs"`
	Within15s    float64 `json:"resumedWithin15s"` // share of Participants resumed with the missed events replayed within 15 s
	Missing      int     `json:"missing"`          // broadcast events the killed node's participants never got
	Gaps         int     `json:"gaps"`             // and got out of sequence
	BallotsFrom  int64   `json:"ballotsFromMs"`    // the ballot burst, in ms from the kill
	BallotsTo    int64   `json:"ballotsToMs"`
}

// ballotLead is how long before the kill the ballot burst starts, so that ballots are in
// flight when the node dies.
const ballotLead = time.Second

func coordinate(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	res := &result{Clients: o.clients, Nodes: len(o.nodes), Workers: o.workers, Rate: o.rate, Concurrency: o.concurrency,
		PortBase: o.bindPorts, CPUs: runtime.NumCPU(), StartedAt: time.Now().UTC()}
	h := newHost(o.nodes)
	if err := h.signIn(ctx, o.email, o.password); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	session, code, err := h.setUp(ctx, o.forum, o.concurrency+1)
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

	// The host broadcasts at a steady rate; in the kill scenario a node dies meanwhile, with
	// the ballot burst under way.
	var state sessionState
	if err := h.call(ctx, "GET", "/api/v1/sessions/"+session, nil, &state); err != nil {
		return err
	}
	var src broadcastSource
	b := newBroadcaster(h, session, &state)
	src, res.Source = b, "host actions"
	if o.publish != "" {
		t, err := newTickPublisher(ctx, o.publish, session)
		if err != nil {
			return err
		}
		defer t.Close()
		src, res.Source = t, "events published through Redis"
	}
	var killedAt time.Time
	var killErr error
	killed := make(chan struct{})
	ballotsDone := make(chan error, 1)
	var ballotsFrom, ballotsTo time.Time
	if o.killPID != 0 {
		fmt.Fprintf(stderr, "killing process %d %v into the broadcasts\n", o.killPID, o.killAfter)
		kill := time.AfterFunc(o.killAfter, func() {
			killedAt, killErr = time.Now(), syscall.Kill(o.killPID, syscall.SIGKILL)
			close(killed)
		})
		defer kill.Stop()
		if o.ballots {
			go func() {
				time.Sleep(max(o.killAfter-ballotLead, 0))
				ballotsFrom = time.Now()
				err := ballots(ctx, o, h, session, each, res, &mu)
				ballotsTo = time.Now()
				ballotsDone <- err
			}()
		}
	}
	elapsed := src.run(ctx, o.rate, o.concurrency, o.duration, stderr)
	var report command
	if o.killPID != 0 {
		select {
		case <-killed:
		case <-ctx.Done():
			return ctx.Err()
		}
		if killErr != nil {
			return fmt.Errorf("kill %d: %w", o.killPID, killErr)
		}
		if o.ballots {
			if err := <-ballotsDone; err != nil {
				return err
			}
		}
		res.Kill = &killResult{PID: o.killPID, AfterMs: o.killAfter.Milliseconds()}
		if o.ballots {
			res.Kill.BallotsFrom, res.Kill.BallotsTo = ballotsFrom.Sub(killedAt).Milliseconds(), ballotsTo.Sub(killedAt).Milliseconds()
		}
		if n := deadNode(o.nodes); n >= 0 {
			res.Kill.Node = o.nodes[n]
			report.KillNode, report.KillAt = n, killedAt.UnixNano()
		} else {
			fmt.Fprintf(stderr, "process %d was killed but every node still answers: it was none of -nodes\n", o.killPID)
		}
	}
	time.Sleep(2 * time.Second) // the last deliveries
	counts := src.figures()
	res.Broadcasts, res.Fired, res.ActionErrs = len(counts.sent), counts.fired, counts.errors
	if b.stale > 0 {
		fmt.Fprintf(stderr, "%d host actions answered with a version seen before\n", b.stale)
	}

	buckets, resumed := map[int]int{}, map[int]int{}
	report.Cmd, report.Sent = "report", counts.sent
	if err := each(func(w *workerProc) error {
		var a reportAnswer
		if err := w.ask(report, &a); err != nil {
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
		res.Fallbacks += a.Fallbacks
		if k := a.Kill; k != nil && res.Kill != nil {
			res.Kill.Participants += k.On
			res.Kill.Replayed += k.Replayed
			res.Kill.Snapshot += k.Snapshot
			res.Kill.Resync += k.Resync
			res.Kill.Missing += k.Missing
			res.Kill.Gaps += k.Gaps
			for ms, n := range k.Buckets {
				resumed[ms] += n
			}
		}
		return nil
	}); err != nil {
		return err
	}
	res.P50ms, res.P90ms, res.P99ms, res.MaxMs = percentiles(buckets)
	res.MinMs = minKey(buckets)
	res.ActionP50ms, _, res.ActionP99ms, _ = percentiles(counts.actions)
	// Deliveries arrive until the last broadcast's slowest one, after the host's last send.
	res.PerSecond = float64(res.Deliveries) / (elapsed + time.Duration(res.MaxMs)*time.Millisecond).Seconds()
	res.Offered = float64(res.Broadcasts*res.Ready) / elapsed.Seconds()
	if k := res.Kill; k != nil {
		k.Resumed = k.Replayed + k.Snapshot + k.Resync
		k.P50ms, _, k.P99ms, k.MaxMs = percentiles(resumed)
		k.Within15s = within(resumed, 15000, k.Participants)
	}
	for _, m := range o.metrics {
		values := h.metrics(ctx, m)
		res.MemoryMB = append(res.MemoryMB, values["process_resident_memory_bytes"]/(1<<20))
		res.SlowDrops = append(res.SlowDrops, values["insieme_ws_slow_dropped_total"])
	}

	if o.ballots && o.killPID == 0 {
		if err := ballots(ctx, o, h, session, each, res, &mu); err != nil {
			return err
		}
	}
	if err := writeResult(o, stdout, res, func(w io.Writer) { printResult(w, res) }); err != nil {
		return err
	}
	if res.TallyExact != nil && !*res.TallyExact {
		return errors.New("the final tally does not count each voter's latest acknowledged ballot")
	}
	return nil
}

// broadcastSource sends the broadcasts: the host's actions (broadcaster) or events published
// through Redis (tickPublisher).
type broadcastSource interface {
	// run sends at rate a second for d, at most k in flight, and returns how long that took.
	run(ctx context.Context, rate float64, k int, d time.Duration, stderr io.Writer) time.Duration
	// figures are its counts, once run has returned.
	figures() tally
}

// deadNode finds the node that refuses connections after the kill (its index in nodes; -1
// when none or several do). A killed process's listening socket goes within milliseconds.
func deadNode(nodes []string) int {
	for range 50 {
		dead, refusing := -1, 0
		for i, base := range nodes {
			u, err := url.Parse(base)
			if err != nil {
				continue
			}
			c, err := net.DialTimeout("tcp", u.Host, time.Second)
			if err == nil {
				c.Close()
			} else if errors.Is(err, syscall.ECONNREFUSED) {
				dead, refusing = i, refusing+1
			}
		}
		if refusing == 1 {
			return dead
		}
		time.Sleep(100 * time.Millisecond)
	}
	return -1
}

// within is the share of total found in buckets at or below ms.
func within(buckets map[int]int, ms, total int) float64 {
	if total == 0 {
		return 0
	}
	n := 0
	for k, c := range buckets {
		if k <= ms {
			n += c
		}
	}
	return float64(n) / float64(total)
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
func ballots(ctx context.Context, o *options, h *host, session string,
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
	fmt.Fprintf(w, "broadcasts (%s) %d at %.1f/s (fired %d, %d in flight at most, errors %d): deliveries %d, offered %.0f/s, delivered %.0f/s; missing %d, out of sequence %d, reconnects %d\n",
		r.Source, r.Broadcasts, r.Rate, r.Fired, r.Concurrency, r.ActionErrs, r.Deliveries, r.Offered, r.PerSecond, r.Missing, r.Gaps, r.Reconnects)
	fmt.Fprintf(w, "latency from the broadcast's sending to its delivery: p50 %d ms, p90 %d ms, p99 %d ms, max %d ms, min %d ms; each sending answered in p50 %d ms, p99 %d ms\n",
		r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.MinMs, r.ActionP50ms, r.ActionP99ms)
	fmt.Fprintf(w, "node memory (RSS, MB): %v; slow-consumer drops: %v\n", r.MemoryMB, r.SlowDrops)
	if r.PortBase > 0 {
		fmt.Fprintf(w, "participants' ports from %d; %d dials fell back to an ephemeral port\n", r.PortBase, r.Fallbacks)
	}
	if k := r.Kill; k != nil {
		fmt.Fprintf(w, "kill: process %d (node %s) at %.1f s; %d participants on it, %d resumed on another node (%d with the missed events replayed, %d with a snapshot, %d resynchronised), %d not; "+
			"replayed after p50 %d ms, p99 %d ms, max %d ms; %.1f%% resumed with no missed event within 15 s; their missing events %d, out of sequence %d (everyone's: %d, %d)\n",
			k.PID, k.Node, float64(k.AfterMs)/1000, k.Participants, k.Resumed, k.Replayed, k.Snapshot, k.Resync, k.Participants-k.Resumed,
			k.P50ms, k.P99ms, k.MaxMs, 100*k.Within15s, k.Missing, k.Gaps, r.Missing, r.Gaps)
		if r.TallyExact != nil {
			fmt.Fprintf(w, "kill: the ballot burst ran from %+.1f s to %+.1f s of the kill\n", float64(k.BallotsFrom)/1000, float64(k.BallotsTo)/1000)
		}
	}
	if r.TallyExact != nil {
		fmt.Fprintf(w, "ballots %d from %d voters in %d ms; uncertain %d; expected %v, final %v: exact %v\n",
			r.Ballots, r.Voters, r.BallotMs, r.Uncertain, r.Expected, r.Final, *r.TallyExact)
	}
}
