//go:build linux

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// wsServer serves one websocket per connection with serve, on the library's net/http side.
func wsServer(t *testing.T, serve func(ws *websocket.Conn, r *http.Request)) *httptest.Server {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws" {
			http.NotFound(w, r)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		serve(ws, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func epollParticipant(url string) *participant {
	p := newParticipant([]string{url}, 0, "10.1.2.3")
	p.epoll = true
	return p
}

// The handshake carries the participant's address; a frame the server writes straight after
// its answer (it may arrive with it), a big one and a ping are served; the pong comes back
// with the ping's payload; a close frame ends the connection.
func TestEpollConnServesFramesPingAndClose(t *testing.T) {
	pong, ponged := make(chan string, 1), make(chan string, 1)
	srv := wsServer(t, func(ws *websocket.Conn, r *http.Request) {
		ws.SetPongHandler(func(s string) error { pong <- s; return nil })
		ws.WriteMessage(websocket.TextMessage, []byte("xff "+r.Header.Get("X-Forwarded-For")))
		ws.WriteMessage(websocket.TextMessage, make([]byte, 100000))
		ws.WriteMessage(websocket.PingMessage, []byte("are you there"))
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil { // runs the pong handler
					return
				}
			}
		}()
		select {
		case s := <-pong:
			ponged <- s
		case <-time.After(5 * time.Second):
		}
		ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye"))
		time.Sleep(time.Second)
	})
	p := epollParticipant(srv.URL)
	conn, err := p.open(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := conn.(*epollConn); !ok {
		t.Fatalf("a %T", conn)
	}
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn.serve(func(b []byte) { got = append(got, string(b[:min(len(b), 20)])) })
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a close frame did not end the connection")
	}
	if len(got) != 2 || got[0] != "xff 10.1.2.3" || got[1] != string(make([]byte, 20)) {
		t.Fatalf("got %q", got)
	}
	if s := <-ponged; s != "are you there" {
		t.Fatalf("pong %q", s)
	}
	conn.close() // again: harmless
}

func TestEpollConnEndsWhenTheServerGoes(t *testing.T) {
	srv := wsServer(t, func(ws *websocket.Conn, _ *http.Request) {
		ws.NetConn().Close() // no close frame: the end of the stream
	})
	conn, err := epollParticipant(srv.URL).open(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { conn.serve(func([]byte) {}); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the end of the stream did not end the connection")
	}
	if err := conn.writeText([]byte("{}")); err == nil {
		t.Fatal("wrote on a closed connection")
	}
}

// A participant on the epoll path authenticates, subscribes, gets events and its request's
// ack (its data intact after the read buffer moved on), and reconnects resuming when the
// node drops it.
func TestParticipantOnEpoll(t *testing.T) {
	type msg struct {
		Type  string          `json:"type"`
		Ref   string          `json:"ref"`
		Since json.RawMessage `json:"since"`
		conn  int
	}
	got := make(chan msg, 16)
	var mu sync.Mutex
	conns := 0
	srv := wsServer(t, func(ws *websocket.Conn, _ *http.Request) {
		mu.Lock()
		conns++
		n := conns
		mu.Unlock()
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var m msg
			json.Unmarshal(b, &m)
			m.conn = n
			got <- m
			switch m.Type {
			case "subscribe":
				ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribed","room":"session:s","epoch":"e","seq":1}`))
				ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"event","room":"session:s","epoch":"e","seq":2,"data":{"session":{"version":7,"serverTime":1},"type":"session.state"}}`))
			case "poll.vote":
				ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ack","ref":"`+m.Ref+`","data":{"kept":"after the buffer moves on"}}`))
				ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"event","room":"session:s","epoch":"e","seq":3,"data":{"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx":1}}`))
				if n == 1 {
					time.Sleep(100 * time.Millisecond)
					return // drops the connection
				}
			}
		}
	})
	p := epollParticipant(srv.URL)
	p.token, p.room, p.session = "tok", "session:s", "s"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.run(ctx)
	select {
	case <-p.ready:
	case <-time.After(10 * time.Second):
		t.Fatal("never subscribed")
	}
	r := p.request(ctx, map[string]any{"type": "poll.vote", "session": "s", "poll": "q", "choices": []int{1}})
	if !r.ok || string(r.data) != `{"kept":"after the buffer moves on"}` {
		t.Fatalf("reply %+v", r)
	}
	for _, want := range []string{"auth", "subscribe", "poll.vote", "auth", "subscribe"} {
		select {
		case m := <-got:
			if m.Type != want {
				t.Fatalf("the node got %q, want %q", m.Type, want)
			}
			if want == "subscribe" && m.conn == 2 && string(m.Since) != `{"epoch":"e","seq":3}` {
				t.Fatalf("resumed since %s", m.Since)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the node never got %q", want)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.received[7]; !ok || p.gaps != 0 || len(p.links) < 2 || p.links[0].end == 0 || p.reconnects.Load() < 1 {
		t.Fatalf("received %v, gaps %d, links %+v, reconnects %d", p.received, p.gaps, p.links, p.reconnects.Load())
	}
}
