package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

func TestPercentilesReadTheBuckets(t *testing.T) {
	b := map[int]int{}
	for ms := 1; ms <= 100; ms++ {
		b[ms] = 1 // one delivery at each of 1..100 ms
	}
	p50, p90, p99, top := percentiles(b)
	if p50 != 51 || p90 != 91 || p99 != 100 || top != 100 {
		t.Fatalf("p50 %d, p90 %d, p99 %d, max %d", p50, p90, p99, top)
	}
	if a, _, _, _ := percentiles(map[int]int{}); a != 0 {
		t.Fatalf("empty: %d", a)
	}
	// A long tail moves p99 and the maximum, not the median.
	b[5000] = 2
	p50, _, p99, top = percentiles(b)
	if p50 != 52 || p99 != 5000 || top != 5000 { // 102 deliveries: the 52nd is the median
		t.Fatalf("tail: p50 %d, p99 %d, max %d", p50, p99, top)
	}
}

func TestParticipantsHaveAddressesOfTheirOwn(t *testing.T) {
	seen := map[string]bool{}
	for i := range 70000 {
		a := participantAddress(i)
		if seen[a] {
			t.Fatalf("participant %d shares %s", i, a)
		}
		seen[a] = true
	}
}

func TestPollTallyReadsTheFinalCounts(t *testing.T) {
	read := func(answer string) []int {
		var p pollTally
		if err := json.Unmarshal([]byte(answer), &p); err != nil {
			t.Fatal(err)
		}
		return p.counts(2)
	}
	// The shape poll.close answers with (internal/app PollView).
	if got := read(`{"id":"p","status":"closed","results":{"voters":4,"counts":[3,1],"final":true}}`); len(got) != 2 || got[0] != 3 {
		t.Fatalf("final: %v", got)
	}
	if got := read(`{"results":{"counts":[3,1],"final":false}}`); got != nil {
		t.Fatalf("results not yet final: %v", got)
	}
	if got := read(`{"results":{"counts":[3,1,0],"final":true}}`); got != nil {
		t.Fatalf("a tally of another size: %v", got)
	}
}

func TestEditReportMeasuresEveryMoveAtEveryParticipant(t *testing.T) {
	sentAt := time.Unix(100, 0)
	a, b := newParticipant([]string{"x"}, 0, "10.0.0.1"), newParticipant([]string{"x"}, 1, "10.0.0.2")
	a.token, b.token = "t", "t"
	// Both see the move e1 (a after 10 ms, b after 30 ms); only a sees e2 and e3; a sees e1 twice.
	event := func(edit string) []byte {
		return []byte(`{"type":"card.state","card":{"id":"c","pos":{"x":1,"y":2},"versions":{"pos":"` + edit + `","text":"other"}}}`)
	}
	a.receivedEdits(event("e1"), sentAt.Add(10*time.Millisecond))
	a.receivedEdits(event("e1"), sentAt.Add(50*time.Millisecond))
	b.receivedEdits(event("e1"), sentAt.Add(30*time.Millisecond))
	// A batch of two cards' states.
	a.receivedEdits([]byte(`{"type":"board.changes","cards":[{"versions":{"pos":"e2"}},{"pos":{"x":3},"versions":{"pos":"e3"}}]}`), sentAt.Add(20*time.Millisecond))
	got := editReport([]*participant{a, b}, map[uint64]int64{editHash("e1"): sentAt.UnixNano(), editHash("e2"): sentAt.UnixNano(), editHash("e3"): sentAt.UnixNano()})
	if got.Received != 4 || got.Missing != 2 || got.Buckets[10] != 1 || got.Buckets[30] != 1 || got.Buckets[20] != 2 {
		t.Fatalf("report: %+v", got)
	}
}

func TestEventFramesAreReadWithoutDecodingTheirData(t *testing.T) {
	raw := []byte(`{"type":"event","room":"workshop:w1","epoch":"e7","seq":42,"data":{"type":"board.changes","cards":[{"id":"c"}]}}`)
	var fast, slow frame
	if !readEventFrame(raw, &fast) {
		t.Fatal("an event frame was not read")
	}
	if err := json.Unmarshal(raw, &slow); err != nil {
		t.Fatal(err)
	}
	if fast.Type != slow.Type || fast.Room != slow.Room || fast.Epoch != slow.Epoch || fast.Seq != slow.Seq || string(fast.Data) != string(slow.Data) {
		t.Fatalf("fast %+v, decoded %+v", fast, slow)
	}
	for _, other := range []string{`{"type":"ack","ref":"1"}`, `{"type":"event","room":"r","epoch":"e","seq":"x","data":{}}`, `{"type":"event","room":"r"}`} {
		if readEventFrame([]byte(other), &fast) {
			t.Fatalf("read %s as an event frame", other)
		}
	}
}

// The version is read from the bytes the node publishes: the real view, encoded as the app
// encodes it, with agenda items that could confuse a careless scan.
func TestSessionStateVersionIsReadWithoutDecoding(t *testing.T) {
	now := time.Now()
	view := &app.SessionView{ID: "s1", Title: insieme.Texts{"it": `"version":7,"serverTime":`}, Status: "live",
		Agenda: []app.AgendaItemView{{ID: "a1"}, {ID: "a2"}}, Current: "a2", Version: 1234, ServerTime: now, StartedAt: &now}
	data, err := json.Marshal(map[string]any{"type": "session.state", "session": view})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := sessionStateVersion(data); !ok || v != 1234 {
		t.Fatalf("read %d %v from %s", v, ok, data)
	}
	other, _ := json.Marshal(map[string]any{"type": "session.ended", "id": "s1"})
	if _, ok := sessionStateVersion(other); ok {
		t.Fatal("read a version from session.ended")
	}
}
