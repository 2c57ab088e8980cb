package realtime

import (
	"strconv"
	"testing"
	"time"
)

// Each person has a budget of their own, whichever shard holds it: one person's flood does
// not spend another's, and a person's budget is the same on every call.
func TestPrincipalBudgetsAreEachPersons(t *testing.T) {
	p := newPrincipalLimits(5) // burst 10
	now := time.Unix(1000, 0)
	for i := range 10 {
		if ok, _ := p.take("flooder", now); !ok {
			t.Fatalf("message %d of the burst refused", i+1)
		}
	}
	if ok, _ := p.take("flooder", now); ok {
		t.Fatal("an 11th message at once was served")
	}
	for n := range 100 { // others, spread over every shard, still have their whole burst
		if ok, _ := p.take("person-"+strconv.Itoa(n), now); !ok {
			t.Fatalf("person %d refused", n)
		}
	}
	if ok, _ := p.take("flooder", now.Add(time.Second)); !ok {
		t.Fatal("the flooder's budget did not refill")
	}
}

// People idle for more than a minute are forgotten as their shard is used.
func TestIdleBudgetsAreForgotten(t *testing.T) {
	p := newPrincipalLimits(5)
	now := time.Unix(1000, 0)
	p.take("idle", now)
	later := now.Add(2 * time.Minute)
	for i := range limitShards * 1024 * 2 {
		p.take("busy-"+strconv.Itoa(i%64), later)
	}
	for i := range p.shards {
		if _, ok := p.shards[i].byID["idle"]; ok {
			t.Fatal("an idle person's budget was kept")
		}
	}
}
