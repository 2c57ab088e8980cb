// Package web is Insieme's HTTP and websocket transport on fiber: the route table
// (routes.go), the error-to-status table (error.go), one file per resource, and ws.go.
package web

import (
	"context"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"time"

	fastws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/config"
	"github.com/insieme/insieme/internal/insieme"
)

// Hub is the live-room hub (internal/realtime) as the transport uses it.
type Hub interface {
	// Serve runs one upgraded connection until it ends.
	Serve(conn *fastws.Conn, p *insieme.Principal)
	// Shutdown closes every live connection with "going away".
	Shutdown(ctx context.Context)
	// BrokerState is "up" or "down".
	BrokerState() string
}

// Deps are what the server needs.
type Deps struct {
	App            *app.App
	Hub            Hub // nil: no live rooms (some tests)
	Config         config.Config
	Logger         *slog.Logger
	StorePing      func(ctx context.Context) error // for /readyz
	LimiterStorage fiber.Storage                   // shared rate-limit counters (Redis); nil keeps them in memory
	Metrics        *Metrics
	Static         fs.FS // the built frontend (frontend/dist)
	// DevClock, when set (INSIEME_DEV_CLOCK), lets admins move the app's clock forward.
	DevClock *insieme.OffsetClock
}

// Server serves the API, the websocket and the frontend.
type Server struct {
	fiber   *fiber.App
	app     *app.App
	hub     Hub
	cfg     config.Config
	log     *slog.Logger
	ping    func(ctx context.Context) error
	metrics *Metrics
	storage fiber.Storage
	static  *staticFiles
	clock   *insieme.OffsetClock
	origin  string // scheme://host of the base URL, for the Origin check
}

// sessionCookie is the name of the session cookie.
const sessionCookie = "insieme_session"

// NewServer builds the server and its routes.
func NewServer(d Deps) (*Server, error) {
	u, err := url.Parse(d.Config.BaseURL)
	if err != nil {
		return nil, err
	}
	static, err := loadStatic(d.Static)
	if err != nil {
		return nil, err
	}
	s := &Server{app: d.App, hub: d.Hub, cfg: d.Config, log: d.Logger, ping: d.StorePing, metrics: d.Metrics,
		storage: d.LimiterStorage, static: static, clock: d.DevClock, origin: u.Scheme + "://" + u.Host}
	if s.metrics == nil {
		s.metrics = NewMetrics(nil, nil)
	}
	s.fiber = fiber.New(serverConfig(s.errorHandler, d.Config.TrustedProxies))
	s.fiber.Use(recover.New())
	s.fiber.Use(requestid.New())
	s.fiber.Use(s.observe)
	s.fiber.Use(helmet.New(helmet.Config{
		// An upgraded connection keeps its request's context (response headers included) for
		// its lifetime, and a 101 has no document for these headers to protect: 2 KB per
		// connection at 10,000 connections.
		Next: isWebsocketUpgrade,
		ContentSecurityPolicy: "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
			"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
		XFrameOptions:             "DENY",
		ReferrerPolicy:            "same-origin",
		CrossOriginEmbedderPolicy: "unsafe-none",
		PermissionPolicy:          "camera=(), microphone=(), geolocation=()",
	}))
	s.fiber.Use(compress.New(compress.Config{Level: compress.LevelBestSpeed}))
	s.fiber.Use(s.checkOrigin)
	s.routes()
	return s, nil
}

// isWebsocketUpgrade: the upgrade to /ws (a plain request there still gets every header).
func isWebsocketUpgrade(c *fiber.Ctx) bool {
	return c.Path() == "/ws" && websocket.IsWebSocketUpgrade(c)
}

func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}

// Handler is the fiber app (tests use its Test method).
func (s *Server) Handler() *fiber.App { return s.fiber }

// serverConfig is fiber's configuration. Immutable: by default the strings fiber hands out
// (path parameters, queries, headers, cookies) point into the request's buffers, which the
// server reuses for the next request on the connection, and ids outlive requests here (keys of
// the node's rooms and caches): one workshop's room once answered as another's.
func serverConfig(errorHandler fiber.ErrorHandler, trustedProxies []string) fiber.Config {
	return fiber.Config{
		AppName:                 "insieme",
		Immutable:               true,
		ErrorHandler:            errorHandler,
		BodyLimit:               1 << 20, // API bodies are checked against a smaller limit in decode
		ReadTimeout:             30 * time.Second,
		WriteTimeout:            30 * time.Second,
		IdleTimeout:             120 * time.Second,
		DisableStartupMessage:   true,
		EnableTrustedProxyCheck: true,
		TrustedProxies:          trustedProxies,
		ProxyHeader:             proxyHeader(trustedProxies),
		// Releases a connection's 4 KB read buffer whenever nothing is waiting in it: between
		// keep-alive requests, and for the lifetime of a websocket (fasthttp hands an upgraded
		// connection its read buffer otherwise): 40 MB at 10,000 live connections.
		ReduceMemoryUsage: true,
	}
}

// Serve serves on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.fiber.Listener(ln) }

// Shutdown stops accepting requests, closes live connections with "going away", and waits for
// requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.hub != nil {
		s.hub.Shutdown(ctx)
	}
	return s.fiber.ShutdownWithContext(ctx)
}
