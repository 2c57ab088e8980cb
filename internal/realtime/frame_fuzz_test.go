package realtime

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/insieme/insieme/internal/insieme"
)

// FuzzFrame feeds arbitrary client messages (the payload of a websocket frame) to the path a
// connection's reader takes them through: readMessage (the size limits), then dispatch (JSON
// decoding into the envelope, then auth, subscribe, unsubscribe, ping or a domain handler).
// Whatever the bytes: no panic, the connection stays open (below the hard limit), exactly one
// answer is queued and it is a well-formed server frame echoing the message's ref, and a
// message that is not refused as malformed had a type.
func FuzzFrame(f *testing.F) {
	seeds := []string{
		// Every documented client message, well formed.
		`{"type":"auth","token":"tok-u1","ref":1}`,
		`{"type":"auth","token":"bogus","ref":"a"}`,
		`{"type":"auth","ref":"no token"}`,
		`{"type":"subscribe","room":"session:s1","ref":"s"}`,
		`{"type":"subscribe","room":"session:s1","since":{"epoch":"0123456789abcdef","seq":3},"ref":2}`,
		`{"type":"subscribe","room":"session:s1","since":{"epoch":"","seq":0}}`,
		`{"type":"subscribe","room":"participant:u1","ref":"private"}`,
		`{"type":"subscribe","room":"forbidden","ref":"no"}`,
		`{"type":"unsubscribe","room":"session:s1","ref":"u"}`,
		`{"type":"unsubscribe","room":"never-joined"}`,
		`{"type":"ping","ref":"p"}`,
		`{"type":"ping"}`,
		`{"type":"ping","ref":{"nested":[1,2,{"x":null}]}}`,
		`{"type":"ping","ref":null}`,
		`{"type":"session.control","session":"s1","action":"start","ref":1}`,
		`{"type":"session.control","session":"s1","action":"item","item":"i1","ref":2}`,
		`{"type":"poll.create","session":"s1","poll":{"kind":"single","title":{"it":"Sì?"},"options":[{"it":"sì"},{"it":"no"}],"guestsMayVote":true,"showResults":"live"},"ref":3}`,
		`{"type":"poll.update","session":"s1","poll":{"id":"p1","maxChoices":2},"ref":4}`,
		`{"type":"poll.delete","session":"s1","poll":"p1","ref":5}`,
		`{"type":"poll.open","session":"s1","poll":"p1","ref":6}`,
		`{"type":"poll.close","session":"s1","poll":"p1","ref":7}`,
		`{"type":"poll.vote","session":"s1","poll":"p1","choices":[0],"ref":8}`,
		`{"type":"poll.vote","session":"s1","poll":"p1","ranking":[2,0,1],"ref":9}`,
		`{"type":"poll.vote","session":"s1","poll":"p1","scale":5,"ref":10}`,
		`{"type":"poll.vote","session":"s1","poll":"p1","words":["pace","casa"],"ref":11}`,
		`{"type":"question.ask","session":"s1","text":"Quando?","anonymous":true,"ref":12}`,
		`{"type":"question.upvote","session":"s1","question":"q1","ref":13}`,
		`{"type":"question.moderate","session":"s1","question":"q1","status":"approved","ref":14}`,
		`{"type":"hand.raise","session":"s1","ref":15}`,
		`{"type":"hand.lower","session":"s1","ref":16}`,
		`{"type":"floor.give","session":"s1","participant":"u2","ref":17}`,
		`{"type":"floor.end","session":"s1","ref":18}`,
		`{"type":"hand.remove","session":"s1","participant":"u2","ref":19}`,
		`{"type":"participant.remove","session":"s1","participant":"u2","ref":20}`,
		`{"type":"test.panic","ref":"boom"}`,
		`{"type":"test.refuse","ref":"no"}`,
		// Malformed ones.
		``,
		`not json`,
		`[1,2]`,
		`null`,
		`"ping"`,
		`42`,
		`{}`,
		`{"ref":7}`,
		`{"type":"","ref":"empty"}`,
		`{"type":5,"ref":"number"}`,
		`{"type":null}`,
		`{"type":["ping"]}`,
		`{"type":"ping"`,
		`{"type":"ping"} trailing`,
		`{"type":"ping"}{"type":"ping"}`,
		"\xef\xbb\xbf{\"type\":\"ping\"}",
		" \t\n{\"type\":\"ping\",\"ref\":\"spaces\"}\n",
		`{"type":"nope","ref":"r1"}`,
		`{"type":"subscribe","ref":"no room"}`,
		`{"type":"subscribe","room":5,"ref":"x"}`,
		`{"type":"subscribe","room":"r","since":{"epoch":1},"ref":"bad since"}`,
		`{"type":"subscribe","room":"r","since":{"seq":-1},"ref":"negative"}`,
		`{"type":"subscribe","room":"r","since":"yesterday"}`,
		`{"type":"subscribe","room":"` + strings.Repeat("r", 201) + `"}`,
		`{"type":"auth","token":{"t":1},"ref":1}`,
		"{\"type\":\"\xff\xfe\",\"ref\":\"bad utf-8\"}",
		`{"type":"ping","ref":"\ud800"}`,
		"{\"type\":\"ping\",\"ref\":\"\xd9\"}", // echoed: the answer must stay valid UTF-8
		"{\"ref\":[\"\xff\xfe\",\"&<>\"]}",
		`{"TYPE":"ping","Ref":"case"}`,
		`{"type":"ping","type":"nope","ref":"twice"}`,
		`{"type":"poll.vote","session":"s1","poll":"p1","choices":"zero","ref":21}`,
		`{"type":"ping","ref":` + strings.Repeat("[", 480) + strings.Repeat("]", 480) + `}`,
		`{"type":"ping","ref":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, // too long
		strings.Repeat("x", 70000),                                                              // beyond the hard limit
		`{"type":"ping","pad":"` + strings.Repeat("x", 2000) + `"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	h := newFuzzHub(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := newFuzzClient(h)
		defer closeFuzzClient(c)
		msg, tooBig, err := c.readMessage(bytes.NewReader(data))
		hard := int64(len(data)) > h.opts.hardLimit()
		switch {
		case hard:
			if !errors.Is(err, errHardLimit) {
				t.Fatalf("%d bytes beyond the hard limit: %v", len(data), err)
			}
			return
		case err != nil:
			t.Fatalf("readMessage: %v", err)
		case tooBig != (len(data) > h.opts.MaxMessageBytes):
			t.Fatalf("%d bytes: tooBig=%v", len(data), tooBig)
		case tooBig:
			return // the reader answers with too_long without decoding it
		case !bytes.Equal(msg, data):
			t.Fatalf("readMessage changed the message")
		}

		c.dispatch(msg)
		frames := c.takeAll()
		select {
		case <-c.done:
			t.Fatalf("the connection was closed (%d) by %q", c.closeCode, data)
		default:
		}
		if len(frames) != 1 {
			t.Fatalf("%q: %d answers, want 1", data, len(frames))
		}
		answer := parseServerFrame(t, frames[0])
		var head struct {
			Type   string            `json:"type"`
			Code   string            `json:"code"`
			Msg    string            `json:"message"`
			Ref    json.RawMessage   `json:"ref"`
			Fields map[string]string `json:"fields"`
		}
		if err := json.Unmarshal(answer, &head); err != nil {
			t.Fatalf("answer %s: %v", answer, err)
		}
		malformed := head.Type == "error" && head.Fields["message"] == insieme.FMalformedJSON

		// A message not refused as malformed is a JSON object with a non-empty string type.
		typ, isObject := fuzzMessageType(data)
		if !malformed && (!isObject || typ == "") {
			t.Fatalf("%q was accepted (answered %s) without a type", data, answer)
		}
		if malformed && head.Code != insieme.EINVALID {
			t.Fatalf("malformed answer %s", answer)
		}

		// The answer fits the type.
		want := map[string][]string{
			"auth": {"authed", "error"}, "subscribe": {"subscribed", "error"},
			"unsubscribe": {"unsubscribed"}, "ping": {"pong"},
		}
		if !malformed {
			ok, known := want[typ]
			if !known {
				ok = []string{"ack", "error"}
				if h.handler(typ) == nil {
					ok = []string{"error"}
					if head.Fields["type"] != insieme.FInvalidValue {
						t.Fatalf("unknown type %q answered %s", typ, answer)
					}
				}
			}
			if !slices.Contains(ok, head.Type) {
				t.Fatalf("%q (type %q) answered %s", data, typ, answer)
			}
		}
		if head.Type == "error" {
			switch head.Code {
			case insieme.EINVALID, insieme.EUNAUTHORIZED, insieme.EFORBIDDEN, insieme.ENOTFOUND, insieme.ECONFLICT,
				insieme.ETOOMANY, insieme.EUNAVAILABLE, insieme.EINTERNAL:
			default:
				t.Fatalf("error code %q in %s", head.Code, answer)
			}
			if head.Msg == "" || strings.Contains(head.Msg, "boom") {
				t.Fatalf("error message in %s", answer)
			}
		}

		// The ref comes back, errors included, whenever it was readable: the same JSON value
		// (re-encoded: compacted, with <, > and & escaped).
		var in struct {
			Ref json.RawMessage `json:"ref"`
		}
		var wantRef, gotRef any
		if json.Unmarshal(data, &in) == nil && len(in.Ref) > 0 {
			wantRef = jsonValue(t, in.Ref)
		}
		if len(head.Ref) > 0 {
			gotRef = jsonValue(t, head.Ref)
		}
		if !reflect.DeepEqual(gotRef, wantRef) {
			t.Fatalf("%q: ref %s answered with ref %s", data, in.Ref, head.Ref)
		}
	})
}

// fuzzMessageType says whether data is a JSON object and what its type is, as the protocol reads
// it: the value of the last key named "type" (encoding/json matches keys case-insensitively,
// the last one winning), when that value is a string.
func fuzzMessageType(data []byte) (typ string, isObject bool) {
	if !json.Valid(data) {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return "", false
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return "", false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return "", false
		}
		if key, _ := k.(string); strings.EqualFold(key, "type") {
			typ = ""
			_ = json.Unmarshal(v, &typ)
		}
	}
	return typ, true
}

