package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/fleet/fleetdb"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/testenv"
	"github.com/porthole/porthole/internal/webguard"
)

const fleetAdminToken = "fleet-admin-token-of-at-least-32-bytes-0123"

// fleetFixture is what the test inventory holds: which hosts exist and
// which of them listen on 2556, so that expected sentences are computed
// from the input, not typed.
type fleetFixture struct {
	hosts []string // every host, reported or not
	on    []string // the hosts with a listener on tcp/2556
	stale []string // hosts silent for more than three intervals at the page's time
}

// fleetT0 is when the test inventory's first reports arrive.
var fleetT0 = time.Date(2026, 3, 18, 9, 30, 0, 0, time.UTC)

func tcpListener(addr string, port uint16, pid int, user, process, exe string) fleet.Listener {
	return fleet.Listener{Key: fleet.Key{Proto: ports.TCP, Addr: netip.MustParseAddr(addr), Port: port},
		Owner: fleet.Owner{PID: pid, UID: 0, User: user, Process: process, Exe: exe}}
}

// fillFleet makes the test inventory in db on clock: five web hosts (one
// with a miner on 2556 and an audit finding), a database host that went
// silent, and a host that never reported.
func fillFleet(t *testing.T, db *fleetdb.DB, clock *testenv.Clock) fleetFixture {
	t.Helper()
	ctx := context.Background()
	fx := fleetFixture{}
	add := func(name string) {
		if _, err := db.Token(ctx, name, fleet.HashToken("token-of-"+name), clock.Now()); err != nil {
			t.Fatal(err)
		}
		fx.hosts = append(fx.hosts, name)
	}
	apply := func(r fleet.Report) {
		t.Helper()
		if _, err := db.Apply(ctx, r, clock.Now()); err != nil {
			t.Fatalf("%s seq %d: %v", r.Host, r.Seq, err)
		}
	}
	add("db-1")
	apply(fleet.Report{Host: "db-1", Agent: "run-db", Seq: 1, Kind: fleet.KindFull, Interval: 30 * time.Second,
		Listeners: []fleet.Listener{tcpListener("127.0.0.1", 5432, 812, "postgres", "postgres", "/usr/lib/postgresql/17/bin/postgres")}})
	fx.stale = append(fx.stale, "db-1")
	clock.Advance(5 * time.Minute)
	for i := 1; i <= 5; i++ {
		name := "web-" + strconv.Itoa(i)
		add(name)
		ls := []fleet.Listener{tcpListener("0.0.0.0", 80, 900+i, "www-data", "nginx", "/usr/sbin/nginx")}
		r := fleet.Report{Host: name, Agent: "run-" + name, Seq: 1, Kind: fleet.KindFull, Interval: 30 * time.Second, Group: "web"}
		if i == 1 {
			ls = append(ls, tcpListener("0.0.0.0", 2556, 4242, "root", "miner", "/tmp/.x/miner"))
			fx.on = append(fx.on, name)
			r.Findings = []fleet.Finding{{Rule: "known-bad-port", Severity: "high",
				Key:    fleet.Key{Proto: ports.TCP, Addr: netip.MustParseAddr("0.0.0.0"), Port: 2556},
				Reason: "tcp/2556 is a port of a known threat"}}
			r.FindingsSet = true
		}
		r.Listeners = ls
		apply(r)
		clock.Advance(time.Second)
	}
	apply(fleet.Report{Host: "web-2", Agent: "run-web-2", Seq: 2, Kind: fleet.KindDelta, Interval: 30 * time.Second, Group: "web",
		Added: []fleet.Listener{tcpListener("::", 8080, 977, "www-data", "gunicorn", "/usr/bin/python3")}})
	add("spare-1")
	clock.Advance(10 * time.Second)
	return fx
}

// fleetSite is a site with the fleet on a real SQLite inventory.
type fleetSite struct {
	site  *Site
	db    *fleetdb.DB
	clock *testenv.Clock
	fx    fleetFixture
}

