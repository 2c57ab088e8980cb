package realtime

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"
)

// maxBatch bounds the bytes of one write, so the per-write deadline also bounds how slow a
// client may be (WriteTimeout per maxBatch bytes) before it is dropped.
const maxBatch = 256 << 10

// pingFrame is shared by every connection: frames are never modified once queued.
var pingFrame = appendFrame(nil, opPing, nil)

// pingSlots spreads the heartbeat: every Heartbeat/pingSlots the hub pings one slot's share of
// the connections, rather than all of them at once (a burst as big as a broadcast) or each on
// a timer of its own.
const pingSlots = 16

// pingLoop pings every connection once a Heartbeat, a slot at a time, until the hub stops.
func (h *Hub) pingLoop() {
	t := time.NewTicker(max(h.opts.Heartbeat/pingSlots, time.Millisecond))
	defer t.Stop()
	var batch []*client
	for slot := 0; ; slot = (slot + 1) % pingSlots {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		batch = batch[:0]
		h.cmu.Lock()
		for c := range h.clients {
			if c.pingSlot == slot {
				batch = append(batch, c)
			}
		}
		h.cmu.Unlock()
		for _, c := range batch {
			c.enqueue(pingFrame)
		}
		clear(batch)
	}
}

// enqueue queues a complete frame without ever waiting: a full queue drops the client (4000).
// It reports whether the frame was queued. Safe from any goroutine, even under locks.
//
// The queue is a slice under a mutex rather than a channel: a channel of QueueSize slots is
// 6 KB per connection from the start, and the writer takes everything queued in one go.
func (c *client) enqueue(frame []byte) bool {
	queued, idle := c.push(frame)
	if idle {
		// Nobody is writing and the writer took everything before this frame: wake it (a
		// wake-up already pending does as well).
		c.wakeWriter()
	}
	return queued
}

// push queues a frame and reports whether it was queued and whether the connection was idle
// (nobody writing, nothing queued before it): then the caller must see that it is written,
// by waking the writer (enqueue) or by writing it itself (flushInline).
func (c *client) push(frame []byte) (queued, idle bool) {
	select {
	case <-c.done:
		return false, false
	default:
	}
	c.qmu.Lock()
	if len(c.queue) >= c.h.opts.QueueSize {
		c.qmu.Unlock()
		c.drop(CloseSlowConsumer)
		return false, false
	}
	c.queue = append(c.queue, frame)
	idle = len(c.queue) == 1 && !c.writing
	c.qmu.Unlock()
	return true, idle
}

// takeForWriting claims the socket and takes every queued frame; false when someone else is
// writing or nothing is queued. Call with qmu held.
func (c *client) takeForWriting() ([][]byte, bool) {
	if c.writing || len(c.queue) == 0 {
		return nil, false
	}
	c.writing = true
	frames := c.queue
	c.queue, c.spare = c.spare[:0], nil
	return frames, true
}

// written releases the socket after frames (the array takeForWriting returned) were written,
// keeping rest (unwritten frames, the first maybe cut) at the head of the queue. It reports
// whether frames are waiting. Call with qmu held.
func (c *client) written(frames, rest [][]byte) bool {
	c.writing = false
	if len(rest) > 0 {
		c.queue = append(rest, c.queue...) // rest shares frames' array: it is not recycled
	} else if cap(frames) <= 32 {
		clear(frames) // the frames are shared with other connections: do not hold them
		c.spare = frames[:0]
	} // else: do not keep a burst-sized array for the connection's lifetime
	return len(c.queue) > 0
}

// flushInline writes what is queued straight away, from the caller's goroutine, without
// blocking: a fan-out writes to thousands of idle sockets this way instead of waking as many
// writer goroutines (the wake-ups cost CPU, and thousands of runnable writers queue ahead of
// everything else the node runs). What the socket does not take at once is left to the
// writer. Safe from any goroutine, but not under the hub's locks (it makes system calls).
func (c *client) flushInline() {
	c.qmu.Lock()
	var frames [][]byte
	ok := false
	if c.sc != nil && !c.isDone() {
		frames, ok = c.takeForWriting()
	}
	wake := !ok && !c.writing && len(c.queue) > 0
	c.qmu.Unlock()
	if !ok {
		if wake {
			c.wakeWriter()
		}
		return
	}
	rest, err := c.writeNow(frames)
	c.qmu.Lock()
	more := c.written(frames, rest)
	c.qmu.Unlock()
	if err != nil {
		c.drop(codeNoFrame)
		return // drop wakes the writer, which closes the socket
	}
	if more {
		c.wakeWriter()
	}
}

// writeNow writes frames without waiting for the socket: it returns those it could not write
// (the first maybe in part) when the socket's buffer is full.
func (c *client) writeNow(frames [][]byte) ([][]byte, error) {
	for i, f := range frames {
		for len(f) > 0 {
			var n int
			var werr error
			if err := c.sc.Write(func(fd uintptr) bool {
				n, werr = syscall.Write(int(fd), f)
				return true // one try: never wait for the socket here
			}); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					// the writer's deadline (cleared after each of its writes, but one may be
					// in the past while closing): leave the frames to the writer
					frames[i] = f
					return frames[i:], nil
				}
				return nil, err
			}
			switch {
			case werr == syscall.EINTR:
			case werr == syscall.EAGAIN:
				frames[i] = f
				return frames[i:], nil
			case werr != nil:
				return nil, werr
			default:
				f = f[n:]
			}
		}
	}
	return nil, nil
}

