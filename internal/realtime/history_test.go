package realtime_test

import (
	"fmt"
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
