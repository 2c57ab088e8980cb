package realtime

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/insieme/insieme/internal/insieme"
)

// client is one websocket connection: a reader (the Serve goroutine) and a writer goroutine
// joined by a bounded queue of complete frames.
type client struct {
	h   *Hub
	id  string
	ws  *websocket.Conn
	raw net.Conn // the TCP connection under ws: the writer writes frames straight to it
	rc  syscall.RawConn

	pingSlot int // which share of the hub's pings (pingLoop) is this connection's

	qmu        sync.Mutex
	queue      [][]byte      // complete frames waiting for the writer, at most QueueSize
	wake       chan struct{} // a token after a frame reaches an empty queue (or drop): the writer looks
	done       chan struct{} // closed by the first drop
	writerDone chan struct{}
	closeOnce  sync.Once
	closeCode  int // set once, before done is closed

	ctx    context.Context // cancelled by drop: hook and handler calls stop with the connection
	cancel context.CancelFunc

	dlMu     sync.Mutex // guards the write deadline against drop
	deadline time.Time  // the write deadline set last
	closing  bool
	finished bool // Serve returned: fasthttp may recycle the connection, so nobody touches it any more

	p atomic.Pointer[insieme.Principal]

	rooms map[string]*sub // the reader's own
	lim   *limiter
}

// Serve runs one upgraded websocket connection until it ends: web passes contrib websocket's
// embedded *websocket.Conn and the principal authenticated by the session cookie (nil for
// anonymous). It must be called from the upgrade handler, which owns the connection.
func (h *Hub) Serve(ws *websocket.Conn, p *insieme.Principal) {
	c := &client{
		h:          h,
		id:         NewEpoch(),
		ws:         ws,
		raw:        rawConn(ws.NetConn()),
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		writerDone: make(chan struct{}),
		rooms:      map[string]*sub{},
		lim:        newLimiter(h.opts.RatePerSecond, time.Now()),
	}
	if sc, ok := c.raw.(syscall.Conn); ok {
		c.rc, _ = sc.SyscallConn()
	}
	c.ctx, c.cancel = context.WithCancel(h.ctx)
	c.p.Store(p)
	muteLibraryWriter(ws, c.raw)
	h.pingOnce.Do(func() { go h.pingLoop() }) // it ends with the hub (Shutdown)
	go c.writeLoop()
	defer func() {
		c.dlMu.Lock()
		c.finished = true
		c.dlMu.Unlock()
	}()
	if !h.register(c) {
		c.drop(CloseGoingAway)
		<-c.writerDone
		return
	}
	c.enqueue(mustEncode(helloMsg{Type: "hello", Conn: c.id, Principal: p,
		Heartbeat: int(math.Ceil(h.opts.Heartbeat.Seconds()))}))
	c.readLoop()
	c.drop(codeNoFrame) // no-op when something else closed it first
	<-c.writerDone
	for name := range c.rooms {
		c.leave(name)
	}
	h.unregister(c)
}

// muteLibraryWriter makes the websocket library refuse to write to the socket from now on.
// It would on a client's protocol error (a close frame, from the reader, with a deadline of
// its own and the socket's write lock held meanwhile), racing the writer, and a write turn
// (WriteSlots) would wait for that lock: a client that stops reading could stall the node's
// writers a second at a time. A write with an expired deadline fails before sending a byte,
// and the library keeps that error for every later write; the socket's deadline is then
// cleared for ours.
func muteLibraryWriter(ws *websocket.Conn, raw net.Conn) {
	_ = ws.SetWriteDeadline(time.Unix(1, 0))
	_ = ws.WriteMessage(websocket.BinaryMessage, nil)
	_ = raw.SetWriteDeadline(time.Time{})
}

func (c *client) principal() *insieme.Principal     { return c.p.Load() }
func (c *client) setPrincipal(p *insieme.Principal) { c.p.Store(p) }

// extendRead moves the read deadline: a client silent for two heartbeats (it answers pings
// with pongs) is gone.
func (c *client) extendRead() {
	hb := c.h.opts.Heartbeat
	_ = c.ws.SetReadDeadline(time.Now().Add(2*hb + hb/4))
}

var errHardLimit = errors.New("realtime: message beyond the hard limit")

