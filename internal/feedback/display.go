package feedback

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// bidiControls are the invisible characters that reorder the text around them: the embeddings and overrides
// U+202A–U+202E, the isolates U+2066–U+2069, and the marks U+200E, U+200F and U+061C. In a comment shown to an
// administrator they could make "‮gnp.exe" read as "exe.png" or flip the columns of a row, so displays show them
// as visible names instead.
var bidiControls = []rune{'\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e',
	'\u2066', '\u2067', '\u2068', '\u2069'}

func isBidiControl(r rune) bool {
	for _, b := range bidiControls {
		if r == b {
			return true
		}
	}
	return false
}

// DisplayComment is a comment as the admin page and the CSV export show it: every bidi control replaced by its
// visible name ("[U+202E]"), and every carriage return (alone or before a line feed) turned into a line break, so
// that neither can hide or reorder text. The stored comment is unchanged.
func DisplayComment(s string) string {
	if !strings.ContainsRune(s, '\r') && !strings.ContainsFunc(s, isBidiControl) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\r':
			b.WriteByte('\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				n = 2
			}
		case isBidiControl(r):
			fmt.Fprintf(&b, "[U+%04X]", r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// jsonBidi escapes bidi controls in encoding/json output as \\uXXXX: the decoded text is exactly the stored text,
// but the file shows nothing reordered in an editor or a terminal. (encoding/json already escapes control
// characters such as a carriage return.) JSON outside strings is ASCII, so every replacement falls inside a
// string.
var jsonBidi = func() *strings.Replacer {
	var pairs []string
	for _, r := range bidiControls {
		pairs = append(pairs, string(r), fmt.Sprintf("\\u%04x", r))
	}
	return strings.NewReplacer(pairs...)
}()

// formulaTriggers start a formula in some spreadsheet: = + - @ (and their full-width forms, which East Asian
// input methods produce), and a tab or carriage return that some programs skip before one of them.
func isFormulaTrigger(r rune) bool {
	switch r {
	case '=', '+', '-', '@', '\t', '\r', '\uff1d', '\uff0b', '\uff0d', '\uff20':
		return true
	}
	return false
}

// csvField writes one CSV field: always double-quoted with inner quotes doubled (RFC 4180), and defused against
// formula injection. A spreadsheet starts a cell at the start of the field, and also, when it splits on another
// separator than the comma (a semicolon in many European locales, a tab) or breaks lines inside quotes, after any
// of , ; TAB CR LF: quotes in mid-field mean nothing to it. So wherever a cell could start (after optional spaces
// and quotes), a formula trigger gets an apostrophe in front, which spreadsheets read as "text follows". Only the export
// changes; the stored comment does not.
func csvField(b *strings.Builder, s string) {
	b.WriteByte('"')
	cellStart := true
	for _, r := range s {
		if cellStart && isFormulaTrigger(r) {
			b.WriteByte('\'')
		}
		switch r {
		case '"':
			b.WriteString(`""`)
		default:
			b.WriteRune(r)
		}
		switch {
		case r == ',' || r == ';' || r == '\t' || r == '\r' || r == '\n':
			cellStart = true
		case (r == ' ' || r == '"') && cellStart: // a reader may drop leading spaces, or take a quote as opening one
		default:
			cellStart = false
		}
	}
	b.WriteByte('"')
}