func newFleetSite(t *testing.T) *fleetSite {
	t.Helper()
	db, err := fleetdb.Open(context.Background(), filepath.Join(t.TempDir(), "fleet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := testenv.NewClock(fleetT0)
	fx := fillFleet(t, db, clock)
	throttle := webguard.NewThrottle(webguard.ThrottleOptions{Now: clock.Now})
	admin, err := webguard.NewBearerAuth(fleetAdminToken, throttle)
	if err != nil {
		t.Fatal(err)
	}
	s := testSite(t, Options{Fleet: &FleetOptions{DB: db, Admin: admin, Sessions: webguard.NewSessions(0, 0, clock.Now)}})
	s.now = clock.Now // the fleet's staleness reads the same clock as the inventory
	return &fleetSite{site: s, db: db, clock: clock, fx: fx}
}

// client is a browser-like client of srv: it keeps cookies, does not
// follow redirects, and sends the headers a browser's form post sends.
type client struct {
	t   *testing.T
	srv *httptest.Server
	c   *http.Client
}

func newClient(t *testing.T, srv *httptest.Server) *client {
	c := new(http.Client)
	*c = *srv.Client() // a copy: srv.Client() is one client shared by every caller
	c.Jar = &cookieJar{m: map[string]*http.Cookie{}}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{t: t, srv: srv, c: c}
}

// cookieJar keeps cookies by name, whatever their Secure flag (the test
// server's host is an IP address, which net/http/cookiejar handles too,
// but this one lets the test see what was set).
type cookieJar struct{ m map[string]*http.Cookie }

func (j *cookieJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	for _, c := range cs {
		if c.MaxAge < 0 {
			delete(j.m, c.Name)
			continue
		}
		j.m[c.Name] = c
	}
}

func (j *cookieJar) Cookies(*url.URL) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range j.m {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, path string, body io.Reader, header ...string) reply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func (c *client) get(path string) reply { return c.do("GET", path, nil) }

// post sends a form as a browser on the site's own page does.
func (c *client) post(path string, form url.Values, header ...string) reply {
	h := append([]string{"Content-Type", "application/x-www-form-urlencoded", "Origin", c.srv.URL}, header...)
	return c.do("POST", path, strings.NewReader(form.Encode()), h...)
}

func (c *client) login(token string) reply {
	return c.post("/fleet/login", url.Values{"token": {token}})
}

func TestFleetDisabled(t *testing.T) {
	srv := httptest.NewServer(testSite(t, Options{}).Handler())
	defer srv.Close()
	c := newClient(t, srv)
	for _, p := range []string{"/fleet", "/ko/fleet", "/fleet/login", "/fleet/hosts/web-1"} {
		if r := c.get(p); r.status != http.StatusNotFound {
			t.Errorf("GET %s without the fleet: %d, want 404", p, r.status)
		}
	}
	if r := c.login(fleetAdminToken); r.status < 400 || r.header.Get("Set-Cookie") != "" {
		t.Errorf("POST /fleet/login without the fleet: %d %q, want a refusal and no cookie", r.status, r.header.Get("Set-Cookie"))
	}
	// Static (an export) never has the fleet, whatever the options say.
	fs := newFleetSite(t)
	st := testSite(t, Options{Static: true, Fleet: fs.site.opt.Fleet})
	if st.fleet != nil {
		t.Error("a static site has the fleet part")
	}
}

// TestFleetPublicPortPageUnchanged: without a session, a port page of a
// site with the fleet is byte for byte the page of a site without it, with
// the same Cache-Control, before and after an admin saw the fleet version
// (which must not enter the page cache).
func TestFleetPublicPortPageUnchanged(t *testing.T) {
	plain := httptest.NewServer(testSite(t, Options{}).Handler())
	defer plain.Close()
	fs := newFleetSite(t)
	srv := httptest.NewServer(fs.site.Handler())
	defer srv.Close()
	anon, admin := newClient(t, srv), newClient(t, srv)
	if r := admin.login(fleetAdminToken); r.status != http.StatusSeeOther {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	want := map[string]reply{}
	pc := newClient(t, plain)
	paths := []string{"/ports/2556", "/ko/ports/2556", "/ports/80", "/ports/9"}
	for _, p := range paths {
		want[p] = pc.get(p)
	}
	check := func(when string, c *client, header ...string) {
		for _, p := range paths {
			got := c.do("GET", p, nil, header...)
			if got.status != http.StatusOK || got.body != want[p].body {
				line, w, g, _ := testenv.FirstDiff(want[p].body, got.body)
				t.Errorf("%s: GET %s: %d, differs from the site without the fleet at line %d:\n- %.200s\n+ %.200s", when, p, got.status, line, w, g)
			}
			if cc := got.header.Get("Cache-Control"); cc != want[p].header.Get("Cache-Control") || got.header.Get("Etag") != want[p].header.Get("Etag") {
				t.Errorf("%s: GET %s: Cache-Control %q ETag %q, want %q %q", when, p, cc, got.header.Get("Etag"),
					want[p].header.Get("Cache-Control"), want[p].header.Get("Etag"))
			}
			if strings.Contains(got.body, "web-1") || strings.Contains(got.body, `id="fleet"`) {
				t.Errorf("%s: GET %s shows fleet data", when, p)
			}
		}
	}
	check("before any admin", anon)
	for _, p := range paths {
		if r := admin.get(p); !strings.Contains(r.body, `id="fleet"`) {
			t.Fatalf("the admin's %s has no fleet section", p)
		}
	}
	check("after the admin's visits", anon)
	check("with a forged session cookie", anon, "Cookie", webguard.SessionCookie+"="+strings.Repeat("A", 43))
}

func TestFleetLogin(t *testing.T) {
	fs := newFleetSite(t)
	srv := httptest.NewServer(fs.site.Handler())
	defer srv.Close()
	c := newClient(t, srv)
	for p, login := range map[string]string{"/fleet": "/fleet/login", "/ko/fleet": "/ko/fleet/login", "/fleet/hosts/web-1": "/fleet/login"} {
		r := c.get(p)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != login {
			t.Errorf("GET %s without a session: %d to %q, want 303 to %s", p, r.status, r.header.Get("Location"), login)
		}
		if strings.Contains(r.body, "web-1") && p != "/fleet/hosts/web-1" {
			t.Errorf("GET %s without a session shows fleet data", p)
		}
	}
	r := c.get("/fleet/login")
	if r.status != http.StatusOK || !strings.Contains(r.body, `type="password"`) || r.header.Get("Cache-Control") != fleetCC ||
		!strings.Contains(r.header.Get("X-Robots-Tag"), "noindex") {
		t.Fatalf("GET /fleet/login: %d, Cache-Control %q", r.status, r.header.Get("Cache-Control"))
	}
	// A wrong token: 401 with the form again and no cookie.
	r = c.login(fleetAdminToken + "x")
	if r.status != http.StatusUnauthorized || r.header.Get("Set-Cookie") != "" || !strings.Contains(r.body, i18n.T(i18n.EN, "web.fleet.login.failed")) {
		t.Errorf("wrong token: %d, Set-Cookie %q", r.status, r.header.Get("Set-Cookie"))
	}
	// Cross-site posts are refused before the token is looked at.
	form := url.Values{"token": {fleetAdminToken}}
	for _, h := range [][]string{
		{"Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "null"},
	} {
		if r := c.post("/fleet/login", form, h...); r.status != http.StatusForbidden || r.header.Get("Set-Cookie") != "" {
			t.Errorf("login with %s: %s: %d, want 403 and no cookie", h[0], h[1], r.status)
		}
	}
	bare := c.do("POST", "/fleet/login", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	if bare.status != http.StatusForbidden {
		t.Errorf("login without Origin or Sec-Fetch-Site: %d, want 403", bare.status)
	}
	// An oversized form.
	big := url.Values{"token": {strings.Repeat("x", 10000)}}
	if r := c.post("/fleet/login", big); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 10 kB form: %d, want 413", r.status)
	}
	// The right token, from a browser that sends Sec-Fetch-Site.
	r = c.post("/fleet/login", form, "Origin", "", "Sec-Fetch-Site", "same-origin")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/fleet" {
		t.Fatalf("login: %d to %q, want 303 to /fleet", r.status, r.header.Get("Location"))
	}
	set := r.header.Get("Set-Cookie")
	cookie, err := http.ParseSetCookie(set)
	if err != nil {
		t.Fatalf("Set-Cookie %q: %v", set, err)
	}
	if cookie.Name != webguard.SessionCookie || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.Secure || cookie.Domain != "" {
		t.Errorf("Set-Cookie %q: want HttpOnly, SameSite=Strict, Path=/, no Domain, not Secure over plain HTTP", set)
	}
	if want := int(webguard.DefaultSessionTTL / time.Second); cookie.MaxAge != want || !cookie.Expires.IsZero() {
		t.Errorf("cookie Max-Age %d, Expires %v; want Max-Age %d (the browser's clock) and no Expires", cookie.MaxAge, cookie.Expires, want)
	}
	if len(cookie.Value) != 43 || strings.Contains(set, fleetAdminToken) {
		t.Errorf("session id %q: want 43 random characters, never the token", cookie.Value)
	}
	if fs.site.fleet.Sessions.Len() != 1 {
		t.Errorf("%d sessions held, want 1", fs.site.fleet.Sessions.Len())
	}
	r = c.get("/fleet")
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != fleetCC || r.header.Get("Etag") != "" {
		t.Fatalf("GET /fleet with the session: %d, Cache-Control %q, ETag %q", r.status, r.header.Get("Cache-Control"), r.header.Get("Etag"))
	}
	for _, h := range fs.fx.hosts {
		if !strings.Contains(r.body, `href="/fleet/hosts/`+h+`"`) {
			t.Errorf("/fleet does not link host %s", h)
		}
	}
	// Logged in, the login page sends to /fleet.
	if r := c.get("/ko/fleet/login"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/ko/fleet" {
		t.Errorf("GET /ko/fleet/login with a session: %d to %q", r.status, r.header.Get("Location"))
	}
	// Logout needs the same origin too, then ends the session.
	if r := c.do("POST", "/fleet/logout", nil, "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
		t.Errorf("cross-site logout: %d, want 403", r.status)
	}
	old := cookie.Value
	r = c.post("/fleet/logout", nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/fleet/login" || !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("logout: %d to %q, Set-Cookie %q", r.status, r.header.Get("Location"), r.header.Get("Set-Cookie"))
	}
	if r := c.do("GET", "/fleet", nil, "Cookie", webguard.SessionCookie+"="+old); r.status != http.StatusSeeOther {
		t.Errorf("GET /fleet with the logged-out session: %d, want 303", r.status)
	}
	// A session expires.
	c.login(fleetAdminToken)
	fs.clock.Advance(webguard.DefaultSessionTTL + time.Second)
	if r := c.get("/fleet"); r.status != http.StatusSeeOther {
		t.Errorf("GET /fleet after the session expired: %d, want 303", r.status)
	}
}

// TestFleetLoginThrottled: failed logins are throttled as the API's failed
// tokens are, and a throttled client is refused even with the right token.
func TestFleetLoginThrottled(t *testing.T) {
	fs := newFleetSite(t)
	srv := httptest.NewServer(fs.site.Handler())
	defer srv.Close()
	c := newClient(t, srv)
	for i := range webguard.DefaultFailuresPerClient {
		if r := c.login("wrong-" + strconv.Itoa(i)); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, r.status)
		}
	}
	r := c.login(fleetAdminToken)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || r.header.Get("Set-Cookie") != "" {
		t.Errorf("the right token after %d failures: %d, Retry-After %q, want 429 and no cookie", webguard.DefaultFailuresPerClient, r.status, r.header.Get("Retry-After"))
	}
	fs.clock.Advance(time.Minute)
	if r := c.login(fleetAdminToken); r.status != http.StatusSeeOther {
		t.Errorf("the right token a minute later: %d, want 303", r.status)
	}
}

// TestFleetPortSection: a logged-in admin's port page says how many of the
// inventory's hosts listen on the port, computed from what they reported,
// and lists them, in both languages; the page is private and unstored.
func TestFleetPortSection(t *testing.T) {
	fs := newFleetSite(t)
	srv := httptest.NewServer(fs.site.Handler())
	defer srv.Close()
	c := newClient(t, srv)
	c.login(fleetAdminToken)
	n, of := len(fs.fx.on), len(fs.fx.hosts)
	for _, tc := range []struct {
		path, want string
	}{
		{"/ports/2556", fmt.Sprintf("In your fleet: 2556 listens on %d of %d hosts.", n, of)},
		{"/ko/ports/2556", fmt.Sprintf("내 플릿에서: 포트 2556은 호스트 %d대 중 %d대에서 수신 대기 중입니다.", of, n)},
		{"/ports/9", fmt.Sprintf("In your fleet: 9 listens on none of %d hosts.", of)},
	} {
		r := c.get(tc.path)
		if r.status != http.StatusOK || !strings.Contains(r.body, "<p>"+tc.want+"</p>") {
			t.Errorf("GET %s: %d, want the sentence %q", tc.path, r.status, tc.want)
		}
		if r.header.Get("Cache-Control") != fleetCC || r.header.Get("Etag") != "" {
			t.Errorf("GET %s: Cache-Control %q, ETag %q; want %q and none", tc.path, r.header.Get("Cache-Control"), r.header.Get("Etag"), fleetCC)
		}
		if !strings.Contains(r.header.Get("Vary"), "Cookie") {
			t.Errorf("GET %s: Vary %q lacks Cookie", tc.path, r.header.Get("Vary"))
		}
	}
	r := c.get("/ports/2556")
	for _, h := range fs.fx.on {
		if !strings.Contains(r.body, `<a href="/fleet/hosts/`+h+`">`+h+`</a>`) {
			t.Errorf("/ports/2556 does not link host %s", h)
		}
	}
	if !strings.Contains(r.body, "/tmp/.x/miner") || strings.Contains(r.body, "/usr/sbin/nginx") {
		t.Error("/ports/2556 should list the miner and only it")
	}
	// The admin's If-None-Match with the public validator gets the whole
	// private page, not a 304 to the public one.
	pub := newClient(t, srv).get("/ports/2556")
	if r := c.do("GET", "/ports/2556", nil, "If-None-Match", pub.header.Get("Etag")); r.status != http.StatusOK || !strings.Contains(r.body, `id="fleet"`) {
		t.Errorf("admin with the public ETag: %d", r.status)
	}
	// Korean host links stay in Korean.
	if r := c.get("/ko/ports/2556"); !strings.Contains(r.body, `href="/ko/fleet/hosts/web-1"`) {
		t.Error("/ko/ports/2556 does not link /ko/fleet/hosts/web-1")
	}
	// A database that fails: the page still comes, with a note.
	fs.db.Close()
	if r := c.get("/ports/2556"); r.status != http.StatusOK || !strings.Contains(r.body, i18n.T(i18n.EN, "web.fleet.error")) {
		t.Errorf("closed inventory: %d, want the page with the error note", r.status)
	}
	if r := c.get("/fleet"); r.status != http.StatusServiceUnavailable {
		t.Errorf("GET /fleet on a closed inventory: %d, want 503", r.status)
	}
}

func TestFleetHostile(t *testing.T) {
	fs := newFleetSite(t)
	srv := httptest.NewServer(fs.site.Handler())
	defer srv.Close()
	c := newClient(t, srv)
	c.login(fleetAdminToken)
	for _, name := range []string{"%3Cscript%3Ealert(1)%3C%2Fscript%3E", "no-such-host", strings.Repeat("a", 64), "-web", "web-1%00", "..%2F..%2Fetc%2Fpasswd", "%E2%80%AEweb"} {
		r := c.get("/fleet/hosts/" + name)
		if r.status != http.StatusNotFound {
			t.Errorf("GET /fleet/hosts/%s: %d, want 404", name, r.status)
		}
		raw, _ := url.PathUnescape(name)
		if strings.Contains(r.body, raw) || strings.Contains(r.body, "alert(1)") {
			t.Errorf("GET /fleet/hosts/%s echoes the name", name)
		}
	}
	if r := c.get("/fleet/hosts/web-1"); r.status != http.StatusOK || !strings.Contains(r.body, "/tmp/.x/miner") || !strings.Contains(r.body, "known-bad-port") {
		t.Errorf("GET /fleet/hosts/web-1: %d, want its listeners and finding", r.status)
	}
	// Wrong methods and a login form that is not a form.
	if r := c.do("PUT", "/fleet/login", nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("PUT /fleet/login: %d, want 405", r.status)
	}
	if r := c.do("POST", "/fleet/login", strings.NewReader(`{"token":"`+fleetAdminToken+`"}`), "Content-Type", "application/json", "Origin", srv.URL); r.status != http.StatusUnauthorized {
		t.Errorf("a JSON login: %d, want 401", r.status)
	}
	if r := c.do("POST", "/fleet/login", strings.NewReader("token=%zz"), "Content-Type", "application/x-www-form-urlencoded", "Origin", srv.URL); r.status != http.StatusBadRequest {
		t.Errorf("a form that does not decode: %d, want 400", r.status)
	}
}

// TestFleetSecureCookie: over TLS the session cookie is Secure.
func TestFleetSecureCookie(t *testing.T) {
	fs := newFleetSite(t)
	srv := httptest.NewTLSServer(fs.site.Handler())
	defer srv.Close()
	c := newClient(t, srv)
	r := c.login(fleetAdminToken)
	cookie, err := http.ParseSetCookie(r.header.Get("Set-Cookie"))
	if r.status != http.StatusSeeOther || err != nil || !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login over TLS: %d, Set-Cookie %q (%v): want Secure, HttpOnly, SameSite=Strict", r.status, r.header.Get("Set-Cookie"), err)
	}
	// The Origin of a TLS site is https://.
	if r := c.post("/fleet/logout", nil, "Origin", strings.Replace(srv.URL, "https://", "http://", 1)); r.status != http.StatusForbidden {
		t.Errorf("logout with an http:// Origin on a TLS site: %d, want 403", r.status)
	}
}

