// Package search turns text into normalised tokens so that search works the
// same on MongoDB and FerretDB, which has no $text index and no collation:
// a document stores Tokens(its text) and a search asks for Query(q), either
// in the store with {tokens: {$all: Query(q)}} (whole tokens only) or in
// memory with Match, which also accepts prefixes ("integr" finds
// "integrazione") and a single Han/Kana character inside a pair.
//
// Normalisation, applied identically to documents and queries:
//   - Compatibility decomposition (NFKD, rune by rune after NFC): full-width
//     Latin, ligatures, Arabic presentation forms and circled digits become
//     plain letters and digits.
//   - Lower case (Unicode simple lower case, plus ς → σ), then every
//     combining mark is dropped, so accents go: Città → citta, Nardò → nardo,
//     ș/ş → s, ë → e, ă â î ș ț → a a i s t, ё → е, Greek tonos.
//     Letters with a stroke and ligatures that have no decomposition are
//     folded by hand: ß → ss, ı → i, ł → l, đ → d, ø → o, æ → ae, œ → oe.
//     Indic vowel signs are marks too, so Indic words match on consonants.
//   - Cyrillic: й, ї and ў keep their marks (they are letters of their own,
//     and Ukrainian і/ї/є stay distinct); other Cyrillic accents (ё, stress
//     marks) are dropped.
//   - Arabic: harakat (U+064B–U+065F, U+0670) and tatweel (U+0640) are
//     removed without splitting the word; أ إ آ ٱ → ا, ى → ي, ة → ه; the
//     hamza carriers ؤ ئ become و ي (the decomposition splits the hamza
//     off); Arabic-Indic digits become ASCII digits.
//   - Han, Hiragana and Katakana runs are split into overlapping pairs
//     (移民协会 → 移民 民协 协会); a run of one character is one token.
//   - Everything else is split on anything that is not a letter or a
//     number (apostrophes too, ʼ included); format characters (soft hyphen,
//     ZWJ, ZWNJ, bidi controls) are removed without splitting; emoji and
//     symbols are separators.
//   - Tokens of one Latin letter are dropped, tokens are cut to 64 bytes
//     (at a rune boundary) and a text yields at most 2,000 tokens.
package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on what Tokens returns.
const (
	MaxTokens      = 2000 // unique tokens per text
	MaxTokenBytes  = 64   // longer tokens are cut at a rune boundary
	MaxQueryTokens = 32   // tokens a query keeps
)

// Tokens returns the unique normalised tokens of text in order of first
// appearance. It never returns nil (a nil slice would be stored as null).
func Tokens(text string) []string {
	return tokenize(text, MaxTokens)
}

// Query returns the tokens a search for q must find, normalised like
// Tokens and capped at MaxQueryTokens. Use it with $all for exact tokens or
// with Match. An empty result means there is nothing to search for.
func Query(q string) []string {
	return tokenize(q, MaxQueryTokens)
}

// Match reports whether a document with docTokens matches every query token.
// A token from a Han/Kana pair must be present exactly (a single CJK
// character also matches a pair containing it); any other query token also
// matches a document token it is a prefix of, so "integr" finds
// "integrazione". An empty query matches everything: callers should check
// len(query) first.
func Match(docTokens, query []string) bool {
	for _, q := range query {
		if !matchOne(docTokens, q) {
			return false
		}
	}
	return true
}

func matchOne(doc []string, q string) bool {
	r, size := utf8.DecodeRuneInString(q)
	qCJK := isCJK(r)
	single := size == len(q)
	for _, d := range doc {
		if d == q {
			return true
		}
		dr, _ := utf8.DecodeRuneInString(d)
		switch {
		case qCJK && single:
			if isCJK(dr) && strings.Contains(d, q) {
				return true
			}
		case !qCJK:
			if !isCJK(dr) && strings.HasPrefix(d, q) {
				return true
			}
		}
	}
	return false
}

// tokenizer collects tokens while the text is scanned rune by rune.
type tokenizer struct {
	max    int
	out    []string
	seen   map[string]struct{}
	word   []rune // the current run of word runes
	cjkRun bool   // the current run is Han/Kana
}

