package insieme

import "time"

// Clock tells the time. Tests and the browser fixtures move it to age accounts or expire links.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real time.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
