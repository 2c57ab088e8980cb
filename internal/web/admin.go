package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/insieme"
)

func (s *Server) verifyOrganisation(c *fiber.Ctx) error {
	var in struct {
		Verified *bool `json:"verified"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Verified == nil {
		return fieldRequired("verified")
	}
	o, err := s.app.Verify(c.UserContext(), principal(c), param(c, "id"), *in.Verified)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (s *Server) adminAccounts(c *fiber.Ctx) error {
	page, err := s.app.Accounts(c.UserContext(), principal(c), c.Query("q"), c.Query("cursor"))
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) suspendAccount(c *fiber.Ctx) error {
	var in struct {
		Suspended *bool `json:"suspended"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Suspended == nil {
		return fieldRequired("suspended")
	}
	if err := s.app.Suspend(c.UserContext(), principal(c), param(c, "id"), *in.Suspended); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) adminOutbox(c *fiber.Ctx) error {
	ms, err := s.app.Outbox(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(ms)
}

// advanceClock moves the app's clock forward (INSIEME_DEV_CLOCK only; 404 otherwise). The
// browser tests use it to age accounts past a day.
func (s *Server) advanceClock(c *fiber.Ctx) error {
	if s.clock == nil {
		return insieme.Errorf(insieme.ENOTFOUND, "Not found.")
	}
	var in struct {
		Advance string `json:"advance"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	d, err := time.ParseDuration(in.Advance)
	if err != nil || d <= 0 || d > 365*24*time.Hour {
		return invalidValue("advance")
	}
	if _, err := s.app.Me(c.UserContext(), principal(c)); err != nil {
		return err
	}
	if !principal(c).Admin {
		return &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Only administrators move the clock."}
	}
	return c.JSON(fiber.Map{"now": s.clock.Advance(d)})
}
