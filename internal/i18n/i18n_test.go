package i18n

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

var placeholder = regexp.MustCompile(`\{[0-9]+\}`)

// TestCatalogsComplete fails when a key is in one language and not in
// another, when a translation drops or invents a {n} argument, or when a
// message is empty.
func TestCatalogsComplete(t *testing.T) {
	ref := Keys(EN)
	slices.Sort(ref)
	for _, l := range Langs {
		keys := Keys(l)
		for _, k := range ref {
			msg, ok := catalog(l)[k]
			if !ok {
				t.Errorf("%s: missing key %q", l, k)
				continue
			}
			if strings.TrimSpace(msg) == "" {
				t.Errorf("%s: key %q is empty", l, k)
			}
			want := placeholder.FindAllString(catalog(EN)[k], -1)
			got := placeholder.FindAllString(msg, -1)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(slices.Compact(want), slices.Compact(got)) {
				t.Errorf("%s: key %q uses arguments %v, English uses %v", l, k, got, want)
			}
		}
		for _, k := range keys {
			if _, ok := catalog(EN)[k]; !ok {
				t.Errorf("%s: key %q is not in the English catalog", l, k)
			}
		}
	}
}

// keySpelling is how every catalog key is spelled, in Go and in templates:
// lowercase words and digits joined by dots, a word joined by dashes when
// it is a code from data (kind.game-server, owner.unknown.not-root).
var keySpelling = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*$`)

// TestKeySpelling fails on a key spelled another way (web_feedback_q).
func TestKeySpelling(t *testing.T) {
	for _, l := range Langs {
		for _, k := range Keys(l) {
			if !keySpelling.MatchString(k) {
				t.Errorf("%s: key %q is not lowercase words joined by dots", l, k)
			}
		}
	}
}

// TestKoreanIsTranslated catches English text pasted into the Korean
// catalog: a Korean message with letters must have Hangul, unless it is a
// name that stays the same in both (Linux, VPN, DDoS, …).
func TestKoreanIsTranslated(t *testing.T) {
	hangul := regexp.MustCompile(`\p{Hangul}`)
	letters := regexp.MustCompile(`[A-Za-z]{3,}`)
	for k, msg := range catalog(KO) {
		if msg == catalog(EN)[k] {
			continue // proper names and formats shared by both languages
		}
		if letters.MatchString(placeholder.ReplaceAllString(msg, "")) && !hangul.MatchString(msg) &&
			!strings.HasPrefix(k, "web.kindname.") && !strings.HasPrefix(k, "check.") {
			t.Errorf("ko: %q looks untranslated: %q", k, msg)
		}
	}
}

func TestT(t *testing.T) {
	for _, tc := range []struct {
		lang Lang
		key  string
		args []any
		want string
	}{
		{EN, "title", []any{"2556", "x"}, "Port 2556: x"},
		{KO, "title", []any{"2556", "x"}, "포트 2556: x"},
		{EN, "range.line", []any{"r", "1024", "49151", 48128}, "r, 1024–49151 (48,128 numbers)"},
		{KO, "web.home.size", []any{65536}, "번호 65,536개"},
		{EN, "no.such.key", nil, "[no.such.key]"},
	} {
		if got := T(tc.lang, tc.key, tc.args...); got != tc.want {
			t.Errorf("T(%s, %s) = %q, want %q", tc.lang, tc.key, got, tc.want)
		}
	}
	if got := Pct(KO, 11.75); got != "11.8%" {
		t.Errorf("Pct(ko) = %q", got)
	}
}
