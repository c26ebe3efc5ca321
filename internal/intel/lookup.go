package intel

import (
	"strings"
	"sync/atomic"

	"github.com/porthole/porthole/internal/ports"
)

// defaultLoaded is set once Default has parsed the embedded data.
var defaultLoaded atomic.Bool

// Lookup returns the entries covering port, exactly as Default().ForPort
// would, but cheaply in a process that has not loaded Default: instead of
// parsing and validating every embedded stanza it scans the "ports:" lines
// and parses only the stanzas whose ports cover the number. A one-shot
// command such as `porthole info 2556` should call Lookup; anything that
// needs the whole data (search, stats, serve) should call Default.
//
// The fast path does not validate stanzas it skips. The embedded data is
// validated by the package tests, and once Default has run Lookup uses it.
func Lookup(port int) ([]Match, error) {
	if defaultLoaded.Load() {
		db, err := Default()
		if err != nil {
			return nil, err
		}
		return db.ForPort(port), nil
	}
	return scan(port, maxYear())
}

// scan is Lookup's fast path over the embedded files.
func scan(port, maxYear int) ([]Match, error) {
	var texts [len(files)]namedText
	for i, f := range files {
		texts[i] = namedText{f.name, *f.text}
	}
	return scanTexts(texts[:], port, maxYear)
}

// namedText is one data file's name and contents.
type namedText struct{ name, text string }

// scanTexts finds the stanzas of texts whose ports cover port, parses only
// those, and returns their matches in ForPort's order.
func scanTexts(texts []namedText, port, maxYear int) ([]Match, error) {
	if port < 0 || port > ports.Max {
		return nil, nil
	}
	var entries []Entry
	var seen map[string]pos
	for _, f := range texts {
		text := f.text
		for off := 0; ; {
			i := strings.Index(text[off:], "ports:")
			if i < 0 {
				break
			}
			i += off
			off = i + len("ports:")
			if i > 0 && text[i-1] != '\n' {
				continue // not a key at the start of a line
			}
			end := nextLine(text, i)
			for end < len(text) && (text[end] == ' ' || text[end] == '\t') && !blankAt(text, end) {
				end = nextLine(text, end) // continuation lines of the ports value
			}
			if !valueMayCover(text[off:end], port) {
				continue
			}
			start := stanzaStart(text, i)
			stop := end
			for stop < len(text) && !blankAt(text, stop) {
				stop = nextLine(text, stop)
			}
			if seen == nil {
				seen = make(map[string]pos, 4)
			}
			var err error
			entries, err = parse(entries, f.name, text[start:stop], 1+strings.Count(text[:start], "\n"), maxYear, seen)
			if err != nil {
				return nil, err
			}
			off = stop
		}
	}
	return (&DB{entries: entries}).ForPort(port), nil
}

// valueMayCover reports whether a ports value covers port. It does not
// allocate. A token it cannot read counts as covering, so that the full
// parser sees the stanza and reports the error.
func valueMayCover(v string, port int) bool {
	for len(v) > 0 {
		i := strings.IndexAny(v, " ,\t\r\n")
		tok := v
		if i >= 0 {
			tok, v = v[:i], v[i+1:]
		} else {
			v = ""
		}
		if tok == "" {
			continue
		}
		_, num, ok := strings.Cut(tok, "/")
		if !ok {
			return true
		}
		lo, hi, isRange := strings.Cut(num, "-")
		low, ok := atoiPort(lo)
		if !ok {
			return true
		}
		high := low
		if isRange {
			if high, ok = atoiPort(hi); !ok {
				return true
			}
		}
		if port >= low && port <= high {
			return true
		}
	}
	return false
}

// nextLine returns the offset just after the line that contains offset i.
func nextLine(text string, i int) int {
	if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(text)
}

// blankAt reports whether the line starting at offset i is empty or white
// space only (a stanza separator).
func blankAt(text string, i int) bool {
	end := nextLine(text, i)
	return strings.TrimSpace(text[i:end]) == ""
}

// stanzaStart returns the offset of the first line of the stanza holding the
// line that starts at offset i: the line after the nearest blank line above.
func stanzaStart(text string, i int) int {
	for i > 0 {
		prev := strings.LastIndexByte(text[:i-1], '\n') + 1
		if blankAt(text, prev) {
			return i
		}
		i = prev
	}
	return 0
}
