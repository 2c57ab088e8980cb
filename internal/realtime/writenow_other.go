//go:build !unix

package realtime

import "syscall"

// writeNow writes nothing where non-blocking socket writes are not wired (not a Unix): the
// caller writes everything the blocking way.
func writeNow(syscall.RawConn, [][]byte) (int, error) { return 0, nil }
