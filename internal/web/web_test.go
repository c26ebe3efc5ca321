package web

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/process"
	"github.com/porthole/porthole/internal/sockets"
	"github.com/porthole/porthole/internal/testenv"
)

type resp struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, h http.Handler, path string, hdr ...string) resp {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return resp{rec.Code, rec.Result().Header, string(b)}
}

func TestRoutes(t *testing.T) {
	h := testSite(t, Options{}).Handler()
	for _, tc := range []struct {
		path, ctype string
		status      int
		want        []string
	}{
		{"/", htmlType, 200, []string{`<html lang="en">`, `hreflang="ko" href="/ko/"`, `class="portmap"`, "48,128", `href="/ports/2556"`}},
		{"/ko/", htmlType, 200, []string{`<html lang="ko">`, "포트 65,536개 지도", `hreflang="en" href="/"`}},
		{"/ports/2556", htmlType, 200, []string{"<h1>Port 2556: nicetec-nmsvc — a registration with an empty record, once a worm&#39;s backdoor</h1>",
			`id="what"`, `id="threats"`, `id="uses"`, `id="check"`, `id="context"`, `id="neighbours"`, `id="sources"`, `id="feedback"`,
			`name="rating" value="unhelpful"`, `action="/feedback"`, "porthole who 2556", `hreflang="ko" href="/ko/ports/2556"`}},
		{"/ko/ports/2556", htmlType, 200, []string{`<html lang="ko">`, "포트 2556: nicetec-nmsvc — 기록이 비어 있는 등록, 한때 웜의 백도어", "이 페이지가 도움이 되었나요?"}},
		{"/ports/0", htmlType, 200, []string{"Port 0"}},
		{"/ports/65535", htmlType, 200, []string{"Port 65535", "dynamic"}},
		{"/ports/0-1023", htmlType, 200, []string{`href="/ports/255"`, `rel="next" href="/ports/256-1023"`}},
		{"/ports/256-1023", htmlType, 200, []string{`rel="prev" href="/ports/0-1023"`}},
		{"/ports/6000-6063", htmlType, 200, []string{"x11"}},
		{"/ko/ports/49152-65535", htmlType, 200, []string{"동적"}},
		{"/search?q=nicetec", htmlType, 200, []string{"nicetec-nmsvc", `value="nicetec"`}},
		{"/search?q=bagle", htmlType, 200, []string{"Bagle"}},
		{"/search", htmlType, 200, []string{"Type a port number"}},
		{"/ko/search?q=ssh", htmlType, 200, []string{"ssh"}},
		{"/stats", htmlType, 200, []string{"48,128", `class="chart"`, "Ghosts"}},
		{"/ko/stats", htmlType, 200, []string{"레지스트리 통계"}},
		{"/api/v1/ports/2556", jsonType, 200, []string{`"port": 2556`, `"ghost": true`}},
		{"/api/v1/search?q=ssh", jsonType, 200, []string{`"name": "ssh"`}},
		{"/api/v1/search", jsonType, 400, []string{"missing q"}},
		{"/api/v1/ports/70000", jsonType, 404, []string{"error"}},
		{"/healthz", "text/plain; charset=utf-8", 200, []string{"ok"}},
		{"/robots.txt", "text/plain; charset=utf-8", 200, []string{"Disallow: /api/\n"}},
		{"/sitemap.xml", "application/xml; charset=utf-8", 200, []string{"<loc>/sitemaps/ko-1.xml</loc>"}},
		{"/sitemaps/ko-1.xml", "application/xml; charset=utf-8", 200, []string{"<loc>/ko/ports/65535</loc>", `hreflang="en" href="/ports/65535"`}},
		{"/sitemaps/ko-2.xml", "text/plain; charset=utf-8", 404, nil},
		{"/local", htmlType, 404, nil},
		{"/nope", htmlType, 404, []string{"Page not found"}},
		{"/ko/nope", htmlType, 404, []string{"페이지를 찾을 수 없습니다"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := get(t, h, tc.path)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if got := r.header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("body lacks %q", w)
				}
			}
			if strings.HasPrefix(tc.ctype, "text/html") {
				checkPage(t, r.body)
			}
		})
	}
}

