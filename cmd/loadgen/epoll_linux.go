//go:build linux

package main

// The epoll receive path (-epoll, the default on Linux). With a goroutine per participant
// blocked in the websocket library's ReadMessage, every delivered message costs a netpoll
// wake-up, a goroutine switch, a read(2) and an allocation: ~13 µs of the load generator's
// CPU, close to half of what the measured node itself spends on a 2-core machine. Here a few
// loops (one per GOMAXPROCS, each on its own OS thread) wait on epoll for many sockets at once
// and read, parse and hand each message to participant.handle inline.
//
// The socket is dialled and upgraded by Go's net package (so -bind-ports, its fallback and
// the context's cancellation stay what they were, and no OS thread blocks per connecting
// participant), then taken out of Go's runtime: a dup of its descriptor is kept and the
// net.Conn closed.

import (
	"context"
	"errors"
	"net"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const epollSupported = true

// epollConn is one participant's websocket on a poller.
type epollConn struct {
	pl   *poller
	done chan struct{} // closed once the connection is closed

	mu         sync.Mutex // guards fd: nobody reads or writes it while close releases the number
	fd         int        // -1 once closed
	registered bool

	wmu sync.Mutex // one frame written at a time (a write may sleep, without mu)

	// The poller's own, once registered (serve's before).
	in     frameStream
	handle func([]byte)
}

// poller is an epoll instance and the loop that reads its connections.
type poller struct {
	epfd  int
	mu    sync.Mutex
	conns []*epollConn // by descriptor
}

var (
	pollersOnce sync.Once
	pollers     []*poller
	nextPoller  atomic.Uint64
)

// pickPoller starts the pollers on first use and spreads connections over them.
func pickPoller() (*poller, error) {
	var err error
	pollersOnce.Do(func() {
		for range runtime.GOMAXPROCS(0) {
			fd, e := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
			if e != nil {
				err = e
				return
			}
			pl := &poller{epfd: fd}
			pollers = append(pollers, pl)
			go pl.loop()
		}
	})
	if len(pollers) == 0 {
		return nil, errors.Join(errors.New("epoll unavailable"), err)
	}
	return pollers[nextPoller.Add(1)%uint64(len(pollers))], nil
}

// dialEpoll connects to base's /ws as the participant (see participant.dial) and upgrades.
func (p *participant) dialEpoll(ctx context.Context, base string) (wsConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	pl, err := pickPoller()
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second) // the library path's HandshakeTimeout
	defer cancel()
	nc, err := p.dial(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	deadline, _ := dctx.Deadline()
	stop := context.AfterFunc(dctx, func() { _ = nc.SetDeadline(time.Now()) })
	rest, err := handshake(nc, u.Host, u.Path+"/ws", p.addr, deadline)
	stop()
	if err != nil {
		resetCloseNet(nc)
		return nil, err
	}
	fd, err := detach(nc)
	if err != nil {
		resetCloseNet(nc)
		return nil, err
	}
	c := &epollConn{pl: pl, fd: fd, done: make(chan struct{})}
	for len(rest) > 0 { // the frames that came with the answer (served by serve)
		n := copy(c.in.space(), rest)
		c.in.filled(n)
		rest = rest[n:]
	}
	return c, nil
}

// detach takes the socket out of Go's runtime: a descriptor of our own (non-blocking, as the
// runtime set it), the net.Conn closed. Closing it neither sends anything nor leaves the socket
// in Go's poller: the runtime deregisters the descriptor it closes.
func detach(nc net.Conn) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1, errors.New("not a socket")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if cerr := raw.Control(func(s uintptr) {
		fd, err = syscall.Dup(int(s))
	}); cerr != nil {
		return -1, cerr
	}
	if err != nil {
		return -1, err
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return -1, err
	}
	_ = nc.Close()
	return fd, nil
}

// resetCloseNet closes a net.Conn with a reset (see resetClose).
func resetCloseNet(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = nc.Close()
}

// serve hands what came with the handshake to handle, then gives the socket to its poller
// and waits for the connection to end.
func (c *epollConn) serve(handle func([]byte)) {
	c.handle = handle
	if !c.drain() {
		c.close()
		return
	}
	c.mu.Lock()
	if c.fd >= 0 {
		c.pl.mu.Lock()
		for len(c.pl.conns) <= c.fd {
			c.pl.conns = append(c.pl.conns, nil)
		}
		c.pl.conns[c.fd] = c
		c.pl.mu.Unlock()
		// Level-triggered: one read per readiness, and what is left is reported again, where
		// edge-triggered would need a second read to see EAGAIN every time.
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.fd)}
		if err := syscall.EpollCtl(c.pl.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev); err == nil {
			c.registered = true
		}
	}
	registered := c.registered
	c.mu.Unlock()
	if !registered {
		c.close()
	}
	<-c.done
}