// TestFleetGolden: /fleet and a host page, in English and Korean, on the
// fake clock.
func TestFleetGolden(t *testing.T) {
	fs := newFleetSite(t)
	srv := httptest.NewServer(fs.site.Handler())
	defer srv.Close()
	c := newClient(t, srv)
	c.login(fleetAdminToken)
	for path, golden := range map[string]string{
		"/fleet":                "fleet.en.html",
		"/ko/fleet":             "fleet.ko.html",
		"/fleet/hosts/web-1":    "fleet-host-web-1.en.html",
		"/ko/fleet/hosts/web-2": "fleet-host-web-2.ko.html",
		"/fleet/login":          "fleet-login.en.html",
	} {
		r := c.get(path)
		if path == "/fleet/login" {
			r = newClient(t, srv).get(path)
		}
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.status)
		}
		testenv.Golden(t, golden, r.body)
	}
	// What the golden pages must say, from the fixture.
	r := c.get("/fleet")
	want := fmt.Sprintf("%d hosts in the inventory, %d stale.", len(fs.fx.hosts), len(fs.fx.stale))
	if !strings.Contains(r.body, want) {
		t.Errorf("/fleet lacks %q", want)
	}
	for _, h := range fs.fx.stale {
		if !strings.Contains(r.body, `<a class="chip" href="/fleet/hosts/`+h+`">`) {
			t.Errorf("/fleet does not list stale host %s", h)
		}
	}
	if !bytes.Contains([]byte(r.body), []byte("tcp/2556")) {
		t.Error("/fleet does not show the outlier tcp/2556")
	}
}

