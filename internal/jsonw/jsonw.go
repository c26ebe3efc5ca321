// Package jsonw appends JSON text byte for byte as encoding/json writes it,
// compact or indented (Encoder.SetIndent), but without escaping <, > and &
// and without a second pass over the result: the value is written once, in
// its final form. It is for outputs of thousands of rows (list --json),
// where encoding/json's reflection, validation and re-indentation of
// MarshalJSON results cost more than the rows' data.
//
// A W knows nothing of shapes: a type's JSON form is the one method that
// calls it (dossier.ListenerRow.AppendJSON), and its MarshalJSON uses the
// same method, so there is one definition of each shape.
package jsonw

import (
	"strconv"
	"unicode/utf8"
)

// W appends JSON to B. The zero W writes compact JSON; Indented writes
// the layout of Encoder.SetIndent. Calls must form one valid value: Key before
// each member of an object, Elem before each element of an array.
type W struct {
	B      []byte
	indent string
	depth  int
	more   bool // the open object or array already has a member
}

// Indented returns a W that writes as an Encoder with SetIndent("",
// indent) does. A long array can be written a piece at a time: take B
// after each element and reset it to B[:0]; the W keeps its place.
func Indented(indent string) *W { return &W{indent: indent} }

// newline starts a line at the current depth; compact JSON has none.
func (w *W) newline() {
	if w.indent == "" {
		return
	}
	w.B = append(w.B, '\n')
	for range w.depth {
		w.B = append(w.B, w.indent...)
	}
}

// ObjectStart opens an object.
func (w *W) ObjectStart() {
	w.B = append(w.B, '{')
	w.depth++
	w.more = false
}

// ObjectEnd closes the open object; an empty one is {}.
func (w *W) ObjectEnd() { w.end('}') }

// ArrayStart opens an array.
func (w *W) ArrayStart() {
	w.B = append(w.B, '[')
	w.depth++
	w.more = false
}

// ArrayEnd closes the open array; an empty one is [].
func (w *W) ArrayEnd() { w.end(']') }

func (w *W) end(c byte) {
	w.depth--
	if w.more {
		w.newline()
	}
	w.B = append(w.B, c)
	w.more = true // the enclosing value has at least this member
}

// Key starts the member name of the open object; its value follows.
func (w *W) Key(name string) {
	if w.more {
		w.B = append(w.B, ',')
	}
	w.newline()
	w.B = appendString(w.B, name)
	w.B = append(w.B, ':')
	if w.indent != "" {
		w.B = append(w.B, ' ')
	}
	w.more = true
}

// Elem starts the next element of the open array.
func (w *W) Elem() {
	if w.more {
		w.B = append(w.B, ',')
	}
	w.newline()
	w.more = true
}

// String writes s as a JSON string.
func (w *W) String(s string) { w.B = appendString(w.B, s) }

// StringOrNull writes s, or null when s is empty.
func (w *W) StringOrNull(s string) {
	if s == "" {
		w.Null()
		return
	}
	w.String(s)
}

// Int writes n.
func (w *W) Int(n int) { w.B = strconv.AppendInt(w.B, int64(n), 10) }

// Uint writes n.
func (w *W) Uint(n uint64) { w.B = strconv.AppendUint(w.B, n, 10) }

// Bool writes true or false.
func (w *W) Bool(b bool) { w.B = strconv.AppendBool(w.B, b) }

// Null writes null.
func (w *W) Null() { w.B = append(w.B, "null"...) }

// Strings writes ss as an array of strings; nil is [] too.
func (w *W) Strings(ss []string) {
	w.ArrayStart()
	for _, s := range ss {
		w.Elem()
		w.String(s)
	}
	w.ArrayEnd()
}

// Ints writes ns as an array of numbers; nil is [] too.
func (w *W) Ints(ns []int) {
	w.ArrayStart()
	for _, n := range ns {
		w.Elem()
		w.Int(n)
	}
	w.ArrayEnd()
}

const hex = "0123456789abcdef"

// appendString appends s quoted as encoding/json quotes a string with
// HTML escaping off: ", \ and control characters escaped (\b \f \n \r \t
// by name, the rest as \u00XX), invalid UTF-8 as \ufffd, and U+2028 and
// U+2029 as \u2028 and \u2029.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
