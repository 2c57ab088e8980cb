package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBindPortsStayBelowTheEphemeralRange(t *testing.T) {
	cases := []struct {
		args []string
		base int
		err  string
	}{
		{[]string{"-clients", "15000"}, 0, ""},                           // few enough for ephemeral ports
		{[]string{"-clients", "15001"}, autoPortBase, ""},                // on by itself
		{[]string{"-clients", "20000", "-bind-ports", "0"}, 0, ""},       // off when asked
		{[]string{"-clients", "100", "-bind-ports", "30000"}, 30000, ""}, // on when asked
		{[]string{"-clients", "22768"}, autoPortBase, ""},                // 10000 + 22768 - 1 = 32767, the last port allowed
		{[]string{"-clients", "22769"}, 0, "ports 10000 to 32768: they must lie within 1024-32767"},
		{[]string{"-clients", "10", "-bind-ports", "80"}, 0, "must lie within"}, // privileged ports
		{[]string{"-worker", "-clients", "5000", "-offset", "15000"}, 0, ""},    // a worker binds what it is given
		{[]string{"-worker", "-clients", "5000", "-offset", "15000", "-bind-ports", "10000"}, 10000, ""},
		{[]string{"-worker", "-clients", "5000", "-offset", "20000", "-bind-ports", "10000"}, 0, "ports 30000 to 34999"},
	}
	for _, c := range cases {
		o, err := parse(c.args, io.Discard)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%v: %v", c.args, err)
		case c.err == "" && o.bindPorts != c.base:
			t.Errorf("%v: base %d, want %d", c.args, o.bindPorts, c.base)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%v: %v, want %q", c.args, err, c.err)
		}
	}
}

func TestKillNeedsANodeToMoveToAndTimeAfterIt(t *testing.T) {
	self := []string{"-kill-pid", itoa(os.Getpid())}
	two := []string{"-nodes", "http://a,http://b"}
	for _, c := range []struct {
		args []string
		err  string
	}{
		{append(append([]string{}, self...), two...), ""},
		{append([]string{"-nodes", "http://a"}, self...), "two or more -nodes"},
		{append(append([]string{"-duration", "5s", "-kill-after", "5s"}, self...), two...), "within -duration"},
		{append(append([]string{"-workshop"}, self...), two...), "not -workshop"},
		{append([]string{"-kill-pid", "999999999"}, two...), "no such process"},
	} {
		_, err := parse(c.args, io.Discard)
		if (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%v: %v, want %q", c.args, err, c.err)
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestWithinCountsTheShareAtOrBelow(t *testing.T) {
	b := map[int]int{100: 2, 15000: 1, 15001: 1}
	if got := within(b, 15000, 5); got != 0.6 { // one of the five never resumed
		t.Fatalf("%v", got)
	}
	if within(nil, 15000, 0) != 0 {
		t.Fatal("no participants")
	}
}

func TestResultIsWrittenToOut(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.json")
	o := &options{out: out}
	var printed strings.Builder
	res := &result{Clients: 3, Kill: &killResult{Participants: 2}}
	if err := writeResult(o, &printed, res, func(w io.Writer) { printResult(w, res) }); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var back result
	if err := json.Unmarshal(data, &back); err != nil || back.Clients != 3 || back.Kill == nil || back.Kill.Participants != 2 {
		t.Fatalf("%v %+v", err, back)
	}
	if !strings.Contains(printed.String(), "kill: process") {
		t.Fatalf("printed %q", printed.String())
	}
}