var (
	reInlineScript = regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`)
	reStyle        = regexp.MustCompile(`<style|\sstyle=|\son[a-z]+=`)
	reMissingKey   = regexp.MustCompile(`\[(?:web|section|what|field|threats|uses|check|context|here|neighbours|source|range|status|kind|verdict|tail|use|title)\.[a-z0-9.\-]+\]`)
)

// checkPage holds every page to the site's rules: no inline script or style
// (a strict CSP must work), no untranslated key, a language and a title.
func checkPage(t *testing.T, body string) {
	t.Helper()
	if reInlineScript.MatchString(body) || reStyle.MatchString(body) {
		t.Errorf("page has inline script, style or event handler")
	}
	if m := reMissingKey.FindString(body); m != "" {
		t.Errorf("page shows a missing catalog key %s", m)
	}
	if !strings.Contains(body, "<html lang=") || !strings.Contains(body, "<title>") {
		t.Errorf("page lacks <html lang> or <title>")
	}
}

func TestNotFound(t *testing.T) {
	h := testSite(t, Options{}).Handler()
	for _, tc := range []struct{ path, want string }{
		{"/ports/65536", "There is no port 65536"},
		{"/ports/-1", "There is no port -1"},
		{"/ports/abc", "is not a port number"},
		{"/ports/http", "Perhaps you meant"},
		{"/ports/99999999999999999999", "is not a port number"},
		{"/ports/10-5", "is not a port number"},
		{"/ports/1-65536", "is not a port number"},
		{"/ports/1-", "is not a port number"},
		{"/ports/%20", "is not a port number"},
		{"/ko/ports/65536", "포트 65536은 없습니다"},
		{"/ko/ports/abc", "포트 번호가 아닌 값입니다"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := get(t, h, tc.path)
			if r.status != http.StatusNotFound {
				t.Fatalf("status %d, want 404", r.status)
			}
			if !strings.Contains(r.body, tc.want) {
				t.Errorf("body lacks %q", tc.want)
			}
			if !strings.Contains(r.body, `id="q2"`) {
				t.Errorf("404 page lacks the search box")
			}
			checkPage(t, r.body)
		})
	}
}

func TestRedirects(t *testing.T) {
	h := testSite(t, Options{}).Handler()
	for _, tc := range []struct {
		path, lang, loc string
		status          int
	}{
		{"/ports/080", "", "/ports/80", 301},
		{"/ports/00000000000000080", "", "/ports/80", 301}, // as porthole 00000000000000080 reads it
		{"/ports/00", "", "/ports/0", 301},
		{"/ko/ports/0443", "", "/ko/ports/443", 301},
		{"/ports/0000-1023", "", "/ports/0-1023", 301},
		{"/api/v1/ports/022", "", "/api/v1/ports/22", 301},
		{"/ko", "", "/ko/", 301},
		{"/", "ko-KR,ko;q=0.9,en;q=0.8", "/ko/", 302},
		{"/", "en-US,en;q=0.9,ko;q=0.5", "", 200},
		{"/", "fr, de;q=0.5", "", 200},
		{"/ports/80", "ko", "", 200},
		{"/stats", "ko", "", 200},
		{"/search?q=2556", "", "/ports/2556", 302},
		{"/search?q=tcp/443", "", "/ports/443", 302},
		{"/ko/search?q=22", "", "/ko/ports/22", 302},
	} {
		t.Run(tc.path+" "+tc.lang, func(t *testing.T) {
			r := get(t, h, tc.path, "Accept-Language", tc.lang)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if got := r.header.Get("Location"); got != tc.loc {
				t.Errorf("Location %q, want %q", got, tc.loc)
			}
		})
	}
	if r := get(t, h, "/"); !strings.Contains(r.header.Get("Vary"), "Accept-Language") {
		t.Errorf("/ lacks Vary: Accept-Language")
	}
}

func TestETag(t *testing.T) {
	h := testSite(t, Options{}).Handler()
	for _, path := range []string{"/ports/2556", "/ko/ports/2556", "/", "/stats", "/ports/0-1023", "/api/v1/ports/2556"} {
		t.Run(path, func(t *testing.T) {
			r := get(t, h, path)
			etag := r.header.Get("ETag")
			if r.status != 200 || !strings.HasPrefix(etag, `"`) {
				t.Fatalf("status %d, ETag %q", r.status, etag)
			}
			if cc := r.header.Get("Cache-Control"); cc != "public, max-age=300" {
				t.Errorf("Cache-Control %q", cc)
			}
			r2 := get(t, h, path, "If-None-Match", etag)
			if r2.status != http.StatusNotModified || r2.body != "" {
				t.Errorf("If-None-Match: status %d with %d bytes, want 304 and none", r2.status, len(r2.body))
			}
			if r3 := get(t, h, path, "If-None-Match", `"other", W/`+etag); r3.status != http.StatusNotModified {
				t.Errorf("If-None-Match with a list: status %d", r3.status)
			}
			if r4 := get(t, h, path, "If-None-Match", `"stale"`); r4.status != 200 || r4.body != r.body {
				t.Errorf("stale If-None-Match: status %d", r4.status)
			}
		})
	}
}

