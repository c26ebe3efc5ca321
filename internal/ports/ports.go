// Package ports knows port numbers, the three IANA ranges, transport
// protocols and the PORT argument syntax shared by every command. It is pure:
// no I/O, no registry lookups.
package ports

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Proto is a transport protocol as the IANA registry names it. ProtoNone is
// the registry's empty protocol column (and, in a Spec, "any protocol").
type Proto uint8

// The transport protocols of the registry, in display order.
const (
	ProtoNone Proto = iota
	TCP
	UDP
	SCTP
	DCCP
)

// Protos lists the named protocols in display order.
var Protos = [...]Proto{TCP, UDP, SCTP, DCCP}

// String returns the lower-case registry spelling; ProtoNone is "".
func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case SCTP:
		return "sctp"
	case DCCP:
		return "dccp"
	}
	return ""
}

// MarshalText writes the registry spelling ("" for ProtoNone), so a
// Proto is a string in JSON.
func (p Proto) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads what MarshalText writes.
func (p *Proto) UnmarshalText(b []byte) error {
	v, ok := ParseProto(string(b))
	if !ok {
		return fmt.Errorf("unknown protocol %q", b)
	}
	*p = v
	return nil
}

// ParseProto reads a protocol name, case-insensitively. The empty string is
// ProtoNone.
func ParseProto(s string) (Proto, bool) {
	switch strings.ToLower(s) {
	case "":
		return ProtoNone, true
	case "tcp":
		return TCP, true
	case "udp":
		return UDP, true
	case "sctp":
		return SCTP, true
	case "dccp":
		return DCCP, true
	}
	return ProtoNone, false
}

// Range is one of the three port ranges of RFC 6335 section 6.
type Range struct {
	Name string // "well-known", "registered" or "dynamic"
	Low  int
	High int
}

// Size is the count of port numbers in the range.
func (r Range) Size() int { return r.High - r.Low + 1 }

// Contains reports whether port lies in r.
func (r Range) Contains(port int) bool { return port >= r.Low && port <= r.High }

// The RFC 6335 ranges. The registry CSV has no rows for the dynamic range:
// that range is a rule ("Dynamic Ports are not assigned"), not data.
var (
	WellKnown  = Range{"well-known", 0, 1023}
	Registered = Range{"registered", 1024, 49151}
	Dynamic    = Range{"dynamic", 49152, 65535}
	Ranges     = [...]Range{WellKnown, Registered, Dynamic}
)

// Max is the highest port number.
const Max = 65535

// RangeOf returns the range that holds port, which must be 0..Max.
func RangeOf(port int) Range {
	switch {
	case port <= WellKnown.High:
		return WellKnown
	case port <= Registered.High:
		return Registered
	}
	return Dynamic
}

// RangeByName finds a range by its name or a common synonym ("system",
// "user", "private", "ephemeral").
func RangeByName(name string) (Range, bool) {
	switch strings.ToLower(name) {
	case "well-known", "wellknown", "system":
		return WellKnown, true
	case "registered", "user":
		return Registered, true
	case "dynamic", "private", "ephemeral":
		return Dynamic, true
	}
	return Range{}, false
}

// Spec is a parsed PORT argument: a number, a range of numbers, or a service
// name, optionally with a protocol ("tcp/2556", "udp/53", "6000-6063",
// "http"). Proto is ProtoNone when no protocol was given.
type Spec struct {
	Proto   Proto
	Low     int
	High    int
	Service string // set instead of Low/High for a service name
}

// IsService reports whether the spec names a service rather than numbers.
func (s Spec) IsService() bool { return s.Service != "" }

// String renders the spec in its canonical form.
func (s Spec) String() string {
	var b strings.Builder
	if s.Proto != ProtoNone {
		b.WriteString(s.Proto.String())
		b.WriteByte('/')
	}
	switch {
	case s.Service != "":
		b.WriteString(s.Service)
	case s.Low == s.High:
		b.WriteString(strconv.Itoa(s.Low))
	default:
		fmt.Fprintf(&b, "%d-%d", s.Low, s.High)
	}
	return b.String()
}

// SpecError is a PORT argument that could not be read. Its message names the
// bad token, quoted, so that the user sees exactly what was rejected.
type SpecError struct {
	Token  string
	Reason string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("bad port %s: %s", QuoteToken(e.Token), e.Reason)
}

// MaxQuotedToken is how many characters of a bad token an error message
// quotes; the rest is cut and marked with an ellipsis, so that a megabyte
// argument gives a one-line message.
const MaxQuotedToken = 40

// QuoteToken quotes s for an error message, Go-style (control characters
// and invalid UTF-8 escaped), cut on a character boundary to
// MaxQuotedToken characters plus "…".
func QuoteToken(s string) string {
	n := 0
	for i := range s {
		if n == MaxQuotedToken {
			return strconv.Quote(s[:i]) + "…"
		}
		n++
	}
	return strconv.Quote(s)
}

