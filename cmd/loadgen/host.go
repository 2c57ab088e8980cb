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
	"time"
)

// host is the session's host: a signed-in account driving the session over HTTP, trying the
// next node when one does not answer.
type host struct {
	nodes  []string
	client *http.Client
	node   int
}

func newHost(nodes []string) *host {
	jar, _ := cookiejar.New(nil)
	return &host{nodes: nodes, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// apiError is an answer other than the one expected.
type apiError struct {
	status int
	body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, strings.TrimSpace(e.body)) }

// call sends a JSON request and decodes the answer into out (when not nil).
func (h *host) call(ctx context.Context, method, path string, in, out any) error {
	var lastErr error
	for try := 0; try < len(h.nodes); try++ {
		base := h.nodes[h.node]
		var body io.Reader
		if in != nil {
			b, _ := json.Marshal(in)
			body = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			return err
		}
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := h.client.Do(req)
		if err != nil {
			lastErr = err
			h.node = (h.node + 1) % len(h.nodes) // fail over to the next node
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
// a session there. It returns the session's id and join code.
func (h *host) setUp(ctx context.Context, forumID string) (id, code string, err error) {
	if forumID, err = h.forum(ctx, forumID); err != nil {
		return "", "", err
	}
	var s struct{ ID, Code string }
	agenda := []map[string]any{}
	for i := range 2 {
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

// broadcast moves the agenda to the other item: every participant gets a session.state
// event whose version the host knows and whose send time it records.
func (h *host) broadcast(ctx context.Context, session string, s *sessionState) (int64, time.Time, error) {
	next := s.Agenda[0].ID
	if s.Current == next && len(s.Agenda) > 1 {
		next = s.Agenda[1].ID
	}
	sent := time.Now()
	var after sessionState
	if err := h.action(ctx, session, map[string]any{"type": "session.control", "action": "item", "item": next}, &after); err != nil {
		return 0, sent, err
	}
	*s = after
	return after.Version, sent, nil
}

// memory reads a node's resident memory from its metrics listener (bytes; 0 when unknown).
func (h *host) memory(ctx context.Context, node string) float64 {
	req, _ := http.NewRequestWithContext(ctx, "GET", node+"/metrics", nil)
	res, err := h.client.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "process_resident_memory_bytes "); ok {
			var f float64
			fmt.Sscanf(v, "%g", &f)
			return f
		}
	}
	return 0
}
