package cli

import (
	"bytes"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/webguard"
)

// TestServeFleetSite: a real serve with --admin-token-file logs an admin in
// through the form, shows /fleet and the port pages' fleet section to the
// session only, and never lets the cookie stand in for a bearer token on
// the API; without --admin-token-file /fleet is 404 and the port page is
// the same bytes as with the fleet and no session.
func TestServeFleetSite(t *testing.T) {
	f := fleetSetup(t, "web-1")
	dir, admin, tok := f.dir, f.admin, f.tok
	addr := startServe(t, "--db", f.db, "--admin-token-file", f.adminFile)
	plain := startServe(t, "--db", filepath.Join(dir, "plain.db"))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, base, path, cookie, bearer string, body io.Reader, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+base+path, body)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: webguard.SessionCookie, Value: cookie})
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	rep, _ := fleet.Encode(fleet.Report{Host: "web-1", Agent: "a1", Seq: 1, Kind: fleet.KindFull, Interval: 30 * time.Second,
		Listeners: []fleet.Listener{{Key: fleet.Key{Proto: ports.TCP, Addr: netip.MustParseAddr("0.0.0.0"), Port: 2556}, Owner: fleet.NoOwner}}})
	if resp, body := do("POST", addr, "/api/v1/fleet/report", "", tok, bytes.NewReader(rep), "Content-Type", "application/json"); resp.StatusCode != 200 {
		t.Fatalf("report: %d %s", resp.StatusCode, body)
	}
	_, publicBody := do("GET", plain, "/ports/2556", "", "", nil)

	if resp, _ := do("GET", addr, "/fleet", "", "", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/fleet/login" {
		t.Errorf("GET /fleet without a session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	form := url.Values{"token": {admin}}.Encode()
	resp, _ := do("POST", addr, "/fleet/login", "", "", strings.NewReader(form), "Content-Type", "application/x-www-form-urlencoded", "Origin", "http://"+addr)
	var session string
	for _, c := range resp.Cookies() {
		if c.Name == webguard.SessionCookie && c.HttpOnly && c.SameSite == http.SameSiteStrictMode {
			session = c.Value
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == "" {
		t.Fatalf("login: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if resp, body := do("GET", addr, "/fleet", session, "", nil); resp.StatusCode != 200 || !strings.Contains(body, `href="/fleet/hosts/web-1"`) ||
		resp.Header.Get("Cache-Control") != "private, no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET /fleet with the session: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	resp, body := do("GET", addr, "/ports/2556", session, "", nil)
	if want := "In your fleet: 2556 listens on 1 of 1 host."; !strings.Contains(body, want) || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("the admin's /ports/2556 lacks %q or is storable (Cache-Control %q)", want, resp.Header.Get("Cache-Control"))
	}
	// The cookie is not a bearer token.
	for _, p := range []string{"/api/v1/fleet/hosts", "/api/v1/fleet/ports/2556", "/api/v1/fleet/findings"} {
		if resp, _ := do("GET", addr, p, session, "", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s with the session cookie only: %d, want 401", p, resp.StatusCode)
		}
	}
	if resp, _ := do("POST", addr, "/api/v1/fleet/report", session, "", bytes.NewReader(rep), "Content-Type", "application/json"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a report with the session cookie only: %d, want 401", resp.StatusCode)
	}
	// Without a session the fleet serve's port page is the plain serve's,
	// apart from the local section: what listens on 2556 on this machine
	// changes while other tests run (internal/web compares whole pages).
	if _, body := do("GET", addr, "/ports/2556", "", "", nil); withoutHere(body) != withoutHere(publicBody) {
		t.Error("/ports/2556 without a session differs from a serve without the fleet")
	}
	if resp, _ := do("GET", plain, "/fleet", "", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /fleet without --admin-token-file: %d, want 404", resp.StatusCode)
	}
	// A failed login and a failed bearer token share one throttle.
	for i := 0; i < webguard.DefaultFailuresPerClient; i++ {
		do("POST", addr, "/fleet/login", "", "", strings.NewReader("token=wrong"), "Content-Type", "application/x-www-form-urlencoded", "Origin", "http://"+addr)
	}
	if resp, _ := do("GET", addr, "/api/v1/fleet/hosts", "", admin+"x", nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a bearer token after %d failed logins: %d, want 429", webguard.DefaultFailuresPerClient, resp.StatusCode)
	}
}

// withoutHere drops a port page's "On this machine" section.
func withoutHere(page string) string {
	start := strings.Index(page, `<section id="here"`)
	if start < 0 {
		return page
	}
	end := strings.Index(page[start:], "</section>")
	if end < 0 {
		return page
	}
	return page[:start] + page[start+end:]
}
