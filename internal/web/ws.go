package web

import (
	"sync"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/insieme"
)

// wsUpgrade upgrades /ws to the live-room protocol (docs/PROTOCOL.md). The Origin was checked
// by checkOrigin (a foreign one gets 403), and the session cookie by authenticate; a guest
// sends its token in the first message instead, never in the URL.
func (s *Server) wsUpgrade() fiber.Handler {
	upgrade := websocket.New(func(conn *websocket.Conn) {
		p, _ := conn.Locals("principal").(*insieme.Principal)
		s.hub.Serve(conn.Conn, p)
	}, websocket.Config{
		// checkOrigin already refused foreign origins; this makes the library agree.
		Origins: []string{"*"},
		// Per connection, and thousands are open: clients send small messages (a bufio reader
		// reads longer ones in several calls), and the hub writes raw frames to the socket
		// itself, so the library's write buffer only ever holds nothing.
		ReadBufferSize:  1024,
		WriteBufferSize: 256,
		// The hub mutes the library's writer with one failed write, which takes a buffer: a
		// pool gives it back instead of leaving it with each connection.
		WriteBufferPool:   &sync.Pool{},
		EnableCompression: false,
	})
	return func(c *fiber.Ctx) error {
		if !websocket.IsWebSocketUpgrade(c) {
			return &insieme.Error{Code: insieme.EINVALID, Message: "This address takes websocket connections only."}
		}
		if s.hub == nil {
			return &insieme.Error{Code: insieme.EUNAVAILABLE, Message: "Live rooms are not available."}
		}
		return upgrade(c)
	}
}
