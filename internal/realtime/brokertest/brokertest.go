// Package brokertest checks that a realtime.Broker keeps the contract the hub relies on; each
// implementation's tests run it.
package brokertest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/realtime"
)

// Run checks a started-fresh broker from newBroker (historySize at least 10; unique rooms or
// keys per call) through its public contract, on one node.
func Run(t *testing.T, newBroker func(t *testing.T) realtime.Broker) {
	t.Run("positions, history and delivery", func(t *testing.T) {
		b, got := start(t, newBroker)
		ctx := context.Background()
		_, pos, ok, err := b.History(ctx, "room:a", realtime.Position{})
		if err != nil || ok || pos.Epoch == "" || pos.Seq != 0 {
			t.Fatalf("empty room: %+v ok=%v err=%v", pos, ok, err)
		}
		if err := b.Subscribe(ctx, "room:a"); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 5; i++ {
			ev, err := b.Publish(ctx, "room:a", fmt.Appendf(nil, "%d", i))
			if err != nil || ev.Room != "room:a" || ev.Epoch != pos.Epoch || ev.Seq != uint64(i) || string(ev.Data) != fmt.Sprint(i) {
				t.Fatalf("publish %d: %+v %v", i, ev, err)
			}
		}
		for i := 1; i <= 5; i++ {
			if ev := next(t, got); ev.Seq != uint64(i) || ev.Epoch != pos.Epoch || string(ev.Data) != fmt.Sprint(i) {
				t.Fatalf("delivered %+v, want #%d", ev, i)
			}
		}
		evs, cur, ok, err := b.History(ctx, "room:a", realtime.Position{Epoch: pos.Epoch, Seq: 2})
		if err != nil || !ok || cur.Seq != 5 || len(evs) != 3 || evs[0].Seq != 3 || evs[2].Seq != 5 {
			t.Fatalf("history: %d events %+v ok=%v err=%v", len(evs), cur, ok, err)
		}
		if _, _, ok, _ := b.History(ctx, "room:a", realtime.Position{Epoch: "other", Seq: 2}); ok {
			t.Fatal("resumed from another epoch")
		}
		if _, _, ok, _ := b.History(ctx, "room:a", realtime.Position{Epoch: pos.Epoch, Seq: 6}); ok {
			t.Fatal("resumed from the future")
		}
	})

	t.Run("only subscribed rooms are delivered", func(t *testing.T) {
		b, got := start(t, newBroker)
		ctx := context.Background()
		if _, err := b.Publish(ctx, "room:b", []byte("1")); err != nil {
			t.Fatal(err)
		}
		_ = b.Subscribe(ctx, "room:b")
		_, _ = b.Publish(ctx, "room:b", []byte("2"))
		if ev := next(t, got); ev.Seq != 2 {
			t.Fatalf("delivered %+v", ev)
		}
		_ = b.Unsubscribe(ctx, "room:b")
		_, _ = b.Publish(ctx, "room:b", []byte("3"))
		_ = b.Subscribe(ctx, "room:c")
		_, _ = b.Publish(ctx, "room:c", []byte("x"))
		if ev := next(t, got); ev.Room != "room:c" {
			t.Fatalf("delivered %+v after unsubscribing", ev)
		}
	})

	t.Run("concurrent publishers, delivery in seq order", func(t *testing.T) {
		b, got := start(t, newBroker)
		ctx := context.Background()
		_ = b.Subscribe(ctx, "room:d")
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 50 {
					if _, err := b.Publish(ctx, "room:d", []byte("0")); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		for i := 1; i <= 200; i++ {
			if ev := next(t, got); ev.Seq != uint64(i) {
				t.Fatalf("delivered #%d, want #%d", ev.Seq, i)
			}
		}
	})

	t.Run("state", func(t *testing.T) {
		b, _ := start(t, newBroker)
		if s := b.State(); s != "up" {
			t.Fatalf("state %q", s)
		}
	})
}

func start(t *testing.T, newBroker func(t *testing.T) realtime.Broker) (realtime.Broker, chan realtime.Event) {
	t.Helper()
	b := newBroker(t)
	got := make(chan realtime.Event, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.Start(ctx, func(ev realtime.Event) { got <- ev }, func(string) {}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = b.Close()
		cancel()
	})
	return b, got
}

func next(t *testing.T, got chan realtime.Event) realtime.Event {
	t.Helper()
	select {
	case ev := <-got:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("nothing delivered within 10 s")
	}
	return realtime.Event{}
}
