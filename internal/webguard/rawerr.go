package webguard

import (
	"bytes"
	"net"
	"slices"
	"strings"
	"sync"
)

// Listener wraps a plain-HTTP listener so that the error responses net/http writes by itself, before any
// handler runs and so outside Wrap, carry the security headers too: 400 for a malformed request, 431 for
// oversized headers, 501 for an unknown transfer coding, 505 for an unsupported HTTP version, 417 for an
// unknown Expect. It rewrites only a write that starts with an "HTTP/1.x 4xx" or "5xx" status line and holds the
// whole header block without a Content-Security-Policy; every response that went through Wrap has one, so only
// those net/http answers are touched. (A response body that itself began with such a status line at a write
// boundary would be changed too; the site serves HTML, JSON, XML, CSS, JS, SVG and plain text, none of which
// does.) Under TLS the wrapper sees only ciphertext: wrap the TCP listener of a plain-HTTP server only.
func Listener(ln net.Listener) net.Listener { return &guardListener{ln} }

type guardListener struct{ net.Listener }

func (l *guardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &guardConn{c}, nil
}

type guardConn struct{ net.Conn }

// rawHeaders is the header block added to net/http's own error responses, each line starting with CRLF. It is
// built on first use, not when porthole starts.
var rawHeaders = sync.OnceValue(func() []byte {
	pairs := slices.Clone(Headers)
	slices.SortFunc(pairs, func(a, b struct{ Name, Value string }) int { return strings.Compare(a.Name, b.Name) })
	var b bytes.Buffer
	for _, p := range pairs {
		b.WriteString("\r\n" + p.Name + ": " + p.Value)
	}
	b.WriteString("\r\nCache-Control: no-store")
	return b.Bytes()
})

func (c *guardConn) Write(b []byte) (int, error) {
	if i := rawErrorHead(b); i >= 0 {
		out := make([]byte, 0, len(b)+len(rawHeaders()))
		out = append(out, b[:i]...)
		out = append(out, rawHeaders()...)
		out = append(out, b[i:]...)
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// rawErrorHead returns where the header block of an error response lacking the security headers ends (the
// index of its final CRLF CRLF), or -1.
func rawErrorHead(b []byte) int {
	if len(b) < 13 || !bytes.HasPrefix(b, []byte("HTTP/1.")) || b[8] != ' ' || (b[9] != '4' && b[9] != '5') {
		return -1
	}
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 || bytes.Contains(b[:end], []byte("\r\nContent-Security-Policy:")) {
		return -1
	}
	return end
}

// CloseWrite keeps net/http's half-close after a 431 working through the wrapper.
func (c *guardConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
