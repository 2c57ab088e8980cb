package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/insieme/insieme/frontend"
	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/inmem"
	"github.com/insieme/insieme/internal/insieme"
	"github.com/insieme/insieme/internal/realtime"
	"github.com/insieme/insieme/internal/redis"
	"github.com/insieme/insieme/internal/smtp"
	"github.com/insieme/insieme/internal/web"
)

// serve runs a node until ctx ends, then shuts down gracefully: in-flight requests finish,
// websockets close with "going away", the store closes cleanly.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("serve takes no arguments (settings come from the environment)")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)

	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.close(ctx)

	var broker realtime.Broker
	var limiterStorage fiber.Storage // nil: each limiter counts in memory
	var rdb *goredis.Client
	if cfg.RedisURL != "" {
		opts, err := goredis.ParseURL(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		// Short timeouts that honour contexts: a Redis that hangs must not stall the node,
		// which keeps serving its own clients while the broker is down.
		opts.ContextTimeoutEnabled = true
		opts.DialTimeout = time.Second
		opts.ReadTimeout = time.Second
		opts.WriteTimeout = time.Second
		rdb = goredis.NewClient(opts)
		// go-redis logs through a process-wide logger of its own; route it into ours so an
		// outage shows as JSON warnings, not stray lines.
		goredis.SetLogger(redisLog{log})
		defer rdb.Close()
		broker = redis.NewBroker(rdb, redis.BrokerOptions{Logger: log})
		limiterStorage = redis.NewLimiterStorage(rdb)
	} else {
		broker = inmem.NewBroker(1000)
	}

	live := &liveAdapter{}
	deps := app.Deps{Store: st.db, Live: live, Logger: log, BaseURL: cfg.BaseURL, SessionTTL: cfg.SessionTTL}
	if !cfg.Embedded() {
		// Other nodes may share this store. If it is FerretDB, their concurrent rewrites of a
		// document can be lost: counts, threads and followers are rebuilt from the supports,
		// comments and follows a little after each burst. MongoDB loses nothing.
		ferret, err := st.db.IsFerretDB(ctx)
		if err != nil {
			return err
		}
		if ferret {
			deps.RepairAfter = 2 * time.Second
			log.Info("shared FerretDB store: counts, threads and followers are repaired after bursts")
		}
	}
	var devClock *insieme.OffsetClock
	if cfg.DevClock {
		devClock = &insieme.OffsetClock{}
		deps.Clock = devClock
		log.Warn("INSIEME_DEV_CLOCK is on: admins can move the clock forward; never use it in production")
	}
	if cfg.SMTPURL != "" {
		sender, err := smtp.New(cfg.SMTPURL, cfg.MailFrom)
		if err != nil {
			return err
		}
		deps.Mail = sender
	}
	a := app.New(deps)
	hub := realtime.NewHub(realtime.Options{Broker: broker, Hooks: a, Logger: log})
	live.hub = hub
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	if err := hub.Start(runCtx); err != nil {
		return err
	}
	// Every node keeps its read model current with the other nodes' writes; after a broker
	// outage it rebuilds it from the store.
	if err := hub.Listen(runCtx, app.CatalogRoom, realtime.Listener{
		OnEvent: func(ev realtime.Event) { a.ApplyCatalogEvent(runCtx, ev.Data) },
		OnReset: func() {
			if _, err := a.LoadCatalog(runCtx); err != nil {
				log.Error("reloading proposals after a broker outage", "err", err)
			}
		},
	}); err != nil {
		return fmt.Errorf("following the catalogue: %w", err)
	}
	// Loaded after subscribing: a proposal written meanwhile on another node is read again.
	if n, err := a.LoadCatalog(ctx); err != nil {
		return fmt.Errorf("loading proposals: %w", err)
	} else {
		log.Info("proposals loaded", "count", n)
	}
	// Live sessions: every node keeps its copy of the sessions it serves current with the
	// other nodes' changes; after a broker outage it reads them again from the store.
	if err := hub.Listen(runCtx, app.LiveRoom, realtime.Listener{
		OnEvent: func(ev realtime.Event) { a.ApplyLiveEvent(runCtx, ev.Data) },
		OnReset: a.ResetLive,
	}); err != nil {
		return fmt.Errorf("following live sessions: %w", err)
	}
	// Workshops: the same for their facilitators' documents and their boards.
	if err := hub.Listen(runCtx, app.WorkshopRoom, realtime.Listener{
		OnEvent: func(ev realtime.Event) { a.ApplyWorkshopEvent(runCtx, ev.Data) },
		OnReset: a.ResetWorkshops,
	}); err != nil {
		return fmt.Errorf("following workshops: %w", err)
	}
	for typ, action := range a.LiveActions() {
		hub.Handle(typ, realtime.Handler(action))
	}
	// A suspension or an erasure closes the person's live connections on every node.
	if err := hub.Listen(runCtx, disconnectRoom, realtime.Listener{
		OnEvent: func(ev realtime.Event) {
			var d disconnect
			switch {
			case json.Unmarshal(ev.Data, &d) != nil || d.Principal == "":
			case d.Room != "":
				hub.DisconnectFromRoom(d.Principal, d.Room, d.Code)
			default:
				hub.DisconnectPrincipal(d.Principal, d.Code)
			}
		},
	}); err != nil {
		return fmt.Errorf("following disconnections: %w", err)
	}

	dist, err := fs.Sub(frontend.Dist, "dist")
	if err != nil {
		return err
	}
	metrics := web.NewMetrics(nil, live)
	webDeps := web.Deps{App: a, Hub: hub, Config: cfg, Logger: log, StorePing: st.db.Ping, Metrics: metrics, Static: dist, LimiterStorage: limiterStorage, DevClock: devClock}
	srv, err := web.NewServer(webDeps)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("INSIEME_ADDR %s: %w", cfg.Addr, err)
	}
	log.Info("insieme serving", "addr", ln.Addr().String(), "baseURL", cfg.BaseURL, "embedded", cfg.Embedded(), "redis", cfg.RedisURL != "")
	fmt.Fprintf(stdout, "Insieme is serving on http://%s\n", ln.Addr())

	var metricsSrv *http.Server
	if cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))
		// Profiles for load runs (docs/BENCHMARKS.md), on the private listener only.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		metricsSrv = &http.Server{Addr: cfg.MetricsAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := metricsSrv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server stopped", "err", err)
			}
		}()
	}

	go janitor(runCtx, a, st, log)
	go sweeper(runCtx, a, !cfg.Embedded(), log)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(sctx)
	}
	a.Wait()
	cancelRun()
	_ = broker.Close()
	return nil
}