func (c *client) readLoop() {
	ws := c.ws
	ws.SetReadLimit(0) // the library's limit closes the connection; readMessage limits instead
	// The library would answer pings and closes with its own writer, racing ours: queue them.
	ws.SetPingHandler(func(data string) error {
		c.extendRead()
		c.enqueue(appendFrame(nil, opPong, []byte(data)))
		return nil
	})
	ws.SetPongHandler(func(string) error {
		c.extendRead()
		return nil
	})
	ws.SetCloseHandler(func(code int, _ string) error {
		c.drop(code) // echo the peer's code, as RFC 6455 asks
		return nil
	})
	c.extendRead()
	for {
		mt, r, err := ws.NextReader()
		if err != nil {
			return
		}
		c.extendRead()
		data, tooBig, err := c.readMessage(r)
		if err != nil {
			if errors.Is(err, errHardLimit) {
				c.drop(CloseTooBig)
			}
			return
		}
		var ref []byte
		if !tooBig && mt == websocket.TextMessage {
			ref = peekRef(data)
		}
		now := time.Now()
		ok, flood := c.lim.take(now)
		if p := c.principal(); ok && p != nil {
			ok, flood = c.h.perPrincipal.take(p.ID, now)
		}
		switch {
		case flood:
			c.drop(CloseFlood)
			return
		case !ok:
			c.enqueue(errorFrame(errTooMany, ref, ""))
		case tooBig:
			c.enqueue(errorFrame(c.errTooBig(), nil, ""))
		case mt != websocket.TextMessage:
			c.enqueue(errorFrame(errBinary, nil, ""))
		default:
			c.dispatchAside(data)
		}
	}
}

// dispatchAside serves a message on a goroutine of its own and waits for it, so messages
// stay in order. Serving one goes deep (handlers, the store, snapshots), and a stack grown by
// it would stay with the reader, idle in a read for the connection's lifetime: 8 KB instead of
// 2 KB per connection, and the runtime's adaptive initial stack size follows the average, so
// every new goroutine would start bigger too.
func (c *client) dispatchAside(data []byte) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.dispatch(data)
	}()
	<-done
}

// readMessage reads one message of at most MaxMessageBytes. A longer one is drained (the
// connection survives it, tooBig=true) up to the hard limit, beyond which it fails.
func (c *client) readMessage(r io.Reader) (data []byte, tooBig bool, err error) {
	limit := int64(c.h.opts.MaxMessageBytes)
	data, err = io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(data)) <= limit {
		return data, false, nil
	}
	_, err = io.CopyN(io.Discard, r, c.h.opts.hardLimit()-int64(len(data)))
	switch {
	case errors.Is(err, io.EOF):
		return nil, true, nil // the message ended before the hard limit
	case err != nil:
		return nil, false, err
	}
	return nil, false, errHardLimit
}

var (
	errMalformed   = &insieme.Error{Code: insieme.EINVALID, Message: "Malformed message: a JSON object with a type is expected.", Fields: map[string]string{"message": insieme.FMalformedJSON}}
	errUnknownType = &insieme.Error{Code: insieme.EINVALID, Message: "Unknown message type.", Fields: map[string]string{"type": insieme.FInvalidValue}}
	errBinary      = &insieme.Error{Code: insieme.EINVALID, Message: "Binary messages are not supported.", Fields: map[string]string{"message": insieme.FInvalidType}}
	errTooMany     = &insieme.Error{Code: insieme.ETOOMANY, Message: "Too many messages: slow down.", RetryAfter: 1}
	errNoToken     = &insieme.Error{Code: insieme.EINVALID, Message: "A token is required.", Fields: map[string]string{"token": insieme.FRequired}}
	errBadRoom     = &insieme.Error{Code: insieme.EINVALID, Message: "A room name is required.", Fields: map[string]string{"room": insieme.FInvalidValue}}
	errTooManyRoom = &insieme.Error{Code: insieme.ETOOMANY, Message: "This connection follows too many rooms."}
	errOtherAuth   = &insieme.Error{Code: insieme.ECONFLICT, Message: "This connection is authenticated as someone else: open a new one."}
	errUnavailable = &insieme.Error{Code: insieme.EUNAVAILABLE, Message: "Live updates are unavailable right now; try again."}
	errUnauth      = &insieme.Error{Code: insieme.EUNAUTHORIZED, Message: "The token is not valid."}
)

func (c *client) errTooBig() error {
	return &insieme.Error{Code: insieme.EINVALID, Message: "Message too large.",
		Fields: map[string]string{"message": insieme.FTooLong}, Limits: map[string]int{"message": c.h.opts.MaxMessageBytes}}
}

// actionCtx bounds a hook or handler call; it ends with the connection.
func (c *client) actionCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.ctx, c.h.opts.ActionTimeout)
}

// fail answers a refused message, logging errors that are not the client's.
func (c *client) fail(err error, ref []byte, room string) {
	if insieme.ErrorCode(err) == insieme.EINTERNAL && c.ctx.Err() == nil {
		c.h.log.Error("realtime: internal error", "conn", c.id, "room", room, "err", err)
	}
	c.enqueue(errorFrame(err, ref, room))
}
