// Package i18n holds the message catalogs of every user-facing sentence that
// porthole renders from the dossier (titles, section prose, interface
// strings), and locale-aware number formatting. A catalog is a map from a
// key to a format string with numbered arguments: "{0}", "{1}", …. Adding a
// language is adding a catalog file, listing it in Langs and in catalog. The
// catalogs are built on first use, not at start-up.
package i18n

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Lang is a language tag: "en" or "ko".
type Lang string

// The languages porthole speaks, the default first.
const (
	EN Lang = "en"
	KO Lang = "ko"
)

// Langs lists the supported languages, the default first.
var Langs = []Lang{EN, KO}

// lazyCatalog is a catalog built on first use, so that a command that renders
// no sentence (or only English ones) does not build the maps at start-up.
type lazyCatalog struct {
	once  sync.Once
	build func() map[string]string
	m     map[string]string
}

func (c *lazyCatalog) get() map[string]string {
	c.once.Do(func() { c.m = c.build() })
	return c.m
}

var (
	catalogEN = lazyCatalog{build: enCatalog}
	catalogKO = lazyCatalog{build: koCatalog}
)

// catalog returns lang's catalog, or nil for an unsupported language.
func catalog(lang Lang) map[string]string {
	switch lang {
	case EN:
		return catalogEN.get()
	case KO:
		return catalogKO.get()
	}
	return nil
}

// Supported reports whether lang has a catalog.
func Supported(lang Lang) bool { return slices.Contains(Langs, lang) }

// Keys returns every key of lang's catalog (for the completeness test).
func Keys(lang Lang) []string {
	var keys []string
	for k := range catalog(lang) {
		keys = append(keys, k)
	}
	return keys
}

// T renders key in lang with args in place of {0}, {1}, …. Integers are
// formatted with the language's digit grouping. Two more forms of braces:
//
//   - a Korean particle in braces, "{은}", "{를}", "{로}", … (either form of
//     the pair), becomes the form that fits the text just before it, as
//     read aloud: "포트 {0}{은}" renders "포트 2556은" and "포트 22는";
//   - "{0|row|rows}" renders "row" when argument 0 is the integer 1 and
//     "rows" otherwise, for English plurals.
//
// A key missing from lang falls back to English, and a key missing there
// renders as the key itself in brackets (the catalog test keeps that from
// shipping).
func T(lang Lang, key string, args ...any) string {
	msg, ok := catalog(lang)[key]
	if !ok {
		if msg, ok = catalog(EN)[key]; !ok {
			return "[" + key + "]"
		}
	}
	return render(lang, msg, args)
}

// render substitutes the braces of msg (see T).
func render(lang Lang, msg string, args []any) string {
	if !strings.Contains(msg, "{") {
		return msg
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(msg, '{')
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		j := strings.IndexByte(msg[i:], '}')
		if j < 0 {
			b.WriteString(msg)
			return b.String()
		}
		b.WriteString(msg[:i])
		inner := msg[i+1 : i+j]
		msg = msg[i+j+1:]
		if _, ok := particlePair(inner); ok {
			b.WriteString(ParticleFor(b.String(), inner))
			continue
		}
		num, forms, plural := strings.Cut(inner, "|")
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || n >= len(args) {
			b.WriteString("{" + inner + "}")
			continue
		}
		if plural {
			one, other, _ := strings.Cut(forms, "|")
			if v, isInt := args[n].(int); isInt && v == 1 {
				b.WriteString(one)
			} else {
				b.WriteString(other)
			}
			continue
		}
		b.WriteString(Format(lang, args[n]))
	}
}

// Format renders one argument: integers with digit grouping, Percent as a
// percentage with one decimal, everything else with fmt.
func Format(lang Lang, v any) string {
	switch v := v.(type) {
	case int:
		return Num(lang, v)
	case Percent:
		return Pct(lang, float64(v))
	case string:
		return v
	}
	return fmt.Sprint(v)
}

// Percent marks a float argument to T as a percentage.
type Percent float64

// Share is n as a percentage of of, to one decimal rounded half away from
// zero (0 when of is 0): every renderer shows the same figure for a share.
func Share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(int(float64(n)*1000/float64(of)+0.5)) / 10
}

// Num groups digits by thousands ("48,128"); Korean uses the same comma.
func Num(_ Lang, n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Pct renders a percentage with one decimal: "11.8 %" in English text as the
// model page writes it, "11.8%" in Korean.
func Pct(lang Lang, p float64) string {
	s := strconv.FormatFloat(p, 'f', 1, 64)
	if lang == KO {
		return s + "%"
	}
	return s + " %"
}

// List joins items in lang: "a", "a and b", "a, b and c"; Korean "a와 b",
// "a, b와 c", with the particle fitted to the item before it.
func List(lang Lang, items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	head := strings.Join(items[:len(items)-1], ", ")
	return T(lang, "list.two", head, items[len(items)-1])
}
