package audit

import (
	"bytes"
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/porthole/porthole/internal/ports"
)

// MaxBaselineSize is the largest baseline file Load accepts. A baseline of
// 100,000 rules is about 6 MiB; anything past 16 MiB is a mistake (a log or
// a binary given by accident), not a baseline.
const MaxBaselineSize = 16 << 20

// Rule is one line of a baseline: a listener that is expected here.
//
// Empty string fields do not constrain the match. PID is never part of a
// rule, so a restarted service (same program, new PID) still matches.
type Rule struct {
	File string `json:"file"`
	Line int    `json:"line"`
	// Proto is ports.TCP, ports.UDP, or ports.ProtoNone for either (JSON:
	// "tcp", "udp", "").
	Proto ports.Proto `json:"proto"`
	// Low..High is the port range. AnyPort accepts every port; Ephemeral
	// accepts the host's ephemeral range, whatever it is at audit time.
	Low       int  `json:"low"`
	High      int  `json:"high"`
	AnyPort   bool `json:"any_port,omitempty"`
	Ephemeral bool `json:"ephemeral,omitempty"`
	// Exe and Name are globs (path.Match) on the owner's executable path
	// and process name; User is a user name or a numeric uid.
	Exe  string `json:"exe,omitempty"`
	Name string `json:"name,omitempty"`
	User string `json:"user,omitempty"`
	// Addr is "loopback", "any" (a wildcard bind: 0.0.0.0 or ::), an
	// address, or a prefix such as 10.0.0.0/8.
	Addr string `json:"addr,omitempty"`
	// NetNS is "host", "other" or a namespace inode number. Container and
	// Unit are globs on the owner's container id and systemd unit.
	NetNS     string `json:"netns,omitempty"`
	Container string `json:"container,omitempty"`
	Unit      string `json:"unit,omitempty"`
	// Optional rules never produce a "baseline entry missing" finding.
	Optional bool   `json:"optional,omitempty"`
	Comment  string `json:"comment,omitempty"`

	addrKind   int // addrAny, addrLoopback, addrWildcard, addrExact, addrPrefix
	addr       netip.Addr
	prefix     netip.Prefix
	netnsInode uint64
}

const (
	addrAll = iota
	addrLoopback
	addrWildcard
	addrExact
	addrPrefix
)

// Ref names the rule as users see it: "baseline.conf:12".
func (r *Rule) Ref() string { return r.File + ":" + strconv.Itoa(r.Line) }

// HasOwner reports whether the rule says who must own the socket (exe,
// name or user). Only such rules can detect an owner change.
func (r *Rule) HasOwner() bool { return r.Exe != "" || r.Name != "" || r.User != "" }

// String renders the rule in the file syntax, without its comment, with
// keys in a fixed order. Two rules with the same String are duplicates.
func (r *Rule) String() string {
	var b strings.Builder
	if r.Proto == ports.ProtoNone {
		b.WriteString("any")
	} else {
		b.WriteString(r.Proto.String())
	}
	b.WriteByte(' ')
	switch {
	case r.AnyPort:
		b.WriteByte('*')
	case r.Ephemeral:
		b.WriteString("ephemeral")
	case r.Low == r.High:
		b.WriteString(strconv.Itoa(r.Low))
	default:
		b.WriteString(strconv.Itoa(r.Low) + "-" + strconv.Itoa(r.High))
	}
	for _, kv := range [...][2]string{
		{"exe", r.Exe}, {"name", r.Name}, {"user", r.User}, {"addr", r.Addr},
		{"netns", r.NetNS}, {"container", r.Container}, {"unit", r.Unit},
	} {
		if kv[1] != "" {
			b.WriteString(" " + kv[0] + "=" + quoteValue(kv[1]))
		}
	}
	if r.Optional {
		b.WriteString(" optional")
	}
	return b.String()
}

// quoteValue quotes a value that the tokenizer would otherwise split or
// misread.
func quoteValue(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\"#\\") || !utf8.ValidString(v) || strings.ContainsFunc(v, isControl) {
		return strconv.Quote(v)
	}
	return v
}

// isControl reports an ASCII control character: a value holding one is
// written quoted, so that a trailing CR is not read back as a CRLF line end.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// ParseError is a baseline line that could not be read. Col is the 1-based
// byte column of the offending token; Key names the field ("proto", "port",
// or a key such as "exe").
type ParseError struct {
	File      string
	Line, Col int
	Key       string
	Msg       string
}

func (e *ParseError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Key, e.Msg)
}

// Warning is a baseline problem that does not stop the audit: a duplicate
// rule, or a path that does not exist on this host.
type Warning struct {
	File string
	Line int
	Msg  string
}

func (w Warning) String() string { return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg) }

