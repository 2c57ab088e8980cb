package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// However the node orders the actions in flight, and however late their answers come, each
// action it applies changes the current item.
func TestEveryBroadcastChangesTheCurrentItem(t *testing.T) {
	for _, k := range []int{1, 2, 8} {
		s := &sessionState{Version: 1}
		for i := range k + 1 { // the agenda setUp makes for k actions in flight
			s.Agenda = append(s.Agenda, struct {
				ID string `json:"id"`
			}{ID: string(rune('a' + i))})
		}
		s.Current = s.Agenda[0].ID
		b := newBroadcaster(nil, "s", s)
		node := *s                  // the session as the node has it
		var sent []string           // fired, not applied yet
		var applied []*sessionState // applied, not answered yet
		items := map[*sessionState]string{}
		for range 5000 {
			for len(sent)+len(applied) < k {
				it := b.pick()
				if it == "" {
					t.Fatalf("k=%d: no item free (current %s)", k, b.current)
				}
				sent = append(sent, it)
			}
			if len(sent) > 0 && (len(applied) == 0 || rand.IntN(2) == 0) {
				i := rand.IntN(len(sent)) // the node applies any of them next
				it := sent[i]
				sent = append(sent[:i], sent[i+1:]...)
				if it == node.Current {
					t.Fatalf("k=%d: an action to the current item %s", k, it)
				}
				node.Current, node.Version = it, node.Version+1
				after := node
				applied = append(applied, &after)
				items[&after] = it
				continue
			}
			i := rand.IntN(len(applied)) // answers come in any order
			after := applied[i]
			applied = append(applied[:i], applied[i+1:]...)
			b.done(items[after], time.Now(), after, nil)
		}
		if b.stale != 0 || b.errors != 0 || int64(len(b.sent)) < node.Version-1-int64(k) {
			t.Fatalf("k=%d: %d broadcasts of %d, %d stale", k, len(b.sent), node.Version-1, b.stale)
		}
	}
}

// The host's calls move on to the next node when theirs does not answer, and stay there.
func TestHostCallsFailOverToTheNextNode(t *testing.T) {
	calls := 0
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Write([]byte(`{"version":7}`))
	}))
	defer up.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	h := newHost([]string{down.URL, up.URL})
	for range 3 {
		var s sessionState
		if err := h.call(context.Background(), "GET", "/x", nil, &s); err != nil || s.Version != 7 {
			t.Fatalf("%v %+v", err, s)
		}
	}
	if calls != 3 || h.node != 1 {
		t.Fatalf("calls %d, node %d", calls, h.node)
	}
}

// A node's metrics are read by name: unlabelled series only, comments skipped.
func TestHostReadsANodesMetrics(t *testing.T) {
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("# HELP x\n# TYPE insieme_ws_slow_dropped_total counter\ninsieme_ws_slow_dropped_total 3\n" +
			"insieme_http_requests_total{route=\"/\"} 9\nprocess_resident_memory_bytes 1.5e+08\n"))
	}))
	defer node.Close()
	h := newHost(nil)
	got := h.metrics(context.Background(), node.URL)
	if got["insieme_ws_slow_dropped_total"] != 3 || got["process_resident_memory_bytes"] != 1.5e8 || len(got) != 2 {
		t.Fatalf("%v", got)
	}
	if h.memory(context.Background(), node.URL) != 1.5e8 {
		t.Fatal("memory")
	}
}
