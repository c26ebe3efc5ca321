package webfast

import "bytes"

// request is what the fast front reads from a request head it takes.
type request struct {
	head   bool // HEAD, not GET
	http10 bool // HTTP/1.0, not HTTP/1.1
	path   []byte
	host   []byte
	// close and keepAlive are the Connection header's one token.
	close, keepAlive bool
	// acceptEncoding and ifNoneMatch are those header lines, in order.
	acceptEncoding, ifNoneMatch [][]byte
}

// maxTarget bounds the request target the front takes; a port page's path
// is at most 19 bytes.
const maxTarget = 64

var crlfcrlf = []byte("\r\n\r\n")

// headEnd returns the length of the request head at the start of b, final
// CRLF CRLF included, or -1 when b holds no whole head yet.
func headEnd(b []byte) int {
	i := bytes.Index(b, crlfcrlf)
	if i < 0 {
		return -1
	}
	return i + len(crlfcrlf)
}

// parse reads the request head b (as headEnd delimits it) into r. It is
// strict: it returns false for anything but a GET or HEAD of an
// origin-form path of letters, digits and "/-._~", in HTTP/1.1 or 1.0,
// with CRLF line ends, header names that are tokens and values of visible
// ASCII, spaces and tabs, exactly one non-empty Host of host-name
// characters, at most one Connection header naming "close" or
// "keep-alive", and none of the headers that give a request a body, state
// or another protocol (Content-Length, Transfer-Encoding, Expect, Upgrade,
// Cookie, Authorization, Proxy-Authorization). Whatever it refuses is
// left to net/http, which gives the answer the front would not risk. r's
// slices point into b.
func parse(b []byte, r *request) bool {
	*r = request{acceptEncoding: r.acceptEncoding[:0], ifNoneMatch: r.ifNoneMatch[:0]}
	if len(b) < len(crlfcrlf) || !bytes.HasSuffix(b, crlfcrlf) {
		return false
	}
	var p parser
	for b = b[:len(b)-2]; len(b) > 0; {
		i := bytes.IndexByte(b, '\n')
		if !p.line(b[:i+1], r) {
			return false
		}
		b = b[i+1:]
	}
	return p.hosts == 1 && p.conns <= 1
}

// mayBeFast reports whether b, the start of a request head that has not
// ended yet, can still be one that parse takes. When it cannot, the
// connection is net/http's at once: net/http answers some heads before
// their end (a bad request line or header line) and some that end without
// a CRLF CRLF (bare LF line ends), and the front must not sit on those
// until the header timeout.
func mayBeFast(b []byte) bool {
	var p parser
	var r request
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		if !p.line(b[:i+1], &r) {
			return false
		}
		b = b[i+1:]
	}
	// The line not ended yet.
	for i, c := range b {
		if !valueByte(c) && (c != '\r' || i != len(b)-1) {
			return false
		}
	}
	if p.n > 0 {
		return true
	}
	for _, m := range []string{"GET /", "HEAD /"} {
		n := min(len(b), len(m))
		if string(b[:n]) == m[:n] {
			return true
		}
	}
	return false
}

// parser is parse's state between the lines of a head.
type parser struct{ n, hosts, conns int }

// line reads the next line of a head, CRLF included, into r.
func (p *parser) line(l []byte, r *request) bool {
	l, ok := bytes.CutSuffix(l, []byte("\r\n"))
	if !ok {
		return false
	}
	for _, c := range l {
		if !valueByte(c) {
			return false
		}
	}
	p.n++
	if p.n == 1 {
		return requestLine(l, r)
	}
	name, value, ok := bytes.Cut(l, []byte(":"))
	if !ok || len(name) == 0 {
		return false
	}
	for _, c := range name {
		if !tokenByte(c) {
			return false
		}
	}
	value = bytes.Trim(value, " \t")
	switch {
	case eqFold(name, "host"):
		p.hosts++
		if len(value) == 0 {
			return false
		}
		for _, c := range value {
			if !hostByte(c) {
				return false
			}
		}
		r.host = value
	case eqFold(name, "connection"):
		p.conns++
		switch {
		case eqFold(value, "close"):
			r.close = true
		case eqFold(value, "keep-alive"):
			r.keepAlive = true
		default:
			return false
		}
	case eqFold(name, "accept-encoding"):
		r.acceptEncoding = append(r.acceptEncoding, value)
	case eqFold(name, "if-none-match"):
		r.ifNoneMatch = append(r.ifNoneMatch, value)
	case eqFold(name, "content-length"), eqFold(name, "transfer-encoding"), eqFold(name, "expect"),
		eqFold(name, "upgrade"), eqFold(name, "cookie"), eqFold(name, "authorization"),
		eqFold(name, "proxy-authorization"):
		return false
	}
	return p.hosts <= 1 && p.conns <= 1
}

// requestLine reads a request line without its CRLF.
func requestLine(line []byte, r *request) bool {
	switch {
	case bytes.HasPrefix(line, []byte("GET ")):
		line = line[4:]
	case bytes.HasPrefix(line, []byte("HEAD ")):
		r.head = true
		line = line[5:]
	default:
		return false
	}
	target, proto, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(target) == 0 || len(target) > maxTarget || target[0] != '/' {
		return false
	}
	for _, c := range target {
		if !pathByte(c) {
			return false
		}
	}
	r.path = target
	switch string(proto) {
	case "HTTP/1.1":
	case "HTTP/1.0":
		r.http10 = true
	default:
		return false
	}
	return true
}

// valueByte: visible ASCII, space and tab.
func valueByte(c byte) bool { return c == '\t' || ' ' <= c && c <= '~' }

// eqFold compares b with the lower-case ASCII s, ignoring case.
func eqFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }

// pathByte: the unreserved characters and "/"; no query, fragment or
// percent-encoding.
func pathByte(c byte) bool {
	return alnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~'
}

// tokenByte: RFC 9110's tchar.
func tokenByte(c byte) bool {
	return alnum(c) || bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}

// hostByte: a name, an IPv4 or bracketed IPv6 literal, and a port.
func hostByte(c byte) bool {
	return alnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'
}
