package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/app"
)

type commentBody struct {
	ParentID string  `json:"parentId"`
	Body     *string `json:"body"`
	Stance   *string `json:"stance"`
}

func (s *Server) comments(c *fiber.Ctx) error {
	cs, err := s.app.Comments(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(cs)
}

func (s *Server) addComment(c *fiber.Ctx) error {
	var in commentBody
	if err := decode(c, &in); err != nil {
		return err
	}
	v, err := s.app.AddComment(c.UserContext(), principal(c), param(c, "id"), app.CommentInput{ParentID: in.ParentID, Body: in.Body, Stance: in.Stance})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *Server) editComment(c *fiber.Ctx) error {
	var in commentBody
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.ParentID != "" {
		return fieldUnknown("parentId")
	}
	v, err := s.app.EditComment(c.UserContext(), principal(c), param(c, "id"), app.CommentInput{Body: in.Body, Stance: in.Stance})
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) deleteComment(c *fiber.Ctx) error {
	if err := s.app.DeleteComment(c.UserContext(), principal(c), param(c, "id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) answer(c *fiber.Ctx) error {
	var in struct {
		Status string `json:"status"`
		Text   string `json:"text"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	v, err := s.app.Answer(c.UserContext(), principal(c), param(c, "id"), app.AnswerInput{Status: in.Status, Text: in.Text})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *Server) timeline(c *fiber.Ctx) error {
	t, err := s.app.Timeline(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (s *Server) follow(c *fiber.Ctx) error {
	follow := c.Method() == fiber.MethodPut
	if err := s.app.Follow(c.UserContext(), principal(c), param(c, "id"), follow); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"following": follow})
}

func (s *Server) notifications(c *fiber.Ctx) error {
	ns, err := s.app.MyNotifications(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(ns)
}

func (s *Server) readNotifications(c *fiber.Ctx) error {
	if err := s.app.MarkNotificationsRead(c.UserContext(), principal(c)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) overdue(c *fiber.Ctx) error {
	ps, err := s.app.Overdue(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(ps)
}
