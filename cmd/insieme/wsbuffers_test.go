package main

import (
	"strings"
	"testing"
)

// The websocket upgrader's buffers are small (thousands of connections are open): messages
// longer than them are read whole, up to the protocol's limit, and the server's long frames
// (a snapshot) arrive whole; past the limit the answer is too_long and the connection stays.
func TestMessagesLongerThanTheBuffersGoThrough(t *testing.T) {
	n := start(t, map[string]string{"INSIEME_DATA_DIR": t.TempDir()})
	l, _, err := dial(t, n.base, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.next("hello")
	for _, size := range []int{1000, 5000, 16000} {
		ref := strings.Repeat("r", size)
		l.send(map[string]any{"type": "ping", "ref": ref})
		if m := l.next("pong"); m["ref"] != ref {
			t.Fatalf("a %d-character message came back as %d characters", size, len(m["ref"].(string)))
		}
	}
	l.send(map[string]any{"type": "ping", "ref": strings.Repeat("r", 17000)})
	if m := l.next("error"); m["code"] != "invalid" || m["fields"].(map[string]any)["message"] != "too_long" {
		t.Fatalf("past the limit: %v", m)
	}
	l.send(map[string]any{"type": "ping", "ref": "still here"})
	if m := l.next("pong"); m["ref"] != "still here" {
		t.Fatalf("after a refused message: %v", m)
	}
}