// ErrBadSpec is matched by every *SpecError through errors.Is.
var ErrBadSpec = errors.New("bad port")

// Is makes errors.Is(err, ErrBadSpec) true for a *SpecError.
func (e *SpecError) Is(target error) bool { return target == ErrBadSpec }

// maxServiceName bounds service names: RFC 6335 allows 15 characters, legacy
// registry names are a little longer; anything much longer is a mistake.
const maxServiceName = 64

// ParseSpec reads a PORT argument. Accepted forms: "2556", "tcp/2556",
// "udp/53", "6000-6063", "tcp/6000-6063", "http", "tcp/http", and the
// "2556/tcp" order that /etc/services uses.
func ParseSpec(arg string) (Spec, error) {
	bad := func(reason string) (Spec, error) {
		return Spec{}, &SpecError{Token: arg, Reason: reason}
	}
	s := strings.TrimSpace(arg)
	if s == "" {
		return bad("empty; give a number 0-65535, a range such as 6000-6063, or a service name")
	}
	var spec Spec
	if head, tail, ok := strings.Cut(s, "/"); ok {
		if p, known := ParseProto(head); known && head != "" {
			spec.Proto, s = p, tail
		} else if p, known := ParseProto(tail); known && tail != "" {
			spec.Proto, s = p, head
		} else if isDigitsOrSigned(tail) {
			return bad(fmt.Sprintf("unknown protocol %s; use tcp, udp, sctp or dccp", QuoteToken(head)))
		}
		// Neither side is a protocol: a legacy service name with a slash
		// ("914c/g"; "cl/1" reads as protocol and port, and is refused).
		if s == "" {
			return bad("a protocol needs a port after the slash, as in tcp/2556")
		}
	}
	if isDigitsOrSigned(s) {
		low, high, reason := parseRange(s)
		if reason != "" {
			return bad(reason)
		}
		spec.Low, spec.High = low, high
		return spec, nil
	}
	if n, ok := hexPort(s); ok {
		return bad(fmt.Sprintf("%s is hexadecimal; ports are read in decimal: write %d", QuoteToken(s), n))
	}
	if len(s) > maxServiceName {
		return bad("too long for a service name")
	}
	for _, c := range s {
		if !serviceRune(c) {
			return bad(fmt.Sprintf("%s is neither a port number nor a service name", QuoteToken(s)))
		}
	}
	spec.Service = s
	return spec, nil
}

// hexPort reads "0x50" (C's hexadecimal notation) as the port it means, so
// that the error can say which decimal number to write. No registry name
// has that form.
func hexPort(s string) (int, bool) {
	h, ok := strings.CutPrefix(strings.ToLower(s), "0x")
	if !ok || h == "" || len(h) > 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(h, 16, 16)
	return int(n), err == nil
}

// isDigitsOrSigned reports whether s looks numeric: digits, with at most
// dashes and a leading sign, so that "-1" and "22-10" are judged as numbers
// (and rejected with a numeric reason) rather than as service names.
func isDigitsOrSigned(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '-' || c == '+':
		default:
			return false
		}
	}
	return digits > 0
}

func parseRange(s string) (low, high int, reason string) {
	if strings.HasPrefix(s, "-") {
		return 0, 0, "port numbers are 0-65535; negative numbers are not ports"
	}
	a, b, isRange := strings.Cut(s, "-")
	low, reason = parseNumber(a)
	if reason != "" {
		return 0, 0, reason
	}
	if !isRange {
		return low, low, ""
	}
	high, reason = parseNumber(b)
	if reason != "" {
		return 0, 0, reason
	}
	if high < low {
		return 0, 0, fmt.Sprintf("range %d-%d runs backwards; write %d-%d", low, high, high, low)
	}
	return low, high, ""
}

func parseNumber(s string) (int, string) {
	if s == "" {
		return 0, "a range needs a number on each side of the dash, as in 6000-6063"
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Sprintf("%s is not a port number", QuoteToken(s))
		}
	}
	// Leading zeros change nothing ("080" is 80, and so is
	// "00000000000000000080"), so the size check looks at the digits
	// after them: a long run of zeros is not a large number.
	if t := strings.TrimLeft(s, "0"); t == "" {
		s = "0"
	} else {
		s = t
	}
	if len(s) > 5 {
		if len(s) > MaxQuotedToken {
			s = s[:MaxQuotedToken] + "…" // digits only: a byte is a character
		}
		return 0, fmt.Sprintf("%s is larger than 65535, the highest port", s)
	}
	n, _ := strconv.Atoi(s)
	if n > Max {
		return 0, fmt.Sprintf("%d is larger than 65535, the highest port", n)
	}
	return n, ""
}

// serviceRune is the alphabet of registry service names: RFC 6335 letters,
// digits and hyphens, plus the legacy characters found in the registry
// ("whois++", "sql*net", "z39.50", "914c/g").
func serviceRune(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c == '-' || c == '_' || c == '.' || c == '+' || c == '*' || c == '/':
		return true
	}
	return false
}
