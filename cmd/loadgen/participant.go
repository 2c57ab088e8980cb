package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	port    int    // the local port its websocket binds (0: an ephemeral one; see -bind-ports)
	token   string
	session string // the session's or workshop's id
	room    string
	id      string // the guest's participant id
	card    string // workshops: the card it wrote

	mu       sync.Mutex
	conn     *websocket.Conn
	epoch    string
	seq      uint64
	received map[int64]time.Time // session version (or -publish-redis event number) → when it arrived
	edits    map[uint64]int64    // workshops: hash of a board edit's id → when it arrived (unix ns)
	gaps     int                 // events that arrived out of sequence (should stay 0)
	links    []link              // its connections, oldest first (for the kill scenario)
	pending  map[string]chan reply
	nextRef  atomic.Int64
	closed   atomic.Bool
	ready    chan struct{} // closed once subscribed the first time
	readyOne sync.Once

	reconnects    atomic.Int64
	portFallbacks atomic.Int64 // dials that could not bind port and took an ephemeral one
}

// link is one of a participant's connections: to which node, and when and how the node
// answered its subscription.
type link struct {
	node     int
	start    int64  // connected (unix ns)
	end      int64  // ended (unix ns; 0 while open)
	answered int64  // the first "subscribed" or "resync" (unix ns; 0 for none)
	how      string // "replayed" (subscribed, the missed events replayed), "snapshot" (subscribed afresh) or "resync"
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

// run keeps the participant connected until ctx ends. It waits before each reconnect as the
// web client does (frontend/src/lib/live.ts), so that the kill scenario measures what
// phones would see: 0.5 s doubling to 15 s, "equal jitter", afresh once a node has answered.
func (p *participant) run(ctx context.Context) {
	attempt := 0
	for ctx.Err() == nil {
		answered := p.connect(ctx)
		if ctx.Err() != nil || p.closed.Load() {
			return
		}
		if answered {
			attempt = 0
		}
		time.Sleep(reconnectDelay(attempt, rand.Float64))
		attempt++
		p.mu.Lock()
		p.node = (p.node + 1) % len(p.nodes) // fail over to the next node
		p.mu.Unlock()
		p.reconnects.Add(1)
	}
}

// reconnectDelay is the wait before reconnect attempt n (0-based), as the web client's: a
// ceiling of 0.5 s doubling to 15 s, and a random point in its upper half, so that clients
// that lost the same node do not all come back at the same instant.
func reconnectDelay(n int, random func() float64) time.Duration {
	ceiling := 15 * time.Second
	if n < 5 {
		ceiling = min(ceiling, 500*time.Millisecond<<n)
	}
	return ceiling/2 + time.Duration(random()*float64(ceiling/2))
}

// connect dials a node, authenticates, subscribes (resuming), and reads until the
// connection ends. It reports whether the node answered the subscription.
func (p *participant) connect(ctx context.Context) bool {
	p.mu.Lock()
	node := p.node
	p.mu.Unlock()
	base := p.nodes[node]
	header := http.Header{"X-Forwarded-For": {p.addr}}
	d := websocket.Dialer{HandshakeTimeout: 20 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 1024, NetDialContext: p.dial}
	conn, _, err := d.DialContext(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", header)
	if err != nil {
		return false
	}
	stop := context.AfterFunc(ctx, func() { resetClose(conn) })
	defer stop()
	defer resetClose(conn)
	p.mu.Lock()
	p.conn = conn
	since := map[string]any{"epoch": p.epoch, "seq": p.seq}
	resume := p.epoch != ""
	p.links = append(p.links, link{node: node, start: time.Now().UnixNano()})
	here := len(p.links) - 1
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.links[here].end = time.Now().UnixNano()
		p.mu.Unlock()
	}()
	answered := func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.links[here].answered != 0
	}
	if err := p.send(map[string]any{"type": "auth", "token": p.token}); err != nil {
		return false
	}
	sub := map[string]any{"type": "subscribe", "room": p.room}
	if resume {
		sub["since"] = since
	}
	if err := p.send(sub); err != nil {
		return false
	}
	// One buffer for every message of the connection (handle keeps none of it): at tens of
	// thousands of messages a second, a new one each would make the load generator's
	// collector take CPU the node needs.
	var buf bytes.Buffer
	for {
		_, r, err := conn.NextReader()
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			p.failPending("connection lost")
			return answered()
		}
		p.handle(buf.Bytes())
	}
}

// dial opens the websocket's TCP connection, from the participant's own local port when it
// has one: above ~15,000 connections from one address the kernel's search for a free
// ephemeral port gets slow and then fails. SO_REUSEADDR lets a reconnect bind the port again;
// when the bind still fails (the port is a listener's, or taken), this attempt takes an
// ephemeral port.
func (p *participant) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if p.port > 0 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p.port}, Control: reuseAddr}
		conn, err := d.DialContext(ctx, network, addr)
		if err == nil || !(errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EADDRNOTAVAIL)) {
			return conn, err
		}
		p.portFallbacks.Add(1)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// reuseAddr sets SO_REUSEADDR on a socket before it binds.
func reuseAddr(_, _ string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	}); cerr != nil {
		return cerr
	}
	return err
}

// resetClose closes a connection with a reset (SO_LINGER 0) instead of the usual handshake,
// which would leave the closing side's socket in TIME_WAIT for a minute: thousands of them
// hold local ports and kernel memory into the next run.
func resetClose(conn *websocket.Conn) {
	if tc, ok := conn.NetConn().(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// dialResetting dials TCP connections that close with a reset too (see resetClose): the
// load generator's HTTP clients open and drop hundreds in a run.
func dialResetting(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	return conn, err
}

// close ends the participant's connection (with a reset) and stops it reconnecting.
func (p *participant) close() {
	p.closed.Store(true)
	p.mu.Lock()
	conn := p.conn
	p.mu.Unlock()
	if conn != nil {
		resetClose(conn)
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
		if !(f.Type == "subscribed" && f.Recovered && f.Epoch == p.epoch) {
			p.epoch, p.seq = f.Epoch, f.Seq
		} // else the missed events follow and advance the position (as the web client reads it)
		if n := len(p.links); n > 0 {
			l := &p.links[n-1]
			if l.answered == 0 {
				l.answered = now.UnixNano()
			}
			switch {
			case f.Type == "resync":
				l.how = "resync" // a snapshot, whatever came before on this connection
			case l.how == "" && f.Recovered:
				l.how = "replayed"
			case l.how == "":
				l.how = "snapshot"
			}
		}
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
		} else if n, ok := broadcastNumber(f.Data); ok {
			if _, seen := p.received[n]; !seen {
				p.received[n] = now
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
// is the one that counts. It keeps trying for a minute, long enough to reconnect to another
// node when its own is killed.
func (p *participant) vote(ctx context.Context, poll string, options, changes int, pick func(int) int) (int, int) {
	latest, errs := -1, 0
	for i := 0; i <= changes; i++ {
		choice := pick(options)
		giveUp := time.Now().Add(time.Minute)
		for {
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			r := p.request(rctx, map[string]any{"type": "poll.vote", "session": p.session, "poll": poll, "choices": []int{choice}})
			cancel()
			if r.ok {
				latest = choice
				break
			}
			errs++
			if time.Now().After(giveUp) || ctx.Err() != nil {
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

// broadcastNumber reads what numbers a broadcast: a session.state's version, or the number of
// one of -publish-redis's events (numbered apart, from firstTick).
func broadcastNumber(data []byte) (int64, bool) {
	if v, ok := sessionStateVersion(data); ok {
		return v, true
	}
	return tickNumber(data)
}

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