// parseServerFrame checks one queued frame (FIN, text, unmasked, its length encoded in the
// shortest form that fits) and returns its payload, a JSON object.
func parseServerFrame(t *testing.T, f []byte) []byte {
	t.Helper()
	if len(f) < 2 || f[0] != 0x80|opText || f[1]&0x80 != 0 {
		t.Fatalf("frame header % x", f[:min(len(f), 2)])
	}
	n, rest := uint64(f[1]), f[2:]
	switch n {
	case 126:
		if len(rest) < 2 {
			t.Fatal("short 16-bit length")
		}
		n, rest = uint64(binary.BigEndian.Uint16(rest)), rest[2:]
		if n < 126 {
			t.Fatalf("length %d in the 16-bit form", n)
		}
	case 127:
		if len(rest) < 8 {
			t.Fatal("short 64-bit length")
		}
		n, rest = binary.BigEndian.Uint64(rest), rest[8:]
		if n <= 0xFFFF {
			t.Fatalf("length %d in the 64-bit form", n)
		}
	}
	if uint64(len(rest)) != n {
		t.Fatalf("frame length %d, payload %d", n, len(rest))
	}
	if !utf8.Valid(rest) || !json.Valid(rest) || len(rest) == 0 || rest[0] != '{' {
		t.Fatalf("payload %q", rest)
	}
	return rest
}

