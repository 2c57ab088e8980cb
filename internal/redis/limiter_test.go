package redis_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"github.com/insieme/insieme/internal/realtime"
	"github.com/insieme/insieme/internal/redis"
)

func TestLimiterStorage(t *testing.T) {
	c := newClient(t, sharedOptions(t))
	p := prefix(t)
	st := redis.NewLimiterStorage(c).WithPrefix(p)
	t.Cleanup(func() { _ = st.Reset() })

	if v, err := st.Get("missing"); v != nil || err != nil {
		t.Fatalf("missing key: %q %v", v, err)
	}
	if err := st.Set("k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := st.Get("k"); string(v) != "v" || err != nil {
		t.Fatalf("get: %q %v", v, err)
	}
	if ttl := c.TTL(context.Background(), p+"k").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("ttl %v", ttl)
	}
	if err := st.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if v, _ := st.Get("k"); v != nil {
		t.Fatalf("deleted key: %q", v)
	}

	// Reset deletes the storage's keys only.
	other := "insieme-test-other:" + realtime.NewEpoch() // outside the prefix
	c.Set(context.Background(), other, "x", time.Minute)
	t.Cleanup(func() { c.Del(context.Background(), other) })
	for _, k := range []string{"a", "b", "c"} {
		_ = st.Set(k, []byte("1"), time.Minute)
	}
	if err := st.Reset(); err != nil {
		t.Fatal(err)
	}
	if v, _ := st.Get("a"); v != nil {
		t.Fatal("Reset kept a key")
	}
	if c.Exists(context.Background(), other).Val() != 1 {
		t.Fatal("Reset deleted a key outside its prefix")
	}
}

// Two nodes sharing the storage share the count: fiber's limiter middleware across nodes.
func TestLimiterStorageSharedByTwoNodes(t *testing.T) {
	c := newClient(t, sharedOptions(t))
	st := redis.NewLimiterStorage(c).WithPrefix(prefix(t))
	t.Cleanup(func() { _ = st.Reset() })
	newApp := func() *fiber.App {
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Use(limiter.New(limiter.Config{Max: 2, Expiration: time.Minute, Storage: st}))
		app.Get("/", func(c *fiber.Ctx) error { return c.SendString("ok") })
		return app
	}
	node1, node2 := newApp(), newApp()
	for i, tc := range []struct {
		app  *fiber.App
		want int
	}{{node1, 200}, {node2, 200}, {node1, 429}, {node2, 429}} {
		res, err := tc.app.Test(httptest.NewRequest("GET", "/", nil))
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != tc.want {
			t.Fatalf("request %d: status %d, want %d", i+1, res.StatusCode, tc.want)
		}
	}
}