// janitor deletes expired sessions, links and invitations every hour (FerretDB has no TTL
// indexes).
func janitor(ctx context.Context, a *app.App, st *store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := st.db.DeleteExpired(ctx, a.Now()); err != nil && ctx.Err() == nil {
			log.Warn("janitor", "err", err)
		} else if n > 0 {
			log.Info("janitor removed expired records", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweeper repairs what changes stored lately left behind (see App.RepairChangedSince): at
// start, those of the quarter of an hour before (this node may have stopped in the middle of a
// change); then, when other nodes may share the store (any but the embedded one), every five
// minutes those since the previous sweep, with a minute of overlap, for a node that stopped
// and did not come back.
func sweeper(ctx context.Context, a *app.App, shared bool, log *slog.Logger) {
	since := time.Now().Add(-15 * time.Minute)
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		started := time.Now()
		n, err := a.RepairChangedSince(ctx, since)
		if err != nil && ctx.Err() == nil {
			log.Warn("sweep", "err", err) // the next sweep covers the same time again
		} else {
			if n > 0 {
				log.Info("sweep repaired proposals", "count", n)
			}
			since = started.Add(-time.Minute)
			if !shared {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// liveAdapter lets the app publish to the hub, which is created after the app (the hub calls
// the app's hooks).
type liveAdapter struct{ hub *realtime.Hub }

func (l *liveAdapter) Publish(ctx context.Context, room string, data any) error {
	_, err := l.hub.Publish(ctx, room, data)
	return err
}

// DisconnectPrincipal closes the person's connections here at once, and on the other nodes
// through the broker.
func (l *liveAdapter) DisconnectPrincipal(id string, code int) {
	l.hub.DisconnectPrincipal(id, code)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = l.hub.Publish(ctx, disconnectRoom, disconnect{Principal: id, Code: code})
}

// DisconnectFromRoom closes the person's connections to one room (a host removed them from a
// live session) here at once, and on the other nodes through the broker.
func (l *liveAdapter) DisconnectFromRoom(id, room string, code int) {
	l.hub.DisconnectFromRoom(id, room, code)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = l.hub.Publish(ctx, disconnectRoom, disconnect{Principal: id, Code: code, Room: room})
}

// disconnectRoom carries disconnections between nodes.
const disconnectRoom = "system:disconnect"

type disconnect struct {
	Principal string `json:"principal"`
	Code      int    `json:"code"`
	Room      string `json:"room,omitempty"` // only the connections in this room
}

func (l *liveAdapter) Connections() int    { return l.hub.Stats().Connections }
func (l *liveAdapter) BrokerUp() bool      { return l.hub.BrokerState() == "up" }
func (l *liveAdapter) SlowDropped() uint64 { return l.hub.Stats().SlowDropped }

// redisLog hands go-redis's messages to slog.
type redisLog struct{ log *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.log.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
