package webguard

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// LoopbackHosts are the names a browser uses for this machine: the only Host values a site showing local data
// answers besides the ones its operator names.
var LoopbackHosts = []string{"localhost", "127.0.0.1", "::1"}

// CheckHost answers 421 Misdirected Request, with the security headers when wrapped by Wrap, to every request
// whose Host header (port aside) is not one of allowed. It defeats DNS rebinding: a page on attacker.example
// whose name the attacker re-points at 127.0.0.1 makes the victim's browser send "Host: attacker.example" to a
// server on loopback, and that server must not answer with this machine's data. Names are compared without case
// and without a trailing dot; IP literals in their canonical form ("::1", not "[::1]").
func CheckHost(next http.Handler, allowed ...string) http.Handler {
	return NewHostCheck(allowed...).Handler(next)
}

// HostCheck is the test CheckHost makes, for a caller that needs it outside
// a handler chain (porthole serve's fast front answers only requests it
// passes and leaves the rest to the handler).
type HostCheck struct{ names map[string]bool }

// NewHostCheck returns the check that accepts the Host values allowed.
func NewHostCheck(allowed ...string) *HostCheck {
	names := make(map[string]bool, len(allowed))
	for _, h := range allowed {
		names[canonicalHost(h)] = true
	}
	return &HostCheck{names: names}
}

// Allowed reports whether a request whose Host header is host is answered.
func (c *HostCheck) Allowed(host string) bool {
	h := canonicalHost(hostOnly(host))
	return h != "" && c.names[h]
}

// Handler is CheckHost with this check.
func (c *HostCheck) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.Allowed(r.Host) {
			h := w.Header()
			h.Set("Content-Type", "text/plain; charset=utf-8")
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusMisdirectedRequest)
			// The Host is not quoted back: the answer is the same whatever was sent.
			_, _ = w.Write([]byte("421 Misdirected Request: this server answers only to the host names it was " +
				"started for (localhost, 127.0.0.1, [::1] and its --base-url host).\n"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostOnly strips the port from a Host header value: "localhost:8025" → "localhost", "[::1]:8025" → "::1",
// "[::1]" → "::1".
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		return hostport[1 : len(hostport)-1]
	}
	return hostport
}

// canonicalHost lower-cases a host name, drops a trailing dot and writes IP literals canonically, so that
// "LOCALHOST." is localhost and "0:0::1" is ::1.
func canonicalHost(h string) string {
	h = strings.TrimPrefix(strings.TrimSuffix(h, "]"), "[")
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			return "" // a zone in a Host header is not a name anyone browses to
		}
		return a.Unmap().String()
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// HostOf returns the host of an absolute URL such as a --base-url ("https://ports.example:8443/x" →
// "ports.example"), or "" when u has none.
func HostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return canonicalHost(p.Hostname())
}
