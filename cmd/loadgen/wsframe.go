package main

// A minimal websocket client (RFC 6455) for the epoll receive path (epoll_linux.go): the
// upgrade handshake, the client's masked frames and a parser of the server's frames. It is
// only what the load generator needs: no extensions, no TLS.

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"
)

const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA

	// maxMessage bounds a message (the library path reads without a limit): beyond it the
	// connection fails rather than the worker's memory.
	maxMessage = 64 << 20
	// readBufSize is a connection's read buffer while it holds no big frame.
	readBufSize = 4096
)

var errFrame = errors.New("websocket: malformed frame from the server")

// parseFrame reads the frame at the start of b. n is 0 when b does not hold it whole yet;
// need is then the frame's full size when its header is there (0: unknown yet). The
// payload is a slice of b.
func parseFrame(b []byte) (fin bool, op byte, payload []byte, n, need int, err error) {
	if len(b) < 2 {
		return false, 0, nil, 0, 0, nil
	}
	fin, op = b[0]&0x80 != 0, b[0]&0x0F
	if b[0]&0x70 != 0 { // RSV bits: no extension was negotiated
		return false, 0, nil, 0, 0, fmt.Errorf("%w: reserved bits set", errFrame)
	}
	if b[1]&0x80 != 0 { // a server must not mask
		return false, 0, nil, 0, 0, fmt.Errorf("%w: masked", errFrame)
	}
	size, head := uint64(b[1]&0x7F), 2
	switch size {
	case 126:
		if len(b) < 4 {
			return false, 0, nil, 0, 0, nil
		}
		size, head = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return false, 0, nil, 0, 0, nil
		}
		size, head = binary.BigEndian.Uint64(b[2:]), 10
	}
	switch {
	case size > maxMessage:
		return false, 0, nil, 0, 0, fmt.Errorf("%w: a %d-byte frame", errFrame, size)
	case op >= opClose && (size > 125 || !fin):
		return false, 0, nil, 0, 0, fmt.Errorf("%w: a long or fragmented control frame", errFrame)
	case op > opBinary && op < opClose || op > opPong:
		return false, 0, nil, 0, 0, fmt.Errorf("%w: opcode %d", errFrame, op)
	}
	total := head + int(size)
	if len(b) < total {
		return false, 0, nil, 0, total, nil
	}
	return fin, op, b[head:total], total, 0, nil
}

// frameStream is a connection's incoming bytes, read into one buffer that grows for a big
// frame and shrinks back once it is consumed, and cut into messages.
type frameStream struct {
	buf        []byte
	start, end int // unread bytes: buf[start:end]
	need       int // the size of the incomplete frame at start, when known
	frag       []byte
	fragOp     byte // a fragmented message's opcode (0: none under way)
}

// space is where the next read goes. It reuses the buffer from its start when everything
// was consumed, moves an incomplete frame to the front, and grows the buffer to hold it.
func (s *frameStream) space() []byte {
	if s.start == s.end {
		s.start, s.end = 0, 0
		if cap(s.buf) != readBufSize {
			s.buf = make([]byte, readBufSize) // first read, or shrink back after a big frame
		}
	}
	if s.end == len(s.buf) && s.start > 0 {
		s.end = copy(s.buf, s.buf[s.start:s.end])
		s.start = 0
	}
	if s.end == len(s.buf) {
		bigger := make([]byte, max(2*len(s.buf), s.need))
		copy(bigger, s.buf[:s.end])
		s.buf = bigger
	}
	return s.buf[s.end:]
}

// filled records n bytes read into space().
func (s *frameStream) filled(n int) { s.end += n }

// next cuts the next message (text or binary, reassembled if fragmented) or control frame
// from the stream; ok is false when none is complete yet. The payload is valid until the
// next call to space: whoever keeps part of it must copy it.
func (s *frameStream) next() (op byte, payload []byte, ok bool, err error) {
	for {
		fin, fop, p, n, need, err := parseFrame(s.buf[s.start:s.end])
		if err != nil || n == 0 {
			s.need = need
			return 0, nil, false, err
		}
		s.start += n
		switch {
		case fop >= opClose:
			return fop, p, true, nil
		case fop == opContinuation:
			if s.fragOp == 0 {
				return 0, nil, false, fmt.Errorf("%w: a continuation without a message", errFrame)
			}
			if len(s.frag)+len(p) > maxMessage {
				return 0, nil, false, fmt.Errorf("%w: a fragmented message beyond %d bytes", errFrame, maxMessage)
			}
			s.frag = append(s.frag, p...)
			if fin {
				op, p = s.fragOp, s.frag
				s.frag, s.fragOp = nil, 0
				return op, p, true, nil
			}
		case s.fragOp != 0:
			return 0, nil, false, fmt.Errorf("%w: a new message inside a fragmented one", errFrame)
		case fin:
			return fop, p, true, nil
		default: // the first fragment: kept, as the buffer moves on
			s.frag, s.fragOp = append([]byte(nil), p...), fop
		}
	}
}

// appendClientFrame appends one final frame, masked as a client's must be.
func appendClientFrame(dst []byte, op byte, payload []byte) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n <= 125:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	// The key only keeps proxies from mistaking frames for requests: it need not be secret.
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], rand.Uint32())
	dst = append(dst, key[:]...)
	for i, c := range payload {
		dst = append(dst, c^key[i&3])
	}
	return dst
}

// acceptKey is the Sec-WebSocket-Accept a server answers to key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// handshake upgrades conn to a websocket (GET path on host) and returns the bytes read past
// the server's answer: the start of the frame stream (the node's hello may come with it).
func handshake(conn net.Conn, host, path, forwardedFor string, deadline time.Time) ([]byte, error) {
	var k [16]byte
	binary.LittleEndian.PutUint64(k[:], rand.Uint64())
	binary.LittleEndian.PutUint64(k[8:], rand.Uint64())
	key := base64.StdEncoding.EncodeToString(k[:])
	_ = conn.SetDeadline(deadline)
	defer conn.SetDeadline(time.Time{})
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\nX-Forwarded-For: " + forwardedFor + "\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, 1024)
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= 16<<10 {
				return nil, errors.New("websocket: the handshake answer is too long")
			}
			buf = append(buf, make([]byte, len(buf))...)[:len(buf)]
		}
		n, err := conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if end := bytes.Index(buf, []byte("\r\n\r\n")); end >= 0 {
			if err := checkUpgrade(string(buf[:end]), key); err != nil {
				return nil, err
			}
			return buf[end+4:], nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// checkUpgrade checks the server's answer (without its blank line) switches protocols for key.
func checkUpgrade(head, key string) error {
	status, headers, _ := strings.Cut(head, "\r\n")
	if f := strings.Fields(status); len(f) < 2 || f[1] != "101" {
		return fmt.Errorf("websocket: bad handshake: %q", status)
	}
	for _, line := range strings.Split(headers, "\r\n") {
		name, value, _ := strings.Cut(line, ":")
		if strings.EqualFold(strings.TrimSpace(name), "Sec-WebSocket-Accept") {
			if strings.TrimSpace(value) != acceptKey(key) {
				return errors.New("websocket: bad handshake: wrong Sec-WebSocket-Accept")
			}
			return nil
		}
	}
	return errors.New("websocket: bad handshake: no Sec-WebSocket-Accept")
}
