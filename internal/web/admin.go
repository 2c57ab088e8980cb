package web

import "github.com/gofiber/fiber/v2"

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
