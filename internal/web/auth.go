package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/insieme/insieme/internal/app"
)

func (s *Server) setSessionCookie(c *fiber.Ctx, si *app.SignedIn) {
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: si.Secret, Path: "/", Expires: si.Expiry,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.SecureCookies})
}

func (s *Server) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.SecureCookies})
}

func (s *Server) register(c *fiber.Ctx) error {
	var in struct {
		Email       string `json:"email"`
		Password    string `json:"password"`
		DisplayName string `json:"displayName"`
		Language    string `json:"language"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	si, err := s.app.Register(c.UserContext(), app.RegisterInput{Email: in.Email, Password: in.Password, DisplayName: in.DisplayName, Language: in.Language})
	if err != nil {
		return err
	}
	s.setSessionCookie(c, si)
	return c.Status(fiber.StatusCreated).JSON(si.User)
}

func (s *Server) login(c *fiber.Ctx) error {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	si, err := s.app.Login(c.UserContext(), in.Email, in.Password)
	if err != nil {
		return err
	}
	s.setSessionCookie(c, si)
	return c.JSON(si.User)
}

func (s *Server) logout(c *fiber.Ctx) error {
	p := principal(c)
	if err := s.app.Logout(c.UserContext(), p); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) requestReset(c *fiber.Ctx) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := s.app.RequestPasswordReset(c.UserContext(), in.Email); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "accepted"})
}

func (s *Server) confirmReset(c *fiber.Ctx) error {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := s.app.ResetPassword(c.UserContext(), in.Token, in.Password); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) confirmEmail(c *fiber.Ctx) error {
	var in struct {
		Token string `json:"token"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := s.app.ConfirmEmail(c.UserContext(), in.Token); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) resendConfirmation(c *fiber.Ctx) error {
	if err := s.app.ResendConfirmation(c.UserContext(), principal(c)); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "accepted"})
}
