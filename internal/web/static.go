package web

import (
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// notBuilt is the page served before the frontend's first build.
const notBuilt = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Insieme: the frontend is not built yet</title><main><h1>Insieme</h1><p>The web interface has not been built yet.
Run <code>make run</code> (or <code>npm ci &amp;&amp; npm run build</code> in <code>frontend/</code>), rebuild the server and reload this page.
The API is available under <code>/api/v1</code>.</p></main></html>`

// staticFiles is the built frontend, read into memory once at start (it is small).
type staticFiles struct {
	index []byte
	files map[string]staticFile // by path under assets/
}

type staticFile struct {
	body        []byte
	contentType string
}

func loadStatic(dist fs.FS) (*staticFiles, error) {
	sf := &staticFiles{files: map[string]staticFile{}, index: []byte(notBuilt)}
	if dist == nil {
		return sf, nil
	}
	err := fs.WalkDir(dist, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path.Base(p), ".") {
			return err
		}
		b, err := fs.ReadFile(dist, p)
		if err != nil {
			return err
		}
		if p == "index.html" {
			sf.index = b
			return nil
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		sf.files[p] = staticFile{body: b, contentType: ct}
		return nil
	})
	return sf, err
}

// asset serves a content-hashed file: it never changes, so browsers keep it for a year.
func (s *Server) asset(c *fiber.Ctx) error {
	f, ok := s.static.files[strings.TrimPrefix(c.Path(), "/")]
	if !ok {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	return c.Send(f.body)
}

// index serves the single-page app for every other path (its router takes over), or a file
// at the root of dist (favicon, manifest).
func (s *Server) index(c *fiber.Ctx) error {
	if f, ok := s.static.files[strings.TrimPrefix(c.Path(), "/")]; ok {
		c.Set(fiber.HeaderContentType, f.contentType)
		c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
		return c.Send(f.body)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(s.static.index)
}