// TestFleetLargeFleet: with more hosts than a page shows (fleetRows), /fleet
// and the port section list the first fleetRows and say where the API lists
// them all; the counts still cover every host.
func TestFleetLargeFleet(t *testing.T) {
	fs := newFleetSite(t)
	ctx := context.Background()
	extra := fleetRows + 20
	for i := range extra {
		name := fmt.Sprintf("node-%04d", i)
		if _, err := fs.db.Token(ctx, name, fleet.HashToken("token-of-"+name), fs.clock.Now()); err != nil {
			t.Fatal(err)
		}
		r := fleet.Report{Host: name, Agent: "run-" + name, Seq: 1, Kind: fleet.KindFull, Interval: 30 * time.Second,
			Listeners: []fleet.Listener{tcpListener("0.0.0.0", 22, 100+i, "root", "sshd", "/usr/sbin/sshd")}}
		if _, err := fs.db.Apply(ctx, r, fs.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(fs.site.Handler())
	defer srv.Close()
	c := newClient(t, srv)
	c.login(fleetAdminToken)
	all := len(fs.fx.hosts) + extra
	r := c.get("/fleet")
	if n := strings.Count(r.body, `<tr><td><a href="/fleet/hosts/`); r.status != http.StatusOK || n > fleetRows+fleetChanges {
		t.Errorf("GET /fleet: %d, %d host links in tables", r.status, n)
	}
	for _, want := range []string{
		fmt.Sprintf("%d hosts in the inventory", all),
		fmt.Sprintf("Showing the first %d of %d; /api/v1/fleet/hosts in the API lists them all.", fleetRows, all),
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/fleet lacks %q", want)
		}
	}
	if hosts := r.body[strings.Index(r.body, `id="hosts"`):]; strings.Contains(hosts, fmt.Sprintf(`href="/fleet/hosts/node-%04d"`, extra-1)) {
		t.Error("/fleet lists a host beyond the first rows")
	}
	p := c.get("/ports/22")
	for _, want := range []string{
		fmt.Sprintf("In your fleet: 22 listens on %d of %d hosts.", extra, all),
		fmt.Sprintf("Showing the first %d of %d; /api/v1/fleet/ports/22 in the API lists them all.", fleetRows, extra),
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("/ports/22 lacks %q", want)
		}
	}
	if n := strings.Count(p.body, `<tr><td><a href="/fleet/hosts/`); n != fleetRows {
		t.Errorf("/ports/22 lists %d hosts, want %d", n, fleetRows)
	}
}