func tokenize(text string, max int) []string {
	t := &tokenizer{max: max, out: []string{}, seen: map[string]struct{}{}}
	// NFC first, so that і + U+0308 typed decomposed becomes ї before the
	// Cyrillic exception below looks at it.
	text = norm.NFC.String(strings.ToValidUTF8(text, " "))
	var buf [utf8.UTFMax]byte
	var dec []byte
	for _, r := range text {
		if len(t.out) >= t.max {
			break
		}
		r = unicode.ToLower(r)
		switch {
		case keepWhole(r):
			t.add(r)
			continue
		case r < utf8.RuneSelf:
			t.add(r) // ASCII has no decomposition
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		dec = norm.NFKD.Append(dec[:0], buf[:n]...)
		for _, d := range string(dec) {
			t.add(d)
		}
	}
	t.flush()
	return t.out
}

// keepWhole reports runes that are not decomposed: Cyrillic letters whose
// mark makes a distinct letter, and Hangul syllables (NFKD would split them
// into jamo).
func keepWhole(r rune) bool {
	switch r {
	case 'й', 'ї', 'ў':
		return true
	}
	return r >= 0xAC00 && r <= 0xD7A3
}

// add folds one decomposed rune and appends it to the current word, or
// ends the word when the rune is a separator.
func (t *tokenizer) add(r rune) {
	r = unicode.ToLower(r) // again: NFKD can yield capitals (℡ → TEL)
	switch {
	case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Mc, r), unicode.Is(unicode.Me, r),
		r == 0x0640: // tatweel
		return // dropped without splitting the word
	case unicode.Is(unicode.Cf, r) && r != 0x200B: // ZWSP separates words
		return
	}
	switch r {
	case 'ς':
		r = 'σ'
	case 'ı':
		r = 'i'
	case 'ł':
		r = 'l'
	case 'đ':
		r = 'd'
	case 'ø':
		r = 'o'
	case 'ß':
		t.add('s')
		r = 's'
	case 'æ':
		t.add('a')
		r = 'e'
	case 'œ':
		t.add('o')
		r = 'e'
	case 'ٱ': // alef wasla; أ إ آ lost their hamza/madda as marks above
		r = 'ا'
	case 'ى':
		r = 'ي'
	case 'ة':
		r = 'ه'
	}
	switch {
	case r >= '٠' && r <= '٩':
		r = '0' + r - '٠'
	case r >= '۰' && r <= '۹':
		r = '0' + r - '۰'
	}
	// ʼ (U+02BC, a "letter") is the Ukrainian apostrophe: split on it like
	// on ' and ’ so both spellings give the same tokens.
	if !unicode.IsLetter(r) && !unicode.IsNumber(r) || r == 'ʼ' {
		t.flush()
		return
	}
	if c := isCJK(r); c != t.cjkRun {
		t.flush()
		t.cjkRun = c
	}
	t.word = append(t.word, r)
}

// isCJK reports Han, Hiragana and Katakana (with the prolonged sound mark):
// scripts written without spaces, indexed as character pairs.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) || r == 'ー'
}

// flush turns the current word into tokens.
func (t *tokenizer) flush() {
	w := t.word
	t.word = t.word[:0]
	switch {
	case len(w) == 0:
	case t.cjkRun && len(w) > 1:
		for i := 0; i+1 < len(w); i++ {
			t.emit(string(w[i : i+2]))
		}
	case len(w) == 1 && unicode.Is(unicode.Latin, w[0]):
		// a lone Latin letter (l', a, e, o) says nothing
	default:
		// With the marks gone NFC only composes Hangul jamo that a mark
		// kept apart, so the token is what the same word typed cleanly gives.
		t.emit(truncate(norm.NFC.String(string(w))))
	}
}

func (t *tokenizer) emit(tok string) {
	if len(t.out) >= t.max {
		return
	}
	if _, dup := t.seen[tok]; !dup {
		t.seen[tok] = struct{}{}
		t.out = append(t.out, tok)
	}
}

// truncate cuts s to at most MaxTokenBytes without splitting a rune.
func truncate(s string) string {
	if len(s) <= MaxTokenBytes {
		return s
	}
	i := MaxTokenBytes
	for !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
