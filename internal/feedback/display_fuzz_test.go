package feedback

import (
	"encoding/csv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCSVField: a field reads back as one field through encoding/csv, and
// however a spreadsheet splits it (on , ; TAB CR LF, quotes or not), no
// cell starts a formula.
func FuzzCSVField(f *testing.F) {
	for _, s := range []string{"", "plain", "=1+1", "a;=1", " \"=x", "\t-2", "x\r\n@y", "\uff1d1", "\"\"", "a,b;c\td"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip()
		}
		s = DisplayComment(s)
		var b strings.Builder
		csvField(&b, s)
		out := b.String()
		rec, err := csv.NewReader(strings.NewReader(out + "\n")).Read()
		if err != nil || len(rec) != 1 {
			t.Fatalf("%q wrote %q, which reads back as %q, %v", s, out, rec, err)
		}
		if got := strings.ReplaceAll(rec[0], "'", ""); got != strings.ReplaceAll(strings.ReplaceAll(s, "'", ""), "\r\n", "\n") {
			t.Fatalf("%q reads back as %q: more than apostrophes changed", s, rec[0])
		}
		for _, c := range strings.FieldsFunc(out, func(r rune) bool { return strings.ContainsRune(",;\t\r\n", r) }) {
			c = strings.TrimLeft(c, ` "`)
			if r, _ := utf8.DecodeRuneInString(c); c != "" && isFormulaTrigger(r) {
				t.Fatalf("%q: a cell of %q would start a formula: %q", s, out, c)
			}
		}
	})
}