func (c *client) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// take removes and returns every queued frame (for connections without a socket in tests).
func (c *client) take(spare [][]byte) [][]byte {
	c.qmu.Lock()
	frames := c.queue
	c.queue = spare[:0]
	c.qmu.Unlock()
	return frames
}

// drop starts closing the connection with code (codeNoFrame: without a close frame). The first
// call wins. The writer sends the close frame within CloseGrace and closes the socket; nobody
// waits for it. Safe from any goroutine, even under locks.
func (c *client) drop(code int) {
	first := false
	c.closeOnce.Do(func() {
		first = true
		c.closeCode = code
		c.dlMu.Lock()
		c.closing = true
		if !c.finished {
			// cuts short a write blocked on a client that does not read
			_ = c.raw.SetWriteDeadline(time.Now().Add(c.h.opts.CloseGrace))
		}
		c.dlMu.Unlock()
		close(c.done)
		c.cancel()
		c.wakeWriter()
	})
	if first && code == CloseSlowConsumer {
		c.h.slowDropped.Add(1)
	}
}

// codeNoFrame closes the socket without a close frame (the peer is gone or broke the protocol).
const codeNoFrame = -1

// writeLoop is the connection's only writer. It writes raw server frames straight to the
// socket, everything queued at once (one write(2), or one writev(2) per maxBatch bytes). The
// library's own writer is never used (its pongs and close replies come through here), so
// nothing else writes to the socket. It waits on one channel: drop and the hub's pings
// (pingLoop) come through the queue's wake-up too, so that no connection needs a timer.
func (c *client) writeLoop() {
	defer close(c.writerDone)
	for range c.wake {
		if c.isDone() {
			c.qmu.Lock()
			for c.writing { // an inline flush is on; it does not wait for the socket
				c.qmu.Unlock()
				time.Sleep(time.Millisecond)
				c.qmu.Lock()
			}
			c.writing = true // for good: nothing else writes to the socket now
			c.qmu.Unlock()
			c.finish(true)
			return
		}
		c.qmu.Lock()
		frames, ok := c.takeForWriting()
		c.qmu.Unlock()
		if !ok {
			continue // an inline flush is on: it wakes the writer if it leaves anything
		}
		err := c.write(frames)
		c.clearDeadline()
		c.qmu.Lock()
		more := c.written(frames, nil)
		c.qmu.Unlock()
		if err != nil {
			c.drop(codeNoFrame)
			c.finish(false) // a failed write may have cut a frame: a close frame would be garbage
			return
		}
		if more {
			c.wakeWriter()
		}
	}
}

// write sends frames in writes of at most maxBatch bytes (a larger frame alone), under a write
// deadline that the writer clears once done (clearDeadline). Within a long write the deadline
// moves only when less than half of WriteTimeout is left of it: a client has at least
// WriteTimeout/2 for each maxBatch bytes.
func (c *client) write(frames [][]byte) error {
	for len(frames) > 0 {
		n, size := 0, 0
		for n < len(frames) && (n == 0 || size+len(frames[n]) <= maxBatch) {
			size += len(frames[n])
			n++
		}
		c.dlMu.Lock()
		if !c.closing { // once closing, drop's shorter deadline stands
			if now := time.Now(); c.deadline.Sub(now) < c.h.opts.WriteTimeout/2 {
				c.deadline = now.Add(c.h.opts.WriteTimeout)
				_ = c.raw.SetWriteDeadline(c.deadline)
			}
		}
		c.dlMu.Unlock()
		var err error
		if n == 1 {
			_, err = c.raw.Write(frames[0])
		} else {
			batch := net.Buffers(frames[:n:n])
			_, err = batch.WriteTo(c.raw)
		}
		if err != nil {
			return err
		}
		frames = frames[n:]
	}
	return nil
}

// clearDeadline removes the write deadline after the writer's write: the socket's deadline
// holds for every write to it, and an inline flush (which never waits) must not find one long
// past and fail.
func (c *client) clearDeadline() {
	c.dlMu.Lock()
	if !c.closing {
		_ = c.raw.SetWriteDeadline(time.Time{})
		c.deadline = time.Time{}
	}
	c.dlMu.Unlock()
}

// wakeWriter makes the writer look at the queue and at done.
func (c *client) wakeWriter() {
	select {
	case c.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// finish sends what is still queued (unless the client is too slow for it) and the close
// frame within CloseGrace, and closes the socket.
func (c *client) finish(sendClose bool) {
	if sendClose && c.closeCode != codeNoFrame {
		var frames [][]byte
		if c.closeCode != CloseSlowConsumer {
			frames = c.take(nil)
		}
		_ = c.write(append(frames, closeFrame(c.closeCode, closeReason(c.closeCode))))
	}
	_ = c.raw.Close()
}

// rawConn unwraps fasthttp's hijacked connection, whose Close does nothing (fasthttp closes it
// only after the handler returns).
func rawConn(nc net.Conn) net.Conn {
	if u, ok := nc.(interface{ UnsafeConn() net.Conn }); ok {
		return u.UnsafeConn()
	}
	return nc
}
