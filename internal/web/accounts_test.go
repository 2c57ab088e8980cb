package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/insieme/insieme/internal/insieme"
)

func cookieOf(t *testing.T, r resp) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", r.header)
	return nil
}

func TestRegisterSignInOut(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "  Amina@Example.org ", "password": "a long enough password", "displayName": "Amina", "language": "ar"})
	if r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	c := cookieOf(t, r)
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Value == "" {
		t.Fatalf("cookie flags: %+v", c)
	}
	var u map[string]any
	r.json(t, &u)
	if u["email"] != "amina@example.org" || u["language"] != "ar" || u["displayName"] != "Amina" || u["emailConfirmed"] != false {
		t.Fatalf("user: %v", u)
	}
	if _, ok := u["passwordHash"]; ok {
		t.Fatal("the password hash is in the response")
	}
	if me := e.do("GET", "/api/v1/me", c.Value, nil); me.status != 200 {
		t.Fatalf("me: %d", me.status)
	}
	// The same email again is a conflict on the email field.
	dup := e.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "amina@example.org", "password": "a long enough password", "displayName": "Other", "language": "it"})
	if dup.status != 409 || dup.errorOf(t).Fields["email"] != insieme.FTaken {
		t.Fatalf("duplicate: %d %s", dup.status, dup.body)
	}
	if out := e.do("POST", "/api/v1/auth/logout", c.Value, nil); out.status != 204 {
		t.Fatalf("logout: %d", out.status)
	}
	if me := e.do("GET", "/api/v1/me", c.Value, nil); me.status != 401 {
		t.Fatalf("me after logout: %d", me.status)
	}
	// A wrong password and an unknown email get the same answer.
	wrong := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "amina@example.org", "password": "not the password"})
	unknown := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "nobody@example.org", "password": "not the password"})
	if wrong.status != 401 || unknown.status != 401 || string(wrong.body) != string(unknown.body) {
		t.Fatalf("wrong password %d %s / unknown email %d %s", wrong.status, wrong.body, unknown.status, unknown.body)
	}
	in := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "AMINA@example.org", "password": "a long enough password"})
	if in.status != 200 {
		t.Fatalf("login: %d %s", in.status, in.body)
	}
	if me := e.do("GET", "/api/v1/me", cookieOf(t, in).Value, nil); me.status != 200 {
		t.Fatalf("me after login: %d", me.status)
	}
}

// Bad input gets 400 with a code per field, and nothing is written.
func TestBadInputWritesNothing(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("x", insieme.MaxDisplayName+1)
	cases := []struct {
		name  string
		body  any
		field string
		code  string
	}{
		{"malformed JSON", `{"email": "a@example.org",`, "body", insieme.FMalformedJSON},
		{"wrong type", `{"email": 42, "password": "a long enough password", "displayName": "A", "language": "it"}`, "email", insieme.FInvalidType},
		{"unknown field", map[string]any{"email": "a@example.org", "password": "a long enough password", "displayName": "A", "language": "it", "role": "admin"}, "role", insieme.FUnknownField},
		{"trailing data", `{"email": "a@example.org"} {}`, "body", insieme.FMalformedJSON},
		{"oversized", map[string]any{"email": "a@example.org", "password": "a long enough password", "displayName": strings.Repeat("y", maxJSONBody), "language": "it"}, "body", insieme.FTooLong},
		{"bad email", map[string]any{"email": "not-an-email", "password": "a long enough password", "displayName": "A", "language": "it"}, "email", insieme.FInvalidEmail},
		{"short password", map[string]any{"email": "a@example.org", "password": "short", "displayName": "A", "language": "it"}, "password", insieme.FTooShort},
		{"long name", map[string]any{"email": "a@example.org", "password": "a long enough password", "displayName": long, "language": "it"}, "displayName", insieme.FTooLong},
		{"empty name", map[string]any{"email": "a@example.org", "password": "a long enough password", "displayName": " \t ", "language": "it"}, "displayName", insieme.FRequired},
		{"unknown language", map[string]any{"email": "a@example.org", "password": "a long enough password", "displayName": "A", "language": "xx"}, "language", insieme.FInvalidLanguage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/auth/register", "", c.body)
			if r.status != 400 {
				t.Fatalf("status %d %s", r.status, r.body)
			}
			er := r.errorOf(t)
			if er.Code != insieme.EINVALID || er.Fields[c.field] != c.code {
				t.Fatalf("error %+v, want %s=%s", er, c.field, c.code)
			}
		})
	}
	if n, err := e.db.CountAccounts(context.Background()); err != nil || n != 0 {
		t.Fatalf("accounts written by bad requests: %d %v", n, err)
	}
	// The limit is in the answer, for the UI to show.
	r := e.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "a@example.org", "password": "a long enough password", "displayName": long, "language": "it"})
	if r.errorOf(t).Limits["displayName"] != insieme.MaxDisplayName {
		t.Fatalf("limits: %s", r.body)
	}
	// Unknown routes answer in the same shape.
	if r := e.do("GET", "/api/v1/nothing-here", "", nil); r.status != 404 || r.errorOf(t).Code != insieme.ENOTFOUND {
		t.Fatalf("unknown route: %d %s", r.status, r.body)
	}
}

