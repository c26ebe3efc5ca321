package webfast

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// FuzzParse checks the parser against net/http's own: whatever parse takes,
// net/http reads as the same request (method, target, version, Host,
// Connection, Accept-Encoding, If-None-Match), and nothing makes it panic.
func FuzzParse(f *testing.F) {
	for _, tc := range corpus(`"abc"`, `W/"abc"`) {
		if len(tc.req) > 4*maxHead {
			continue // the front never parses more than maxHead and a read; a megabyte seed stalls the fuzzer
		}
		f.Add([]byte(tc.req))
	}
	f.Add([]byte("GET /ports/80 HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"))
	f.Add([]byte("HEAD /ko/ports/80 HTTP/1.1\r\nHost: [::1]:1\r\nIf-None-Match: *\r\nAccept-Encoding: gzip\r\n\r\n"))
	var r request
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) <= 2048 {
			// The front scans a head as it grows, one scanner for all
			// its reads: the same answers as a fresh scan of each
			// start of it.
			var inc scanner
			var ri, rf request
			for k := 0; k <= len(b); k++ {
				var fresh scanner
				got, want := inc.scan(b[:k], &ri), fresh.scan(b[:k], &rf)
				if got != want {
					t.Fatalf("%q: scanning it as it grows gives %d at %d bytes, a fresh scan %d", b, got, k, want)
				}
				if got != 0 {
					break
				}
			}
		}
		end := headEnd(b)
		if end < 0 {
			return
		}
		b = b[:end]
		if !parse(b, &r) {
			return
		}
		// Every unfinished start of a head parse takes is one the front
		// keeps reading (mayBeFast), so it is not handed over early.
		for i := range b {
			if !mayBeFast(b[:i]) {
				t.Fatalf("parse takes %q, mayBeFast refuses its start %q", b, b[:i])
			}
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatalf("parse took %q, net/http refuses it: %v", b, err)
		}
		method := "GET"
		if r.head {
			method = "HEAD"
		}
		proto := "HTTP/1.1"
		if r.http10 {
			proto = "HTTP/1.0"
		}
		if req.Method != method || req.RequestURI != string(r.path) || req.Proto != proto || req.Host != string(r.host) ||
			req.URL.Path != string(r.path) || req.URL.RawQuery != "" {
			t.Fatalf("%q: parse read %s %s %s host %q, net/http %s %s %s host %q path %q", b, method, r.path, proto, r.host,
				req.Method, req.RequestURI, req.Proto, req.Host, req.URL.Path)
		}
		conn := strings.ToLower(req.Header.Get("Connection"))
		if r.close != (conn == "close") || r.keepAlive != (conn == "keep-alive") {
			t.Fatalf("%q: Connection %q, parse close=%v keep-alive=%v", b, conn, r.close, r.keepAlive)
		}
		for _, h := range []struct {
			name string
			got  [][]byte
		}{{"Accept-Encoding", r.acceptEncoding}, {"If-None-Match", r.ifNoneMatch}} {
			want := req.Header.Values(h.name)
			if len(want) != len(h.got) {
				t.Fatalf("%q: %s %q, parse %q", b, h.name, want, h.got)
			}
			for i := range want {
				if want[i] != string(h.got[i]) {
					t.Fatalf("%q: %s %q, parse %q", b, h.name, want, h.got)
				}
			}
		}
		for _, k := range []string{"Content-Length", "Transfer-Encoding", "Expect", "Upgrade", "Cookie", "Authorization"} {
			if _, ok := req.Header[k]; ok {
				t.Fatalf("%q: parse took a request with %s", b, k)
			}
		}
	})
}

// mayBeFast refuses the unfinished heads net/http may answer before their
// end, or that end without a CRLF CRLF, and keeps any start of a head
// parse takes.
func TestMayBeFast(t *testing.T) {
	for _, s := range []string{
		"GET /ports/80 HTTP/1.0\n",
		"GET /ports/80 HTTP/1.1\r\nHost: a\n",
		"GET /ports/80 HTTP/1.1\r\nHost a\r\n",
		"GET /ports/80 HTTP/1.1\r\nHost: a\r\nHost: a\r\n",
		"GET /ports/80 HTTP/1.1\r\nX: a\x00",
		"GET /ports/80 HTTP/1.1\r\nX: a\rb",
		"POST /",
		"GET /ports/80?",
		"GET /ports/80 HTTP/2",
		"GET /ports/80 HTTP/1.1 ",
		"GET  /",
		"GET x",
		"\r\n",
	} {
		if mayBeFast([]byte(s)) {
			t.Errorf("mayBeFast(%q) = true", s)
		}
	}
	for _, s := range []string{"", "G", "HEAD /", "GET /ports/80", "GET /ports/80 HTTP/1.", "GET /ports/80 HTTP/1.1\r", "GET /ports/80 HTTP/1.1\r\nHost: a\r\nX-A: b"} {
		if !mayBeFast([]byte(s)) {
			t.Errorf("mayBeFast(%q) = false", s)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	var r request
	for _, s := range []string{
		"GET /ports/80?x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /ports/80 HTTP/1.1\r\n\r\n",
		"GET /ports/80 HTTP/1.1\r\nHost: a\r\nCookie: x\r\n\r\n",
		"GET /ports/80 HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n",
		"PUT /ports/80 HTTP/1.1\r\nHost: a\r\n\r\n",
	} {
		if parse([]byte(s), &r) {
			t.Errorf("parse took %q", s)
		}
	}
	if !parse([]byte("GET /ports/80 HTTP/1.1\r\nhost: a\r\nconnection: CLOSE\r\n\r\n"), &r) || !r.close || string(r.host) != "a" {
		t.Errorf("parse refused a plain request or misread it: %+v", r)
	}
}