// jsonValue decodes a JSON value, numbers as written.
func jsonValue(t *testing.T, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", raw, err)
	}
	return v
}

// newFuzzHub is a hub with the live session's message types registered, a one-node broker
// and hooks like the tests' (tokens "tok-<id>", "participant:<id>" private, "forbidden"
// nobody's), and a small message limit so that the size checks are reached.
func newFuzzHub(f *testing.F) *Hub {
	h := NewHub(Options{Broker: &fuzzBroker{hist: NewMemHistory(16)}, Hooks: fuzzHooks{}, MaxMessageBytes: 1024, QueueSize: 16})
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	if err := h.Start(ctx); err != nil {
		f.Fatal(err)
	}
	for _, typ := range []string{"session.control", "poll.create", "poll.update", "poll.delete", "poll.open", "poll.close",
		"poll.vote", "question.ask", "question.upvote", "question.moderate", "hand.raise", "hand.lower", "floor.give",
		"floor.end", "hand.remove", "participant.remove"} {
		h.Handle(typ, func(_ context.Context, p *insieme.Principal, raw json.RawMessage) (any, error) {
			var m struct {
				Session string `json:"session"`
			}
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, insieme.FieldError("message", insieme.FInvalidValue)
			}
			if m.Session == "" {
				return nil, insieme.FieldError("session", insieme.FRequired)
			}
			if p == nil {
				return nil, insieme.Errorf(insieme.EUNAUTHORIZED, "Sign in.")
			}
			return map[string]string{"session": m.Session}, nil
		})
	}
	h.Handle("test.panic", func(context.Context, *insieme.Principal, json.RawMessage) (any, error) { panic("boom") })
	h.Handle("test.refuse", func(context.Context, *insieme.Principal, json.RawMessage) (any, error) {
		return nil, errors.New("boom: a driver error")
	})
	return h
}

