package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
)

// participant is one simulated phone: a guest who joined by code, with one websocket to one of
// the nodes. When its connection drops it moves to the next node, authenticates again with its
// token and resumes the room from the last event it saw.
type participant struct {
	nodes   []string
	node    int
	addr    string // the address it claims behind the trusted proxy (X-Forwarded-For)
	token   string
	session string // the session's or workshop's id
	room    string
	id      string // the guest's participant id
	card    string // workshops: the card it wrote

	mu       sync.Mutex
	conn     *websocket.Conn
	epoch    string
	seq      uint64
	received map[int64]time.Time // session version → when its session.state arrived
	edits    map[uint64]int64    // workshops: hash of a board edit's id → when it arrived (unix ns)
	gaps     int                 // events that arrived out of sequence (should stay 0)
	pending  map[string]chan reply
	nextRef  atomic.Int64
	closed   atomic.Bool
	ready    chan struct{} // closed once subscribed the first time
	readyOne sync.Once

	reconnects atomic.Int64
}

type reply struct {
	ok   bool
	data json.RawMessage
	err  string
}

// frame is what the server sends.
type frame struct {
	Type      string          `json:"type"`
	Ref       json.RawMessage `json:"ref"`
	Room      string          `json:"room"`
	Epoch     string          `json:"epoch"`
	Seq       uint64          `json:"seq"`
	Data      json.RawMessage `json:"data"`
	Recovered bool            `json:"recovered"`
	Code      string          `json:"code"`
	Message   string          `json:"message"`
}

func newParticipant(nodes []string, first int, addr string) *participant {
	return &participant{nodes: nodes, node: first % len(nodes), addr: addr, received: map[int64]time.Time{}, edits: map[uint64]int64{},
		pending: map[string]chan reply{}, ready: make(chan struct{})}
}

// join asks for a guest token by code (over HTTP, trying the nodes in turn).
func (p *participant) join(ctx context.Context, client *http.Client, code, name string) error {
	var lastErr error
	for try := 0; try < len(p.nodes)*3; try++ {
		base := p.nodes[(p.node+try)%len(p.nodes)]
		body := strings.NewReader(fmt.Sprintf(`{"code":%q,"name":%q}`, code, name))
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/join", body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", p.addr)
		res, err := client.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		var out struct {
			Kind      string `json:"kind"`
			ID        string `json:"id"`
			Token     string `json:"token"`
			Principal struct {
				ID string `json:"id"`
			} `json:"principal"`
		}
		err = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if res.StatusCode != 200 || err != nil || out.Token == "" {
			lastErr = fmt.Errorf("join: %d %v", res.StatusCode, err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if out.Kind == "" {
			out.Kind = "session"
		}
		p.token, p.session, p.room, p.id = out.Token, out.ID, out.Kind+":"+out.ID, out.Principal.ID
		return nil
	}
	return lastErr
}

// run keeps the participant connected until ctx ends.
func (p *participant) run(ctx context.Context) {
	backoff := 200 * time.Millisecond
	for ctx.Err() == nil {
		err := p.connect(ctx)
		if ctx.Err() != nil || p.closed.Load() {
			return
		}
		if err != nil {
			time.Sleep(backoff)
			backoff = min(backoff*2, 5*time.Second)
		} else {
			backoff = 200 * time.Millisecond
		}
		p.mu.Lock()
		p.node = (p.node + 1) % len(p.nodes) // fail over to the next node
		p.mu.Unlock()
		p.reconnects.Add(1)
	}
}

// connect dials a node, authenticates, subscribes (resuming), and reads until the
// connection ends.
func (p *participant) connect(ctx context.Context) error {
	p.mu.Lock()
	base := p.nodes[p.node]
	p.mu.Unlock()
	header := http.Header{"X-Forwarded-For": {p.addr}}
	d := websocket.Dialer{HandshakeTimeout: 20 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 1024}
	conn, _, err := d.DialContext(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", header)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	p.mu.Lock()
	p.conn = conn
	since := map[string]any{"epoch": p.epoch, "seq": p.seq}
	resume := p.epoch != ""
	p.mu.Unlock()
	if err := p.send(map[string]any{"type": "auth", "token": p.token}); err != nil {
		return err
	}
	sub := map[string]any{"type": "subscribe", "room": p.room}
	if resume {
		sub["since"] = since
	}
	if err := p.send(sub); err != nil {
		return err
	}
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			p.failPending("connection lost")
			return err
		}
		p.handle(data)
	}
}

func (p *participant) send(v any) error {
	b, _ := json.Marshal(v)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		return errors.New("not connected")
	}
	_ = p.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return p.conn.WriteMessage(websocket.TextMessage, b)
}