func TestPasswordResetThroughOutboxEndsSessions(t *testing.T) {
	e := newEnv(t)
	p := e.register("Bora")
	second := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": p.email, "password": p.password})
	other := cookieOf(t, second).Value

	if r := e.do("POST", "/api/v1/auth/password-reset", "", map[string]any{"email": p.email}); r.status != 202 {
		t.Fatalf("reset request: %d", r.status)
	}
	// An unknown address gets the same answer and no mail.
	if r := e.do("POST", "/api/v1/auth/password-reset", "", map[string]any{"email": "nobody@example.org"}); r.status != 202 {
		t.Fatalf("reset request for unknown: %d", r.status)
	}
	token := e.lastLink(p.email, "password_reset")
	if r := e.do("POST", "/api/v1/auth/password-reset/confirm", "", map[string]any{"token": token, "password": "short"}); r.status != 400 {
		t.Fatalf("weak new password: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/auth/password-reset/confirm", "", map[string]any{"token": token, "password": "a brand new password"}); r.status != 204 {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	// The link works once.
	if r := e.do("POST", "/api/v1/auth/password-reset/confirm", "", map[string]any{"token": token, "password": "yet another password"}); r.status != 400 {
		t.Fatalf("second reset: %d", r.status)
	}
	for _, s := range []string{p.secret, other} {
		if r := e.do("GET", "/api/v1/me", s, nil); r.status != 401 {
			t.Fatalf("session survived the reset: %d", r.status)
		}
	}
	if r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": p.email, "password": p.password}); r.status != 401 {
		t.Fatalf("old password still works: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": p.email, "password": "a brand new password"}); r.status != 200 {
		t.Fatalf("new password: %d", r.status)
	}
}

func TestResetLinkExpires(t *testing.T) {
	e := newEnv(t)
	p := e.register("Ion")
	e.do("POST", "/api/v1/auth/password-reset", "", map[string]any{"email": p.email})
	token := e.lastLink(p.email, "password_reset")
	e.clock.Add(61 * 60e9)
	if r := e.do("POST", "/api/v1/auth/password-reset/confirm", "", map[string]any{"token": token, "password": "a brand new password"}); r.status != 400 {
		t.Fatalf("expired link: %d", r.status)
	}
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	e := newEnv(t)
	p := e.register("Nino")
	other := cookieOf(t, e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": p.email, "password": p.password})).Value
	r := e.do("POST", "/api/v1/me/password", p.secret, map[string]any{"currentPassword": "wrong password!", "newPassword": "a new long password"})
	if r.status != 400 || r.errorOf(t).Fields["currentPassword"] != insieme.FWrongPassword {
		t.Fatalf("wrong current: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/me/password", p.secret, map[string]any{"currentPassword": p.password, "newPassword": "a new long password"}); r.status != 204 {
		t.Fatalf("change: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/me", p.secret, nil); r.status != 200 {
		t.Fatalf("the current session ended: %d", r.status)
	}
	if r := e.do("GET", "/api/v1/me", other, nil); r.status != 401 {
		t.Fatalf("the other session survived: %d", r.status)
	}
}

func TestConfirmEmailThroughOutbox(t *testing.T) {
	e := newEnv(t)
	p := e.register("Fatou")
	first := e.lastLink(p.email, "confirm_email")
	e.clock.Add(time.Second)
	if r := e.do("POST", "/api/v1/me/email/confirmation", p.secret, nil); r.status != 202 {
		t.Fatalf("resend: %d %s", r.status, r.body)
	}
	token := e.lastLink(p.email, "confirm_email")
	if token == first {
		t.Fatal("no new link was sent")
	}
	if r := e.do("POST", "/api/v1/auth/email/confirm", "", map[string]any{"token": token}); r.status != 204 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	var u map[string]any
	e.do("GET", "/api/v1/me", p.secret, nil).json(t, &u)
	if u["emailConfirmed"] != true {
		t.Fatalf("not confirmed: %v", u)
	}
}

func TestLoginRateLimitedPerAccount(t *testing.T) {
	e := newEnv(t)
	p := e.register("Li")
	var last resp
	for i := 0; i < loginAccountLimit+1; i++ {
		last = e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": p.email, "password": "wrong password!"})
	}
	if last.status != 429 || last.header.Get("Retry-After") == "" || last.errorOf(t).Code != insieme.ETOOMANY {
		t.Fatalf("after %d failures: %d %v %s", loginAccountLimit+1, last.status, last.header, last.body)
	}
	// Even the right password waits: the account is under attack.
	if r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": p.email, "password": p.password}); r.status != 429 {
		t.Fatalf("right password during the lock: %d", r.status)
	}
	// Another account from the same address is not affected.
	q := e.register("Wei")
	if r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": q.email, "password": q.password}); r.status != 200 {
		t.Fatalf("another account: %d", r.status)
	}
}

func TestForeignOriginRefused(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"email": "o@example.org", "password": "a long enough password", "displayName": "O", "language": "it"}
	r := e.do("POST", "/api/v1/auth/register", "", body, "Origin", "https://evil.example")
	if r.status != 403 || r.errorOf(t).Code != insieme.EFORBIDDEN {
		t.Fatalf("foreign origin: %d %s", r.status, r.body)
	}
	if n, _ := e.db.CountAccounts(context.Background()); n != 0 {
		t.Fatal("a foreign-origin request wrote an account")
	}
	if r := e.do("POST", "/api/v1/auth/register", "", body, "Origin", "http://localhost:8080"); r.status != 201 {
		t.Fatalf("own origin: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/ws", "", nil, "Origin", "https://evil.example", "Upgrade", "websocket", "Connection", "Upgrade",
		"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="); r.status != 403 {
		t.Fatalf("foreign websocket upgrade: %d", r.status)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/", "", nil)
	csp := r.header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") && strings.Contains(strings.Split(strings.Split(csp, "script-src")[1], ";")[0], "unsafe-inline") {
		t.Errorf("inline scripts allowed: %s", csp)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("nosniff missing: %v", r.header)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || r.status != 200 {
		t.Errorf("index: %d %s", r.status, r.header.Get("Content-Type"))
	}
	// Only the websocket upgrade itself goes without them (its request lives as long as the
	// connection); a plain request to /ws gets its error with every header.
	if r := e.do("GET", "/ws", "", nil); r.status != 400 || r.header.Get("X-Content-Type-Options") != "nosniff" ||
		r.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("plain GET /ws: %d %v", r.status, r.header)
	}
}

func TestSuspensionEndsSessions(t *testing.T) {
	e := newEnv(t)
	ad := e.register("Admin")
	if _, _, err := e.app.CreateAdmin(context.Background(), ad.email, "", ""); err != nil {
		t.Fatal(err)
	}
	p := e.register("Target")
	if r := e.do("POST", "/api/v1/admin/accounts/"+p.id+"/suspend", ad.secret, map[string]any{"suspended": true}); r.status != 204 {
		t.Fatalf("suspend: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/me", p.secret, nil); r.status != 401 {
		t.Fatalf("suspended session: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": p.email, "password": p.password}); r.status != 401 {
		t.Fatalf("suspended login: %d", r.status)
	}
	if len(e.live.kicked) != 1 || e.live.kicked[0] != p.id {
		t.Fatalf("live connections not closed: %v", e.live.kicked)
	}
	if r := e.do("POST", "/api/v1/admin/accounts/"+p.id+"/suspend", ad.secret, map[string]any{"suspended": false}); r.status != 204 {
		t.Fatalf("reinstate: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": p.email, "password": p.password}); r.status != 200 {
		t.Fatalf("reinstated login: %d", r.status)
	}
}
