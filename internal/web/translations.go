package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/app"
)

func (s *Server) translate(c *fiber.Ctx) error {
	var in struct {
		Language string `json:"language"`
		Title    string `json:"title"`
		Body     string `json:"body"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.app.Translate(c.UserContext(), principal(c), param(c, "id"), app.TranslationInput{Language: in.Language, Title: in.Title, Body: in.Body})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(t)
}

func (s *Server) mediators(c *fiber.Ctx) error {
	ms, err := s.app.Mediators(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(ms)
}

func (s *Server) addMediator(c *fiber.Ctx) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := s.app.AddMediator(c.UserContext(), principal(c), param(c, "id"), in.Email); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "accepted"})
}

func (s *Server) removeMediator(c *fiber.Ctx) error {
	if err := s.app.RemoveMediator(c.UserContext(), principal(c), param(c, "id"), param(c, "accountId")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
