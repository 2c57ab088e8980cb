package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"time"
)

// host is the session's host: a signed-in account driving the session over HTTP, trying the
// next node when one does not answer. Its calls may run concurrently.
type host struct {
	nodes  []string
	client *http.Client
	mu     sync.Mutex
	node   int // the node it calls first
}

func newHost(nodes []string) *host {
	jar, _ := cookiejar.New(nil)
	// Keeps a connection for each action in flight (-concurrency) instead of opening new ones.
	transport := &http.Transport{MaxIdleConnsPerHost: 64, DialContext: dialResetting}
	return &host{nodes: nodes, client: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: transport}}
}

// apiError is an answer other than the one expected.
type apiError struct {
	status int
	body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, strings.TrimSpace(e.body)) }

// call sends a JSON request and decodes the answer into out (when not nil). A node that does
// not answer (killed, say) is left for the next one, for this call and those after it.
func (h *host) call(ctx context.Context, method, path string, in, out any) error {
	h.mu.Lock()
	first := h.node
	h.mu.Unlock()
	var lastErr error
	for try := range len(h.nodes) {
		n := (first + try) % len(h.nodes)
		var body io.Reader
		if in != nil {
			b, _ := json.Marshal(in)
			body = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, h.nodes[n]+path, body)
		if err != nil {
			return err
		}
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := h.client.Do(req)
		if err != nil {
			lastErr = err
			h.mu.Lock()
			if h.node == n { // unless a concurrent call has moved on already
				h.node = (n + 1) % len(h.nodes)
			}
			h.mu.Unlock()
			continue
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 300 {
			return &apiError{status: res.StatusCode, body: string(data)}
		}
		if out != nil && len(data) > 0 {
			return json.Unmarshal(data, out)
		}
		return nil
	}
	return lastErr
}

// signIn signs the host in on every node (the cookie is the same session everywhere).
func (h *host) signIn(ctx context.Context, email, password string) error {
	return h.call(ctx, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, nil)
}

// forum returns forumID, or makes an open forum the host may run sessions and workshops in
// (the host must be an admin then).
func (h *host) forum(ctx context.Context, forumID string) (string, error) {
	if forumID != "" {
		return forumID, nil
	}
	var org struct{ ID string }
	name := fmt.Sprintf("Comune di prova %d", time.Now().UnixNano())
	if err := h.call(ctx, "POST", "/api/v1/organisations", map[string]any{"kind": "municipality", "name": name}, &org); err != nil {
		return "", fmt.Errorf("municipality (the host must be an admin to set up a forum; or give -forum): %w", err)
	}
	var f struct{ ID string }
	if err := h.call(ctx, "POST", "/api/v1/forums", map[string]any{"municipalityId": org.ID,
		"title": map[string]string{"it": "Forum di carico"}, "status": "open", "languages": []string{"it"}}, &f); err != nil {
		return "", fmt.Errorf("forum: %w", err)
	}
	return f.ID, nil
}

// setUp finds or makes an open forum the host may run sessions in, and schedules and starts
// a session there with an agenda of items (at least 2). It returns the session's id and join code.
func (h *host) setUp(ctx context.Context, forumID string, items int) (id, code string, err error) {
	if forumID, err = h.forum(ctx, forumID); err != nil {
		return "", "", err
	}
	var s struct{ ID, Code string }
	agenda := []map[string]any{}
	for i := range max(items, 2) {
		agenda = append(agenda, map[string]any{"title": map[string]string{"it": fmt.Sprintf("Punto %d", i+1)}, "minutes": 10})
	}
	if err := h.call(ctx, "POST", "/api/v1/forums/"+forumID+"/sessions", map[string]any{
		"title": map[string]string{"it": "Sessione di carico"}, "scheduledAt": time.Now().UTC(), "agenda": agenda}, &s); err != nil {
		return "", "", fmt.Errorf("session: %w", err)
	}
	if err := h.action(ctx, s.ID, map[string]any{"type": "session.control", "action": "start"}, nil); err != nil {
		return "", "", fmt.Errorf("start: %w", err)
	}
	return s.ID, s.Code, nil
}

// action sends a live message over HTTP.
func (h *host) action(ctx context.Context, session string, msg map[string]any, out any) error {
	return h.call(ctx, "POST", "/api/v1/sessions/"+session+"/actions", msg, out)
}

// sessionState is the part of a session the load generator follows.
type sessionState struct {
	Version int64  `json:"version"`
	Current string `json:"current"`
	Agenda  []struct {
		ID string `json:"id"`
	} `json:"agenda"`
}

// broadcaster has the host move the agenda at a steady rate, with up to K actions in flight.
// Each action goes to an item that no other action in flight goes to and that is not the
// current one, so that whatever order the node applies them in, each changes the current item
// and publishes a session.state with a new version (an agenda of K+1 items leaves one free).
type broadcaster struct {
	h       *host
	session string
	items   []string

	mu      sync.Mutex
	busy    map[string]bool // the items of the actions in flight
	current string          // the current item, as of the newest version answered
	newest  int64
	next    int // where pick starts looking
	tally       // broadcasts numbered by the session version they published
	stale   int // answered with a version seen before (should stay 0)
}

func newBroadcaster(h *host, session string, s *sessionState) *broadcaster {
	b := &broadcaster{h: h, session: session, busy: map[string]bool{}, current: s.Current, newest: s.Version,
		tally: newTally()}
	for _, it := range s.Agenda {
		b.items = append(b.items, it.ID)
	}
	return b
}

// pick chooses the next action's item and marks it busy ("" when every item is excluded,
// which an agenda of more items than actions in flight rules out).
func (b *broadcaster) pick() string {
	for range b.items {
		it := b.items[b.next%len(b.items)]
		b.next++
		if !b.busy[it] && it != b.current {
			b.busy[it] = true
			return it
		}
	}
	return ""
}

// done records an action's answer: only a version not seen before counts as a broadcast.
func (b *broadcaster) done(item string, sent time.Time, after *sessionState, err error) {
	delete(b.busy, item)
	switch _, seen := b.sent[after.Version]; {
	case err != nil:
		b.errors++
	case seen:
		b.stale++
	default:
		b.sentAt(after.Version, sent)
		if after.Version > b.newest {
			b.newest, b.current = after.Version, after.Current
		}
	}
}

// run fires an action at every tick of rate a second for d, at most k in flight, and waits
// for the last answers. It returns how long that took.
func (b *broadcaster) run(ctx context.Context, rate float64, k int, d time.Duration, stderr io.Writer) time.Duration {
	return pace(ctx, rate, k, d, func() {
		b.mu.Lock()
		item := b.pick() // marked busy until done: pick must not choose it meanwhile
		b.fired++
		b.mu.Unlock()
		sent := time.Now()
		var after sessionState
		err := b.h.action(ctx, b.session, map[string]any{"type": "session.control", "action": "item", "item": item}, &after)
		b.mu.Lock()
		b.done(item, sent, &after, err)
		if err != nil && b.errors <= 5 {
			fmt.Fprintln(stderr, "broadcast:", err)
		}
		b.mu.Unlock()
	})
}

// figures are what the coordinator reports of the broadcasts.
func (b *broadcaster) figures() tally {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tally
}

// tally is what a source of broadcasts counts, under its own lock.
type tally struct {
	sent    map[int64]int64 // a broadcast's number → when it was sent (unix ns)
	actions map[int]int     // a sending's round trip in ms → sendings
	fired   int
	errors  int
}

func newTally() tally { return tally{sent: map[int64]int64{}, actions: map[int]int{}} }

// sentAt records broadcast n, sent at sent and answered now.
func (t *tally) sentAt(n int64, sent time.Time) {
	t.sent[n] = sent.UnixNano()
	t.actions[int(time.Since(sent).Milliseconds())]++
}

// pace calls fire on its own goroutine at every tick of rate a second for d, with at most k
// calls running (a tick waits while k are), and waits for the last. It returns how long that took.
func pace(ctx context.Context, rate float64, k int, d time.Duration, fire func()) time.Duration {
	slots := make(chan struct{}, k)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	start := time.Now()
	for end := start.Add(d); time.Now().Before(end) && ctx.Err() == nil; {
		slots <- struct{}{} // waits while k are in flight
		wg.Add(1)
		go func() {
			defer wg.Done()
			fire()
			<-slots
		}()
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	wg.Wait()
	return time.Since(start)
}

// memory reads a node's resident memory from its metrics listener (bytes; 0 when unknown).
func (h *host) memory(ctx context.Context, node string) float64 {
	return h.metrics(ctx, node)["process_resident_memory_bytes"]
}

// metrics reads a node's metrics listener: every unlabelled metric's value by name (none when
// the node does not answer).
func (h *host) metrics(ctx context.Context, node string) map[string]float64 {
	values := map[string]float64{}
	req, _ := http.NewRequestWithContext(ctx, "GET", node+"/metrics", nil)
	res, err := h.client.Do(req)
	if err != nil {
		return values
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(data), "\n") {
		name, v, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") || strings.Contains(name, "{") {
			continue
		}
		var f float64
		if _, err := fmt.Sscanf(v, "%g", &f); err == nil {
			values[name] = f
		}
	}
	return values
}
