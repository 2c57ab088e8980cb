package web

import (
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

// sessionBody is the live session form of the API.
type sessionBody struct {
	Title        *insieme.Texts         `json:"title"`
	ScheduledAt  *time.Time             `json:"scheduledAt"`
	Mode         *string                `json:"mode"`
	Place        *string                `json:"place"`
	StreamURL    *string                `json:"streamUrl"`
	Agenda       *[]app.AgendaItemInput `json:"agenda"`
	CoHosts      *[]string              `json:"coHosts"`
	GuestsMayAsk *bool                  `json:"guestsMayAsk"`
	PreModerate  *bool                  `json:"preModerate"`
}

func (b *sessionBody) input() app.SessionInput {
	return app.SessionInput{Title: b.Title, ScheduledAt: b.ScheduledAt, Mode: b.Mode, Place: b.Place, StreamURL: b.StreamURL,
		Agenda: b.Agenda, CoHosts: b.CoHosts, GuestsMayAsk: b.GuestsMayAsk, PreModerate: b.PreModerate}
}

func (s *Server) sessions(c *fiber.Ctx) error {
	ss, err := s.app.Sessions(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(ss)
}

func (s *Server) createSession(c *fiber.Ctx) error {
	var in sessionBody
	if err := decode(c, &in); err != nil {
		return err
	}
	v, err := s.app.CreateSession(c.UserContext(), principal(c), param(c, "id"), in.input())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *Server) session(c *fiber.Ctx) error {
	v, err := s.app.Session(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) updateSession(c *fiber.Ctx) error {
	var in sessionBody
	if err := decode(c, &in); err != nil {
		return err
	}
	v, err := s.app.UpdateSession(c.UserContext(), principal(c), param(c, "id"), in.input())
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// sessionActionRequest is a live message sent over HTTP: its type names the action, and the
// rest of the object is the action's own fields (as over the websocket); the session is the
// one in the path.
func (s *Server) sessionAction(c *fiber.Ctx) error {
	var fields map[string]json.RawMessage
	if err := decode(c, &fields); err != nil {
		return err
	}
	var typ string
	if raw, ok := fields["type"]; !ok || json.Unmarshal(raw, &typ) != nil || typ == "" {
		return insieme.FieldError("type", insieme.FRequired)
	}
	action, ok := s.app.LiveActions()[typ]
	if !ok {
		return insieme.FieldError("type", insieme.FInvalidValue)
	}
	fields["session"], _ = json.Marshal(param(c, "id"))
	msg, _ := json.Marshal(fields)
	res, err := action(c.UserContext(), principal(c), msg)
	if err != nil {
		return err
	}
	if res == nil {
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.JSON(res)
}

// join opens a live session or workshop by its code (a guest gets a token in the body).
func (s *Server) join(c *fiber.Ctx) error {
	var in app.JoinInput
	if err := decode(c, &in); err != nil {
		return err
	}
	res, err := s.app.Join(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(res)
}

// minutesLang is the language the minutes are asked in: ?lang=, else the interface language
// the browser prefers among those the minutes have.
func minutesLang(c *fiber.Ctx) string {
	if l := c.Query("lang"); l != "" {
		return l
	}
	return c.AcceptsLanguages("it", "en", "fr", "ar")
}

func (s *Server) minutesMarkdown(c *fiber.Ctx) error {
	md, err := s.app.MinutesMarkdown(c.UserContext(), principal(c), param(c, "id"), minutesLang(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/markdown; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="minutes-`+param(c, "id")+`.md"`)
	return c.SendString(md)
}

func (s *Server) minutesHTML(c *fiber.Ctx) error {
	page, err := s.app.MinutesHTML(c.UserContext(), principal(c), param(c, "id"), minutesLang(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(page)
}