// Baseline is a parsed baseline file with its rules indexed by port.
type Baseline struct {
	File  string
	Rules []Rule
	// byPort holds the rules for one port (key: proto<<16 | port, proto 0
	// for any); wide holds rules over a range, every port or the ephemeral
	// range, checked one by one (there are few).
	byPort map[uint32][]int32
	wide   []int32
}

// knownKeys are the KEY=VALUE keys of a rule, in the order the docs list
// them.
var knownKeys = []string{"exe", "name", "user", "addr", "netns", "container", "unit"}

// Parse reads a baseline. It is pure: file is only used in messages. The
// first syntax error stops it; duplicates come back as warnings.
//
// The syntax, one rule per line ('#' starts a comment, blank lines are
// ignored):
//
//	PROTO PORT [KEY=VALUE]... [optional] [# comment]
//
// PROTO is tcp, udp or any. PORT is a number, a range LOW-HIGH, "*" (every
// port) or "ephemeral" (the host's ephemeral range). Keys: exe, name
// (globs), user, addr (loopback, any, an address or prefix), netns (host,
// other, an inode), container, unit (globs). A value with spaces, '#' or
// '"' is written as a double-quoted Go string.
func Parse(file string, data []byte) (*Baseline, []Warning, error) {
	// Size the tables once: a rule per line is the common case.
	n := bytes.Count(data, []byte{'\n'}) + 1
	b := &Baseline{File: file, Rules: make([]Rule, 0, n), byPort: make(map[uint32][]int32, min(n, 1<<17))}
	var warns []Warning
	seen := make(map[string]int, n)
	text := string(data)
	text = strings.TrimPrefix(text, "\ufeff")
	lineNo := 0
	for len(text) > 0 {
		lineNo++
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		line = strings.TrimSuffix(line, "\r")
		r, ok, err := parseLine(file, lineNo, line)
		if err != nil {
			return nil, warns, err
		}
		if !ok {
			continue
		}
		key := r.String()
		if first, dup := seen[key]; dup {
			warns = append(warns, Warning{file, lineNo, fmt.Sprintf("duplicate of line %d (%s)", first, key)})
			continue
		}
		seen[key] = lineNo
		b.add(r)
	}
	return b, warns, nil
}

func (b *Baseline) add(r Rule) {
	i := int32(len(b.Rules))
	b.Rules = append(b.Rules, r)
	if r.AnyPort || r.Ephemeral || r.Low != r.High {
		b.wide = append(b.wide, i)
		return
	}
	k := portKey(r.Proto, r.Low)
	b.byPort[k] = append(b.byPort[k], i)
}

func portKey(proto ports.Proto, port int) uint32 {
	return uint32(proto)<<16 | uint32(port)
}

// token is one word of a line, with its 1-based column.
type token struct {
	s      string
	col    int
	quoted bool // the value part was a quoted string
}

