package app

import (
	"fmt"
	"testing"
	"time"
)

func TestOpenDataCacheIsBoundedAndExpires(t *testing.T) {
	var c openDataCache
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for i := range maxCachedOpenData * 3 {
		c.put(fmt.Sprint("forum-", i), &OpenData{}, t0)
		if n := len(c.forums); n > maxCachedOpenData {
			t.Fatalf("%d exports cached, at most %d", n, maxCachedOpenData)
		}
	}
	last := fmt.Sprint("forum-", maxCachedOpenData*3-1)
	if _, ok := c.get(last, t0.Add(openDataTTL-time.Second)); !ok {
		t.Fatal("the newest export was evicted")
	}
	if _, ok := c.get(last, t0.Add(openDataTTL)); ok {
		t.Fatal("an expired export was served")
	}
	if _, ok := c.get(last, t0.Add(-time.Minute)); ok {
		t.Fatal("an export built after now (the clock stepped back) was served")
	}
	// Expired exports make room first.
	later := t0.Add(2 * openDataTTL)
	c.put("fresh", &OpenData{}, later)
	c.put("fresh2", &OpenData{}, later)
	if _, ok := c.get("fresh", later); !ok || len(c.forums) != 2 {
		t.Fatalf("after expiry: %d cached", len(c.forums))
	}
}
