package intel

import (
	"fmt"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/ports"
)

// minYear is the earliest plausible year of an entry.
const minYear = 1980

func maxYear() int { return time.Now().Year() }

// Parse reads one data file: stanzas separated by blank lines, each a list of
// "key: value" lines. A line starting with "#" is a comment; a line starting
// with a space or tab continues the value above it. Unknown keys, repeated
// single-valued keys, missing required keys, duplicate ids and invalid values
// are errors of type *Error reading "file:line: key: message".
func Parse(file string, data []byte) ([]Entry, error) {
	// One copy of the input; every value is a substring of it.
	return parse(nil, file, string(data), 1, maxYear(), map[string]pos{})
}

// pos is where a stanza starts.
type pos struct {
	file string
	line int
}

// parse does the work of Parse on a string, so that the embedded files
// (declared as strings) are parsed without copying; entries are appended to
// dst. firstLine is the number of text's first line in file (text may be a
// slice of the file). seen maps ids to the place they were first defined,
// across files.
func parse(dst []Entry, file, text string, firstLine, maxYear int, seen map[string]pos) ([]Entry, error) {
	p := parser{file: file, text: text, maxYear: maxYear, seen: seen, entries: dst}
	if p.entries == nil {
		p.entries = make([]Entry, 0, strings.Count(text, "\nid:")+1)
	}
	lineNo := firstLine - 1
	for off := 0; off < len(text); {
		line := text[off:]
		next := len(text)
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i], off+i+1
		}
		lineNo++
		if err := p.line(lineNo, off, strings.TrimSuffix(line, "\r")); err != nil {
			return nil, err
		}
		off = next
	}
	if err := p.flush(); err != nil {
		return nil, err
	}
	return p.entries, nil
}

// field is one key with its value, possibly continued over several lines.
type field struct {
	k     key
	key   string
	value string // the text after the colon, trimmed
	line  int
	// Continuation lines, as the span text[contFrom:contTo] of the parsed
	// text; contTo == 0 when there are none.
	contFrom, contTo int
}

type parser struct {
	file    string
	text    string
	maxYear int
	seen    map[string]pos
	entries []Entry
	fields  []field // the stanza being read
	start   int     // its first line
	sources int     // source: lines in it
}

// value returns a field's value with its continuation lines joined by single
// spaces. Only multi-line values allocate.
func (p *parser) value(f *field) string {
	if f.contTo == 0 {
		return f.value
	}
	var b strings.Builder
	b.Grow(len(f.value) + 1 + f.contTo - f.contFrom)
	b.WriteString(f.value)
	for rest := p.text[f.contFrom:f.contTo]; rest != ""; {
		line := rest
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if t := strings.TrimSpace(line); t != "" {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(t)
		}
	}
	return b.String()
}

