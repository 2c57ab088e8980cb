package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/app"
)

func (s *Server) report(c *fiber.Ctx) error {
	var in struct {
		TargetKind string `json:"targetKind"`
		TargetID   string `json:"targetId"`
		Reason     string `json:"reason"`
		Note       string `json:"note"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	v, err := s.app.Report(c.UserContext(), principal(c), app.ReportInput{Kind: in.TargetKind, TargetID: in.TargetID, Reason: in.Reason, Note: in.Note})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(v)
}

func (s *Server) moderationQueue(c *fiber.Ctx) error {
	q, err := s.app.ModerationQueue(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(q)
}

func (s *Server) moderationCase(c *fiber.Ctx) error {
	v, err := s.app.Case(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) moderate(c *fiber.Ctx) error {
	var in struct {
		Action string `json:"action"`
		Reason string `json:"reason"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	v, err := s.app.Moderate(c.UserContext(), principal(c), param(c, "id"), in.Action, in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) appeal(c *fiber.Ctx) error {
	var in struct {
		Text string `json:"text"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	v, err := s.app.Appeal(c.UserContext(), principal(c), param(c, "id"), in.Text)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) appeals(c *fiber.Ctx) error {
	v, err := s.app.Appeals(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) auditLog(c *fiber.Ctx) error {
	v, err := s.app.AuditLog(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(v)
}
