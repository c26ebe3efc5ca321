// Package webguard is the security layer the whole web site is wrapped in: strict headers on every response
// (errors included), a generic page instead of a crash on a handler panic, and an http.Server whose timeouts and
// header limit keep slow or greedy clients from holding connections.
package webguard

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// ContentSecurityPolicy allows only the site's own scripts, styles and images (plus data: images): no inline
// script or style, no framing, no <base> rewriting, forms posting only to the site.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Headers are set on every response before the wrapped handler runs. (A
// slice of constant pairs is static data; a map would be built at start-up
// by every porthole command.)
var Headers = []struct{ Name, Value string }{
	{"Content-Security-Policy", ContentSecurityPolicy},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Frame-Options", "DENY"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
	{"Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"},
}

// HSTS is sent on responses to requests that arrived over TLS.
const HSTS = "max-age=31536000; includeSubDomains"

// headersToDrop are response headers that reveal software versions; a handler that sets them is overridden.
var headersToDrop = []string{"Server", "X-Powered-By", "X-AspNet-Version"}

// Wrap returns next with the security headers on every response and panics turned into a generic 500 page. A
// panic is logged once to log, with its stack; the client sees nothing of it.
func Wrap(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, p := range Headers {
			h.Set(p.Name, p.Value)
		}
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", HSTS)
		}
		if r.Method == http.MethodOptions && r.RequestURI == "*" {
			// "OPTIONS *" asks the server, not a resource, what it supports (NewServer routes it here instead of
			// to net/http's own answer, which lacks these headers).
			h.Set("Allow", "GET, HEAD, POST, OPTIONS")
			h.Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
			return
		}
		gw := &guardWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
				panic(v) // the handler asked to abort the connection; net/http handles it quietly
			}
			log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v),
				"stack", string(debug.Stack()))
			if gw.wrote {
				// Part of the response is out; all that is left is to cut the connection so the client sees an
				// incomplete response rather than a truncated one that looks whole.
				panic(http.ErrAbortHandler)
			}
			Error(gw, http.StatusInternalServerError)
		}()
		next.ServeHTTP(gw, r)
	})
}

// Error writes the generic error page for status: a short text that names the status and nothing else.
func Error(w http.ResponseWriter, status int) {
	h := w.Header()
	for _, k := range []string{"Content-Length", "Content-Encoding", "Etag", "Last-Modified", "Location"} {
		h.Del(k)
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	text := http.StatusText(status)
	fmt.Fprintf(w, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%d %s</title></head>"+
		"<body><h1>%d %s</h1><p>Something went wrong on our side. Please try again later.</p></body></html>\n",
		status, text, status, text)
}

// guardWriter removes version headers just before the header is sent and remembers whether it was.
type guardWriter struct {
	http.ResponseWriter
	wrote bool
}

func (g *guardWriter) WriteHeader(code int) {
	if !g.wrote {
		h := g.ResponseWriter.Header()
		for _, k := range headersToDrop {
			h.Del(k)
		}
		// Whatever a handler set, the policy headers stay as the site's.
		for _, p := range Headers {
			h.Set(p.Name, p.Value)
		}
		if code >= 200 {
			g.wrote = true
		}
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *guardWriter) Write(b []byte) (int, error) {
	if !g.wrote {
		g.WriteHeader(http.StatusOK)
	}
	return g.ResponseWriter.Write(b)
}

func (g *guardWriter) ReadFrom(r io.Reader) (int64, error) {
	if !g.wrote {
		g.WriteHeader(http.StatusOK)
	}
	return io.Copy(g.ResponseWriter, r)
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush, deadlines, hijacking).
func (g *guardWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// Flush implements http.Flusher.
func (g *guardWriter) Flush() {
	if !g.wrote {
		g.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(g.ResponseWriter).Flush()
}

// Timeouts of the server NewServer builds.
type Timeouts struct {
	ReadHeader time.Duration // to receive the request line and headers
	Read       time.Duration // to receive the whole request, body included
	Write      time.Duration // from the end of the request headers to the end of the response
	Idle       time.Duration // between requests on a kept-alive connection
}

// DefaultTimeouts suit a site of small pages and small posts.
var DefaultTimeouts = Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 30 * time.Second, Idle: 60 * time.Second}

// MaxHeaderBytes bounds the request line and headers; net/http answers 431 beyond it.
const MaxHeaderBytes = 16 << 10

// NewServer returns an http.Server for addr serving h, with every timeout set (zero fields of t take the
// default), "OPTIONS *" passed to h, and net/http's own error log routed to log. Serve it on Listener(ln) so
// that the error answers net/http writes by itself carry the security headers too.
func NewServer(addr string, h http.Handler, t Timeouts, log *slog.Logger) *http.Server {
	d := DefaultTimeouts
	pick := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: pick(t.ReadHeader, d.ReadHeader),
		ReadTimeout:       pick(t.Read, d.Read),
		WriteTimeout:      pick(t.Write, d.Write),
		IdleTimeout:       pick(t.Idle, d.Idle),
		MaxHeaderBytes:    MaxHeaderBytes,
		// "OPTIONS *" goes to the handler (Wrap answers it with the security headers).
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
