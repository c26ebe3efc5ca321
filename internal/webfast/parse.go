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
	var s scanner
	n := s.scan(b, r)
	return n > 0 && n == len(b)
}

// mayBeFast reports whether b, the start of a request head that has not
// ended yet, can still be one that parse takes.
func mayBeFast(b []byte) bool {
	var s scanner
	var r request
	return s.scan(b, &r) >= 0
}

// scanner reads a request head as it arrives, each byte once: the front
// calls scan after every read with all the bytes of the head so far, so
// that a client sending a head a byte at a time costs linear work, not
// quadratic.
type scanner struct {
	p parser
	// done is how many bytes of complete lines were read, valid how many
	// are known to be line bytes (valueByte) after them.
	done, valid int
}

// scan reads the lines of b it has not read yet into r (reset when scan
// starts a head). It returns the head's length, final empty line
// included, once b holds a whole head that parse takes; 0 while b may
// still become one; -1 as soon as it cannot. Then the connection is
// net/http's at once: net/http answers some heads before their end (a bad
// request line or header line) and some that end without a CRLF CRLF
// (bare LF line ends), and the front must not sit on those until the
// header timeout.
func (s *scanner) scan(b []byte, r *request) int {
	if s.done == 0 && s.p.n == 0 {
		*r = request{acceptEncoding: r.acceptEncoding[:0], ifNoneMatch: r.ifNoneMatch[:0]}
	}
	for {
		i := bytes.IndexByte(b[s.done:], '\n')
		if i < 0 {
			break
		}
		line := b[s.done : s.done+i+1]
		s.done += i + 1
		if s.p.n > 0 && len(line) == 2 && line[0] == '\r' {
			// The empty line that ends the head.
			if s.p.hosts != 1 || s.p.conns > 1 {
				return -1
			}
			return s.done
		}
		if !s.p.line(line, r) {
			return -1
		}
	}
	// The line not ended yet: bytes of a line, and a CR only last.
	for i := max(s.done, s.valid); i < len(b); i++ {
		if c := b[i]; !valueByte(c) {
			if c != '\r' || i != len(b)-1 {
				return -1
			}
			break
		}
		s.valid = i + 1
	}
	if s.p.n == 0 && !requestLineStart(bytes.TrimSuffix(b[s.done:], []byte("\r"))) {
		return -1
	}
	return 0
}

// requestLineStart reports whether b can begin a request line that
// requestLine takes.
func requestLineStart(b []byte) bool {
	// prefix: b is s or begins it.
	prefix := func(b []byte, s string) bool {
		n := min(len(b), len(s))
		return string(b[:n]) == s[:n]
	}
	switch {
	case bytes.HasPrefix(b, []byte("GET ")):
		b = b[4:]
	case bytes.HasPrefix(b, []byte("HEAD ")):
		b = b[5:]
	default:
		return prefix(b, "GET /") || prefix(b, "HEAD /")
	}
	target, proto, ended := bytes.Cut(b, []byte(" "))
	if len(target) > maxTarget || len(target) > 0 && target[0] != '/' || ended && len(target) == 0 {
		return false
	}
	for _, c := range target {
		if !pathByte(c) {
			return false
		}
	}
	return !ended || len(proto) <= len("HTTP/1.1") && (prefix(proto, "HTTP/1.1") || prefix(proto, "HTTP/1.0"))
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