func (p *parser) errorf(line int, key, format string, args ...any) error {
	return &Error{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// isBlank reports whether a line separates stanzas: empty or white space
// only. Lines starting with an ASCII letter or digit skip the full check.
func isBlank(line string) bool {
	if line == "" {
		return true
	}
	if c := line[0] | 0x20; c >= 'a' && c <= 'z' || line[0] >= '0' && line[0] <= '9' {
		return false
	}
	return strings.TrimSpace(line) == ""
}

// line handles one line, without its line ending, starting at offset off of
// p.text.
func (p *parser) line(n, off int, line string) error {
	switch {
	case isBlank(line):
		return p.flush()
	case line[0] == '#':
		return nil
	case line[0] == ' ' || line[0] == '\t':
		if len(p.fields) == 0 {
			return p.errorf(n, "", "continuation line outside a value (indented text must follow a key: value line)")
		}
		f := &p.fields[len(p.fields)-1]
		if f.contTo == 0 {
			f.contFrom = off
		}
		f.contTo = off + len(line)
		return nil
	}
	key, value, ok := strings.Cut(line, ":")
	if !ok {
		return p.errorf(n, "", "expected \"key: value\", got %q", clip(line))
	}
	if k := strings.TrimSpace(key); k != key {
		// Keys are written flush left and followed directly by the colon;
		// Lookup's scan relies on finding "ports:" at the start of a line.
		return p.errorf(n, k, "white space before the colon")
	}
	k, known := lookupKey(key)
	if !known {
		return p.errorf(n, key, "unknown key %q", clip(key))
	}
	if len(p.fields) == 0 {
		p.start = n
	}
	if k == kSource {
		p.sources++
	}
	p.fields = append(p.fields, field{k: k, key: key, value: strings.TrimSpace(value), line: n})
	return nil
}

// key is one of the keys of a stanza.
type key uint8

const (
	kID key = iota
	kName
	kNameKO
	kAliases
	kKind
	kCategory
	kPorts
	kYears
	kConfidence
	kDescription
	kDescriptionKO
	kLegit
	kLegitKO
	kPrograms
	kSource // the one key that may repeat
	numKeys
)

var keyNames = [numKeys]string{"id", "name", "name-ko", "aliases", "kind", "category", "ports", "years",
	"confidence", "description", "description-ko", "legit", "legit-ko", "programs", "source"}

func lookupKey(s string) (key, bool) {
	for k, name := range keyNames {
		if s == name {
			return key(k), true
		}
	}
	return 0, false
}

// required keys must appear in every stanza.
var required = [...]key{kID, kName, kKind, kPorts, kConfidence, kDescription, kSource}

// flush turns the fields read so far into an Entry.
func (p *parser) flush() error {
	if len(p.fields) == 0 {
		return nil
	}
	fields := p.fields
	p.fields = p.fields[:0]
	e := Entry{File: p.file, Line: p.start}
	if p.sources > 0 {
		e.Sources = make([]Source, 0, p.sources)
		p.sources = 0
	}
	var have [numKeys]bool
	category := ""
	categoryLine := 0
	for i := range fields {
		f := &fields[i]
		if have[f.k] && f.k != kSource {
			return p.errorf(f.line, f.key, "repeated in one stanza")
		}
		have[f.k] = true
		v := p.value(f)
		if v == "" {
			return p.errorf(f.line, f.key, "empty value")
		}
		switch f.k {
		case kID:
			if msg := checkID(v); msg != "" {
				return p.errorf(f.line, f.key, "%s", msg)
			}
			e.ID = v
		case kName:
			e.Name = v
		case kNameKO:
			e.NameKO = v
		case kAliases:
			e.Aliases = strings.Split(v, ";")
			for i, a := range e.Aliases {
				if e.Aliases[i] = strings.TrimSpace(a); e.Aliases[i] == "" {
					return p.errorf(f.line, f.key, "empty alias (aliases are separated by ;)")
				}
			}
		case kKind:
			e.Kind = Kind(v)
			if !e.Kind.Valid() {
				return p.errorf(f.line, f.key, "unknown kind %q", clip(v))
			}
		case kCategory:
			category, categoryLine = v, f.line
		case kPorts:
			refs, msg := parsePorts(v)
			if msg != "" {
				return p.errorf(f.line, f.key, "%s", msg)
			}
			e.Ports = refs
		case kYears:
			y, msg := parseYears(v, p.maxYear)
			if msg != "" {
				return p.errorf(f.line, f.key, "%s", msg)
			}
			e.Years = y
		case kConfidence:
			e.Confidence = Confidence(v)
			if !e.Confidence.Valid() {
				return p.errorf(f.line, f.key, "unknown confidence %q (high, medium or low)", clip(v))
			}
		case kDescription:
			e.Description = v
		case kDescriptionKO:
			e.DescriptionKO = v
		case kLegit:
			e.Legit = v
		case kLegitKO:
			e.LegitKO = v
		case kPrograms:
			for _, name := range strings.Split(v, ";") {
				name = strings.TrimSpace(name)
				if name == "" || strings.ContainsAny(name, "/ \t") {
					return p.errorf(f.line, f.key, "bad program name %q (executable base names separated by ;)", clip(name))
				}
				e.Programs = append(e.Programs, name)
			}
		case kSource:
			s, msg := parseSource(v)
			if msg != "" {
				return p.errorf(f.line, f.key, "%s", msg)
			}
			e.Sources = append(e.Sources, s)
		}
	}
	for _, k := range required {
		if !have[k] {
			name := keyNames[k]
			return p.errorf(p.start, name, "missing (the stanza starting here needs a %s: line)", name)
		}
	}
	e.Category = e.Kind.Category()
	if category != "" {
		e.Category = Category(category)
		if !e.Category.Valid() {
			return p.errorf(categoryLine, "category", "unknown category %q (threat or use)", clip(category))
		}
	}
	// Every check of Entry.Validate has been made on the way; the fuzz test
	// holds the two in step.
	if prev, dup := p.seen[e.ID]; dup {
		return p.errorf(p.start, "id", "duplicate id %q (first at %s:%d)", e.ID, prev.file, prev.line)
	}
	p.seen[e.ID] = pos{p.file, p.start}
	p.entries = append(p.entries, e)
	return nil
}

// checkID accepts slugs: lower-case letters, digits and inner hyphens.
func checkID(id string) string {
	if id == "" {
		return "missing"
	}
	if len(id) > 80 {
		return "longer than 80 characters"
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0 && i < len(id)-1) {
			return fmt.Sprintf("%q is not a slug (use a-z, 0-9 and inner hyphens)", clip(id))
		}
	}
	return ""
}

// parsePorts reads "tcp/2556 udp/31337, any/12345 tcp/6666-6669".
func parsePorts(v string) ([]PortRef, string) {
	n := 1 + strings.Count(v, " ") + strings.Count(v, ",")
	refs := make([]PortRef, 0, n)
	for len(v) > 0 {
		i := strings.IndexAny(v, " ,\t")
		var tok string
		if i < 0 {
			tok, v = v, ""
		} else {
			tok, v = v[:i], v[i+1:]
		}
		if tok == "" {
			continue
		}
		proto, num, ok := strings.Cut(tok, "/")
		if !ok {
			return nil, fmt.Sprintf("%q needs a protocol: tcp/N, udp/N or any/N", clip(tok))
		}
		var r PortRef
		if proto == "any" {
			r.Proto = ports.ProtoNone
		} else if p, known := ports.ParseProto(proto); known && proto != "" {
			r.Proto = p
		} else {
			return nil, fmt.Sprintf("unknown protocol %q in %q (tcp, udp, sctp, dccp or any)", clip(proto), clip(tok))
		}
		lo, hi, isRange := strings.Cut(num, "-")
		var okLo, okHi bool
		r.Low, okLo = atoiPort(lo)
		r.High, okHi = r.Low, okLo
		if isRange {
			r.High, okHi = atoiPort(hi)
		}
		if !okLo || !okHi {
			return nil, fmt.Sprintf("bad port %q (0-65535, or a range low-high)", clip(tok))
		}
		if r.Low > r.High {
			return nil, fmt.Sprintf("range %q runs backwards", clip(tok))
		}
		refs = append(refs, r)
	}
	if len(refs) == 0 {
		return nil, "no ports"
	}
	return refs, ""
}

// atoiPort reads 0..65535 written with 1 to 5 decimal digits.
func atoiPort(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= ports.Max
}

// parseYears reads "2004", "2003-2005" or "2019-".
func parseYears(v string, maxYear int) (Years, string) {
	from, to, isRange := strings.Cut(v, "-")
	var y Years
	var ok bool
	if y.From, ok = atoiYear(from); !ok {
		return Years{}, fmt.Sprintf("bad year %q (write 2004, 2003-2005 or 2019-)", clip(v))
	}
	switch {
	case !isRange:
		y.To = y.From
	case to == "":
		// open: still seen
	default:
		if y.To, ok = atoiYear(to); !ok {
			return Years{}, fmt.Sprintf("bad year %q (write 2004, 2003-2005 or 2019-)", clip(v))
		}
	}
	if y.From < minYear || y.From > maxYear || y.To > maxYear {
		return Years{}, fmt.Sprintf("year out of range in %q (%d..%d)", clip(v), minYear, maxYear)
	}
	if y.To != 0 && y.To < y.From {
		return Years{}, fmt.Sprintf("years %q run backwards", clip(v))
	}
	return y, ""
}

func atoiYear(s string) (int, bool) {
	if len(s) != 4 {
		return 0, false
	}
	n := 0
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// parseSource reads "Title | https://url". The URL follows the last "|".
func parseSource(v string) (Source, string) {
	i := strings.LastIndexByte(v, '|')
	if i < 0 {
		return Source{}, "expected \"Title | https://url\""
	}
	s := Source{Title: strings.TrimSpace(v[:i]), URL: strings.TrimSpace(v[i+1:])}
	if s.Title == "" {
		return Source{}, "a source needs a title before the |"
	}
	if msg := checkURL(s.URL); msg != "" {
		return Source{}, msg
	}
	s.Kind, _, _ = KindOf(s.URL)
	return s, ""
}

// checkURL accepts absolute http and https URLs with a host and no spaces
// or control characters. It is deliberately cheaper than net/url.
func checkURL(u string) string {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		rest, ok = strings.CutPrefix(u, "http://")
	}
	if !ok {
		return fmt.Sprintf("URL %q is not an absolute http(s) URL", clip(u))
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	if host == "" || strings.HasPrefix(host, ".") || !strings.Contains(host, ".") {
		return fmt.Sprintf("URL %q has no host name", clip(u))
	}
	for i := 0; i < len(u); i++ {
		if u[i] <= ' ' || u[i] == 0x7f || u[i] == '"' || u[i] == '<' || u[i] == '>' || u[i] == '\\' {
			return fmt.Sprintf("URL %q contains a space, quote or control character", clip(u))
		}
	}
	return ""
}

// clip shortens text quoted in error messages.
func clip(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
