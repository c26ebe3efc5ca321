package webguard_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/feedback"
	"github.com/porthole/porthole/internal/store/sqlite"
	"github.com/porthole/porthole/internal/store/storetest"
	"github.com/porthole/porthole/internal/testenv"
	"github.com/porthole/porthole/internal/webguard"
)

// site is a stand-in for the real site: a page, the feedback routes and a few misbehaving handlers.
func site(t *testing.T, log *slog.Logger) http.Handler {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fb, err := feedback.New(st, storetest.NewClock().Now, log, feedback.Options{RateLimit: 4})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>porthole</title>")
	})
	mux.HandleFunc("GET /leaky", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "porthole/1.2.3 go1.26")
		w.Header().Set("X-Powered-By", "Go")
		w.Header().Set("Content-Security-Policy", "default-src * 'unsafe-inline'")
		io.WriteString(w, "leaky")
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		panic("secret internal detail: /etc/porthole/db password=hunter2")
	})
	mux.HandleFunc("GET /panic-late", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial page")
		http.NewResponseController(w).Flush()
		panic("late failure")
	})
	mux.Handle("/api/v1/feedback", fb)
	mux.Handle("/feedback", fb)
	return webguard.Wrap(mux, log)
}

func TestHeadersOnEveryResponse(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(site(t, log))
	defer srv.Close()
	ok := `{"port":2556,"lang":"en","rating":"helpful"}`
	tests := []struct {
		name, method, path, ctype, body string
		header                          map[string]string
		status                          int
	}{
		{"page", "GET", "/", "", "", nil, 200},
		{"not found", "GET", "/nope", "", "", nil, 404},
		{"handler sets version headers", "GET", "/leaky", "", "", nil, 200},
		{"panic", "GET", "/panic", "", "", nil, 500},
		{"created", "POST", "/api/v1/feedback", "application/json", ok, nil, 201},
		{"bad request", "POST", "/api/v1/feedback", "application/json", `{"x":1}`, nil, 400},
		{"wrong media type", "POST", "/feedback", "text/plain", "x", nil, 415},
		{"too large", "POST", "/api/v1/feedback", "application/json", strings.Repeat(" ", 20000), nil, 413},
		{"rate limited", "POST", "/api/v1/feedback", "application/json", ok, nil, 429},
		{"method not allowed", "GET", "/api/v1/feedback", "", "", nil, 405},
		{"cross-origin", "POST", "/feedback", "application/x-www-form-urlencoded", "port=1", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			checkHeaders(t, resp.Header, false)
		})
	}
}

func checkHeaders(t *testing.T, h http.Header, tls bool) {
	t.Helper()
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
			"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	} {
		if got := h.Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want exactly %q", k, got, want)
		}
	}
	for _, k := range []string{"Server", "X-Powered-By", "Access-Control-Allow-Origin"} {
		if v := h.Get(k); v != "" {
			t.Errorf("%s: %q present", k, v)
		}
	}
	if ct := h.Get("Content-Type"); ct != "" && !strings.Contains(ct, "charset=utf-8") {
		t.Errorf("Content-Type %q without charset", ct)
	}
	if got := h.Get("Strict-Transport-Security"); (got != "") != tls {
		t.Errorf("Strict-Transport-Security = %q over TLS=%v", got, tls)
	}
	if strings.Contains(h.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Error("CSP allows inline code")
	}
}

func TestHSTSOverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(site(t, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	for _, path := range []string{"/", "/nope", "/panic"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		checkHeaders(t, resp.Header, true)
	}
}

func TestPanicGivesGenericPageLoggedOnce(t *testing.T) {
	var logs testenv.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	srv := httptest.NewUnstartedServer(site(t, log))
	srv.Config.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn) // net/http's own complaints too
	srv.Start()
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/panic")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	for _, leak := range []string{"hunter2", "secret", "goroutine", "panic", ".go:"} {
		if bytes.Contains(body, []byte(leak)) {
			t.Errorf("error page reveals %q:\n%s", leak, body)
		}
	}
	if !bytes.Contains(body, []byte("500 Internal Server Error")) {
		t.Errorf("error page does not name the status:\n%s", body)
	}
	// The server keeps serving.
	if resp, err := http.Get(srv.URL + "/"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after a panic: %v, %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// A panic after the response started cuts the connection instead of passing for a complete page.
	if resp, err := http.Get(srv.URL + "/panic-late"); err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Error("late panic: the client read a complete response")
		}
	}
	srv.Close()
	out := logs.String()
	if n := strings.Count(out, "handler panic"); n != 2 {
		t.Errorf("%d panic records, want one per panic (2):\n%s", n, out)
	}
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("%d log lines, want 2 (net/http must not log the panics again):\n%s", n, out)
	}
}

func TestNewServerSetsEveryLimit(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := webguard.NewServer("127.0.0.1:0", http.NotFoundHandler(), webguard.Timeouts{}, log)
	tests := []struct {
		name string
		got  time.Duration
	}{
		{"ReadHeaderTimeout", s.ReadHeaderTimeout},
		{"ReadTimeout", s.ReadTimeout},
		{"WriteTimeout", s.WriteTimeout},
		{"IdleTimeout", s.IdleTimeout},
	}
	for _, tc := range tests {
		if tc.got <= 0 {
			t.Errorf("%s not set", tc.name)
		}
	}
	if s.MaxHeaderBytes <= 0 || s.MaxHeaderBytes >= http.DefaultMaxHeaderBytes {
		t.Errorf("MaxHeaderBytes = %d, want a limit below net/http's default", s.MaxHeaderBytes)
	}
	if s.ErrorLog == nil {
		t.Error("ErrorLog not routed to slog")
	}
	custom := webguard.NewServer("", http.NotFoundHandler(), webguard.Timeouts{ReadHeader: time.Second}, log)
	if custom.ReadHeaderTimeout != time.Second || custom.ReadTimeout != webguard.DefaultTimeouts.Read {
		t.Errorf("partial Timeouts: got %v / %v", custom.ReadHeaderTimeout, custom.ReadTimeout)
	}
}

// startServer runs NewServer on a loopback port with short limits, so misbehaving clients are cut off quickly.
func startServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := webguard.NewServer("", h, webguard.Timeouts{ReadHeader: 200 * time.Millisecond, Read: 300 * time.Millisecond,
		Idle: 300 * time.Millisecond}, log)
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String()
}

// cutOff reports whether the server closed conn (or answered it) before the client's own generous deadline.
func cutOff(t *testing.T, conn net.Conn) (string, bool) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // a guard against hanging, not a timing assertion
	b, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return string(b), false
	}
	return string(b), true
}

func TestSlowClientsAreCutOff(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	fb, err := feedback.New(st, storetest.NewClock().Now, log, feedback.Options{})
	if err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, webguard.Wrap(fb, log))
	tests := []struct {
		name, send string
	}{
		{"headers never finish", "GET /api/v1/feedback HTTP/1.1\r\nHost: x\r\nX-Slow: "},
		{"request line never finishes", "GET /api/v1/feed"},
		{"nothing sent", ""},
		{"body never finishes", "POST /api/v1/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Content-Length: 60\r\n\r\n{\"port\":"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			io.WriteString(conn, tc.send)
			if got, ok := cutOff(t, conn); !ok {
				t.Fatalf("server kept the connection open; received %q", got)
			}
		})
	}
	t.Run("a prompt client is served", func(t *testing.T) {
		resp, _ := testenv.RawHTTP(t, addr, "GET /api/v1/feedback HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != 405 {
			t.Errorf("status %d, want 405", resp.StatusCode)
		}
		checkHeaders(t, resp.Header, false)
	})
	t.Run("oversized headers", func(t *testing.T) {
		resp, _ := testenv.RawHTTP(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 64<<10)+"\r\n\r\n")
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
	})
}
