package web

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

func (s *Server) exportJSON(c *fiber.Ctx) error {
	d, err := s.app.ForumOpenData(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="forum-`+d.Forum+`.json"`)
	return c.JSON(d)
}

// exportCSV writes one row per proposal, its latest answer in the last columns.
func (s *Server) exportCSV(c *fiber.Ctx) error {
	d, err := s.app.ForumOpenData(c.UserContext(), principal(c), param(c, "id"))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("\ufeff") // a BOM, so spreadsheets read UTF-8 (Arabic, Chinese) correctly
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"id", "title", "language", "category", "status", "organisation", "supports", "comments", "created_at", "due_at", "answered_at", "last_answer", "last_answer_at", "body"})
	for _, p := range d.Proposals {
		answered, last, lastAt := "", "", ""
		if p.AnsweredAt != nil {
			answered = p.AnsweredAt.Format(time.RFC3339)
		}
		if n := len(p.Timeline); n > 0 {
			last, lastAt = p.Timeline[n-1].Text, p.Timeline[n-1].At.Format(time.RFC3339)
		}
		_ = w.Write(safeCells(p.ID, p.Title, p.Language, p.Category, p.Status, p.Organisation, strconv.Itoa(p.Supports),
			strconv.Itoa(p.Comments), p.CreatedAt.Format(time.RFC3339), p.DueAt.Format(time.RFC3339), answered, last, lastAt, p.Body))
	}
	w.Flush()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="forum-`+d.Forum+`.csv"`)
	return c.Send(b.Bytes())
}

// safeCells neutralises cells a spreadsheet would run as a formula (=, +, -, @, tab, carriage
// return at the start) by putting an apostrophe first.
func safeCells(cells ...string) []string {
	for i, v := range cells {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			cells[i] = "'" + v
		}
	}
	return cells
}
