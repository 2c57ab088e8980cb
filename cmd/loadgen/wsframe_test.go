package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// serverFrame is a frame as a server writes it (unmasked).
func serverFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

type message struct {
	op      byte
	payload string
}

// feed writes stream into s in chunks of at most chunk bytes, collecting what next returns.
func feed(t *testing.T, s *frameStream, stream []byte, chunk int) []message {
	t.Helper()
	var got []message
	for len(stream) > 0 {
		space := s.space()
		n := copy(space[:min(len(space), chunk)], stream)
		s.filled(n)
		stream = stream[n:]
		for {
			op, p, ok, err := s.next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			got = append(got, message{op, string(p)})
		}
	}
	return got
}

// Frames of each length encoding arrive whole whether they come one byte at a time, in odd
// pieces or all in one read; a fragmented message comes out whole, a ping in its middle apart.
func TestFrameStreamCutsMessages(t *testing.T) {
	long := strings.Repeat("x", 70000) // a 64-bit length, bigger than the buffer
	var stream []byte
	want := []message{{opText, "hello"}, {opText, strings.Repeat("m", 300)}, {opText, long}, {opBinary, "\x00\x01"},
		{opPing, "p"}, {opText, "one" + "two" + "three"}, {opText, ""}, {opClose, "\x03\xe8"}}
	for _, m := range want[:4] {
		stream = append(stream, serverFrame(true, m.op, []byte(m.payload))...)
	}
	stream = append(stream, serverFrame(false, opText, []byte("one"))...)
	stream = append(stream, serverFrame(true, opPing, []byte("p"))...)
	stream = append(stream, serverFrame(false, opContinuation, []byte("two"))...)
	stream = append(stream, serverFrame(true, opContinuation, []byte("three"))...)
	stream = append(stream, serverFrame(true, opText, nil)...)
	stream = append(stream, serverFrame(true, opClose, []byte("\x03\xe8"))...)
	want[4], want[5] = message{opPing, "p"}, message{opText, "onetwothree"}
	for _, chunk := range []int{1, 3, 1000, len(stream)} {
		var s frameStream
		got := feed(t, &s, stream, chunk)
		if len(got) != len(want) {
			t.Fatalf("chunks of %d: %d messages, want %d", chunk, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("chunks of %d: message %d is %d %.20q (%d bytes), want %d %.20q", chunk, i, got[i].op, got[i].payload, len(got[i].payload), want[i].op, want[i].payload)
			}
		}
		s.space()
		if cap(s.buf) != readBufSize {
			t.Fatalf("chunks of %d: the buffer stayed at %d bytes", chunk, cap(s.buf))
		}
	}
}

func TestFrameStreamRejectsWhatAServerMustNotSend(t *testing.T) {
	for name, stream := range map[string][]byte{
		"masked":                  {0x81, 0x81, 1, 2, 3, 4, 'x'},
		"reserved bits":           {0xC1, 0},
		"reserved opcode":         {0x83, 0},
		"fragmented ping":         {0x09, 0},
		"long ping":               append([]byte{0x89, 126, 0, 126}, make([]byte, 126)...),
		"continuation alone":      {0x80, 0},
		"message inside fragment": {0x01, 1, 'a', 0x81, 1, 'b'},
		"huge":                    {0x82, 127, 0x7f, 0, 0, 0, 0, 0, 0, 0},
	} {
		var s frameStream
		s.filled(copy(s.space(), stream))
		var err error
		for ok := true; ok && err == nil; {
			_, _, ok, err = s.next()
		}
		if !errors.Is(err, errFrame) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The client's frames are masked, with each length encoding, and decode to the payload.
func TestClientFramesAreMasked(t *testing.T) {
	for _, n := range []int{0, 125, 126, 65535, 65536} {
		payload := bytes.Repeat([]byte("ab"), n)[:n]
		f := appendClientFrame(nil, opText, payload)
		if f[0] != 0x81 || f[1]&0x80 == 0 {
			t.Fatalf("%d bytes: header %x", n, f[:2])
		}
		f[1] &^= 0x80 // unmask it to read it as a server's
		head := len(f) - n - 4
		key := f[head : head+4]
		body := f[head+4:]
		for i := range body {
			body[i] ^= key[i&3]
		}
		unmasked := append(append([]byte{}, f[:head]...), body...)
		_, op, p, size, _, err := parseFrame(unmasked)
		if err != nil || op != opText || size != len(unmasked) || !bytes.Equal(p, payload) {
			t.Fatalf("%d bytes: %v op %d size %d", n, err, op, size)
		}
	}
}

func TestCheckUpgrade(t *testing.T) {
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	if acceptKey(key) != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" { // RFC 6455's example
		t.Fatal(acceptKey(key))
	}
	ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
	if err := checkUpgrade(ok, key); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"HTTP/1.1 403 Forbidden\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
		"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: nope", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket"} {
		if checkUpgrade(bad, key) == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
