// Command loadgen is Insieme's load generator for live sessions and (with -workshop)
// co-design workshops (see workshop.go). It signs a host in, schedules
// and starts a session, joins N guests by code over several worker processes (each guest with
// its own address behind the node's trusted proxy, as phones behind haproxy would be), has the
// host broadcast agenda changes at a steady rate while it measures how long each takes to reach
// every participant, then has everyone vote in a poll (changing their ballots) and checks that
// the poll's final tally counts exactly each voter's latest acknowledged ballot.
//
//	loadgen -nodes http://127.0.0.1:8080[,http://127.0.0.1:8081] -email E -password P \
//	        -clients 1000 -workers 4 -rate 5 -duration 20s -ballots
//
// -concurrency K lets the host fire its actions on the -rate ticker without waiting for each
// answer; -publish-redis URL replaces the host's actions with small events published into the
// room through the nodes' Redis, as another node would (the saturation run: offered against
// delivered deliveries a second, see ticks.go); -kill-pid kills
// one of two or more nodes -kill-after into the broadcasts, with the ballot burst under way,
// and reports how the participants it had resumed on another node; scripts/bench-live.sh
// runs the whole set (make bench-live).
//
// The nodes must trust the load generator's address as a proxy (INSIEME_TRUSTED_PROXIES=127.0.0.1)
// so that each simulated participant has an address of its own for the per-address limits.
// Participants fail over to the next node when theirs goes away, and resume where they were.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	nodes    []string
	metrics  []string
	email    string
	password string
	forum    string
	clients  int
	workers  int
	rate     float64
	duration time.Duration
	ballots  bool
	changes  int
	options  int
	jsonOut  bool
	out      string

	bindPorts   int    // first local port of the participants' websockets (0: ephemeral ports)
	concurrency int    // host actions in flight at most
	publish     string // -publish-redis: a Redis URL to publish the broadcasts through instead of the host
	killPID     int
	killAfter   time.Duration

	// workshops
	workshop bool
	editRate float64
	dots     int

	// worker mode
	worker  bool
	offset  int
	session string
	code    string
}

func parse(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	nodes := fs.String("nodes", "http://127.0.0.1:8080", "comma-separated node addresses; participants spread over them and fail over")
	metrics := fs.String("metrics", "", "comma-separated /metrics listeners of the nodes (INSIEME_METRICS_ADDR), for their memory")
	fs.StringVar(&o.email, "email", "", "the host's email (an admin, or staff of -forum's municipality)")
	fs.StringVar(&o.password, "password", os.Getenv("LOADGEN_PASSWORD"), "the host's password (or LOADGEN_PASSWORD)")
	fs.StringVar(&o.forum, "forum", "", "an open forum to run the session in (empty: an admin sets one up)")
	fs.IntVar(&o.clients, "clients", 1000, "participants")
	fs.IntVar(&o.workers, "workers", 4, "worker processes the participants are spread over")
	fs.Float64Var(&o.rate, "rate", 5, "host broadcasts a second")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long the host broadcasts")
	fs.BoolVar(&o.ballots, "ballots", true, "run the ballot burst after the broadcasts")
	fs.IntVar(&o.changes, "changes", 1, "how many times each participant changes their ballot")
	fs.IntVar(&o.options, "options", 4, "options of the poll")
	fs.BoolVar(&o.jsonOut, "json", false, "print the result as JSON")
	fs.StringVar(&o.out, "out", "", "also write the result as JSON to this file")
	fs.IntVar(&o.bindPorts, "bind-ports", -1, fmt.Sprintf("bind participant n's websocket to 127.0.0.1:(this+n); 0: ephemeral ports; default %d when -clients > %d, else 0", autoPortBase, autoBindAbove))
	fs.IntVar(&o.concurrency, "concurrency", 1, "host actions in flight at most: they are fired on the -rate ticker without waiting for the answers")
	fs.StringVar(&o.publish, "publish-redis", "", "saturation: publish the broadcasts (small events, -rate a second, -concurrency in flight) into the session's room through this Redis, the nodes' REDIS_URL, instead of host actions")
	fs.IntVar(&o.killPID, "kill-pid", 0, "a node's process id: with two or more -nodes, SIGKILL it -kill-after into the broadcasts (the ballot burst starts 1 s before)")
	fs.DurationVar(&o.killAfter, "kill-after", 5*time.Second, "when, after the broadcasts start, -kill-pid is killed")
	fs.BoolVar(&o.workshop, "workshop", false, "run a co-design workshop instead of a live session: card moves at -edit-rate for -duration, then a dot-vote")
	fs.Float64Var(&o.editRate, "edit-rate", 2, "workshops: board edits a second per participant")
	fs.IntVar(&o.dots, "dots", 5, "workshops: dots per participant")
	fs.BoolVar(&o.worker, "worker", false, "internal: run as a worker process")
	fs.IntVar(&o.offset, "offset", 0, "internal: the worker's first participant number")
	fs.StringVar(&o.session, "session", "", "internal: the session id")
	fs.StringVar(&o.code, "code", "", "internal: the join code")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, n := range strings.Split(*nodes, ",") {
		if n = strings.TrimRight(strings.TrimSpace(n), "/"); n != "" {
			o.nodes = append(o.nodes, n)
		}
	}
	for _, m := range strings.Split(*metrics, ",") {
		if m = strings.TrimRight(strings.TrimSpace(m), "/"); m != "" {
			o.metrics = append(o.metrics, m)
		}
	}
	if len(o.nodes) == 0 || o.clients < 1 || o.workers < 1 || o.rate <= 0 || o.editRate <= 0 || o.dots < 1 || o.concurrency < 1 {
		return nil, errors.New("need -nodes, and -clients, -workers, -rate, -edit-rate, -dots and -concurrency above zero")
	}
	if err := o.resolveBindPorts(); err != nil {
		return nil, err
	}
	if o.publish != "" && o.workshop {
		return nil, errors.New("-publish-redis is for live sessions, not -workshop")
	}
	if o.killPID != 0 && !o.worker {
		switch {
		case o.workshop:
			return nil, errors.New("-kill-pid is for live sessions, not -workshop")
		case len(o.nodes) < 2:
			return nil, errors.New("-kill-pid needs two or more -nodes: the participants must have a node to move to")
		case o.killAfter <= 0 || o.killAfter >= o.duration:
			return nil, errors.New("-kill-after must fall within -duration: the broadcasts go on after the kill")
		case syscall.Kill(o.killPID, 0) != nil:
			return nil, fmt.Errorf("-kill-pid %d: no such process of ours", o.killPID)
		}
	}
	return o, nil
}

