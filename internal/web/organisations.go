package web

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/app"
)

// param returns a path parameter, unescaped (a case id holds a ':' that clients may encode) and
// copied: fiber reuses the request's memory after the handler returns.
func param(c *fiber.Ctx, name string) string {
	v := c.Params(name)
	if u, err := url.PathUnescape(v); err == nil {
		v = u // the same string when there was nothing to unescape
	}
	return strings.Clone(v) // ids outlive the request (see serverConfig)
}

func (s *Server) organisations(c *fiber.Ctx) error {
	os, err := s.app.Organisations(c.UserContext(), c.Query("kind"))
	if err != nil {
		return err
	}
	return c.JSON(os)
}

type orgInput struct {
	Kind        string  `json:"kind"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Territory   *string `json:"territory"`
}

func (s *Server) createOrganisation(c *fiber.Ctx) error {
	var in orgInput
	if err := decode(c, &in); err != nil {
		return err
	}
	o, err := s.app.CreateOrganisation(c.UserContext(), principal(c), app.OrganisationInput{Kind: in.Kind, Name: in.Name, Description: in.Description, Territory: in.Territory})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(o)
}

func (s *Server) organisation(c *fiber.Ctx) error {
	o, err := s.app.Organisation(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (s *Server) updateOrganisation(c *fiber.Ctx) error {
	var in struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
		Territory   *string `json:"territory"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	o, err := s.app.UpdateOrganisation(c.UserContext(), principal(c), param(c, "id"), app.OrganisationInput{Name: in.Name, Description: in.Description, Territory: in.Territory})
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (s *Server) orgInvitations(c *fiber.Ctx) error {
	is, err := s.app.OrgInvitations(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(is)
}

func (s *Server) invite(c *fiber.Ctx) error {
	var in struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	inv, err := s.app.Invite(c.UserContext(), principal(c), param(c, "id"), in.Email, in.Role)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(inv)
}

func (s *Server) revokeInvitation(c *fiber.Ctx) error {
	if err := s.app.RevokeInvitation(c.UserContext(), principal(c), param(c, "id"), param(c, "invitationId")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) acceptInvitationToken(c *fiber.Ctx) error {
	var in struct {
		Token string `json:"token"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	m, err := s.app.AcceptInvitationToken(c.UserContext(), principal(c), in.Token)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) acceptInvitation(c *fiber.Ctx) error {
	m, err := s.app.AcceptInvitation(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) declineInvitation(c *fiber.Ctx) error {
	if err := s.app.DeclineInvitation(c.UserContext(), principal(c), param(c, "id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) updateMember(c *fiber.Ctx) error {
	var in struct {
		Role   *string `json:"role"`
		Listed *bool   `json:"listed"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := s.app.UpdateMember(c.UserContext(), principal(c), param(c, "id"), param(c, "accountId"), app.MemberInput{Role: in.Role, Listed: in.Listed}); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) removeMember(c *fiber.Ctx) error {
	if err := s.app.RemoveMember(c.UserContext(), principal(c), param(c, "id"), param(c, "accountId")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
