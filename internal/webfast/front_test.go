package webfast

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/fleet/fleetdb"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/web"
	"github.com/porthole/porthole/internal/webguard"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// pair is one site served twice on loopback: by net/http alone (plain) and
// by the fast front in front of net/http (fast), with the same handler, as
// porthole serve builds them.
type pair struct {
	plain, fast string // addresses
	front       *Front
}

// testTimeouts are short so that the slow-client tests end soon.
var testTimeouts = webguard.Timeouts{ReadHeader: 1 * time.Second, Read: 2 * time.Second, Write: 5 * time.Second, Idle: 3 * time.Second}

type lookupFunc = func(string) (web.CachedPage, bool)

func newPair(t *testing.T, local bool) *pair { return newPairWith(t, local, nil, testTimeouts) }

// fleetOptions turns on the fleet pages (and with them Vary: Cookie on the
// port pages) with a fresh inventory, and returns a live session cookie.
func fleetOptions(t *testing.T) (*web.FleetOptions, string) {
	t.Helper()
	db, err := fleetdb.Open(context.Background(), filepath.Join(t.TempDir(), "fleet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	admin, err := webguard.NewBearerAuth(strings.Repeat("t", 40), webguard.NewThrottle(webguard.ThrottleOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	sessions := webguard.NewSessions(0, 0, nil)
	id, _ := sessions.Create()
	return &web.FleetOptions{DB: db, Admin: admin, Sessions: sessions}, webguard.SessionCookie + "=" + id
}

// newPairWith is newPair with the front's Lookup wrapped by wrap (when not
// nil) and the timeouts to.
func newPairWith(t *testing.T, local bool, wrap func(lookupFunc) lookupFunc, to webguard.Timeouts) *pair {
	return newPairFleet(t, local, nil, wrap, to)
}

// newPairFleet is newPairWith with the fleet options fl (nil: none).
func newPairFleet(t *testing.T, local bool, fl *web.FleetOptions, wrap func(lookupFunc) lookupFunc, to webguard.Timeouts) *pair {
	t.Helper()
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	site := web.New(web.Options{Registry: registry.Embedded(), Intel: db, Now: func() time.Time { return fixedNow },
		Local: local, Log: log, Fleet: fl})
	check := webguard.NewHostCheck(webguard.LoopbackHosts...)
	handler := webguard.Wrap(check.Handler(site.Handler()), log)
	serve := func(ln net.Listener) *http.Server {
		srv := webguard.NewServer("", handler, to, log)
		go func() { _ = srv.Serve(webguard.Listener(ln)) }()
		t.Cleanup(func() { _ = srv.Close() })
		return srv
	}
	lnPlain := listen(t)
	serve(lnPlain)
	lnFast := listen(t)
	srv := webguard.NewServer("", handler, to, log)
	lookup := site.Cached
	if wrap != nil {
		lookup = wrap(lookup)
	}
	front := New(lnFast, Config{Handler: handler, Lookup: lookup, HostOK: check.Allowed,
		ReadHeader: srv.ReadHeaderTimeout, Write: srv.WriteTimeout, Idle: srv.IdleTimeout, Log: log})
	serve(front.Listener())
	go func() { _ = front.Serve() }()
	t.Cleanup(func() { _ = front.Close() })
	return &pair{plain: lnPlain.Addr().String(), fast: lnFast.Addr().String(), front: front}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// exchange writes the chunks to a new connection to addr, pausing between
// them, and returns everything the server sends until it closes the
// connection (or 10 s pass, which fails the test).
func exchange(t *testing.T, addr string, pause time.Duration, chunks ...string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var got bytes.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(&got, c)
		done <- err
	}()
	for i, ch := range chunks {
		if i > 0 {
			time.Sleep(pause)
		}
		if _, err := io.WriteString(c, ch); err != nil {
			break // the server closed: what it sent is the answer
		}
	}
	if err := <-done; err != nil && !isReset(err) {
		t.Fatalf("%s: %v (read %d bytes)", addr, err, got.Len())
	}
	return got.Bytes()
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && strings.Contains(err.Error(), "reset")
}

var dateRE = regexp.MustCompile(`\r\nDate: [A-Za-z]{3}, \d\d [A-Za-z]{3} \d{4} \d\d:\d\d:\d\d GMT\r\n`)

func normalise(b []byte) []byte { return dateRE.ReplaceAll(b, []byte("\r\nDate: (normalised)\r\n")) }

// closer ends a connection that is kept alive, so that exchange reads to
// the end.
const closer = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"

// etag returns the ETag of path's answer, gzip-compressed or not.
func etag(t *testing.T, addr, path string, gz bool) string {
	t.Helper()
	req := "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n"
	if gz {
		req += "Accept-Encoding: gzip\r\n"
	}
	out := exchange(t, addr, 0, req+"Connection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Get("Etag")
}

// corpus is the differential test's requests: each is sent as it is, then
// closer, unless it closes the connection itself.
func corpus(strong, weak string) []struct {
	name string
	req  string
} {
	h := func(path, extra string) string {
		return "GET " + path + " HTTP/1.1\r\nHost: localhost:8025\r\n" + extra + "\r\n"
	}
	big := strings.Repeat("a", 10<<10)
	huge := strings.Repeat("b", 1<<20)
	return []struct {
		name string
		req  string
	}{
		{"plain", h("/ports/2556", "")},
		{"gzip", h("/ports/2556", "Accept-Encoding: gzip, deflate, br\r\n")},
		{"ko", h("/ko/ports/2556", "")},
		{"ko gzip", h("/ko/ports/2556", "Accept-Encoding: gzip\r\n")},
		{"small page gzip", h("/ports/1", "Accept-Encoding: gzip\r\n")},
		{"gzip refused", h("/ports/2556", "Accept-Encoding: gzip;q=0\r\n")},
		{"gzip star", h("/ports/2556", "Accept-Encoding: *\r\n")},
		{"gzip two lines", h("/ports/2556", "Accept-Encoding: br\r\nAccept-Encoding: gzip;q=0.5\r\n")},
		{"head", "HEAD /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"head gzip", "HEAD /ports/2556 HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n"},
		{"inm match", h("/ports/2556", "If-None-Match: "+strong+"\r\n")},
		{"inm match gzip", h("/ports/2556", "Accept-Encoding: gzip\r\nIf-None-Match: "+weak+"\r\n")},
		{"inm list", h("/ports/2556", "If-None-Match: \"nope\", "+strong+"\r\n")},
		{"inm two lines", h("/ports/2556", "If-None-Match: \"nope\"\r\nIf-None-Match: "+weak+"\r\n")},
		{"inm star", h("/ports/2556", "If-None-Match: *\r\n")},
		{"inm miss", h("/ports/2556", "If-None-Match: \"0123\"\r\n")},
		{"head inm", "HEAD /ports/2556 HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: " + strong + "\r\n\r\n"},
		{"http10", "GET /ports/2556 HTTP/1.0\r\nHost: localhost\r\n\r\n"},
		{"http10 keep-alive", "GET /ports/2556 HTTP/1.0\r\nHost: localhost\r\nConnection: Keep-Alive\r\n\r\n"},
		{"http10 close", "GET /ports/2556 HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"http10 inm keep-alive", "GET /ports/2556 HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\nIf-None-Match: " + strong + "\r\n\r\n"},
		{"http10 no host", "GET /ports/2556 HTTP/1.0\r\n\r\n"},
		{"close", h("/ports/2556", "Connection: close\r\n")},
		{"close upper", h("/ports/2556", "CONNECTION: CLOSE\r\n")},
		{"keep-alive 1.1", h("/ports/2556", "Connection: keep-alive\r\n")},
		{"two connection tokens", h("/ports/2556", "Connection: keep-alive, close\r\n")},
		{"pipelined", h("/ports/2556", "") + h("/ko/ports/2556", "Accept-Encoding: gzip\r\n") + "HEAD /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"pipelined then net/http", h("/ports/2556", "") + h("/stats", "") + h("/ports/2556", "")},
		{"pipelined then close", h("/ports/2556", "Connection: close\r\n") + h("/ports/2556", "")},
		{"bad host", "GET /ports/2556 HTTP/1.1\r\nHost: evil.example\r\n\r\n"},
		{"rebinding host with port", "GET /ports/2556 HTTP/1.1\r\nHost: evil.example:8025\r\n\r\n"},
		{"host upper", "GET /ports/2556 HTTP/1.1\r\nHost: LOCALHOST.\r\n\r\n"},
		{"host ipv6", "GET /ports/2556 HTTP/1.1\r\nHost: [::1]:8025\r\n\r\n"},
		{"host lower-case name", "GET /ports/2556 HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"},
		{"no host", "GET /ports/2556 HTTP/1.1\r\n\r\n"},
		{"two hosts", "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n"},
		{"empty host", "GET /ports/2556 HTTP/1.1\r\nHost:\r\n\r\n"},
		{"host with space", "GET /ports/2556 HTTP/1.1\r\nHost: local host\r\n\r\n"},
		{"cookie", h("/ports/2556", "Cookie: porthole_session=abc\r\n")},
		{"authorization", h("/ports/2556", "Authorization: Bearer x\r\n")},
		{"content-length 0", h("/ports/2556", "Content-Length: 0\r\n")},
		{"body", h("/ports/2556", "Content-Length: 5\r\n") + "hello"},
		{"chunked", h("/ports/2556", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n"},
		{"expect", h("/ports/2556", "Expect: 100-continue\r\n")},
		{"upgrade", h("/ports/2556", "Connection: Upgrade\r\nUpgrade: websocket\r\n")},
		{"leading zero", h("/ports/02556", "")},
		{"trailing slash", h("/ports/2556/", "")},
		{"double slash", h("//ports/2556", "")},
		{"dot segment", h("/ports/./2556", "")},
		{"dotdot", h("/x/../ports/2556", "")},
		{"too big a port", h("/ports/65536", "")},
		{"range", h("/ports/0-1023", "")},
		{"html suffix", h("/ports/2556.html", "")},
		{"home", h("/", "")},
		{"query", h("/ports/2556?thanks=1", "")},
		{"empty query", h("/ports/2556?", "")},
		{"fragment", h("/ports/2556#x", "")},
		{"percent", h("/ports/%32556", "")},
		{"percent slash", h("/ko%2Fports/2556", "")},
		{"absolute form", "GET http://localhost/ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"options star", "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"post", "POST /ports/2556 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"},
		{"lower-case method", "get /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"http2 line", "GET /ports/2556 HTTP/2.0\r\nHost: localhost\r\n\r\n"},
		{"http11 spelled oddly", "GET /ports/2556 HTTP/01.1\r\nHost: localhost\r\n\r\n"},
		{"two spaces", "GET  /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"bare LF", "GET /ports/2556 HTTP/1.1\nHost: localhost\n\n"},
		{"obs-fold", "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n b\r\n\r\n"},
		{"space before colon", "GET /ports/2556 HTTP/1.1\r\nHost : localhost\r\n\r\n"},
		{"control in value", "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\nX-A: a\x01b\r\n\r\n"},
		{"utf-8 in value", "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\nX-A: h\xc3\xa9\r\n\r\n"},
		{"10 KB header", h("/ports/2556", "X-Big: "+big+"\r\n")},
		{"1 MB header", h("/ports/2556", "X-Huge: "+huge+"\r\n")},
		{"tls hello", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + strings.Repeat("\x00", 40)},
		{"garbage", "\x00\x01\x02\r\n\r\n"},
		{"empty line first", "\r\n" + h("/ports/2556", "")},
		// Added in review: smuggling and desync shapes, odd hosts, gzip
		// choices, cookies in odd spellings, pipelines that change hands.
		{"host userinfo", "GET /ports/2556 HTTP/1.1\r\nHost: user@localhost\r\n\r\n"},
		{"host odd port", "GET /ports/2556 HTTP/1.1\r\nHost: localhost:99999\r\n\r\n"},
		{"host empty port", "GET /ports/2556 HTTP/1.1\r\nHost: localhost:\r\n\r\n"},
		{"host tabs", "GET /ports/2556 HTTP/1.1\r\nHost:\tlocalhost\t\r\n\r\n"},
		{"host trailing space", "GET /ports/2556 HTTP/1.1\r\nHost: localhost \r\n\r\n"},
		{"host 127.1", "GET /ports/2556 HTTP/1.1\r\nHost: 127.1\r\n\r\n"},
		{"absolute form other host", "GET http://evil.example/ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"absolute form 1.0 no host", "GET http://localhost/ports/2556 HTTP/1.0\r\n\r\n"},
		{"NUL in target", "GET /ports/2556\x00 HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"CR in value", h("/ports/2556", "X-A: a\rb\r\n")},
		{"CR before colon", "GET /ports/2556 HTTP/1.1\r\nHost\r: localhost\r\n\r\n"},
		{"tab in request line", "GET\t/ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"lower-case version", "GET /ports/2556 http/1.1\r\nHost: localhost\r\n\r\n"},
		{"long path", h("/ports/"+strings.Repeat("9", 70), "")},
		{"underscore header", h("/ports/2556", "Accept_Encoding: gzip\r\n")},
		{"empty header value", h("/ports/2556", "X-Empty:\r\n")},
		{"te and cl", h("/ports/2556", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n"},
		{"two content-lengths", h("/ports/2556", "Content-Length: 0\r\nContent-Length: 5\r\n")},
		{"cookie lower-case", h("/ports/2556", "cookie: porthole_session=abc\r\n")},
		{"cookie upper-case", h("/ports/2556", "COOKIE: a=b\r\n")},
		{"proxy-authorization", h("/ports/2556", "Proxy-Authorization: Basic eDp5\r\n")},
		{"proxy-connection close", h("/ports/2556", "Proxy-Connection: close\r\n")},
		{"keep-alive header 1.1", h("/ports/2556", "Connection: Keep-Alive\r\nKeep-Alive: timeout=5\r\n")},
		{"two connection lines", h("/ports/2556", "Connection: keep-alive\r\nConnection: close\r\n")},
		{"gzip identity", h("/ports/2556", "Accept-Encoding: identity\r\n")},
		{"gzip q=0 star", h("/ports/2556", "Accept-Encoding: gzip;q=0, *\r\n")},
		{"star q=0", h("/ports/2556", "Accept-Encoding: *;q=0\r\n")},
		{"gzip upper", h("/ports/2556", "Accept-Encoding: GZIP\r\n")},
		{"x-gzip", h("/ports/2556", "Accept-Encoding: x-gzip\r\n")},
		{"gzip q spaces", h("/ports/2556", "Accept-Encoding: gzip ; q=0\r\n")},
		{"gzip Q=0", h("/ports/2556", "Accept-Encoding: gzip;Q=0\r\n")},
		{"gzip q=0.000", h("/ports/2556", "Accept-Encoding: gzip;q=0.000\r\n")},
		{"gzip q=0.001", h("/ports/2556", "Accept-Encoding: gzip;q=0.001\r\n")},
		{"empty accept-encoding", h("/ports/2556", "Accept-Encoding:\r\n")},
		{"inm weak lower-case", h("/ports/2556", "If-None-Match: w/"+strong+"\r\n")},
		{"inm unquoted", h("/ports/2556", "If-None-Match: "+strings.Trim(strong, `"`)+"\r\n")},
		{"inm empty", h("/ports/2556", "If-None-Match:\r\n")},
		{"inm and gzip refused", h("/ports/2556", "Accept-Encoding: gzip;q=0\r\nIf-None-Match: "+weak+"\r\n")},
		{"head http10 keep-alive", "HEAD /ports/2556 HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n"},
		{"http10 keep-alive pipelined", "GET /ports/2556 HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n" +
			"HEAD /ko/ports/2556 HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n" + h("/ports/2556", "")},
		{"pipelined then post", h("/ports/2556", "") + "POST /feedback HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc" + h("/ports/2556", "")},
		{"pipelined then cookie", h("/ports/2556", "") + h("/ports/2556", "Cookie: a=b\r\n") + h("/ports/2556", "")},
		{"pipelined then bad", h("/ports/2556", "") + "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\nX-A: a\x00\r\n\r\n"},
		{"pipelined then bare LF", h("/ports/2556", "") + "GET /ports/2556 HTTP/1.0\nHost: localhost\n\n"},
		{"h2 prior knowledge", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
		{"h2c upgrade", h("/ports/2556", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n")},
		{"range header", h("/ports/2556", "Range: bytes=0-9\r\n")},
		{"if-modified-since", h("/ports/2556", "If-Modified-Since: Sun, 01 Mar 2026 12:00:00 GMT\r\n")},
		{"accept-language ko", h("/ports/2556", "Accept-Language: ko\r\n")},
		{"x-forwarded", h("/ports/2556", "X-Forwarded-Proto: https\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Host: evil.example\r\n")},
		{"pipelined fast after smuggle try", h("/ports/2556", "Content-Length: 0\r\n") + h("/ports/2556", "")},
	}
}

func TestDifferential(t *testing.T) {
	fl, cookie := fleetOptions(t)
	for _, mode := range []string{"public", "local", "fleet"} {
		local := mode == "local"
		var p *pair
		if mode == "fleet" {
			p = newPairFleet(t, false, fl, nil, testTimeouts)
		} else {
			p = newPair(t, local)
		}
		strong := etag(t, p.plain, "/ports/2556", false)
		weak := etag(t, p.plain, "/ports/2556", true)
		if strong == "" || !strings.HasPrefix(weak, "W/") {
			t.Fatalf("ETags %q and %q", strong, weak)
		}
		cases := corpus(strong, weak)
		if mode == "fleet" {
			cases = append(cases, struct {
				name string
				req  string
			}{"fleet session", "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\nCookie: " + cookie + "\r\n\r\n"},
				struct {
					name string
					req  string
				}{"fleet session second cookie line", "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\nCookie: a=b\r\nCookie: " + cookie + "\r\n\r\n"},
				struct {
					name string
					req  string
				}{"fleet session lower-case", "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\ncOOkie: " + cookie + "\r\n\r\n"},
				struct {
					name string
					req  string
				}{"fleet session pipelined", "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /ports/2556 HTTP/1.1\r\nHost: localhost\r\nCookie: " + cookie + "\r\n\r\n"})
		}
		for _, tc := range cases {
			// Twice: the first may find the page out of the cache or
			// not yet recorded; the second is answered by the front.
			for round := range 2 {
				plain := normalise(exchange(t, p.plain, 0, tc.req, closer))
				fast := normalise(exchange(t, p.fast, 0, tc.req, closer))
				if !bytes.Equal(plain, fast) {
					t.Errorf("%s %s, round %d: net/http and the front differ\nnet/http:\n%s\nfront:\n%s", mode, tc.name, round,
						head(plain), head(fast))
				}
				if mode == "fleet" && tc.name == "plain" && !bytes.Contains(fast, []byte("\r\nVary: Cookie\r\n")) {
					t.Errorf("fleet: the port page lacks Vary: Cookie:\n%s", head(fast))
				}
				if len(plain) == 0 && !strings.HasPrefix(tc.name, "tls") {
					t.Errorf("%s %s: no answer at all", mode, tc.name)
				}
			}
		}
	}
}

// head is what a failure shows of an exchange: its header blocks.
func head(b []byte) string {
	var out []string
	for _, part := range regexp.MustCompile(`HTTP/1\.[01] `).Split(string(b), -1) {
		if i := strings.Index(part, "\r\n\r\n"); i >= 0 {
			part = part[:i]
		}
		if part != "" {
			out = append(out, "HTTP/1.x "+part)
		}
	}
	return strings.Join(out, "\n--\n")
}

// TestFrontAnswers checks that the front, not net/http, answers a cached
// port page once it has recorded it, so that the differential test compares
// two paths.
func TestFrontAnswers(t *testing.T) {
	var rec recordingSlot
	p := newPairWith(t, false, rec.wrap, testTimeouts)
	req := "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"
	exchange(t, p.fast, 0, req, closer) // net/http renders and caches the page
	exchange(t, p.fast, 0, req, closer) // the front records it
	before := rec.hits()
	out := exchange(t, p.fast, 0, req+req+req+"GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	if n := bytes.Count(out, []byte("HTTP/1.1 200 OK\r\n")); n != 4 {
		t.Fatalf("%d answers, want 4", n)
	}
	if n := rec.hits() - before; n != 4 {
		t.Errorf("the front answered %d of 4 requests from its recording", n)
	}
}

type recordingSlot struct {
	mu sync.Mutex
	n  int
}

func (r *recordingSlot) wrap(f lookupFunc) lookupFunc {
	return func(path string) (web.CachedPage, bool) {
		v, ok := f(path)
		if ok {
			if pr, _ := v.Slot().Load().(*prepared); pr != nil {
				r.mu.Lock()
				r.n++
				r.mu.Unlock()
			}
		}
		return v, ok
	}
}

func (r *recordingSlot) hits() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}
