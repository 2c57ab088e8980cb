// Package storetest gives tests a real store: the embedded FerretDB (on SQLite in a temporary
// folder), or the MongoDB at MONGODB_TEST_URI when that is set. Each test gets a database of
// its own.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/insieme/insieme/internal/embedded"
	"github.com/insieme/insieme/internal/mongo"
)

// Server is a running store shared by a package's tests.
type Server struct {
	URI      string
	embedded *embedded.Store
	dir      string
}

// Start starts the embedded store, or uses MONGODB_TEST_URI. Call it from TestMain and Close
// it after m.Run.
func Start() (*Server, error) {
	if uri := os.Getenv("MONGODB_TEST_URI"); uri != "" {
		return &Server{URI: uri}, nil
	}
	dir, err := os.MkdirTemp("", "insieme-store-*")
	if err != nil {
		return nil, err
	}
	e, err := embedded.Start(context.Background(), embedded.Options{DataDir: dir, Logger: logger()})
	if err != nil {
		return nil, err
	}
	return &Server{URI: e.URI(), embedded: e, dir: dir}, nil
}

// Main is a test package's TestMain: it starts the store, hands it to set, runs the tests and
// stops the store.
func Main(m *testing.M, set func(*Server)) {
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "store:", err)
		os.Exit(1)
	}
	set(s)
	code := m.Run()
	s.Close()
	os.Exit(code)
}

// Embedded reports whether the tests run on the embedded store.
func (s *Server) Embedded() bool { return s.embedded != nil }

// Close stops the store and removes its folder.
func (s *Server) Close() {
	if s.embedded != nil {
		_ = s.embedded.Close()
		_ = os.RemoveAll(s.dir)
	}
}

// DB opens a fresh database for one test, with indexes, and drops it at the end.
func (s *Server) DB(t testing.TB) *mongo.DB {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	db, err := mongo.Open(ctx, mongo.Options{URI: s.URI, Database: name, SingleWriter: s.Embedded()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if err := db.EnsureIndexes(ctx); err != nil {
		t.Fatalf("indexes: %v", err)
	}
	if s.embedded != nil {
		if err := s.embedded.IndexIDs(ctx); err != nil {
			t.Fatalf("indexes: %v", err)
		}
	}
	t.Cleanup(func() {
		_ = db.Drop(context.Background())
		_ = db.Close(context.Background())
	})
	return db
}

// Node opens another connection to an existing test database, with a write client of its
// own, as a second Insieme node sharing the store would.
func (s *Server) Node(t testing.TB, database string) *mongo.DB {
	t.Helper()
	db, err := mongo.Open(context.Background(), mongo.Options{URI: s.URI, Database: database, SingleWriter: s.Embedded()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	return db
}

// logger shows the embedded store's warnings and errors in test output (STORE_LOG=1 shows all); FerretDB logs every unsupported command as a warning.
func logger() *slog.Logger {
	level := slog.LevelError
	if os.Getenv("STORE_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
