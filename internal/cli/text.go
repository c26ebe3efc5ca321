package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/jsonw"
	"github.com/porthole/porthole/internal/ports"
)

// width is the text width when stdout is not a terminal, and the widest
// that prose is wrapped at on a wider one: readable in an 80-column
// terminal.
const width = 80

// minWidth is the narrowest width porthole lays text out for.
const minWidth = 40

// text writes wrapped, optionally coloured lines. The first write error is
// kept and later writes are skipped.
type text struct {
	w     io.Writer
	lang  i18n.Lang
	color bool
	err   error
	// cols is the terminal's width (80 when stdout is no terminal): table
	// rows fit it. Prose wraps at min(cols, width).
	cols int
}

func newText(env *Env, lang i18n.Lang) *text {
	return &text{w: env.Stdout, lang: lang, color: useColor(env), cols: columns(env)}
}

// columns is the width of the terminal on stdout: env.Columns when set,
// else COLUMNS or the terminal's size when stdout is a terminal, else 80.
func columns(env *Env) int {
	n := env.Columns
	if n == 0 {
		if f, ok := env.Stdout.(*os.File); ok && onTerminal(f) {
			if c, err := strconv.Atoi(env.Getenv("COLUMNS")); err == nil && c > 0 {
				n = c
			} else {
				n = terminalWidth(f)
			}
		}
	}
	if n <= 0 {
		return width
	}
	return max(n, minWidth)
}

// prose is the width paragraphs wrap at.
func (t *text) prose() int { return min(t.table(), width) }

// table is the width table rows and wrapped rows fit in.
func (t *text) table() int {
	if t.cols == 0 {
		return width
	}
	return t.cols
}

// onTerminal reports whether f is a terminal.
func onTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// useColor is on only for a terminal, and off whenever NO_COLOR is set
// (https://no-color.org) or TERM is dumb.
func useColor(env *Env) bool {
	if env.Color != nil {
		return *env.Color
	}
	if env.Getenv("NO_COLOR") != "" || env.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := env.Stdout.(*os.File)
	return ok && onTerminal(f)
}

// buffered routes t's writes through a buffer, for output of many lines;
// the returned flush writes out what is left and returns t's first error.
func (t *text) buffered() (flush func() error) {
	bw := bufio.NewWriterSize(t.w, 32<<10)
	t.w = bw
	return func() error {
		if t.err == nil {
			t.err = bw.Flush()
		}
		return t.err
	}
}

func (t *text) write(s string) {
	if t.err == nil {
		_, t.err = io.WriteString(t.w, s)
	}
}

func (t *text) writeBytes(b []byte) {
	if t.err == nil {
		_, t.err = t.w.Write(b)
	}
}

