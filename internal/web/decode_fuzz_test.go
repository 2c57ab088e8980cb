package web

import (
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/insieme/insieme/internal/insieme"
)

// FuzzDecode: any body either decodes or gives an EINVALID error with a field code; never a
// panic, never another kind of error.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{`{}`, `{"email":"a@b.it","password":"x"}`, `{"email":1}`, `{"x":true}`, `[`, `{"email":"a"} {}`, "\x00", `{"email":"\ud800"}`, ``} {
		f.Add(seed)
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, body string) {
		fc := &fasthttp.RequestCtx{}
		fc.Request.SetBody([]byte(body))
		c := app.AcquireCtx(fc)
		defer app.ReleaseCtx(c)
		var in struct {
			Email    string `json:"email"`
			Password string `json:"password"`
		}
		err := decode(c, &in)
		if err == nil {
			return
		}
		e, ok := err.(*insieme.Error)
		if !ok || e.Code != insieme.EINVALID || len(e.Fields) != 1 {
			t.Fatalf("decode(%q) = %v", body, err)
		}
	})
}