func TestStaticAssets(t *testing.T) {
	h := testSite(t, Options{}).Handler()
	page := get(t, h, "/ports/2556").body
	urls := regexp.MustCompile(`/static/app\.[0-9a-f]{10}\.(?:css|js)`).FindAllString(page, -1)
	if len(urls) != 2 {
		t.Fatalf("page names %d hashed assets (%v), want 2", len(urls), urls)
	}
	for _, u := range urls {
		r := get(t, h, u)
		if r.status != 200 || r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: status %d, Cache-Control %q", u, r.status, r.header.Get("Cache-Control"))
		}
		if r2 := get(t, h, u, "If-None-Match", r.header.Get("ETag")); r2.status != 304 {
			t.Errorf("%s: revalidation status %d", u, r2.status)
		}
	}
	if r := get(t, h, "/static/app.0000000000.css"); r.status != 404 {
		t.Errorf("unknown asset: status %d", r.status)
	}
}

func fakeListeners(_ context.Context, low, high int) ([]sockets.Listener, error) {
	all := []sockets.Listener{
		{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("127.0.0.1"), Port: 2556, UID: 1000,
			Owners: []process.Info{{PID: 4242, Name: "bagle-test", Exe: "/tmp/bagle-test", ExeDeleted: true, User: "alice"}}},
		{Proto: ports.UDP, Family: 6, Addr: netip.MustParseAddr("::"), Port: 5353, UID: -1, OwnerUnknown: sockets.OwnerNotRoot},
	}
	var out []sockets.Listener
	for _, l := range all {
		if low == AllPorts || l.Port >= low && l.Port <= high {
			out = append(out, l)
		}
	}
	return out, nil
}

func TestLocal(t *testing.T) {
	h := testSite(t, Options{Local: true, Listeners: fakeListeners, EphemeralLow: 32768, EphemeralHigh: 60999}).Handler()
	r := get(t, h, "/ports/2556")
	for _, w := range []string{`id="here"`, "bagle-test", "4242", "alice", "/tmp/bagle-test", "deleted", "2556 lies outside that range"} {
		if !strings.Contains(r.body, w) {
			t.Errorf("port page lacks %q", w)
		}
	}
	if cc := r.header.Get("Cache-Control"); cc != localCacheControl {
		t.Errorf("local page Cache-Control %q", cc)
	}
	if r := get(t, h, "/ports/22"); !strings.Contains(r.body, "Nothing listens on tcp or udp 22 here.") {
		t.Errorf("port 22 lacks the nothing-listens sentence")
	}
	r = get(t, h, "/local")
	if r.status != 200 || !strings.Contains(r.body, "bagle-test") || !strings.Contains(r.body, "owner not visible") {
		t.Errorf("/local: status %d, body lacks a listener", r.status)
	}
	if !strings.Contains(get(t, h, "/").body, `href="/local"`) {
		t.Errorf("home page lacks the link to /local")
	}
	if r := get(t, h, "/api/v1/ports/2556"); !strings.Contains(r.body, `"ephemeral"`) {
		t.Errorf("local API lacks the ephemeral range")
	}
	// Without local mode there is no local section at all.
	h = testSite(t, Options{Listeners: fakeListeners}).Handler()
	if r := get(t, h, "/ports/2556"); strings.Contains(r.body, `id="here"`) || strings.Contains(r.body, "bagle-test") {
		t.Errorf("non-local page shows the local section")
	}
}

