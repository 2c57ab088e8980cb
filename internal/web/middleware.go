package web

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"github.com/insieme/insieme/internal/insieme"
)

// authenticate puts the principal of a valid session cookie into the request. A stale cookie
// is cleared, and the request goes on anonymously.
func (s *Server) authenticate(c *fiber.Ctx) error {
	secret := c.Cookies(sessionCookie)
	if secret == "" {
		// A guest of a live session or workshop sends their token in a header (never a URL):
		// browsers do not attach it by themselves, so it needs no CSRF defence.
		if token, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer "); ok && token != "" {
			p, err := s.app.AuthenticateGuest(c.UserContext(), token)
			if err != nil {
				return err
			}
			c.Locals("principal", p)
		}
		return c.Next()
	}
	// Probes never need a session: they must not depend on a store look-up.
	if secret == "" || c.Path() == "/healthz" || c.Path() == "/readyz" {
		return c.Next()
	}
	p, err := s.app.Authenticate(c.UserContext(), secret)
	switch insieme.ErrorCode(err) {
	case "":
		c.Locals("principal", p)
	case insieme.EUNAUTHORIZED:
		s.clearSessionCookie(c)
	default:
		return err
	}
	return c.Next()
}

// principal is the request's principal, or nil.
func principal(c *fiber.Ctx) *insieme.Principal {
	p, _ := c.Locals("principal").(*insieme.Principal)
	return p
}

// requireAccount refuses anonymous requests with 401.
func (s *Server) requireAccount(c *fiber.Ctx) error {
	if !principal(c).IsAccount() {
		return &insieme.Error{Code: insieme.EUNAUTHORIZED, Message: "Please sign in."}
	}
	return c.Next()
}

// checkOrigin refuses a state-changing request, or a websocket upgrade, that a browser sends
// from another site (CSRF). Requests without an Origin (curl, server-to-server) carry no
// ambient browser credentials beyond SameSite=Lax cookies, which browsers withhold
// cross-site on these methods.
func (s *Server) checkOrigin(c *fiber.Ctx) error {
	m := c.Method()
	unsafe := m != fiber.MethodGet && m != fiber.MethodHead && m != fiber.MethodOptions
	if !unsafe && !isUpgrade(c) {
		return c.Next()
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" || s.sameOrigin(c, origin) {
		return c.Next()
	}
	return &insieme.Error{Code: insieme.EFORBIDDEN, Message: "Requests from another site are not accepted."}
}

func (s *Server) sameOrigin(c *fiber.Ctx, origin string) bool {
	if strings.EqualFold(origin, s.origin) {
		return true
	}
	// The address the browser used, when the site is reached by another name than the base
	// URL (a LAN address during a workshop).
	return strings.EqualFold(origin, c.Protocol()+"://"+c.Hostname())
}

func isUpgrade(c *fiber.Ctx) bool {
	return strings.EqualFold(c.Get(fiber.HeaderUpgrade), "websocket")
}

// observe logs each request (route template, never the raw query, which could hold a link's
// secret) and counts it in the metrics.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			return herr
		}
	}
	// Copies: fiber reuses the request's memory, and metric labels outlive the request.
	route := strings.Clone(routeOf(c))
	method := strings.Clone(c.Method())
	status := c.Response().StatusCode()
	elapsed := time.Since(start)
	s.metrics.observe(method, route, status, elapsed)
	if route != "/healthz" && route != "/readyz" && !strings.HasPrefix(route, "/assets") {
		s.log.Info("request", "request", requestID(c), "method", method, "route", route, "status", status,
			"ms", float64(elapsed.Microseconds())/1000)
	}
	return nil
}

func (s *Server) tooMany(c *fiber.Ctx) error {
	return &insieme.Error{Code: insieme.ETOOMANY, Message: "Too many attempts; wait a little and try again."}
}

func (s *Server) limit(max int, window time.Duration, key func(*fiber.Ctx) string, skipSuccess bool) fiber.Handler {
	return limiter.New(limiter.Config{
		Max:                    max,
		Expiration:             window,
		KeyGenerator:           key,
		LimitReached:           s.tooMany,
		SkipSuccessfulRequests: skipSuccess,
		Storage:                s.storage,
	})
}

// byAddress keys a limit by the client address (behind trusted proxies, the forwarded one).
func byAddress(prefix string) func(*fiber.Ctx) string {
	return func(c *fiber.Ctx) string { return prefix + ":ip:" + c.IP() }
}

func (s *Server) limitLoginByAddress() fiber.Handler {
	return s.limit(s.cfg.LoginPerMinute, time.Minute, byAddress("login"), false)
}

// limitLoginByAccount counts failed sign-ins per email, whoever sends them.
func (s *Server) limitLoginByAccount() fiber.Handler {
	return s.limit(loginAccountLimit, loginAccountWindow, func(c *fiber.Ctx) string {
		var body struct {
			Email string `json:"email"`
		}
		_ = json.Unmarshal(c.Body(), &body)
		return "login:acct:" + insieme.NormaliseEmail(body.Email)
	}, true)
}

// limitRegister is generous: a whole workshop may sign up from one hall's address.
func (s *Server) limitRegister() fiber.Handler {
	return s.limit(300, time.Hour, byAddress("register"), false)
}

// limitMail bounds the mails one address can make Insieme send.
func (s *Server) limitMail() fiber.Handler {
	return s.limit(200, time.Hour, byAddress("mail"), false)
}

// limitTokens bounds guesses at link secrets (they are 256-bit; this only stops floods).
func (s *Server) limitTokens() fiber.Handler {
	return s.limit(60, time.Minute, byAddress("token"), true)
}

// limitExports bounds the open-data downloads of one address (anyone may download, signed in
// or not); every request counts, refused ones too.
func (s *Server) limitExports() fiber.Handler {
	return s.limit(exportsPerHour, time.Hour, byAddress("export"), false)
}

// limitPerAccount bounds what one signed-in person may post in a window, wherever they connect
// from; refused attempts (invalid input) do not count.
func (s *Server) limitPerAccount(prefix string, max int, window time.Duration) fiber.Handler {
	return limiter.New(limiter.Config{
		Max:        max,
		Expiration: window,
		KeyGenerator: func(c *fiber.Ctx) string {
			return prefix + ":acct:" + principal(c).AccountID
		},
		LimitReached:       s.tooMany,
		SkipFailedRequests: true,
		Storage:            s.storage,
	})
}

// limitJoins bounds guesses at join codes: failed joins per address (generously: a whole hall
// may share one address) and failed joins everywhere together, so guesses spread over many
// addresses still get nowhere; and every join per address, which stops a flood of guest tokens.
func (s *Server) limitJoins() []fiber.Handler {
	return []fiber.Handler{
		s.limit(joinFailuresPerAddress, 10*time.Minute, byAddress("join-fail"), true),
		s.limit(joinFailuresEverywhere, time.Minute, func(*fiber.Ctx) string { return "join-fail:all" }, true),
		s.limit(joinsPerAddress, 10*time.Minute, byAddress("join"), false),
	}
}

// limitLiveActions bounds live messages sent over HTTP per address, and per person (an
// account or a guest's token, wherever they connect from); the websocket has its own limits
// per connection and per person.
func (s *Server) limitLiveActions() []fiber.Handler {
	return []fiber.Handler{
		s.limit(liveActionsPerMinute, time.Minute, byAddress("live"), false),
		s.limit(liveActionsPerPerson, time.Minute, func(c *fiber.Ctx) string {
			if p := principal(c); p != nil {
				return "live:p:" + p.ID
			}
			return "live:anon:" + c.IP()
		}, false),
	}
}
