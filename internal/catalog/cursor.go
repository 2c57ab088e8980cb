package catalog

import (
	"encoding/base64"
	"encoding/binary"
	"unicode/utf8"
)

// A cursor is the sort key of the last entry of a page, base64url without padding:
//
//	[0]     version (1)
//	[1]     sort mode
//	[2:10]  supports or comments; for "random", the seed hash
//	[10:18] createdAt seconds
//	[18:22] createdAt nanoseconds
//	[22:30] random key
//	[30:]   id
//
// Fields a sort order does not use are zero; anything else is rejected, so a cursor is
// accepted only by the sort order (and seed) that made it.
const (
	cursorVersion = 1
	cursorHeader  = 30
	maxCursorID   = 512
	maxCursorLen  = (cursorHeader + maxCursorID + 2) / 3 * 4
)

var cursorEncoding = base64.RawURLEncoding.Strict()

func encodeCursor(o order, k *key) string {
	b := make([]byte, cursorHeader, cursorHeader+len(k.id))
	b[0] = cursorVersion
	b[1] = byte(o.mode)
	binary.BigEndian.PutUint64(b[2:], uint64(k.n))
	binary.BigEndian.PutUint64(b[10:], uint64(k.sec))
	binary.BigEndian.PutUint32(b[18:], uint32(k.nsec))
	binary.BigEndian.PutUint64(b[22:], k.h)
	b = append(b, k.id...)
	return cursorEncoding.EncodeToString(b)
}

func decodeCursor(s string, o order) (key, error) {
	if len(s) > maxCursorLen {
		return key{}, ErrBadCursor
	}
	b, err := cursorEncoding.DecodeString(s)
	if err != nil || len(b) <= cursorHeader || len(b) > cursorHeader+maxCursorID ||
		b[0] != cursorVersion || sortMode(b[1]) != o.mode {
		return key{}, ErrBadCursor
	}
	k := key{
		n:    int64(binary.BigEndian.Uint64(b[2:])),
		sec:  int64(binary.BigEndian.Uint64(b[10:])),
		nsec: int32(binary.BigEndian.Uint32(b[18:])),
		h:    binary.BigEndian.Uint64(b[22:]),
		id:   string(b[cursorHeader:]),
	}
	if !utf8.ValidString(k.id) {
		return key{}, ErrBadCursor
	}
	var ok bool
	switch o.mode {
	case modeNewest:
		ok = k.n == 0 && k.h == 0 && k.nsec >= 0 && k.nsec < 1e9
	case modeSupports, modeComments:
		ok = k.n >= 0 && k.h == 0 && k.nsec >= 0 && k.nsec < 1e9
	case modeRandom:
		ok = uint64(k.n) == o.seed && k.sec == 0 && k.nsec == 0
	}
	if !ok {
		return key{}, ErrBadCursor
	}
	return k, nil
}
