package insieme

import (
	"sync"
	"time"
)

// Clock tells the time. Tests and the browser fixtures move it to age accounts or expire links.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real time.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// OffsetClock is the real time moved forward by an offset that tests and demos can advance
// (INSIEME_DEV_CLOCK): the browser tests use it to age accounts past a day.
type OffsetClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns the current time plus the offset.
func (c *OffsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

// Advance moves the clock forward and returns the new time.
func (c *OffsetClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
	return c.Now()
}