func TestAPIIsDossier(t *testing.T) {
	s := testSite(t, Options{})
	h := s.Handler()
	for _, p := range []int{0, 22, 80, 2556, 6000, 49152, 65535} {
		r := get(t, h, "/api/v1/ports/"+itoa(p))
		var got dossier.Dossier
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatal(err)
		}
		want, _ := marshalJSON(dossier.Build(p, s.sources()))
		if r.body != string(want) {
			t.Errorf("port %d: API differs from the dossier's JSON", p)
		}
	}
}

func itoa(n int) string { return jsonInt(n) }

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestGolden pins the HTML of the model page in both languages, the home
// page and the API JSON. Regenerate with go test ./internal/web -update.
func TestGolden(t *testing.T) {
	h := testSite(t, Options{BaseURL: "https://porthole.example"}).Handler()
	for _, tc := range []struct{ path, file string }{
		{"/ports/2556", "port-2556.en.html"},
		{"/ko/ports/2556", "port-2556.ko.html"},
		{"/", "home.en.html"},
		{"/api/v1/ports/2556", "api-2556.json"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := get(t, h, tc.path).body
			golden(t, tc.file, got)
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	// Asset hashes change with every stylesheet edit; the golden files
	// pin the markup.
	got = regexp.MustCompile(`/static/([a-z]+)\.[0-9a-f]{10}\.`).ReplaceAllString(got, "/static/$1.HASH.")
	testenv.Golden(t, name, got)
}

func TestPreferredLang(t *testing.T) {
	for h, want := range map[string]string{
		"": "en", "ko": "ko", "ko-KR": "ko", "en;q=0.5, ko;q=0.8": "ko", "ko;q=0, en": "en", "*": "en", "ko;q=bad": "en",
	} {
		if got := string(preferredLang(h)); got != want {
			t.Errorf("preferredLang(%q) = %s, want %s", h, got, want)
		}
	}
}

func TestFeedbackMounted(t *testing.T) {
	fb := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	h := testSite(t, Options{Feedback: fb}).Handler()
	for _, tc := range []struct{ method, path string }{{"POST", "/feedback"}, {"POST", "/api/v1/feedback"}, {"GET", "/admin/feedback"}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader("")))
		if rec.Code != 299 {
			t.Errorf("%s %s: status %d, want the feedback handler's", tc.method, tc.path, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	testSite(t, Options{}).Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/feedback", nil))
	if rec.Code == 299 || rec.Code == 200 {
		t.Errorf("POST /feedback without a handler: status %d", rec.Code)
	}
}

func TestSearchKorean(t *testing.T) {
	h := testSite(t, Options{}).Handler()
	r := get(t, h, "/ko/search?q=1-3")
	if r.status != 200 || !strings.Contains(r.body, "(예약됨)") || strings.Contains(r.body, "(reserved)") {
		t.Errorf("a Korean search lists an unnamed reserved row untranslated (status %d)", r.status)
	}
	checkPage(t, r.body)
}

// TestLocalPortZero: the page of port 0 lists what holds port 0 (nothing
// can), not every listener, with the real socket lister.
func TestLocalPortZero(t *testing.T) {
	testenv.NeedLinux(t) // the real socket lister is tested on Linux
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	mine := ">" + itoa(l.Addr().(*net.TCPAddr).Port) + "<" // the port, as a table cell shows it
	h := testSite(t, Options{Local: true}).Handler()
	if r := get(t, h, "/local"); !strings.Contains(r.body, mine) {
		t.Fatalf("/local lacks our listener %s", mine)
	}
	if r := get(t, h, "/ports/0"); strings.Contains(r.body, mine) || !strings.Contains(r.body, "Nothing listens on tcp or udp 0 here.") {
		t.Errorf("the port 0 page lists other ports' listeners")
	}
}
