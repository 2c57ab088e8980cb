package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/app"
	"github.com/insieme/insieme/internal/config"
	"github.com/insieme/insieme/internal/insieme"
	"github.com/insieme/insieme/internal/mongo"
	"github.com/insieme/insieme/internal/storetest"
)

var store *storetest.Server

func TestMain(m *testing.M) { storetest.Main(m, func(s *storetest.Server) { store = s }) }

// testHasher is argon2id with small parameters: the tests check the flows, not the cost.
var testHasher = &app.PasswordHasher{Memory: 1024, Time: 1, Threads: 1}

// clock is a settable clock for tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// recLive records what the app publishes.
type recLive struct {
	mu     sync.Mutex
	rooms  []string
	kicked []string
}

func (r *recLive) Publish(_ context.Context, room string, _ any) error {
	r.mu.Lock()
	r.rooms = append(r.rooms, room)
	r.mu.Unlock()
	return nil
}
func (r *recLive) DisconnectPrincipal(id string, _ int) {
	r.mu.Lock()
	r.kicked = append(r.kicked, id)
	r.mu.Unlock()
}

type env struct {
	t     *testing.T
	db    *mongo.DB
	app   *app.App
	srv   *Server
	clock *clock
	live  *recLive
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := store.DB(t)
	cfg, err := config.Load(func(k string) string {
		if k == "INSIEME_LOGIN_PER_MINUTE" {
			return "1000"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	live := &recLive{}
	a := app.New(app.Deps{Store: db, Live: live, Clock: clk, BaseURL: cfg.BaseURL, Hasher: testHasher})
	srv, err := NewServer(Deps{App: a, Config: cfg, Logger: discard(), StorePing: db.Ping})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, app: a, srv: srv, clock: clk, live: live}
}

// resp is a decoded response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorOf decodes the error shape, failing the test when the body is not one.
func (r resp) errorOf(t *testing.T) errorPayload {
	t.Helper()
	var b errorBody
	r.json(t, &b)
	if b.Error.Code == "" || b.Error.Message == "" {
		t.Fatalf("not an error body: %s", r.body)
	}
	return b.Error
}

// do sends a request with an optional session secret and JSON body (a string is sent as is).
func (e *env) do(method, path, secret string, body any, headers ...string) resp {
	e.t.Helper()
	e.app.Wait() // work started after earlier answers (mails, notifications) is done
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: secret})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.srv.Handler().Test(req, 30000)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// person is a signed-in test account.
type person struct {
	id, email, password, secret string
}

func (e *env) register(name string) person {
	e.t.Helper()
	email := strings.ToLower(name) + fmt.Sprintf("-%d@example.org", time.Now().UnixNano())
	si, err := e.app.Register(context.Background(), app.RegisterInput{Email: email, Password: "correct horse battery", DisplayName: name, Language: "it"})
	if err != nil {
		e.t.Fatalf("register %s: %v", name, err)
	}
	return person{id: si.User.ID, email: email, password: "correct horse battery", secret: si.Secret}
}

// confirm marks a person's email as confirmed, as following the mailed link would.
func (e *env) confirm(p person) {
	e.t.Helper()
	yes := true
	if _, err := e.db.UpdateAccount(context.Background(), p.id, insieme.AccountUpdate{EmailConfirmed: &yes}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) principal(p person) *insieme.Principal {
	e.t.Helper()
	pr, err := e.app.Authenticate(context.Background(), p.secret)
	if err != nil {
		e.t.Fatalf("authenticate: %v", err)
	}
	return pr
}

var linkToken = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

// lastLink returns the token of the newest mail of a kind sent to an address.
func (e *env) lastLink(email, kind string) string {
	e.t.Helper()
	e.app.Wait() // some mails are sent after the answer
	ms, err := e.db.ListMail(context.Background(), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range ms {
		if m.To == email && m.Kind == kind {
			if g := linkToken.FindStringSubmatch(m.Body); g != nil {
				return g[1]
			}
		}
	}
	e.t.Fatalf("no %s mail to %s", kind, email)
	return ""
}

// loadTestConfig is the default configuration with a generous sign-in limit.
func loadTestConfig() (config.Config, error) {
	return config.Load(func(k string) string {
		if k == "INSIEME_LOGIN_PER_MINUTE" {
			return "1000"
		}
		return ""
	})
}
