package markup

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// allowedAttrs is the whole output vocabulary: element → permitted attributes.
var allowedAttrs = map[string][]string{
	"p": nil, "br": nil, "em": nil, "strong": nil, "del": nil, "code": nil, "pre": nil,
	"blockquote": nil, "ul": nil, "ol": {"start"}, "li": nil, "hr": nil,
	"h3": nil, "h4": nil, "h5": nil, "h6": nil,
	"table": nil, "thead": nil, "tbody": nil, "tr": nil, "th": {"align"}, "td": {"align"},
	"a": {"href", "rel"},
}

var (
	// Text is always escaped, so "<" in the output only ever opens a tag.
	forbiddenTag = regexp.MustCompile(`(?i)<\s*/?\s*(script|img|svg|iframe|style|object|embed|form|input|math|link|meta|base|body|div|span|details)\b`)
	eventAttr    = regexp.MustCompile(`(?i)<[^>]*\son\w+\s*=`)
	badScheme    = regexp.MustCompile(`(?i)^(javascript|vbscript|data|file):`)
)

// unsafeReason returns why out is not safe HTML, or "" when it is.
func unsafeReason(out string) string {
	if !utf8.ValidString(out) {
		return "invalid UTF-8"
	}
	if m := forbiddenTag.FindString(out); m != "" {
		return "forbidden tag " + m
	}
	if m := eventAttr.FindString(out); m != "" {
		return "event attribute in " + m
	}
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return ""
		case html.CommentToken, html.DoctypeToken:
			return "comment or doctype"
		case html.StartTagToken, html.SelfClosingTagToken:
		default:
			continue
		}
		tok := z.Token()
		allowed, ok := allowedAttrs[tok.Data]
		if !ok {
			return "element " + tok.Data
		}
		var href, rel bool
		for _, a := range tok.Attr {
			if !contains(allowed, a.Key) {
				return fmt.Sprintf("attribute %s on %s", a.Key, tok.Data)
			}
			switch a.Key {
			case "href":
				href = true
				// Strip what a browser ignores inside a scheme before looking.
				squeezed := strings.Map(func(r rune) rune {
					if unicode.IsSpace(r) || unicode.IsControl(r) {
						return -1
					}
					return r
				}, a.Val)
				if badScheme.MatchString(squeezed) {
					return "dangerous href " + a.Val
				}
				u, err := url.Parse(a.Val)
				if err != nil || !contains([]string{"http", "https", "mailto"}, u.Scheme) {
					return "href scheme not allowed: " + a.Val
				}
			case "rel":
				rel = true
				if a.Val != LinkRel {
					return "rel " + a.Val
				}
			}
		}
		if tok.Data == "a" && (!href || !rel) {
			return "link without href or rel: " + tok.String()
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// xssVectors: OWASP filter-evasion style inputs. links is how many <a>
// elements must survive (only the ones pointing at a safe URL).
var xssVectors = []struct {
	src   string
	links int
}{
	{"[x](javascript:alert(1))", 0},
	{"[x](JaVaScRiPt:alert(1))", 0},
	{"[x](&#106;avascript:alert(1))", 0},
	{"[x](&#x6A;avascript&#x3A;alert(1))", 0},
	{"[x](javascript&colon;alert(1))", 0},
	{"[x](java\tscript:alert(1))", 0},
	{"[x](java&#9;script:alert(1))", 0},
	{"[x](java&#x0A;script:alert(1))", 0},
	{"[x]( javascript:alert(1))", 0},
	{"[x](<javascript:alert(1)>)", 0},
	{"[x](<java script:alert(1)>)", 0},
	{"[x](javascript://%0aalert(1))", 0},
	{"[x](vbscript:msgbox(1))", 0},
	{"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", 0},
	{"[x](data:image/png;base64,iVBORw0KGgo=)", 0},
	{"[x](file:///etc/passwd)", 0},
	{"[x](//evil.example/x)", 0},
	{"<javascript:alert(1)>", 0},
	{"<JAVASCRIPT:alert(1)>", 0},
	{"<vbscript:msgbox(1)>", 0},
	{"<data:text/html,alert(1)>", 0},
	{"[x][r]\n\n[r]: javascript:alert(1)", 0},
	{"[x][r]\n\n[r]: JaVaScRiPt:alert(1) \"title\"", 0},
	{"[r]\n\n[r]: <&#x6A;avascript:alert(1)>", 0},
	{"<script>alert(1)</script>", 0},
	{"<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>", 0},
	{"<<script>alert(1)//<</script>", 0},
	{"<svg onload=alert(1)>", 0},
	{"<svg><script>alert(1)</script></svg>", 0},
	{"<img src=x onerror=alert(1)>", 0},
	{"<IMG SRC=\"javascript:alert('XSS');\">", 0},
	{"<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>", 0},
	{"<a href=\" javascript:alert(1)\">x</a>", 0},
	{"<a href=\"jav&#x09;ascript:alert(1)\">x</a>", 0},
	{"<a href=\"javascript&#58;alert(1)\">x</a>", 0},
	{"<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>", 0},
	{"<iframe src=\"javascript:alert(1)\"></iframe>", 0},
	{"<style>body{background:url(javascript:alert(1))}</style>", 0},
	{"<div style=\"background-image: url(javascript:alert(1))\">x</div>", 0},
	{"<body onload=alert(1)>", 0},
	{"<p onmouseover=\"alert(1)\">hover</p>", 0},
	{"inline <b onclick=alert(1)>bold</b> text", 0},
	{"<details open ontoggle=alert(1)>", 0},
	{"<object data=\"javascript:alert(1)\"></object>", 0},
	{"<form action=\"javascript:alert(1)\"><input type=submit></form>", 0},
	{"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", 0},
	{"<!--<img src=\"--><img src=x onerror=alert(1)//\">", 0},
	{"<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">", 0},
	{"<base href=\"javascript:alert(1)//\">", 0},
	{"| <img src=x onerror=alert(1)> |\n|---|\n| <script>x</script> |", 0},
	{"![x](http://evil.example/track.png)", 0},
	{"![x](javascript:alert(1))", 0},
	{"![x][i]\n\n[i]: http://evil.example/track.png", 0},
	{"[![x](http://evil.example/t.png)](javascript:alert(1))", 0},
	{"[x](http://ok.example \"t\\\" onmouseover=\\\"alert(1)\")", 1},
	{"www.example.com/\"onmouseover=\"alert(1)", 1},
	{"[x](https://ok.example/?q=\"><script>alert(1)</script>)", 1}, // percent-encoded, safe
	{"```\n<script>alert(1)</script>\n```", 0},
	{"`<img src=x onerror=alert(1)>`", 0},
	{"javascript:alert(1)", 0},
}

func TestMarkdownXSS(t *testing.T) {
	r := New()
	for _, tc := range xssVectors {
		out := r.Markdown(tc.src)
		if why := unsafeReason(out); why != "" {
			t.Errorf("Markdown(%q) = %q: %s", tc.src, out, why)
		}
		if n := strings.Count(out, "<a "); n != tc.links {
			t.Errorf("Markdown(%q) = %q: %d links, want %d", tc.src, out, n, tc.links)
		}
	}
	if len(xssVectors) < 30 {
		t.Fatalf("only %d XSS vectors", len(xssVectors))
	}
}

func TestMarkdown(t *testing.T) {
	const rel = ` rel="nofollow ugc noopener"`
	tests := []struct{ name, src, want string }{
		{"emphasis", "*a* **b** ~~c~~ `d`", "<p><em>a</em> <strong>b</strong> <del>c</del> <code>d</code></p>\n"},
		{"list", "- one\n- two\n\n1. a\n2. b", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<ol>\n<li>a</li>\n<li>b</li>\n</ol>\n"},
		{"ordered start", "3. c", "<ol start=\"3\">\n<li>c</li>\n</ol>\n"},
		{"link", "[site](https://example.org/a?b=1&c=2)", `<p><a href="https://example.org/a?b=1&amp;c=2"` + rel + ">site</a></p>\n"},
		{"http link", "[s](http://example.org)", `<p><a href="http://example.org"` + rel + ">s</a></p>\n"},
		{"mailto", "[mail](mailto:info@example.org)", `<p><a href="mailto:info@example.org"` + rel + ">mail</a></p>\n"},
		{"linkify", "see www.example.org and info@example.org", `<p>see <a href="http://www.example.org"` + rel + `>www.example.org</a> and <a href="mailto:info@example.org"` + rel + ">info@example.org</a></p>\n"},
		{"autolink", "<https://example.org>", `<p><a href="https://example.org"` + rel + ">https://example.org</a></p>\n"},
		{"unsafe link keeps text", "[click](javascript:alert(1))", "<p>click</p>\n"},
		{"relative link dropped", "[x](/proposals/1)", "<p>x</p>\n"},
		{"headings shift", "# A\n## B\n### C\n#### D", "<h3>A</h3>\n<h4>B</h4>\n<h5>C</h5>\n<h6>D</h6>\n"},
		{"image becomes alt text", "before ![a *cat*](https://example.org/cat.png) after", "<p>before a <em>cat</em> after</p>\n"},
		{"raw html dropped", "a <b>b</b> c", "<p>a b c</p>\n"},
		{"html block dropped", "<div>\nhidden\n</div>\n\nshown", "\n<p>shown</p>\n"},
		{"code block escaped", "```go\nif a < b {}\n```", "<pre><code>if a &lt; b {}\n</code></pre>\n"},
		{"blockquote and hr", "> quoted\n\n---", "<blockquote>\n<p>quoted</p>\n</blockquote>\n<hr>\n"},
		{"table", "| a | b |\n|:-|-:|\n| 1 | 2 |", "<table>\n<thead>\n<tr>\n<th align=\"left\">a</th>\n<th align=\"right\">b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td align=\"left\">1</td>\n<td align=\"right\">2</td>\n</tr>\n</tbody>\n</table>\n"},
		{"hard break", "a  \nb", "<p>a<br>\nb</p>\n"},
		{"arabic", "مرحبا **بالعالم**", "<p>مرحبا <strong>بالعالم</strong></p>\n"},
		{"chinese", "移民协会*欢迎*你", "<p>移民协会<em>欢迎</em>你</p>\n"},
		{"entities escaped", "5 > 3 & \"q\"", "<p>5 &gt; 3 &amp; &#34;q&#34;</p>\n"},
		{"scheme-like path is fine", "[x](https://example.org/javascript:1)", `<p><a href="https://example.org/javascript:1"` + rel + ">x</a></p>\n"},
		{"rel text untouched", `x rel="nofollow"`, "<p>x rel=&#34;nofollow&#34;</p>\n"},
		{"invalid utf8", "a\xffb", "<p>a\uFFFDb</p>\n"},
	}
	r := New()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := r.Markdown(tc.src)
			if got != tc.want {
				t.Errorf("Markdown(%q)\n got %q\nwant %q", tc.src, got, tc.want)
			}
			if why := unsafeReason(got); why != "" {
				t.Errorf("unsafe: %s", why)
			}
		})
	}
}

