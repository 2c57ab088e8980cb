package app

import (
	"testing"
	"time"
)

// Results go out at most 4 times a second, less often as the room grows, so that a poll's
// results cost a node a bounded number of frames a second.
func TestResultsIntervalGrowsWithTheRoom(t *testing.T) {
	for _, c := range []struct {
		guests, accounts int
		want             time.Duration
	}{
		{0, 0, resultsEvery},
		{900, 100, resultsEvery},
		{8000, 2000, time.Second},
		{19000, 0, 1900 * time.Millisecond},
		{100000, 0, resultsEveryMax},
	} {
		got := resultsInterval(PresenceCounts{Guests: c.guests, Accounts: c.accounts})
		if got != c.want {
			t.Errorf("%d guests, %d accounts: every %v, want %v", c.guests, c.accounts, got, c.want)
		}
		if n := c.guests + c.accounts; got < resultsEveryMax && float64(n)/got.Seconds() > resultsDeliveries+1 {
			t.Errorf("%d people every %v: over the budget", n, got)
		}
	}
}
