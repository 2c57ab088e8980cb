package realtime

import (
	"hash/maphash"
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
// node): opening more connections does not buy more messages. People are spread over shards,
// each with its own lock, so that readers of different people rarely wait for each other.
type principalLimits struct {
	rate   int
	seed   maphash.Seed
	shards [limitShards]limitShard
}

const limitShards = 16

type limitShard struct {
	mu    sync.Mutex
	byID  map[string]*limiter
	takes int
}

func newPrincipalLimits(rate int) principalLimits {
	return principalLimits{rate: rate, seed: maphash.MakeSeed()}
}

// take reports whether principal id may send a message now, and whether it floods.
func (p *principalLimits) take(id string, now time.Time) (ok, flood bool) {
	s := &p.shards[maphash.String(p.seed, id)%limitShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]*limiter{}
	}
	l := s.byID[id]
	if l == nil {
		l = newLimiter(p.rate, now)
		s.byID[id] = l
	}
	ok, flood = l.take(now)
	// Forget, now and then, people idle long enough for a full bucket.
	if s.takes++; s.takes%1024 == 0 {
		for k, x := range s.byID {
			if now.Sub(x.last) > time.Minute {
				delete(s.byID, k)
			}
		}
	}
	return ok, flood
}