// loop waits for readable sockets and serves them, on an OS thread of its own.
func (pl *poller) loop() {
	runtime.LockOSThread()
	events := make([]syscall.EpollEvent, 256)
	ready := make([]*epollConn, len(events))
	for {
		n, err := syscall.EpollWait(pl.epfd, events, -1)
		if err != nil {
			if err == syscall.EINTR { // the runtime's preemption signals
				continue
			}
			panic("loadgen: epoll_wait: " + err.Error())
		}
		// One lock for the batch. A descriptor closed and reused since is harmless: the table
		// names its current connection, and readable checks it still owns the descriptor.
		pl.mu.Lock()
		for i := range n {
			if fd := int(events[i].Fd); fd < len(pl.conns) {
				ready[i] = pl.conns[fd]
			}
		}
		pl.mu.Unlock()
		for i := range n {
			if c := ready[i]; c != nil {
				ready[i] = nil
				c.readable()
			}
		}
	}
}

// readable reads what the socket has (one read: level-triggered epoll reports the rest) and
// serves the messages it completes.
func (c *epollConn) readable() {
	c.mu.Lock()
	if c.fd < 0 {
		c.mu.Unlock()
		return
	}
	n, err := syscall.Read(c.fd, c.in.space())
	c.mu.Unlock()
	if err == syscall.EAGAIN || err == syscall.EINTR {
		return
	}
	if err != nil || n <= 0 { // reset, or the server's end of the stream
		c.close()
		return
	}
	c.in.filled(n)
	if !c.drain() {
		c.close()
	}
}

// drain serves the complete messages buffered. It reports false when the connection must end
// (a close frame, a malformed frame, a pong that cannot be written).
func (c *epollConn) drain() bool {
	for {
		op, payload, ok, err := c.in.next()
		switch {
		case err != nil:
			return false
		case !ok:
			return true
		}
		switch op {
		case opText, opBinary:
			c.handle(payload) // synchronously: payload is reused once it returns
		case opPing:
			if c.write(opPong, payload) != nil {
				return false
			}
		case opClose:
			return false // the node is going away: reconnect, as when the library reports it
		}
	}
}

var errWriteTimeout = errors.New("websocket: write timed out")

func (c *epollConn) writeText(b []byte) error { return c.write(opText, b) }

// write sends one masked frame from the caller's goroutine. The client's frames are small and
// rare, so a full socket buffer is waited out by sleeping, for 10 s at most (the library
// path's write deadline). A failed write ends the connection: a partial frame would corrupt it.
func (c *epollConn) write(op byte, payload []byte) error {
	frame := appendClientFrame(make([]byte, 0, len(payload)+14), op, payload)
	deadline := time.Now().Add(10 * time.Second)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for len(frame) > 0 {
		c.mu.Lock()
		if c.fd < 0 {
			c.mu.Unlock()
			return net.ErrClosed
		}
		n, err := syscall.Write(c.fd, frame)
		c.mu.Unlock()
		if n > 0 {
			frame = frame[n:]
		}
		switch {
		case err == nil || err == syscall.EINTR:
		case err == syscall.EAGAIN && time.Now().Before(deadline):
			time.Sleep(time.Millisecond)
		case err == syscall.EAGAIN:
			c.close()
			return errWriteTimeout
		default:
			c.close()
			return err
		}
	}
	return nil
}

// close ends the connection with a reset (SO_LINGER 0: no TIME_WAIT, as resetClose) and
// wakes serve. Any goroutine may call it, any number of times.
func (c *epollConn) close() {
	c.mu.Lock()
	fd := c.fd
	if fd < 0 {
		c.mu.Unlock()
		return
	}
	c.fd = -1
	if c.registered {
		c.pl.mu.Lock()
		if fd < len(c.pl.conns) && c.pl.conns[fd] == c {
			c.pl.conns[fd] = nil
		}
		c.pl.mu.Unlock()
		_ = syscall.EpollCtl(c.pl.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
	}
	_ = syscall.SetsockoptLinger(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
	_ = syscall.Close(fd)
	c.mu.Unlock()
	close(c.done)
}
