package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/insieme/insieme/internal/config"
	"github.com/insieme/insieme/internal/embedded"
	"github.com/insieme/insieme/internal/mongo"
)

// newLogger writes JSON logs (or text for development) at the configured level.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// store is an open database and, in embedded mode, the FerretDB behind it.
type store struct {
	db       *mongo.DB
	embedded *embedded.Store
}

// openStore connects to MONGODB_URI, or starts the embedded store in the data folder.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store, error) {
	s := &store{}
	uri := cfg.MongoURI
	if cfg.Embedded() {
		e, err := embedded.Start(ctx, embedded.Options{DataDir: cfg.DataDir, Logger: quietFerret(log)})
		if err != nil {
			return nil, err
		}
		s.embedded = e
		uri = e.URI()
		log.Info("embedded store started", "dataDir", cfg.DataDir)
	}
	db, err := mongo.Open(ctx, mongo.Options{URI: uri, Database: cfg.MongoDatabase, SingleWriter: cfg.Embedded()})
	if err != nil {
		s.close(ctx)
		return nil, err
	}
	s.db = db
	if err := db.EnsureIndexes(ctx); err != nil {
		s.close(ctx)
		return nil, err
	}
	if s.embedded != nil {
		if err := s.embedded.IndexIDs(ctx); err != nil {
			s.close(ctx)
			return nil, err
		}
	}
	return s, nil
}

func (s *store) close(ctx context.Context) error {
	var errs []error
	if s.db != nil {
		// Bounded: a store that does not answer must not hold the shutdown forever.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		errs = append(errs, s.db.Close(cctx))
		cancel()
	}
	if s.embedded != nil {
		errs = append(errs, s.embedded.Close())
	}
	return errors.Join(errs...)
}

// quietFerret keeps FerretDB's own logs at errors: below that it logs every connection and
// every unsupported command (such as the driver's endSessions) as a warning.
func quietFerret(log *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{h: log.Handler(), min: slog.LevelError})
}

type levelFilter struct {
	h   slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.h.Enabled(ctx, l)
}
func (f levelFilter) Handle(ctx context.Context, r slog.Record) error { return f.h.Handle(ctx, r) }
func (f levelFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFilter{h: f.h.WithAttrs(as), min: f.min}
}
func (f levelFilter) WithGroup(n string) slog.Handler {
	return levelFilter{h: f.h.WithGroup(n), min: f.min}
}

func loadConfig(getenv func(string) string) (config.Config, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return cfg, fmt.Errorf("%w\nsee config/insieme.example.env for every setting", err)
	}
	return cfg, nil
}

// openTask is the start of every command that works on the store: the configuration, a
// logger and the open store (close it when done).
func openTask(ctx context.Context, getenv func(string) string, stderr io.Writer) (config.Config, *slog.Logger, *store, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return cfg, nil, nil, err
	}
	log := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, log)
	return cfg, log, st, err
}
