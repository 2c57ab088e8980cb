package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/app"
)

func (s *Server) me(c *fiber.Ctx) error {
	u, err := s.app.Me(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *Server) updateMe(c *fiber.Ctx) error {
	var in struct {
		DisplayName *string `json:"displayName"`
		Language    *string `json:"language"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	u, err := s.app.UpdateMe(c.UserContext(), principal(c), app.UpdateMeInput{DisplayName: in.DisplayName, Language: in.Language})
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *Server) changePassword(c *fiber.Ctx) error {
	var in struct {
		CurrentPassword string `json:"currentPassword"`
		NewPassword     string `json:"newPassword"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := s.app.ChangePassword(c.UserContext(), principal(c), in.CurrentPassword, in.NewPassword); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) exportMe(c *fiber.Ctx) error {
	data, err := s.app.Export(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="insieme-my-data.json"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(data)
}

func (s *Server) deleteMe(c *fiber.Ctx) error {
	var in struct {
		Password string `json:"password"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := s.app.DeleteAccount(c.UserContext(), principal(c), in.Password); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) myMemberships(c *fiber.Ctx) error {
	ms, err := s.app.Memberships(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(ms)
}

func (s *Server) myInvitations(c *fiber.Ctx) error {
	is, err := s.app.MyInvitations(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(is)
}
