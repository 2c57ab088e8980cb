package realtime

import (
	"errors"
	"net"
	"os"
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
// 6 KB per connection from the start, and the writer takes what is queued (up to maxBatch
// bytes) in one go.
func (c *client) enqueue(frame []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	c.qmu.Lock()
	if len(c.queue) >= c.h.opts.QueueSize {
		c.qmu.Unlock()
		c.drop(CloseSlowConsumer)
		return false
	}
	c.queue = append(c.queue, frame)
	first := len(c.queue) == 1
	c.qmu.Unlock()
	if first {
		// The writer has taken everything before this frame, so it needs waking; a token
		// already there (the writer has not run yet) does as well.
		c.wakeWriter()
	}
	return true
}

// take removes and returns the queued frames, up to maxBatch bytes (at least one frame), so
// that a client that stops reading holds at most that much in flight besides its queue;
// spare's array holds the next ones when everything was taken.
func (c *client) take(spare [][]byte) [][]byte {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	n := batchLen(c.queue)
	frames := c.queue[:n:n]
	if n == len(c.queue) {
		c.queue = spare[:0]
	} else {
		c.queue = c.queue[n:] // the rest, still in its array: it is not recycled
		c.wakeWriter()        // the writer comes back for it
	}
	return frames
}

// takeAll removes and returns every queued frame.
func (c *client) takeAll() [][]byte {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	frames := c.queue
	c.queue = nil
	return frames
}

// batchLen is how many of frames make one write: up to maxBatch bytes, at least one frame.
func batchLen(frames [][]byte) int {
	n, size := 0, 0
	for n < len(frames) && (n == 0 || size+len(frames[n]) <= maxBatch) {
		size += len(frames[n])
		n++
	}
	return n
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
// socket, what is queued at once (one write(2), or one writev(2) of up to maxBatch bytes). The
// library's own writer is never used (its pongs and close replies come through here) and is
// muted (muteLibraryWriter), so nothing else writes to the socket. It waits on one channel:
// drop and the hub's pings (pingLoop) come through the queue's wake-up too, so that no
// connection needs a timer.
func (c *client) writeLoop() {
	defer close(c.writerDone)
	var spare [][]byte
	for range c.wake {
		select {
		case <-c.done:
			c.finish(true)
			return
		default:
		}
		// Only WriteSlots writers write at once, each without ever waiting on its socket;
		// the rest of a write the socket did not take goes out after, the blocking way.
		// A broadcast wakes every writer of the room: without the slots they would all sit in
		// Go's run queues, first-in first-out, and every goroutine the network poller wakes
		// meanwhile (the broker's next event, a host's request, the store's answers) would
		// wait behind the whole fan-out; so each writer would take one frame per write(2),
		// and a room fed faster than one fan-out at a time would fall behind. Waiting for a
		// slot, they are parked instead, and take what was queued while they waited: one
		// writev(2) for several events (docs/BENCHMARKS.md: at 10,000 clients, 233,000
		// deliveries/s instead of 88,000).
		c.h.writeSlots <- struct{}{}
		frames := c.take(spare)
		rest, err := c.tryWrite(frames)
		<-c.h.writeSlots
		if err == nil && len(rest) > 0 {
			err = c.write(rest)
		}
		if err != nil {
			c.drop(codeNoFrame)
			c.finish(false) // a failed write may have cut a frame: a close frame would be garbage
			return
		}
		clear(frames) // the frames are shared with other connections: do not hold them
		if cap(frames) <= 32 {
			spare = frames
		} else {
			spare = nil // do not keep a burst-sized array for the connection's lifetime
		}
	}
}

// tryWrite writes what the socket takes now, without waiting, and returns the rest (all of
// frames when the connection offers no raw access).
func (c *client) tryWrite(frames [][]byte) ([][]byte, error) {
	if c.rc == nil || len(frames) == 0 {
		return frames, nil
	}
	n, err := writeNow(c.rc, frames)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// drop's deadline, or one a blocking write could not clear: write decides.
		return frames, nil
	}
	if err != nil {
		return nil, err
	}
	for len(frames) > 0 && n >= len(frames[0]) {
		n -= len(frames[0])
		frames = frames[1:]
	}
	if n > 0 {
		frames[0] = frames[0][n:] // our slice of the shared frame, not the frame
	}
	return frames, nil
}

// write sends frames in writes of at most maxBatch bytes (a larger frame alone), waiting for
// the socket to take them. The write deadline moves only when less than half of WriteTimeout
// is left of it: setting it costs as much as a small write, and a client then still has at
// least WriteTimeout/2 per write.
func (c *client) write(frames [][]byte) error {
	for len(frames) > 0 {
		n := batchLen(frames)
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
	// Blocking writes are the exception (what a socket did not take at once): clear the
	// deadline, so that an idle connection holds no timer and tryWrite never meets a stale one.
	c.dlMu.Lock()
	if !c.closing && !c.deadline.IsZero() {
		c.deadline = time.Time{}
		_ = c.raw.SetWriteDeadline(c.deadline)
	}
	c.dlMu.Unlock()
	return nil
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
			frames = c.takeAll()
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