func (t *text) sgr(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (t *text) bold(s string) string { return t.sgr("1", s) }
func (t *text) dim(s string) string  { return t.sgr("2", s) }

// threatColor marks a threat by confidence: red for high, yellow for
// medium, plain for low.
func (t *text) threatColor(confidence, s string) string {
	switch confidence {
	case "high":
		return t.sgr("31", s)
	case "medium":
		return t.sgr("33", s)
	}
	return s
}

func (t *text) blank()           { t.write("\n") }
func (t *text) line(s string)    { t.write(strings.TrimRight(s, " ") + "\n") }
func (t *text) rule()            { t.line(t.dim(strings.Repeat("─", t.prose()))) }
func (t *text) heading(s string) { t.line(t.bold(s)) }

// para writes s wrapped at width, every line indented by indent spaces.
func (t *text) para(indent int, s string) {
	t.hang(indent, indent, s)
}

// hang wraps s with a first-line indent and a following-line indent at the
// prose width. A word longer than a line (a path) is broken across lines;
// only a URL is left whole, so that it can still be clicked and copied.
func (t *text) hang(first, rest int, s string) {
	t.wrapAt(first, rest, t.prose(), s)
}

// wrapTo wraps s at the table width with a first-line and a following-line
// indent, breaking a word longer than a line (a long path) so that no line
// is wider than the terminal; when whole, s is written on one line.
func (t *text) wrapTo(first, rest int, s string, whole bool) {
	cols := t.table()
	if whole || (first+displayWidth(s) <= cols && !strings.Contains(s, "\n")) {
		t.line(strings.Repeat(" ", first) + s)
		return
	}
	t.wrapAt(first, rest, cols, s)
}

// wrapAt wraps s at cols columns with the two indents, breaking words
// longer than a line unless they hold a URL.
func (t *text) wrapAt(first, rest, cols int, s string) {
	i := 0
	for _, l := range wrap(s, cols-rest, cols-first) {
		for {
			pad := rest
			if i == 0 {
				pad = first
			}
			i++
			head, tail := l, ""
			if !strings.Contains(l, "://") {
				head, tail = splitWidth(l, cols-pad)
			}
			t.line(strings.Repeat(" ", pad) + head)
			if tail == "" {
				break
			}
			l = tail
		}
	}
}

// splitWidth cuts s after w display columns (ANSI colour codes take none).
func splitWidth(s string, w int) (string, string) {
	if displayWidth(s) <= w {
		return s, ""
	}
	n := 0
	for i, r := range s {
		rw := displayWidth(string(r))
		if n+rw > w && i > 0 {
			return s[:i], s[i:]
		}
		n += rw
	}
	return s, ""
}

// wrap breaks s into lines of at most w display columns (the first line at
// most w1), at spaces; a word longer than a line stands alone. Newlines in s
// are kept.
func wrap(s string, w, w1 int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		var cur strings.Builder
		n := 0
		limit := w
		if len(out) == 0 {
			limit = w1
		}
		for _, word := range strings.Fields(para) {
			wl := displayWidth(word)
			if n > 0 && n+1+wl > limit {
				out = append(out, cur.String())
				cur.Reset()
				n = 0
				limit = w
			}
			if n > 0 {
				cur.WriteByte(' ')
				n++
			}
			cur.WriteString(word)
			n += wl
		}
		out = append(out, cur.String())
	}
	return out
}

// displayWidth counts columns: East Asian wide characters (Hangul, CJK)
// take two, and ANSI colour codes (ESC [ ... m) none.
func displayWidth(s string) int {
	n := 0
	esc := false
	for _, r := range s {
		switch {
		case esc:
			esc = r != 'm'
		case r == 0x1b:
			esc = true
		case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0xA4CF, r >= 0xAC00 && r <= 0xD7A3,
			r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F, r >= 0xFF00 && r <= 0xFF60,
			r >= 0x1F300 && r <= 0x1FAFF:
			n += 2
		default:
			n++
		}
	}
	return n
}

// truncate shortens s to at most w display columns, marking the cut with
// an ellipsis.
func truncate(s string, w int) string {
	if displayWidth(s) <= w {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		rw := displayWidth(string(r))
		if n+rw > w-1 {
			break
		}
		b.WriteRune(r)
		n += rw
	}
	return b.String() + "…"
}

// writeJSON prints v indented, with a final newline, without escaping <, >
// and & (the output is for terminals and programs, not HTML).
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// jsonAppender is a value whose JSON form is written by a jsonw.W
// (dossier.Listener): its MarshalJSON writes the same, compact.
type jsonAppender interface{ AppendJSON(*jsonw.W) }

// writeJSONArray writes items as writeJSON would (but [] for a nil slice
// too: list and who print [] when nothing listens), straight into a
// buffer one element at a time, in their final indented form: 10,000 rows
// are never held in memory as one document, and never re-scanned to be
// validated and re-indented. Like writeJSON it leaves <, > and & alone.
func writeJSONArray[T any, P interface {
	*T
	jsonAppender
}](w io.Writer, items []T) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	jw := jsonw.Indented("  ")
	jw.B = make([]byte, 0, 4<<10)
	jw.ArrayStart()
	for i := range items {
		jw.Elem()
		P(&items[i]).AppendJSON(jw)
		bw.Write(jw.B)
		jw.B = jw.B[:0]
	}
	jw.ArrayEnd()
	bw.Write(append(jw.B, '\n'))
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// quoteArg quotes a user's argument for an error message, cut to a sane
// length (ports.MaxQuotedToken characters and an ellipsis).
func quoteArg(s string) string { return ports.QuoteToken(s) }