func (p *participant) handle(data []byte) {
	now := time.Now()
	var f frame
	if !readEventFrame(data, &f) && json.Unmarshal(data, &f) != nil {
		return
	}
	switch f.Type {
	case "subscribed", "resync":
		p.mu.Lock()
		p.epoch, p.seq = f.Epoch, f.Seq
		p.mu.Unlock()
		p.readyOne.Do(func() { close(p.ready) })
	case "event":
		p.mu.Lock()
		if f.Epoch == p.epoch && f.Seq != p.seq+1 {
			p.gaps++
		}
		p.epoch, p.seq = f.Epoch, f.Seq
		if p.edits != nil && bytes.Contains(f.Data, posVersion) {
			// A board event (card.state, or a batch of them): only its moves' ids matter, and
			// decoding thousands a second would make the load generator the bottleneck.
			p.receivedEdits(f.Data, now)
		} else if v, ok := sessionStateVersion(f.Data); ok {
			if _, seen := p.received[v]; !seen {
				p.received[v] = now
			}
		}
		p.mu.Unlock()
	case "ack", "error":
		p.mu.Lock()
		ch := p.pending[string(f.Ref)]
		delete(p.pending, string(f.Ref))
		p.mu.Unlock()
		if ch != nil {
			ch <- reply{ok: f.Type == "ack", data: f.Data, err: f.Code + ": " + f.Message}
		}
	}
}

func (p *participant) failPending(why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for ref, ch := range p.pending {
		ch <- reply{err: why}
		delete(p.pending, ref)
	}
	p.conn = nil
}

// request sends a domain message and waits for its ack or error.
func (p *participant) request(ctx context.Context, msg map[string]any) reply {
	ref := fmt.Sprint(p.nextRef.Add(1))
	ch := make(chan reply, 1)
	p.mu.Lock()
	p.pending[`"`+ref+`"`] = ch
	p.mu.Unlock()
	msg["ref"] = ref
	if err := p.send(msg); err != nil {
		p.mu.Lock()
		delete(p.pending, `"`+ref+`"`)
		p.mu.Unlock()
		return reply{err: err.Error()}
	}
	select {
	case r := <-ch:
		return r
	case <-ctx.Done():
		return reply{err: "timeout"}
	}
}

// vote casts ballots for a poll: changes+1 of them, each for a random option, and returns the
// option of the latest acknowledged one. A ballot whose answer was lost (the connection
// dropped) is sent again once connected: stored or not, the one sent last and acknowledged
// is the one that counts.
func (p *participant) vote(ctx context.Context, poll string, options, changes int, pick func(int) int) (int, int) {
	latest, errs := -1, 0
	for i := 0; i <= changes; i++ {
		choice := pick(options)
		for attempt := 0; ; attempt++ {
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			r := p.request(rctx, map[string]any{"type": "poll.vote", "session": p.session, "poll": poll, "choices": []int{choice}})
			cancel()
			if r.ok {
				latest = choice
				break
			}
			errs++
			if attempt >= 20 || ctx.Err() != nil {
				return latest, errs
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	return latest, errs
}

// eventPrefix starts every event frame the server writes (internal/realtime's eventMsg, its
// fields in that order).
var eventPrefix = []byte(`{"type":"event","room":"`)

// readEventFrame reads an event frame's header without decoding its data, which at tens of
// thousands of frames a second would make the load generator, not the node, the bottleneck.
// It reports false for anything else (decoded the slow way).
func readEventFrame(data []byte, f *frame) bool {
	rest, ok := bytes.CutPrefix(data, eventPrefix)
	if !ok {
		return false
	}
	room, rest, ok := bytes.Cut(rest, []byte(`","epoch":"`))
	if !ok {
		return false
	}
	epoch, rest, ok := bytes.Cut(rest, []byte(`","seq":`))
	if !ok {
		return false
	}
	seq, rest, ok := bytes.Cut(rest, []byte(`,"data":`))
	if !ok || len(rest) == 0 || rest[len(rest)-1] != '}' {
		return false
	}
	n, err := strconv.ParseUint(string(seq), 10, 64)
	if err != nil {
		return false
	}
	f.Type, f.Room, f.Epoch, f.Seq, f.Data = "event", string(room), string(epoch), n, rest[:len(rest)-1]
	return true
}

var (
	sessionStateSuffix = []byte(`"type":"session.state"}`)
	versionKey         = []byte(`"version":`)
	serverTimeKey      = []byte(`,"serverTime":`)
)

// sessionStateVersion reads the session's version out of a session.state event without
// decoding it: internal/app publishes {"session":{...,"version":N,"serverTime":...},"type":
// "session.state"}, keys in that order. Anything else reports false.
func sessionStateVersion(data []byte) (int64, bool) {
	if !bytes.HasSuffix(data, sessionStateSuffix) {
		return 0, false
	}
	end := bytes.Index(data, serverTimeKey)
	if end < 0 {
		return 0, false
	}
	start := bytes.LastIndex(data[:end], versionKey)
	if start < 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(string(data[start+len(versionKey):end]), 10, 64)
	return v, err == nil
}
