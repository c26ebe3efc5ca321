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
	for i, c := range b {
		switch {
		case c == '\n':
			if i == 0 || b[i-1] != '\r' {
				return false
			}
		case c == '\r':
			if i+1 == len(b) || b[i+1] != '\n' {
				return false
			}
		case c == '\t':
		case c < ' ' || c > '~':
			return false
		}
	}
	line, rest, _ := bytes.Cut(b, []byte("\r\n"))
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
	hosts, conns := 0, 0
	for len(rest) > 2 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
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
			hosts++
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
			conns++
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
	}
	return hosts == 1 && conns <= 1
}

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
