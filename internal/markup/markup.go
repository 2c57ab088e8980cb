// Package markup turns user text into safe output: Markdown into sanitised
// HTML for proposals and comments, and titles into clean plain text.
//
// Markdown is rendered by goldmark (CommonMark plus linkify, strikethrough
// and tables) with raw HTML left out, and the result then goes through an
// explicit bluemonday allow-list, so a goldmark bug alone cannot let markup
// through. Decisions:
//   - Headings are shifted down two levels (# → h3, ## → h4, ### → h5,
//     deeper → h6): the page owns h1 and h2, and the shift keeps the
//     relative structure of the user's headings.
//   - Images are never rendered: a remote image would tell its host the
//     address of every reader. An image is replaced by its alt text.
//   - Links keep only http, https and mailto URLs; relative and
//     protocol-relative URLs are dropped too (a link whose URL is dropped
//     becomes its plain text). Every surviving link gets
//     rel="nofollow ugc noopener". No target attribute is emitted: links
//     open in the same tab (noopener is kept as a harmless extra guard).
//   - No style, class, id or event attributes survive; the only attributes
//     are a.href, a.rel, ol.start and th/td.align.
package markup

import (
	"bytes"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"golang.org/x/text/unicode/norm"
)

// LinkRel is the rel attribute every rendered link carries.
const LinkRel = "nofollow ugc noopener"

// Renderer renders Markdown to safe HTML. It is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	plain  goldmark.Markdown // without tables, for sources whose tables would blow up
}

// New builds the Markdown converter and the sanitising policy once.
func New() *Renderer {
	md := goldmark.New(
		goldmark.WithExtensions(
			extension.Linkify,
			extension.Strikethrough,
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
		),
		// No html.WithUnsafe: raw HTML in the source is replaced by a
		// comment, which the policy then strips.
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(rewrite{}, 100))),
	)

	plain := goldmark.New(
		goldmark.WithExtensions(extension.Linkify, extension.Strikethrough),
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(rewrite{}, 100))),
	)

	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "em", "strong", "del", "code", "pre", "blockquote",
		"ul", "ol", "li", "h3", "h4", "h5", "h6", "hr",
		"table", "thead", "tbody", "tr", "th", "td")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|center|right)$`)).OnElements("th", "td")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.AllowURLSchemes("http", "https", "mailto")
	// bluemonday adds rel="nofollow" to every <a> that kept its href (and
	// an <a> without attributes is removed, its text kept); Markdown widens
	// the rel afterwards, since bluemonday has no option for "ugc".
	p.RequireNoFollowOnLinks(true)
	return &Renderer{md: md, policy: p, plain: plain}
}

// Markdown renders src to sanitised HTML.
func (r *Renderer) Markdown(src string) string {
	var buf bytes.Buffer
	src = strings.ToValidUTF8(src, "\uFFFD")
	// A table pads every row to its header's width, so a few pipes can make megabytes of
	// HTML: wide tables, or tables that grow the output far beyond the source, are rendered
	// as plain text instead.
	md := r.md
	if maxPipesPerLine(src) > maxTableColumns {
		md = r.plain
	}
	if err := md.Convert([]byte(src), &buf); err != nil {
		return "" // only a failing writer errors, and bytes.Buffer never fails
	}
	if md == r.md && buf.Len() > maxGrowth*len(src)+4096 {
		buf.Reset()
		_ = r.plain.Convert([]byte(src), &buf)
	}
	out := r.policy.SanitizeBytes(buf.Bytes())
	// Safe as a plain replace: bluemonday escapes quotes in text and in
	// attribute values, so this string can only be the rel it added.
	out = bytes.ReplaceAll(out, []byte(` rel="nofollow"`), []byte(` rel="`+LinkRel+`"`))
	return string(out)
}

// Bounds on tables (see Markdown).
const (
	maxTableColumns = 20
	maxGrowth       = 8
)

func maxPipesPerLine(s string) int {
	most := 0
	for _, line := range strings.Split(s, "\n") {
		most = max(most, strings.Count(line, "|"))
	}
	return most
}

// rewrite shifts headings down and replaces images by their alt text.
type rewrite struct{}

func (rewrite) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	var images []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			switch n := n.(type) {
			case *ast.Heading:
				n.Level = min(n.Level+2, 6)
			case *ast.Image:
				images = append(images, n)
			}
		}
		return ast.WalkContinue, nil
	})
	// Outer images come first, so an image nested in another's alt text is
	// moved out with the rest of the alt text before it is itself replaced.
	for _, img := range images {
		parent := img.Parent()
		for c := img.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, img, c)
			c = next
		}
		parent.RemoveChild(parent, img)
	}
}

// PlainText cleans a single-line text such as a title: it drops invalid
// UTF-8, removes control characters and the bidi embedding, override and
// isolate characters (U+202A–U+202E, U+2066–U+2069) that can make a title
// display as something else, turns every whitespace run into one space,
// trims the ends and normalises to NFC (so "è" counts as one rune however
// it was typed). Ordinary RTL text and the LRM/RLM/ALM marks are kept. It
// reports false when the result is longer than max runes; an empty result
// is for the caller to reject.
func PlainText(s string, max int) (string, bool) {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r), r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	// NFC last: removing a control character can bring a mark next to the
	// letter it composes with.
	out := norm.NFC.String(b.String())
	return out, utf8.RuneCountInString(out) <= max
}
