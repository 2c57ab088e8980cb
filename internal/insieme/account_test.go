package insieme

import (
	"strings"
	"testing"
)

func TestCheckEmail(t *testing.T) {
	cases := map[string]string{
		"amina@example.org":                "",
		"a.b+tag@sub.example.it":           "",
		"":                                 FRequired,
		"no-at-sign.example.org":           FInvalidEmail,
		"two@@example.org":                 FInvalidEmail,
		"Name <a@example.org>":             FInvalidEmail,
		"a@localhost":                      FInvalidEmail,
		"a@example.org\nBcc: x@y.org":      FInvalidEmail,
		strings.Repeat("a", 250) + "@x.it": FTooLong,
	}
	for in, want := range cases {
		var v Invalid
		CheckEmail(&v, "email", in)
		got := ""
		if err, ok := v.Err().(*Error); ok {
			got = err.Fields["email"]
		}
		if got != want {
			t.Errorf("CheckEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckPasswordCountsCharacters(t *testing.T) {
	for pw, want := range map[string]string{
		"":                       FRequired,
		"short":                  FTooShort,
		"ten chars!":             "",
		"ذذذذذذذذذذ":             "", // ten Arabic letters, twenty bytes
		strings.Repeat("x", 257): FTooLong,
	} {
		var v Invalid
		CheckPassword(&v, "password", pw)
		got := ""
		if err, ok := v.Err().(*Error); ok {
			got = err.Fields["password"]
		}
		if got != want {
			t.Errorf("CheckPassword(%q) = %q, want %q", pw, got, want)
		}
	}
}

func TestCleanTextDropsControlCharacters(t *testing.T) {
	if got := CleanText("  Amina\x00\x07 \u0645\u0631\u062d\u0628\u0627\t "); got != "Amina \u0645\u0631\u062d\u0628\u0627" {
		t.Fatalf("CleanText = %q", got)
	}
}

func TestErrorHelpers(t *testing.T) {
	if ErrorCode(nil) != "" || ErrorCode(Errorf(ENOTFOUND, "x")) != ENOTFOUND || ErrorCode(errPlain{}) != EINTERNAL {
		t.Fatal("ErrorCode")
	}
	if ErrorMessage(errPlain{}) != "Internal error." {
		t.Fatal("ErrorMessage leaks a plain error")
	}
	var v Invalid
	if v.Err() != nil {
		t.Fatal("no problems should be no error")
	}
	v.Add("a", FRequired)
	v.Add("a", FTooLong)
	if e := v.Err().(*Error); e.Fields["a"] != FRequired || e.Code != EINVALID {
		t.Fatalf("first problem should win: %+v", e)
	}
}

type errPlain struct{}

func (errPlain) Error() string { return "driver said something secret" }
