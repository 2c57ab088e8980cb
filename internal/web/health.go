package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

func (s *Server) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString("ok")
}

// readyz is 503 only when the store is unreachable. A node whose broker (Redis) is down keeps
// serving its own clients, so it stays ready and reports the broker's state.
func (s *Server) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	body := fiber.Map{"store": "up", "broker": "up"}
	if s.hub != nil {
		body["broker"] = s.hub.BrokerState()
	}
	status := fiber.StatusOK
	if err := s.ping(ctx); err != nil {
		body["store"] = "down"
		body["reason"] = "the store does not answer"
		status = fiber.StatusServiceUnavailable
	}
	return c.Status(status).JSON(body)
}
