package smtp

import (
	"bufio"
	"context"
	"io"
	"mime/quotedprintable"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

// fakeServer speaks just enough SMTP (no TLS) to receive one mail, with PLAIN auth.
func fakeServer(t *testing.T) (addr string, got chan map[string]string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan map[string]string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		say := func(s string) { io.WriteString(conn, s+"\r\n") }
		rec := map[string]string{}
		say("220 fake ESMTP")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(cmd, "EHLO"):
				say("250-fake")
				say("250 AUTH PLAIN")
			case strings.HasPrefix(cmd, "AUTH PLAIN"):
				rec["auth"] = strings.TrimPrefix(cmd, "AUTH PLAIN ")
				say("235 ok")
			case strings.HasPrefix(cmd, "MAIL FROM:"):
				rec["from"] = cmd
				say("250 ok")
			case strings.HasPrefix(cmd, "RCPT TO:"):
				rec["to"] = cmd
				say("250 ok")
			case cmd == "DATA":
				say("354 go on")
				var data strings.Builder
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
					data.WriteString(l)
				}
				rec["data"] = data.String()
				say("250 queued")
			case cmd == "QUIT":
				say("221 bye")
				got <- rec
				return
			default:
				say("502 no")
			}
		}
	}()
	return ln.Addr().String(), got
}

func TestSendDeliversAnEncodedMail(t *testing.T) {
	addr, got := fakeServer(t)
	s, err := New("smtp://insieme:secret@"+addr, "Insieme <no-reply@example.org>")
	if err != nil {
		t.Fatal(err)
	}
	// The fake listens on 127.0.0.1, which net/smtp accepts for PLAIN auth without TLS.
	s.host = "localhost"
	m := &insieme.Mail{ID: "m1", To: "amina@example.org", Subject: "Réinitialiser — إعادة", Body: "Bonjour Amina,\nouvrez ce lien: https://example.org/reset?token=abc\n", CreatedAt: time.Now()}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	rec := <-got
	if rec["to"] != "RCPT TO:<amina@example.org>" || rec["from"] != "MAIL FROM:<no-reply@example.org>" || rec["auth"] == "" {
		t.Fatalf("envelope: %v", rec)
	}
	data := rec["data"]
	if !strings.Contains(data, "Subject: =?utf-8?q?") || strings.Contains(data, "Réinitialiser") {
		t.Fatalf("subject not encoded: %s", data)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(data[strings.Index(data, "\r\n\r\n")+4:])))
	if !strings.Contains(string(body), "Bonjour Amina,\r\nouvrez ce lien: https://example.org/reset?token=abc") {
		t.Fatalf("body: %q", body)
	}
}

func TestRefusesHeaderInjectionAndBadURLs(t *testing.T) {
	s, err := New("smtp://localhost:2525", "no-reply@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.message(&insieme.Mail{To: "a@example.org\r\nBcc: b@example.org"}); err == nil {
		t.Fatal("a recipient with a line break was accepted")
	}
	for _, bad := range []string{"http://x", "smtp://", "::"} {
		if _, err := New(bad, "no-reply@example.org"); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	if _, err := New("smtp://h", "not an address"); err == nil {
		t.Error("a bad From was accepted")
	}
}
