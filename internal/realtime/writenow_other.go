//go:build !(linux || darwin || openbsd || illumos)

package realtime

import "syscall"

// writeNow writes nothing where x/sys has no writev (Windows, the other BSDs): the
// caller writes everything the blocking way.
func writeNow(syscall.RawConn, [][]byte) (int, error) { return 0, nil }
