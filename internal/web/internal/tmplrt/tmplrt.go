// Package tmplrt is what Go code generated from html/template templates (by
// internal/web/internal/tmplgen) calls at run time: a writer that escapes
// as html/template's escapers do for plain strings, the URL filter and
// processors, and the checks text/template makes as it executes (a missing
// map key, a nil pointer, an interface holding another type). It allocates
// nothing for text that needs no escaping.
package tmplrt

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Writer is where a generated renderer writes. It keeps the first error and
// goes on writing; the caller throws the page away when Err is not nil.
type Writer struct {
	buf *bytes.Buffer
	err error
}

// New returns a Writer that appends to buf.
func New(buf *bytes.Buffer) *Writer { return &Writer{buf: buf} }

// Err is the first error met, or nil.
func (w *Writer) Err() error { return w.err }

// Fail records err unless an error is already recorded.
func (w *Writer) Fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// S writes template text or trusted HTML as it is. S, Int and HTML return
// w, so that a run of writes is one statement.
func (w *Writer) S(s string) *Writer {
	w.buf.WriteString(s)
	return w
}

// Int writes n in decimal, which no escaper changes.
func (w *Writer) Int(n int) *Writer {
	var a [20]byte
	w.buf.Write(strconv.AppendInt(a[:0], int64(n), 10))
	return w
}

// HTML writes s escaped as html/template escapes a plain string in text,
// in an attribute value and in RCDATA (<title>): its htmlEscaper,
// attrEscaper and rcdataEscaper all use one table for plain strings.
func (w *Writer) HTML(s string) *Writer {
	last := 0
	for i := 0; i < len(s); i++ {
		var r string
		switch s[i] {
		case 0:
			r = "\uFFFD"
		case '"':
			r = "&#34;"
		case '&':
			r = "&amp;"
		case '\'':
			r = "&#39;"
		case '+':
			r = "&#43;"
		case '<':
			r = "&lt;"
		case '>':
			r = "&gt;"
		default:
			continue
		}
		w.buf.WriteString(s[last:i])
		w.buf.WriteString(r)
		last = i + 1
	}
	w.buf.WriteString(s[last:])
	return w
}

// URLFilter is html/template's urlFilter for a plain string: a URL with a
// scheme other than http, https or mailto becomes "#ZgotmplZ".
func URLFilter(s string) string {
	if protocol, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(protocol, "/") {
		if !strings.EqualFold(protocol, "http") && !strings.EqualFold(protocol, "https") && !strings.EqualFold(protocol, "mailto") {
			return "#ZgotmplZ"
		}
	}
	return s
}

// URLNormalize is html/template's urlNormalizer: bytes that may not stand
// in a URL are percent-encoded; reserved characters and valid escapes stay.
func URLNormalize(s string) string { return processURL(s, true) }

// URLEscape is html/template's urlEscaper, for a part of a URL (a query
// value, a fragment): reserved characters are percent-encoded too.
func URLEscape(s string) string { return processURL(s, false) }

func processURL(s string, norm bool) string {
	var b []byte
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if urlKeep(s, i, norm) {
			continue
		}
		if b == nil {
			b = make([]byte, 0, len(s)+16)
		}
		b = append(b, s[written:i]...)
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		written = i + 1
	}
	if b == nil {
		return s
	}
	return string(append(b, s[written:]...))
}

const hexDigits = "0123456789abcdef"

func urlKeep(s string, i int, norm bool) bool {
	switch c := s[i]; c {
	case '!', '#', '$', '&', '*', '+', ',', '/', ':', ';', '=', '?', '@', '[', ']':
		return norm
	case '-', '.', '_', '~':
		return true
	case '%':
		return norm && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2])
	default:
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Key is a map field (.Map.key) under Option("missingkey=error"): a
// missing key is an error, as text/template makes it.
func Key[V any](w *Writer, m map[string]V, key string) V {
	v, ok := m[key]
	if !ok {
		w.Fail(fmt.Errorf("map has no entry for key %q", key))
	}
	return v
}

// Deref guards a field access through p: a nil pointer is an error, as in
// text/template, and a zero value stands in so that rendering goes on.
func Deref[T any](w *Writer, p *T, what string) *T {
	if p == nil {
		w.Fail(fmt.Errorf("nil pointer evaluating %s", what))
		return new(T)
	}
	return p
}

// As is the value of an interface field whose type the generator was told:
// nil stays the zero value (false in if and with); another type is an error.
func As[T any](w *Writer, v any, what string) T {
	t, ok := v.(T)
	if !ok && v != nil {
		w.Fail(fmt.Errorf("%s holds %T, not %T", what, v, t))
	}
	return t
}
