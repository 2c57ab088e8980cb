package web

import (
	"context"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/config"
	"github.com/insieme/insieme/internal/insieme"
)

func TestDevClockAgesAccounts(t *testing.T) {
	db := store.DB(t)
	cfg, _ := config.Load(func(string) string { return "" })
	clk := &insieme.OffsetClock{}
	a := app.New(app.Deps{Store: db, Clock: clk, BaseURL: cfg.BaseURL, Hasher: testHasher})
	srv, err := NewServer(Deps{App: a, Config: cfg, Logger: discard(), StorePing: db.Ping, DevClock: clk})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, app: a, srv: srv}
	ad, p := e.register("Admin"), e.register("Person")
	if _, _, err := a.CreateAdmin(context.Background(), ad.email, "", ""); err != nil {
		t.Fatal(err)
	}
	if r := e.do("POST", "/api/v1/dev/clock", p.secret, map[string]any{"advance": "25h"}); r.status != 403 {
		t.Fatalf("a non-admin moving the clock: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/dev/clock", ad.secret, map[string]any{"advance": "forever"}); r.status != 400 {
		t.Fatalf("a bad duration: %d", r.status)
	}
	before := a.Now()
	if r := e.do("POST", "/api/v1/dev/clock", ad.secret, map[string]any{"advance": "25h"}); r.status != 200 {
		t.Fatalf("advance: %d %s", r.status, r.body)
	}
	if got := a.Now().Sub(before); got < 25*time.Hour || got > 26*time.Hour {
		t.Fatalf("the clock moved by %v", got)
	}
}
