package realtime

import (
	"sync"
	"time"
)

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

// principalLimits are message budgets per person, shared by all their connections (on this
// node): opening more connections does not buy more messages.
type principalLimits struct {
	mu    sync.Mutex
	rate  int
	byID  map[string]*limiter
	takes int
}

// take reports whether principal id may send a message now, and whether it floods.
func (p *principalLimits) take(id string, now time.Time) (ok, flood bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byID == nil {
		p.byID = map[string]*limiter{}
	}
	l := p.byID[id]
	if l == nil {
		l = newLimiter(p.rate, now)
		p.byID[id] = l
	}
	ok, flood = l.take(now)
	// Forget, now and then, people idle long enough for a full bucket.
	if p.takes++; p.takes%4096 == 0 {
		for k, x := range p.byID {
			if now.Sub(x.last) > time.Minute {
				delete(p.byID, k)
			}
		}
	}
	return ok, flood
}
