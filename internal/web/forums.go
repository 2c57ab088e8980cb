package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// forumBody is the forum form of the API.
type forumBody struct {
	MunicipalityID string         `json:"municipalityId"`
	Title          *insieme.Texts `json:"title"`
	Description    *insieme.Texts `json:"description"`
	Territory      *string        `json:"territory"`
	Languages      *[]string      `json:"languages"`
	Categories     *[]string      `json:"categories"`
	Status         *string        `json:"status"`
	OpensAt        optTime        `json:"opensAt"`
	ClosesAt       optTime        `json:"closesAt"`
	AnswerDays     *int           `json:"answerDays"`
	ReportLimit    *int           `json:"reportLimit"`
	SupportLimit   *int           `json:"supportLimit"`
	PersonalPosts  *bool          `json:"personalPosts"`
}

func (b *forumBody) input() app.ForumInput {
	return app.ForumInput{MunicipalityID: b.MunicipalityID, Title: b.Title, Description: b.Description, Territory: b.Territory,
		Languages: b.Languages, Categories: b.Categories, Status: b.Status, OpensAt: b.OpensAt.ptr(), ClosesAt: b.ClosesAt.ptr(),
		AnswerDays: b.AnswerDays, ReportLimit: b.ReportLimit, SupportLimit: b.SupportLimit, PersonalPosts: b.PersonalPosts}
}

func (s *Server) forums(c *fiber.Ctx) error {
	fs, err := s.app.Forums(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(fs)
}

func (s *Server) createForum(c *fiber.Ctx) error {
	var in forumBody
	if err := decode(c, &in); err != nil {
		return err
	}
	f, err := s.app.CreateForum(c.UserContext(), principal(c), in.input())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(f)
}

func (s *Server) forum(c *fiber.Ctx) error {
	f, err := s.app.Forum(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(f)
}

func (s *Server) updateForum(c *fiber.Ctx) error {
	var in forumBody
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.MunicipalityID != "" {
		return insieme.FieldError("municipalityId", insieme.FInvalidValue)
	}
	f, err := s.app.UpdateForum(c.UserContext(), principal(c), param(c, "id"), in.input())
	if err != nil {
		return err
	}
	return c.JSON(f)
}
