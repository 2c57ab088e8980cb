package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/insieme"
)

func (s *Server) workshops(c *fiber.Ctx) error {
	ws, err := s.app.Workshops(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(ws)
}

func (s *Server) createWorkshop(c *fiber.Ctx) error {
	var in app.WorkshopInput
	if err := decode(c, &in); err != nil {
		return err
	}
	v, err := s.app.CreateWorkshop(c.UserContext(), principal(c), param(c, "id"), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *Server) workshop(c *fiber.Ctx) error {
	v, err := s.app.Workshop(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(v)
}

func (s *Server) updateWorkshop(c *fiber.Ctx) error {
	var in app.WorkshopInput
	if err := decode(c, &in); err != nil {
		return err
	}
	v, err := s.app.UpdateWorkshop(c.UserContext(), principal(c), param(c, "id"), in)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// workshopAction is a workshop's live message sent over HTTP (the path's id is the workshop).
func (s *Server) workshopAction(c *fiber.Ctx) error {
	var fields map[string]json.RawMessage
	if err := decode(c, &fields); err != nil {
		return err
	}
	var typ string
	if raw, ok := fields["type"]; !ok || json.Unmarshal(raw, &typ) != nil || typ == "" {
		return insieme.FieldError("type", insieme.FRequired)
	}
	action, ok := s.app.WorkshopActions()[typ]
	if !ok {
		return insieme.FieldError("type", insieme.FInvalidValue)
	}
	fields["workshop"], _ = json.Marshal(param(c, "id"))
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

func (s *Server) workshopProposal(c *fiber.Ctx) error {
	var in app.WorkshopProposalInput
	if err := decode(c, &in); err != nil {
		return err
	}
	v, err := s.app.WorkshopProposal(c.UserContext(), principal(c), param(c, "id"), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *Server) workshopOutput(c *fiber.Ctx) (*app.WorkshopOutput, error) {
	o, err := s.app.WorkshopExport(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return nil, err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return o, nil
}

func (s *Server) workshopJSON(c *fiber.Ctx) error {
	o, err := s.workshopOutput(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="workshop-`+o.ID+`.json"`)
	return c.JSON(o)
}

func (s *Server) workshopMarkdown(c *fiber.Ctx) error {
	o, err := s.workshopOutput(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/markdown; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="workshop-`+o.ID+`.md"`)
	return c.SendString(app.WorkshopMarkdown(o))
}

func (s *Server) workshopHTML(c *fiber.Ctx) error {
	o, err := s.workshopOutput(c)
	if err != nil {
		return err
	}
	page, err := app.WorkshopHTML(o)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(page)
}

// workshopCSV writes one part of the output (?part=cards|votes|actions), its cells escaped
// as in open data.
func (s *Server) workshopCSV(c *fiber.Ctx) error {
	part := c.Query("part", "cards")
	if part != "cards" && part != "votes" && part != "actions" {
		return insieme.FieldError("part", insieme.FInvalidValue)
	}
	o, err := s.workshopOutput(c)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	switch part {
	case "cards":
		_ = w.Write([]string{"cluster", "card", "text", "colour", "group", "author"})
		for _, cl := range o.Clusters {
			for _, cd := range cl.Cards {
				_ = w.Write(safeCells(cl.Name, cd.ID, cd.Text, cd.Colour, cd.Group, cd.Author))
			}
		}
		for _, cd := range o.Unclustered {
			_ = w.Write(safeCells("", cd.ID, cd.Text, cd.Colour, cd.Group, cd.Author))
		}
	case "votes":
		_ = w.Write([]string{"rank", "kind", "target", "label", "dots"})
		for _, r := range o.Results {
			_ = w.Write(safeCells(strconv.Itoa(r.Rank), r.Kind, r.Target, r.Label, strconv.Itoa(r.Dots)))
		}
	case "actions":
		_ = w.Write([]string{"action", "title", "cluster", "owner_kind", "owner", "due", "resources", "status", "proposal"})
		for _, act := range o.Actions {
			kind, owner := "", ""
			if act.Owner != nil {
				kind, owner = act.Owner.Kind, act.Owner.Name
			}
			_ = w.Write(safeCells(act.ID, act.Title, act.Cluster, kind, owner, act.Due, act.Resources, act.Status, act.ProposalID))
		}
	}
	w.Flush()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="workshop-`+o.ID+`-`+part+`.csv"`)
	return c.Send(b.Bytes())
}

func (s *Server) facilitators(c *fiber.Ctx) error {
	fs, err := s.app.Facilitators(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(fs)
}

func (s *Server) addFacilitator(c *fiber.Ctx) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := s.app.AddFacilitator(c.UserContext(), principal(c), param(c, "id"), in.Email); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "accepted"})
}

func (s *Server) removeFacilitator(c *fiber.Ctx) error {
	if err := s.app.RemoveFacilitator(c.UserContext(), principal(c), param(c, "id"), param(c, "accountId")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
