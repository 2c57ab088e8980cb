package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
)

// command is what the coordinator asks a worker.
type command struct {
	Cmd     string          `json:"cmd"`
	Poll    string          `json:"poll,omitempty"`
	Options int             `json:"options,omitempty"`
	Changes int             `json:"changes,omitempty"`
	Sent    map[int64]int64 `json:"sent,omitempty"` // session version → unix nanoseconds

	// the kill scenario: which node was killed (its index in -nodes) and when (unix ns; 0: none)
	KillNode int   `json:"killNode,omitempty"`
	KillAt   int64 `json:"killAt,omitempty"`

	// workshops
	Rate     float64          `json:"rate,omitempty"`
	Duration time.Duration    `json:"duration,omitempty"`
	Edits    map[uint64]int64 `json:"edits,omitempty"` // edit id hash → unix nanoseconds
	Targets  []string         `json:"targets,omitempty"`
	Dots     int              `json:"dots,omitempty"`
}

// readyAnswer says how many of a worker's participants joined and subscribed.
type readyAnswer struct {
	Ready  int    `json:"ready"`
	Failed int    `json:"failed"`
	Error  string `json:"error,omitempty"`
}

// voteAnswer is a worker's part of the expected tally: how many of its participants' latest
// acknowledged ballots chose each option.
type voteAnswer struct {
	Counts    []int `json:"counts"`
	Voters    int   `json:"voters"`
	Uncertain int   `json:"uncertain"` // gave up with a ballot unanswered
	Errors    int   `json:"errors"`
	Millis    int64 `json:"millis"`
}

// reportAnswer is a worker's delivery figures.
type reportAnswer struct {
	Buckets    map[int]int `json:"buckets"` // latency in ms → deliveries
	Received   int         `json:"received"`
	Missing    int         `json:"missing"`
	Gaps       int         `json:"gaps"`
	Reconnects int64       `json:"reconnects"`
	Fallbacks  int64       `json:"portFallbacks"` // dials that could not bind the participant's port
	Kill       *killAnswer `json:"kill,omitempty"`
}

// killAnswer is a worker's figures for its participants connected to the killed node.
type killAnswer struct {
	On       int         `json:"on"`       // connected to it at the kill
	Replayed int         `json:"replayed"` // resumed on another node with the missed events replayed
	Snapshot int         `json:"snapshot"` // resumed on another node with a fresh snapshot
	Resync   int         `json:"resync"`   // resumed on another node, then resynchronised
	Buckets  map[int]int `json:"buckets"`  // ms from the kill to resuming with the missed events replayed → participants
	Missing  int         `json:"missing"`  // broadcast events these participants never got
	Gaps     int         `json:"gaps"`     // events these participants got out of sequence
}

// resumedAfter reads a participant's connections: whether it was connected to node when it was
// killed (at, unix ns) and, if so, how and how long after the kill the first connection to
// another node got a subscription answer ("" when none did).
func resumedAfter(links []link, node int, at int64) (on bool, how string, after time.Duration) {
	for i, l := range links {
		if l.node != node || l.start > at || (l.end != 0 && l.end < at) {
			continue
		}
		for _, r := range links[i+1:] {
			if r.node != node && r.answered != 0 {
				return true, r.how, time.Duration(r.answered - at)
			}
		}
		return true, "", 0
	}
	return false, "", 0
}

// participantAddress is participant i's own address behind the trusted proxy.
func participantAddress(i int) string {
	return fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255)
}

func runWorker(ctx context.Context, o *options, stdin io.Reader, stdout io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A worker's memory is not what is measured, and its collector's CPU is the node's loss on
	// a shared machine: collect four times less often.
	debug.SetGCPercent(400)
	if dir := os.Getenv("LOADGEN_CPUPROFILE"); dir != "" {
		// Profiles each worker for its lifetime, to tell the load generator's own cost.
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("worker-%d.pprof", o.offset)))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, DialContext: dialResetting}}
	ps := make([]*participant, o.clients)
	var failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64) // joins in flight
	for i := range ps {
		n := o.offset + i
		p := newParticipant(o.nodes, n, participantAddress(n))
		if o.bindPorts > 0 {
			p.port = o.bindPorts + n // participant numbers are global, so ports never collide across workers
		}
		ps[i] = p
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			err := p.join(ctx, client, o.code, fmt.Sprintf("P%d", n))
			<-sem
			if err != nil {
				failed.Add(1)
				return
			}
			go p.run(ctx)
			select {
			case <-p.ready:
			case <-time.After(3 * time.Minute):
				failed.Add(1)
			case <-ctx.Done():
			}
		}()
	}
	wg.Wait()
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(readyAnswer{Ready: o.clients - int(failed.Load()), Failed: int(failed.Load())}); err != nil {
		return err
	}
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	for in.Scan() {
		var c command
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			return err
		}
		var err error
		switch c.Cmd {
		case "vote":
			if err := enc.Encode(voteAll(ctx, ps, c)); err != nil {
				return err
			}
		case "cards":
			err = enc.Encode(writeCards(ctx, ps))
		case "edits":
			err = enc.Encode(moveCards(ctx, ps, c.Rate, c.Duration))
		case "edit-report":
			err = enc.Encode(editReport(ps, c.Edits))
		case "dots":
			err = enc.Encode(spendDots(ctx, ps, c.Targets, c.Dots))
		case "report":
			if err := enc.Encode(report(ps, c)); err != nil {
				return err
			}
		case "quit":
			for _, p := range ps {
				p.close() // with a reset: no TIME_WAIT sockets left for the next run
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
	return in.Err()
}

func voteAll(ctx context.Context, ps []*participant, c command) voteAnswer {
	start := time.Now()
	ans := voteAnswer{Counts: make([]int, c.Options)}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, p := range ps {
		if p.token == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			latest, errs := p.vote(ctx, c.Poll, c.Options, c.Changes, rand.IntN)
			mu.Lock()
			defer mu.Unlock()
			ans.Errors += errs
			if latest >= 0 {
				ans.Counts[latest]++
				ans.Voters++
			} else {
				ans.Uncertain++
			}
		}()
	}
	wg.Wait()
	ans.Millis = time.Since(start).Milliseconds()
	return ans
}

func report(ps []*participant, c command) reportAnswer {
	ans := reportAnswer{Buckets: map[int]int{}}
	if c.KillAt != 0 {
		ans.Kill = &killAnswer{Buckets: map[int]int{}}
	}
	for _, p := range ps {
		ans.Fallbacks += p.portFallbacks.Load()
		if p.token == "" {
			continue
		}
		p.mu.Lock()
		wasOn := false
		if k := ans.Kill; k != nil {
			if on, how, after := resumedAfter(p.links, c.KillNode, c.KillAt); on {
				wasOn = true
				k.On++
				k.Gaps += p.gaps
				switch how {
				case "replayed":
					k.Replayed++
				case "snapshot":
					k.Snapshot++
				case "resync":
					k.Resync++
				}
				if how == "replayed" { // the goal: resumed with no missed event
					k.Buckets[int(after.Milliseconds())]++
				}
			}
		}
		for v, at := range c.Sent {
			got, ok := p.received[v]
			if !ok {
				ans.Missing++
				if wasOn {
					ans.Kill.Missing++
				}
				continue
			}
			ms := int(got.UnixNano()-at) / 1e6
			ans.Buckets[max(ms, 0)]++
			ans.Received++
		}
		ans.Gaps += p.gaps
		p.mu.Unlock()
		ans.Reconnects += p.reconnects.Load()
	}
	return ans
}
