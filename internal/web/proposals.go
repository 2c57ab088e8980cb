package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/app"
)

// proposalBody is the proposal form of the API.
type proposalBody struct {
	OrganisationID string   `json:"organisationId"`
	Title          *string  `json:"title"`
	Body           *string  `json:"body"`
	Language       *string  `json:"language"`
	Category       *string  `json:"category"`
	Place          optPlace `json:"place"`
	Status         *string  `json:"status"` // only "withdrawn", by the author
}

// optPlace is a place that may be absent (unchanged), null (removed) or given.
type optPlace struct {
	set bool
	val *app.PlaceView
}

func (o *optPlace) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		return nil
	}
	var pv struct {
		Name string   `json:"name"`
		Lat  *float64 `json:"lat"`
		Lng  *float64 `json:"lng"`
	}
	if err := strictJSON(b, &pv); err != nil {
		return err
	}
	o.val = &app.PlaceView{Name: pv.Name, Lat: pv.Lat, Lng: pv.Lng}
	return nil
}

func (o optPlace) ptr() **app.PlaceView {
	if !o.set {
		return nil
	}
	v := o.val
	return &v
}

func (b *proposalBody) input() app.ProposalInput {
	return app.ProposalInput{OrgID: b.OrganisationID, Title: b.Title, Body: b.Body, Language: b.Language, Category: b.Category, Place: b.Place.ptr()}
}

func (s *Server) proposals(c *fiber.Ctx) error {
	q := app.ProposalQuery{Text: c.Query("q"), Category: c.Query("category"), Status: c.Query("status"), Language: c.Query("language"),
		OrgID: c.Query("organisation"), Sort: c.Query("sort"), Seed: c.Query("seed"), Cursor: c.Query("cursor"), Limit: c.QueryInt("limit", 0)}
	page, err := s.app.Proposals(c.UserContext(), principal(c), param(c, "id"), q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) createProposal(c *fiber.Ctx) error {
	var in proposalBody
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Status != nil {
		return fieldUnknown("status")
	}
	p, err := s.app.CreateProposal(c.UserContext(), principal(c), param(c, "id"), in.input())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

func (s *Server) proposal(c *fiber.Ctx) error {
	p, err := s.app.Proposal(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) updateProposal(c *fiber.Ctx) error {
	var in proposalBody
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.OrganisationID != "" {
		return fieldUnknown("organisationId")
	}
	withdraw := false
	if in.Status != nil {
		if *in.Status != "withdrawn" {
			return invalidValue("status")
		}
		withdraw = true
	}
	p, err := s.app.UpdateProposal(c.UserContext(), principal(c), param(c, "id"), in.input(), withdraw)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) support(c *fiber.Ctx) error {
	r, err := s.app.Support(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) unsupport(c *fiber.Ctx) error {
	r, err := s.app.Unsupport(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}
