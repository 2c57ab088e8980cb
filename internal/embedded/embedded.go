// Package embedded runs FerretDB in-process so Insieme needs no MongoDB server: on SQLite files
// in a data folder (the zero set-up default), or on a PostgreSQL database. It speaks the real
// MongoDB wire protocol on a loopback port, so the same driver code runs as in production.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Options say where the store keeps its data and where it listens.
type Options struct {
	DataDir       string // SQLite files go here (created if missing); ignored with PostgreSQLURL
	PostgreSQLURL string // use FerretDB's PostgreSQL backend instead of SQLite
	Addr          string // listen address; default 127.0.0.1:0 (a free loopback port)
	Logger        *slog.Logger
}

// Store is a running embedded FerretDB.
type Store struct {
	uri    string
	dir    string // SQLite files; "" on PostgreSQL
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

// Start starts FerretDB and returns once it accepts connections. Stop it with Close.
func Start(ctx context.Context, opts Options) (*Store, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	conf := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: opts.Addr},
		Logger:   logger.With("component", "ferretdb"),
	}
	dir := ""
	if opts.PostgreSQLURL != "" {
		conf.Handler = "postgresql"
		conf.PostgreSQLURL = opts.PostgreSQLURL
	} else {
		if opts.DataDir == "" {
			return nil, errors.New("embedded store: a data folder is needed")
		}
		var err error
		dir, err = filepath.Abs(opts.DataDir)
		if err != nil {
			return nil, fmt.Errorf("embedded store: %w", err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("embedded store: cannot create the data folder: %w", err)
		}
		conf.Handler = "sqlite"
		// synchronous(normal) with WAL keeps commits durable across a process crash and is
		// several times faster than the default full sync.
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(wal)")
		q.Add("_pragma", "synchronous(normal)")
		q.Add("_pragma", "auto_vacuum(none)")
		conf.SQLiteURL = (&url.URL{Scheme: "file", Path: dir + "/", RawQuery: q.Encode()}).String()
	}
	f, err := ferretdb.New(conf)
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Store{uri: f.MongoDBURI(), dir: dir, log: logger, cancel: cancel, done: make(chan struct{})}
	indexed := make(chan struct{})
	go func() {
		defer close(s.done)
		if err := f.Run(runCtx); err != nil {
			logger.Error("embedded store stopped", "err", err)
		}
		<-indexed
	}()
	go func() {
		defer close(indexed)
		if dir != "" {
			s.indexLoop(runCtx)
		}
	}()
	return s, nil
}

// URI is the mongodb:// address of the running store.
func (s *Store) URI() string { return s.uri }

// Close stops accepting connections, waits for FerretDB to finish and closes its backend.
func (s *Store) Close() error {
	s.cancel()
	<-s.done
	return nil
}