func TestMarkdownConcurrent(t *testing.T) {
	r := New()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				src := fmt.Sprintf("**%d** [l](https://example.org/%d) <script>x</script>", i, j)
				want := fmt.Sprintf(`<p><strong>%d</strong> <a href="https://example.org/%d" rel="%s">l</a> x</p>`+"\n", i, j, LinkRel)
				if got := r.Markdown(src); got != want {
					t.Errorf("got %q want %q", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func FuzzMarkdown(f *testing.F) {
	for _, tc := range xssVectors {
		f.Add(tc.src)
	}
	f.Add("# t\n\n*a* [l](https://example.org) ![i](http://x/y.png)\n\n| a |\n|---|\n| b |")
	r := New()
	f.Fuzz(func(t *testing.T, src string) {
		out := r.Markdown(src)
		if why := unsafeReason(out); why != "" {
			t.Fatalf("Markdown(%q) = %q: %s", src, out, why)
		}
	})
}

func TestPlainText(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
		ok   bool
	}{
		{"  Hello   world \n", 20, "Hello world", true},
		{"a\tb\r\nc\u00a0d\u2003e\u3000f", 20, "a b c d e f", true},
		{"ab\x00c\x1bd\u0085e\x7f", 20, "abcd e", true},
		{"user\u202Egnp.exe", 20, "usergnp.exe", true},
		{"\u2066a\u2067b\u2068c\u2069\u202A\u202B\u202C\u202D", 20, "abc", true},
		{"مبادرة الاندماج في المدينة", 40, "مبادرة الاندماج في المدينة", true},
		{"عربي\u200Fنص", 20, "عربي\u200Fنص", true}, // RLM is kept
		{"移民协会", 4, "移民协会", true},
		{"移民协会", 3, "移民协会", false},
		{"Citta\u0300", 5, "Città", true}, // NFC: counts as 5 runes
		{"bad\xffutf8", 20, "badutf8", true},
		{"   ", 5, "", true},
		{"abcdef", 5, "abcdef", false},
		{"  abcde  ", 5, "abcde", true},
	}
	for _, tc := range tests {
		got, ok := PlainText(tc.in, tc.max)
		if got != tc.want || ok != tc.ok {
			t.Errorf("PlainText(%q, %d) = %q, %v; want %q, %v", tc.in, tc.max, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzPlainText(f *testing.F) {
	for _, s := range []string{"  a  b ", "user\u202Egnp.exe", "مبادرة", "a\x00\n\tb", "\xff\xfe", "e\u0301"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, in string, max int) {
		out, ok := PlainText(in, max)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8: %q", out)
		}
		if out != strings.TrimSpace(out) || strings.Contains(out, "  ") {
			t.Fatalf("untrimmed or doubled space: %q", out)
		}
		for _, r := range out {
			if (unicode.IsSpace(r) && r != ' ') || unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) {
				t.Fatalf("%q left in %q", r, out)
			}
		}
		if ok != (utf8.RuneCountInString(out) <= max) {
			t.Fatalf("ok=%v for %d runes, max %d", ok, utf8.RuneCountInString(out), max)
		}
		if again, _ := PlainText(out, max); again != out {
			t.Fatalf("not idempotent: %q -> %q", out, again)
		}
	})
}

// A table's padding must not turn a small source into megabytes of HTML.
func TestTablesCannotAmplify(t *testing.T) {
	r := New()
	wide := "|" + strings.Repeat(" a |", 2000) + "\n|" + strings.Repeat("---|", 2000) + "\n" + strings.Repeat("|\n", 5000)
	long := "| a | b | c | d | e | f | g | h | i | j | k | l | m | n | o | p | q | r |\n|" + strings.Repeat("---|", 18) + "\n" + strings.Repeat("|\n", 9000)
	for name, src := range map[string]string{"wide": wide, "long": long} {
		out := r.Markdown(src)
		if len(out) > maxGrowth*len(src)+4096 {
			t.Errorf("%s: %d bytes of source became %d bytes of HTML", name, len(src), len(out))
		}
	}
	if out := r.Markdown("| a | b |\n|---|---|\n| 1 | 2 |\n"); !strings.Contains(out, "<table>") {
		t.Errorf("a small table is no longer a table: %s", out)
	}
}
