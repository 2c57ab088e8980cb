package realtime_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/realtime"
)

func TestMemHistory(t *testing.T) {
	h := realtime.NewMemHistory(3)
	_, pos, ok := h.Since("r", realtime.Position{})
	if ok || pos.Seq != 0 || len(pos.Epoch) != 16 {
		t.Fatalf("new room %+v %v", pos, ok)
	}
	for i := 1; i <= 5; i++ { // the ring wraps: 3, 4, 5 are held
		ev := h.Append("r", fmt.Appendf(nil, "%d", i), nil)
		if ev.Seq != uint64(i) || ev.Epoch != pos.Epoch {
			t.Fatalf("append %+v", ev)
		}
	}
	for since, want := range map[uint64][]uint64{1: nil, 2: {3, 4, 5}, 3: {4, 5}, 5: {}, 6: nil} {
		evs, cur, ok := h.Since("r", realtime.Position{Epoch: pos.Epoch, Seq: since})
		if cur != (realtime.Position{Epoch: pos.Epoch, Seq: 5}) || ok != (want != nil) || len(evs) != len(want) {
			t.Fatalf("since %d: %d events, %+v ok=%v", since, len(evs), cur, ok)
		}
		for i, ev := range evs {
			if ev.Seq != want[i] || string(ev.Data) != fmt.Sprint(want[i]) {
				t.Fatalf("since %d: event %+v, want #%d", since, ev, want[i])
			}
		}
	}

	h.Forget("r")
	if ev := h.Append("r", nil, nil); ev.Epoch == pos.Epoch || ev.Seq != 1 {
		t.Fatalf("after Forget: %+v", ev)
	}
	h.Append("kept", nil, nil)
	if n := h.Sweep(time.Now().Add(time.Minute), func(r string) bool { return r == "kept" }); n != 1 || h.Len() != 1 {
		t.Fatalf("sweep removed %d, %d left", n, h.Len())
	}

	none := realtime.NewMemHistory(0) // positions only
	none.Append("r", nil, nil)
	_, pos, _ = none.Since("r", realtime.Position{})
	if _, _, ok := none.Since("r", realtime.Position{Epoch: pos.Epoch, Seq: 0}); ok {
		t.Fatal("resumed without history")
	}
	if _, _, ok := none.Since("r", pos); !ok {
		t.Fatal("an up-to-date position should resume with nothing")
	}
}

// The ring grows as events come: it wraps right after growing to its size, and a room with a
// few events holds memory for a few (a node serves a room per participant).
func TestMemHistoryGrowsItsRing(t *testing.T) {
	h := realtime.NewMemHistory(100)
	_, pos, _ := h.Since("r", realtime.Position{})
	for i := 1; i <= 250; i++ {
		h.Append("r", fmt.Appendf(nil, "%d", i), nil)
		// Every position still held resumes with exactly the events after it.
		for _, since := range []int{i - 1, i - 50, i - 100} {
			if since < 0 {
				continue
			}
			evs, _, ok := h.Since("r", realtime.Position{Epoch: pos.Epoch, Seq: uint64(since)})
			if !ok || len(evs) != i-since || (len(evs) > 0 && string(evs[0].Data) != fmt.Sprint(since+1)) {
				t.Fatalf("after %d events, since %d: ok=%v, %d events", i, since, ok, len(evs))
			}
		}
		if evs, _, ok := h.Since("r", realtime.Position{Epoch: pos.Epoch, Seq: uint64(i - 101)}); i > 101 && (ok || evs != nil) {
			t.Fatalf("after %d events, resumed from beyond the ring", i)
		}
	}
	big := realtime.NewMemHistory(1000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 2000 {
		big.Append(fmt.Sprintf("participant:%d", i), []byte("x"), nil)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Fatalf("2,000 rooms of one event hold %d MB", grew>>20)
	}
	if big.Len() != 2000 {
		t.Fatalf("rooms: %d", big.Len())
	}
}
