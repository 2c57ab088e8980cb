package realtime

import (
	"net"
	"time"
)

// maxBatch bounds one coalesced write, so the per-batch write deadline also bounds how slow a
// client may be (WriteTimeout per maxBatch bytes) before it is dropped.
const maxBatch = 256 << 10

// enqueue queues a complete frame without ever waiting: a full queue drops the client (4000).
// It reports whether the frame was queued. Safe from any goroutine, even under locks.
func (c *client) enqueue(frame []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.queue <- frame:
		return true
	default:
		c.drop(CloseSlowConsumer)
		return false
	}
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
			_ = c.nc.SetWriteDeadline(time.Now().Add(c.h.opts.CloseGrace))
		}
		c.dlMu.Unlock()
		close(c.done)
		c.cancel()
	})
	if first && code == CloseSlowConsumer {
		c.h.slowDropped.Add(1)
	}
}

// codeNoFrame closes the socket without a close frame (the peer is gone or broke the protocol).
const codeNoFrame = -1

// writeLoop is the connection's only writer. It writes raw server frames straight to the
// socket, coalescing everything queued into one write(2), and pings on the heartbeat. The
// library's own writer is never used (its pongs and close replies come through here), so
// nothing else writes to the socket.
func (c *client) writeLoop() {
	defer close(c.writerDone)
	ping := time.NewTicker(c.h.opts.Heartbeat)
	defer ping.Stop()
	var buf []byte
	for {
		select {
		case <-c.done:
			c.finish(true)
			return
		default:
		}
		select {
		case <-c.done:
			c.finish(true)
			return
		case f := <-c.queue:
			buf = c.coalesce(append(buf[:0], f...))
		case <-ping.C:
			buf = c.coalesce(appendFrame(buf[:0], opPing, nil))
		}
		if err := c.write(buf); err != nil {
			c.drop(codeNoFrame)
			c.finish(false) // a failed write may have cut a frame: a close frame would be garbage
			return
		}
		if cap(buf) > 4*maxBatch {
			buf = nil // do not keep a snapshot-sized buffer for the connection's lifetime
		}
	}
}

// coalesce appends queued frames to buf up to maxBatch.
func (c *client) coalesce(buf []byte) []byte {
	for len(buf) < maxBatch {
		select {
		case f := <-c.queue:
			buf = append(buf, f...)
		default:
			return buf
		}
	}
	return buf
}

func (c *client) write(buf []byte) error {
	c.dlMu.Lock()
	if !c.closing { // once closing, drop's shorter deadline stands
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.h.opts.WriteTimeout))
	}
	c.dlMu.Unlock()
	_, err := c.nc.Write(buf)
	return err
}

// finish sends what is still queued (unless the client is too slow for it) and the close
// frame, in one write within CloseGrace, and closes the socket.
func (c *client) finish(sendClose bool) {
	if sendClose && c.closeCode != codeNoFrame {
		var buf []byte
		if c.closeCode != CloseSlowConsumer {
			buf = c.coalesce(nil)
		}
		_ = c.write(append(buf, closeFrame(c.closeCode, closeReason(c.closeCode))...))
	}
	_ = rawConn(c.nc).Close()
}

// rawConn unwraps fasthttp's hijacked connection, whose Close does nothing (fasthttp closes it
// only after the handler returns).
func rawConn(nc net.Conn) net.Conn {
	if u, ok := nc.(interface{ UnsafeConn() net.Conn }); ok {
		return u.UnsafeConn()
	}
	return nc
}