// parseLine parses one line. ok is false for blank and comment lines.
func parseLine(file string, n int, line string) (Rule, bool, error) {
	errAt := func(col int, key, format string, args ...any) error {
		return &ParseError{File: file, Line: n, Col: col, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if !utf8.ValidString(line) {
		return Rule{}, false, errAt(1, "", "line is not valid UTF-8")
	}
	toks, comment, err := tokenize(line, func(col int, msg string) error { return errAt(col, "", "%s", msg) })
	if err != nil {
		return Rule{}, false, err
	}
	if len(toks) == 0 {
		return Rule{}, false, nil
	}
	r := Rule{File: file, Line: n, Comment: comment}
	switch p := toks[0].s; p {
	case "tcp":
		r.Proto = ports.TCP
	case "udp":
		r.Proto = ports.UDP
	case "any":
	default:
		return r, false, errAt(toks[0].col, "proto", "%q is not a protocol; write tcp, udp or any first", clip(p))
	}
	if len(toks) < 2 {
		return r, false, errAt(len(line)+1, "port", "missing; write a port, a range such as 8000-8100, * or ephemeral after the protocol")
	}
	if msg := parseRulePort(&r, toks[1].s); msg != "" {
		return r, false, errAt(toks[1].col, "port", "%s", msg)
	}
	set := map[string]bool{}
	for _, t := range toks[2:] {
		if t.s == "optional" && !t.quoted {
			if r.Optional {
				return r, false, errAt(t.col, "optional", "given twice")
			}
			r.Optional = true
			continue
		}
		k, v, ok := strings.Cut(t.s, "=")
		if !ok {
			return r, false, errAt(t.col, "", "%q is not KEY=VALUE (keys: %s; or the word optional)", clip(t.s), strings.Join(knownKeys, ", "))
		}
		if !known(k) {
			return r, false, errAt(t.col, k, "unknown key (known keys: %s)", strings.Join(knownKeys, ", "))
		}
		if set[k] {
			return r, false, errAt(t.col, k, "given twice")
		}
		set[k] = true
		vcol := t.col + len(k) + 1
		if v == "" {
			return r, false, errAt(vcol, k, "empty value")
		}
		if msg := r.setKey(k, v); msg != "" {
			return r, false, errAt(vcol, k, "%s", msg)
		}
	}
	return r, true, nil
}

func known(k string) bool {
	for _, kk := range knownKeys {
		if k == kk {
			return true
		}
	}
	return false
}

// tokenize splits a line at blanks. A '#' at the start of a word starts the
// comment; a value may be a double-quoted Go string (key="a b").
func tokenize(line string, fail func(col int, msg string) error) ([]token, string, error) {
	var toks []token
	i := 0
	for i < len(line) {
		c := line[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		if c == '#' {
			return toks, strings.TrimSpace(line[i+1:]), nil
		}
		start := i
		end := i
		for end < len(line) && line[end] != ' ' && line[end] != '\t' && line[end] != '"' {
			end++
		}
		if end == len(line) || line[end] != '"' {
			// The common case: a plain word, kept as a substring.
			toks = append(toks, token{s: line[start:end], col: start + 1})
			i = end
			continue
		}
		var b strings.Builder
		quoted := false
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			if line[i] == '"' {
				q, err := strconv.QuotedPrefix(line[i:])
				if err != nil {
					return nil, "", fail(i+1, "unterminated or malformed quoted string")
				}
				s, _ := strconv.Unquote(q)
				b.WriteString(s)
				i += len(q)
				quoted = true
				continue
			}
			b.WriteByte(line[i])
			i++
		}
		toks = append(toks, token{s: b.String(), col: start + 1, quoted: quoted})
	}
	return toks, "", nil
}

func parseRulePort(r *Rule, s string) string {
	switch s {
	case "*":
		r.AnyPort, r.Low, r.High = true, 0, 65535
		return ""
	case "ephemeral":
		r.Ephemeral = true
		return ""
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, msg := portNumber(lo)
	if msg != "" {
		return msg
	}
	b := a
	if isRange {
		if b, msg = portNumber(hi); msg != "" {
			return msg
		}
		if b < a {
			return fmt.Sprintf("range %d-%d runs backwards; write %d-%d", a, b, b, a)
		}
	}
	if a == 0 && b == 0 {
		return "port 0 is never a listener's port"
	}
	r.Low, r.High = a, b
	return ""
}

func portNumber(s string) (int, string) {
	if s == "" {
		return 0, "a range needs a number on each side of the dash, as in 8000-8100"
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Sprintf("%q has a leading zero; write the plain number", clip(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Sprintf("%q is not a port number (0-65535), a range, * or ephemeral", clip(s))
		}
	}
	if len(s) > 5 {
		return 0, fmt.Sprintf("%s is larger than 65535, the highest port", clip(s))
	}
	n, _ := strconv.Atoi(s)
	if n > 65535 {
		return 0, fmt.Sprintf("%d is larger than 65535, the highest port", n)
	}
	return n, ""
}

// setKey stores one KEY=VALUE, checking the value; it returns a message on
// error.
func (r *Rule) setKey(k, v string) string {
	switch k {
	case "exe", "name", "container", "unit":
		if _, err := path.Match(v, ""); err != nil {
			return fmt.Sprintf("%q is not a valid glob pattern", clip(v))
		}
		if k == "exe" && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "*") {
			return fmt.Sprintf("%q is not an absolute path (use name= for a process name)", clip(v))
		}
		switch k {
		case "exe":
			r.Exe = v
		case "name":
			r.Name = v
		case "container":
			r.Container = v
		case "unit":
			r.Unit = v
		}
	case "user":
		if strings.ContainsAny(v, "*?[") {
			return "user takes a user name or a numeric uid, not a pattern"
		}
		r.User = v
	case "addr":
		switch v {
		case "loopback":
			r.addrKind = addrLoopback
		case "any":
			r.addrKind = addrWildcard
		default:
			if strings.Contains(v, "/") {
				p, err := netip.ParsePrefix(v)
				if err != nil {
					return fmt.Sprintf("%q is not loopback, any, an IP address or a prefix such as 10.0.0.0/8", clip(v))
				}
				r.addrKind, r.prefix = addrPrefix, p.Masked()
			} else {
				a, err := netip.ParseAddr(strings.Trim(v, "[]"))
				if err != nil {
					return fmt.Sprintf("%q is not loopback, any, an IP address or a prefix such as 10.0.0.0/8", clip(v))
				}
				r.addrKind, r.addr = addrExact, a.Unmap()
			}
		}
		r.Addr = v
	case "netns":
		switch v {
		case "host", "other":
		default:
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n == 0 {
				return fmt.Sprintf("%q is not host, other or a namespace inode number", clip(v))
			}
			r.netnsInode = n
		}
		r.NetNS = v
	}
	return ""
}

// clip shortens a token quoted in an error message.
func clip(s string) string {
	if len(s) > 40 {
		i := 40
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		return s[:i] + "…"
	}
	return s
}
