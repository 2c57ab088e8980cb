package search

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestTokens(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{}},
		{"only punctuation", " ,.;!? ", []string{}},
		{"lower and unique", "Casa casa CASA", []string{"casa"}},
		{"italian accents", "Città di Nardò, perché NO?", []string{"citta", "di", "nardo", "perche", "no"}},
		{"elision drops one letter", "l'integrazione e l’altro", []string{"integrazione", "altro"}},
		{"turkish", "Şişli İstanbul ılık", []string{"sisli", "istanbul", "ilik"}},
		{"albanian", "Shqipëri çështje", []string{"shqiperi", "ceshtje"}},
		{"romanian", "Ăsta învățământ țară ŞI Ţ", []string{"asta", "invatamant", "tara", "si"}},
		{"stroke letters", "Łódź Straße Đorđe Søren Æsir", []string{"lodz", "strasse", "dorde", "soren", "aesir"}},
		{"greek", "Αθήνα ΟΔΟΣ οδός", []string{"αθηνα", "οδοσ"}},
		{"numbers", "Via Roma 12, 00184 Roma 2024", []string{"via", "roma", "12", "00184", "2024"}},
		{"letters and digits stay together", "COVID19 a4", []string{"covid19", "a4"}},
		{"single digit kept", "punto 5", []string{"punto", "5"}},
		{"fullwidth and ligature", "ＡＢＣ ﬁne", []string{"abc", "fine"}},
		{"emoji dropped", "ciao 👋🏽 mondo 🇮🇹 ❤️", []string{"ciao", "mondo"}},
		{"emoji joins nothing", "pace☮️amore", []string{"pace", "amore"}},
		{"soft hyphen does not split", "inte\u00ADgrazione", []string{"integrazione"}},
		{"decomposed input", "Citta\u0300", []string{"citta"}},
		{"arabic harakat", "مُبَادَرَة", []string{"مبادره"}},
		{"arabic plain", "مبادره", []string{"مبادره"}},
		{"arabic alef forms", "إدماج أمل آمن ٱلله", []string{"ادماج", "امل", "امن", "الله"}},
		{"arabic ya and ta marbuta", "مستشفى مدرسة", []string{"مستشفي", "مدرسه"}},
		{"arabic hamza carriers", "مسؤول رئيس", []string{"مسوول", "رييس"}},
		{"arabic tatweel", "مـــبـادرة", []string{"مبادره"}},
		{"arabic digits", "٢٠٢٤ ۱۲", []string{"2024", "12"}},
		{"arabic presentation forms", "ﻣﺒﺎﺩﺭﺓ", []string{"مبادره"}},
		{"ukrainian", "Її ЇЖАК Київ і є", []string{"її", "їжак", "київ", "і", "є"}},
		{"ukrainian keeps й", "Йде ЙОГО", []string{"йде", "його"}},
		{"cyrillic ё and stress", "Ёлка мо́ре", []string{"елка", "море"}},
		{"ukrainian apostrophe", "м'ясо мʼясо м’ясо", []string{"м", "ясо"}},
		{"georgian", "საქართველო ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ", []string{"საქართველო"}},
		{"chinese pairs", "移民协会", []string{"移民", "民协", "协会"}},
		{"chinese single", "人", []string{"人"}},
		{"chinese punctuation splits", "移民，协会。", []string{"移民", "协会"}},
		{"japanese kana joins han run", "移民の協会", []string{"移民", "民の", "の協", "協会"}},
		{"katakana prolonged mark", "コーヒー", []string{"コー", "ーヒ", "ヒー"}},
		{"mixed script", "Insieme移民协会2024 ciao مرحبا Київ", []string{"insieme", "移民", "民协", "协会", "2024", "ciao", "مرحبا", "київ"}},
		{"korean", "한국어 학교", []string{"한국어", "학교"}},
		{"control and invalid utf8", "ab\x00cd\xffef", []string{"ab", "cd", "ef"}},
		{"bidi override inside word", "ab\u202Ecd", []string{"abcd"}},
		{"long token cut", strings.Repeat("a", 70), []string{strings.Repeat("a", 64)}},
		{"long token cut at rune", strings.Repeat("à", 40), []string{strings.Repeat("a", 40)}},
		{"long cyrillic cut at rune", strings.Repeat("ж", 40), []string{strings.Repeat("ж", 32)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Tokens(tc.in)
			if got == nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Tokens(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTokensCap(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		b.WriteString("w")
		for n := i; ; n /= 26 {
			b.WriteByte(byte('a' + n%26))
			if n < 26 {
				break
			}
		}
		b.WriteByte(' ')
	}
	if got := len(Tokens(b.String())); got != MaxTokens {
		t.Errorf("got %d tokens, want %d", got, MaxTokens)
	}
	if got := len(Query(b.String())); got != MaxQueryTokens {
		t.Errorf("query: got %d tokens, want %d", got, MaxQueryTokens)
	}
}

func TestSearch(t *testing.T) {
	tests := []struct {
		doc, query string
		want       bool
	}{
		{"La Città di Nardò", "citta", true},
		{"la citta di nardo", "CITTÀ", true},
		{"La Città di Nardò", "nardo citta", true},
		{"La Città di Nardò", "nardo roma", false},
		{"Progetto di integrazione", "integr", true},    // prefix
		{"Progetto di integrazione", "grazione", false}, // not a substring search
		{"Progetto di integrazione", "Integrazione!", true},
		{"مُبَادَرَة الإدماج", "مبادره", true},
		{"مبادره ادماج", "مُبَادَرَة", true},
		{"إدماج", "ادماج", true},
		{"ادماج", "إدماج", true},
		{"مستشفى", "مستشفي", true},
		{"مدرسة", "مدرسه", true},
		{"移民协会欢迎你", "移民协会", true},
		{"移民协会欢迎你", "协会", true},
		{"移民协会欢迎你", "协", true}, // single character within a pair
		{"移民协会欢迎你", "协欢", false},
		{"移民协会欢迎你", "移民 欢迎", true},
		{"移民协会", "移民局", false},
		{"Київ і Львів", "київ", true},
		{"Київ", "кии", false}, // ї is not і
		{"Київ", "киї", true},
		{"Їжак", "ЇЖ", true},
		{"საქართველო", "საქარ", true},
		{"ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ", "საქართველო", true},
		{"Incontro 2024 – via Roma 12", "2024 roma", true},
		{"Incontro 2024", "2025", false},
		{"Nessun token", "zzz", false},
		{"Città 🎉", "🎉 citta", true}, // emoji ignored in the query
	}
	for _, tc := range tests {
		q := Query(tc.query)
		if len(q) == 0 {
			t.Errorf("Query(%q) is empty", tc.query)
			continue
		}
		if got := Match(Tokens(tc.doc), q); got != tc.want {
			t.Errorf("Match(Tokens(%q), Query(%q)=%q) = %v, want %v (doc tokens %q)",
				tc.doc, tc.query, q, got, tc.want, Tokens(tc.doc))
		}
	}
}

func TestQueryEmpty(t *testing.T) {
	for _, q := range []string{"", "   ", "a", "!!", "🎉"} {
		if got := Query(q); got == nil || len(got) != 0 {
			t.Errorf("Query(%q) = %#v, want empty", q, got)
		}
	}
}

func FuzzTokens(f *testing.F) {
	for _, s := range []string{
		"Città di Nardò", "مُبَادَرَة إدماج", "移民协会 人", "Її Київ йде", "ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ",
		"ﬁ ℡ ẞ İ", "\xff\xfe\x00", "한국어 \u1100\u0300\u1161", strings.Repeat("ж", 40),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := Tokens(s)
		if toks == nil || len(toks) > MaxTokens {
			t.Fatalf("%d tokens (nil=%v)", len(toks), toks == nil)
		}
		seen := map[string]bool{}
		for _, tok := range toks {
			if seen[tok] {
				t.Fatalf("duplicate token %q", tok)
			}
			seen[tok] = true
			if tok == "" || len(tok) > MaxTokenBytes || !utf8.ValidString(tok) {
				t.Fatalf("bad token %q", tok)
			}
			for _, r := range tok {
				if unicode.ToLower(r) != r {
					t.Fatalf("token %q not lower case", tok)
				}
				if unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me) || (!unicode.IsLetter(r) && !unicode.IsNumber(r)) {
					t.Fatalf("token %q has rune %U", tok, r)
				}
				if r == 0x0640 || r == 'ة' || r == 'ى' || r == 'أ' || r == 'إ' || r == 'آ' || r == 'ٱ' {
					t.Fatalf("token %q has unnormalised Arabic %U", tok, r)
				}
			}
			if utf8.RuneCountInString(tok) == 1 {
				if r, _ := utf8.DecodeRuneInString(tok); unicode.Is(unicode.Latin, r) {
					t.Fatalf("one-letter Latin token %q", tok)
				}
			}
			// A token searched for finds itself: normalisation is idempotent.
			if q := Query(tok); !reflect.DeepEqual(q, []string{tok}) {
				t.Fatalf("Query(%q) = %q", tok, q)
			}
		}
		if q := Query(s); len(toks) > 0 && !Match(toks, q) {
			t.Fatalf("text does not match itself: %q vs %q", toks, q)
		}
	})
}
