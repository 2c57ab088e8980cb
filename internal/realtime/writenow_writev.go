//go:build linux || darwin || openbsd || illumos

package realtime

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// maxIovecs is Linux's IOV_MAX: a writev(2) of more buffers fails.
const maxIovecs = 1024

// writeNow writes what the socket takes now, without waiting for it to take more (of the
// first maxIovecs frames): the bytes written (0 when its buffer is full), or the error that
// ends the connection.
func writeNow(rc syscall.RawConn, frames [][]byte) (int, error) {
	frames = frames[:min(len(frames), maxIovecs)]
	var n int
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		if len(frames) == 1 {
			n, werr = syscall.Write(int(fd), frames[0])
		} else {
			n, werr = unix.Writev(int(fd), frames)
		}
		return true // never wait: the caller writes the rest the blocking way
	})
	switch {
	case err != nil:
		return 0, err
	case werr == syscall.EAGAIN || werr == syscall.EINTR:
		return 0, nil
	case werr != nil:
		return 0, werr
	}
	return max(n, 0), nil
}
