package web

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openAPIDoc documents the API; TestOpenAPIMatchesRoutes keeps it and routeTable in agreement.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openapi(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(openAPIDoc)
}