// newFuzzClient is a connection without a socket: what dispatch queues stays in its queue.
func newFuzzClient(h *Hub) *client {
	c := &client{h: h, id: NewEpoch(), wake: make(chan struct{}, 1), done: make(chan struct{}),
		writerDone: make(chan struct{}), rooms: map[string]*sub{}, finished: true}
	c.ctx, c.cancel = context.WithCancel(h.ctx)
	h.register(c)
	return c
}

// closeFuzzClient leaves the rooms and unregisters, as Serve does when a connection ends.
func closeFuzzClient(c *client) {
	for name := range c.rooms {
		c.leave(name)
	}
	c.h.unregister(c)
	c.cancel()
}

type fuzzHooks struct{}

func (fuzzHooks) Authenticate(_ context.Context, token string) (*insieme.Principal, error) {
	if id, ok := strings.CutPrefix(token, "tok-"); ok && id != "" {
		return &insieme.Principal{ID: id, Name: id}, nil
	}
	return nil, insieme.Errorf(insieme.EUNAUTHORIZED, "Bad token.")
}

func (fuzzHooks) Authorize(_ context.Context, p *insieme.Principal, room string) error {
	if id, ok := strings.CutPrefix(room, "participant:"); ok {
		if p == nil {
			return insieme.Errorf(insieme.EUNAUTHORIZED, "Sign in.")
		}
		if p.ID != id {
			return insieme.Errorf(insieme.EFORBIDDEN, "Not yours.")
		}
	}
	if room == "forbidden" {
		return insieme.Errorf(insieme.EFORBIDDEN, "No.")
	}
	return nil
}

func (fuzzHooks) Snapshot(_ context.Context, _ *insieme.Principal, room string) (json.RawMessage, error) {
	return json.Marshal(map[string]string{"room": room})
}

// fuzzBroker is a one-node broker on a MemHistory.
type fuzzBroker struct {
	hist    *MemHistory
	deliver func(Event)
}

func (b *fuzzBroker) Start(_ context.Context, deliver func(Event), _ func(string)) error {
	b.deliver = deliver
	return nil
}

func (b *fuzzBroker) Publish(_ context.Context, room string, data []byte) (Event, error) {
	return b.hist.Append(room, data, b.deliver), nil
}

func (b *fuzzBroker) History(_ context.Context, room string, since Position) ([]Event, Position, bool, error) {
	evs, pos, ok := b.hist.Since(room, since)
	return evs, pos, ok, nil
}

func (b *fuzzBroker) Subscribe(context.Context, string) error   { return nil }
func (b *fuzzBroker) Unsubscribe(context.Context, string) error { return nil }
func (b *fuzzBroker) State() string                             { return "up" }
func (b *fuzzBroker) Close() error                              { return nil }
