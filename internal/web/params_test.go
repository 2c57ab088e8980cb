package web

import (
	"bufio"
	"fmt"
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp/fasthttputil"
)

// A path parameter outlives its request (ids become keys of the node's rooms): it must not
// share memory with the request, which the server reuses for the next one on the connection.
// Two requests on one kept-alive connection, the first id kept aside, must leave it intact.
func TestPathParametersOutliveTheirRequest(t *testing.T) {
	var kept []string
	f := fiber.New(serverConfig(nil, nil))
	f.Get("/things/:id", func(c *fiber.Ctx) error {
		kept = append(kept, param(c, "id"))
		return c.SendStatus(204)
	})
	ln := fasthttputil.NewInmemoryListener()
	defer ln.Close()
	go func() { _ = f.Listener(ln) }()
	defer func() { _ = f.Shutdown() }()
	conn, err := ln.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	ids := []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccccccccc"}
	for _, id := range ids {
		if _, err := fmt.Fprintf(conn, "GET /things/%s HTTP/1.1\r\nHost: x\r\n\r\n", id); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(r, nil)
		if err != nil || res.StatusCode != 204 {
			t.Fatalf("GET %s: %v %v", id, res, err)
		}
		res.Body.Close()
	}
	for i, id := range ids {
		if kept[i] != id {
			t.Fatalf("the id of request %d became %q (want %q): it shared the request's memory", i, kept[i], id)
		}
	}
}