const (
	autoBindAbove = 15000 // clients from one address above which ports are bound by default
	autoPortBase  = 10000
	// lastPort is the highest local port participants may bind: Linux picks ephemeral ports
	// from 32768 up (net.ipv4.ip_local_port_range), which the nodes' own connections use.
	lastPort = 32767
)

// resolveBindPorts decides -bind-ports' default and checks every participant's port falls
// below the ephemeral range.
func (o *options) resolveBindPorts() error {
	if o.bindPorts < 0 {
		o.bindPorts = 0
		if o.clients > autoBindAbove {
			o.bindPorts = autoPortBase
		}
	}
	if o.bindPorts == 0 {
		return nil
	}
	first, last := o.bindPorts+o.offset, o.bindPorts+o.offset+o.clients-1
	if first < 1024 || last > lastPort {
		return fmt.Errorf("-bind-ports %d with %d clients would bind ports %d to %d: they must lie within 1024-%d, below Linux's ephemeral range (lower -bind-ports or -clients, or -bind-ports 0)",
			o.bindPorts, o.clients, first, last, lastPort)
	}
	return nil
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if o.worker {
		return runWorker(ctx, o, stdin, stdout)
	}
	if o.workshop {
		return coordinateWorkshop(ctx, o, stdout, stderr)
	}
	return coordinate(ctx, o, stdout, stderr)
}

// writeResult prints a run's result (as JSON with -json) and writes it to -out.
func writeResult(o *options, stdout io.Writer, res any, print func(io.Writer)) error {
	if o.out != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.out, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if o.jsonOut {
		return json.NewEncoder(stdout).Encode(res)
	}
	print(stdout)
	return nil
}

// workerProc is a worker process as the coordinator drives it: one JSON command per line on
// its standard input, one JSON answer per line on its standard output.
type workerProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startWorker(ctx context.Context, o *options, offset, n int, session, code string, stderr io.Writer) (*workerProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-worker", "-nodes", strings.Join(o.nodes, ","), "-clients", fmt.Sprint(n),
		"-offset", fmt.Sprint(offset), "-session", session, "-code", code, "-bind-ports", fmt.Sprint(o.bindPorts))
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	return &workerProc{cmd: cmd, in: in, out: sc}, nil
}

// ask sends a command and reads its answer.
func (w *workerProc) ask(cmd any, answer any) error {
	b, _ := json.Marshal(cmd)
	if _, err := w.in.Write(append(b, '\n')); err != nil {
		return err
	}
	if !w.out.Scan() {
		if err := w.out.Err(); err != nil {
			return err
		}
		return errors.New("worker ended")
	}
	return json.Unmarshal(w.out.Bytes(), answer)
}
