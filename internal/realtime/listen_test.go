package realtime_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/inmem"
	"github.com/insieme/insieme/internal/realtime"
)

func TestListenFollowsARoomInOrder(t *testing.T) {
	hub := realtime.NewHub(realtime.Options{Broker: inmem.NewBroker(100), Hooks: &testHooks{}})
	ctx := context.Background()
	if err := hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer hub.Shutdown(ctx)
	var mu sync.Mutex
	var got []string
	resets := 0
	err := hub.Listen(ctx, "system:test", realtime.Listener{
		OnEvent: func(ev realtime.Event) { mu.Lock(); got = append(got, string(ev.Data)); mu.Unlock() },
		OnReset: func() { mu.Lock(); resets++; mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1", "2", "3"} {
		if _, err := hub.Publish(ctx, "system:test", v); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || got[0] != `"1"` || got[2] != `"3"` || resets != 0 {
		t.Fatalf("listener saw %v with %d resets", got, resets)
	}
}
