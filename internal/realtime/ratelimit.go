package realtime

import "time"

// limiter is one connection's message budget: a token bucket (rate per second, burst twice
// that). A message without a token is refused and counts as a strike; strikes fade at one per
// second, and more strikes than the burst mean the client ignores the refusals (a flood).
// Only the connection's reader uses it.
type limiter struct {
	rate, burst float64
	tokens      float64
	strikes     float64
	last        time.Time
}

func newLimiter(perSecond int, now time.Time) *limiter {
	r := float64(perSecond)
	return &limiter{rate: r, burst: 2 * r, tokens: 2 * r, last: now}
}

// take reports whether a message may be served now, and whether the client floods.
func (l *limiter) take(now time.Time) (ok, flood bool) {
	dt := now.Sub(l.last).Seconds()
	l.last = now
	l.tokens = min(l.burst, l.tokens+dt*l.rate)
	l.strikes = max(0, l.strikes-dt)
	if l.tokens >= 1 {
		l.tokens--
		return true, false
	}
	l.strikes++
	return false, l.strikes > l.burst
}
