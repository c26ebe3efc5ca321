package web

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/porthole/porthole/internal/testenv"
)

// getHost fetches path from a real server with a forged Host header.
func getHost(t *testing.T, srv *httptest.Server, host, path string) (int, string) {
	t.Helper()
	resp, body := testenv.RawHTTP(t, srv.Listener.Addr().String(), "GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
	return resp.StatusCode, body
}

// robots.txt and the sitemap never repeat the request's Host: without a
// base URL they hold no absolute URL at all.
func TestSitemapIgnoresHost(t *testing.T) {
	for _, base := range []string{"", "https://ports.example"} {
		srv := httptest.NewServer(testSite(t, Options{BaseURL: base, CacheBytes: -1}).Handler())
		for _, path := range []string{"/robots.txt", "/sitemap.xml", "/sitemaps/en-0.xml"} {
			code, body := getHost(t, srv, "evil.example", path)
			if code != 200 {
				t.Fatalf("base %q, %s: status %d", base, path, code)
			}
			if strings.Contains(body, "evil") {
				t.Errorf("base %q, %s reflects the Host header", base, path)
			}
			if base == "" && (strings.Contains(body, "<loc>http") || strings.Contains(body, `href="http`) ||
				strings.Contains(body, "Sitemap: http")) {
				t.Errorf("%s without a base URL holds an absolute URL:\n%.300s", path, body)
			}
			if base != "" && !strings.Contains(body, base+"/") {
				t.Errorf("base %q, %s lacks the base URL", base, path)
			}
		}
		_, robots := getHost(t, srv, "evil.example", "/robots.txt")
		if hasSitemap := strings.Contains(robots, "Sitemap:"); hasSitemap != (base != "") {
			t.Errorf("base %q: robots.txt Sitemap line present = %v:\n%s", base, hasSitemap, robots)
		}
		_, index := getHost(t, srv, "evil.example", "/sitemap.xml")
		if base == "" && !strings.Contains(index, "<loc>/sitemaps/en-0.xml</loc>") {
			t.Errorf("sitemap index without a base URL:\n%.300s", index)
		}
		srv.Close()
	}
}

// Invalid UTF-8 in q is never reflected raw, and a long query is cut on a
// character boundary.
func TestSearchQueryUTF8(t *testing.T) {
	h := testSite(t, Options{}).Handler()
	korean := strings.Repeat("한", 100) // 300 bytes
	for _, q := range []string{"ssh\xff\xfe", korean, "a" + korean, "ab" + korean, "\xe2\x82"} {
		r := get(t, h, "/search?q="+url.QueryEscape(q))
		if r.status != 200 {
			t.Fatalf("q %q: status %d", q, r.status)
		}
		if !utf8.ValidString(r.body) {
			t.Errorf("q %q: the page is not valid UTF-8", q)
		}
		if strings.Contains(q, "\xff") && !strings.Contains(r.body, "value=\"ssh\uFFFD\"") {
			t.Errorf("q %q: the invalid bytes are not shown as U+FFFD", q)
		}
	}
	r := get(t, h, "/search?q="+url.QueryEscape("a"+korean))
	want := "a" + strings.Repeat("한", 66) // 199 bytes; one more would be 202
	if !strings.Contains(r.body, `value="`+want+`"`) {
		t.Errorf("the 200-byte cut of a Korean query is not %d characters", utf8.RuneCountInString(want))
	}
	if r := get(t, h, "/api/v1/search?q="+url.QueryEscape("ssh\xff")); r.status != 400 || !strings.Contains(r.body, "UTF-8") {
		t.Errorf("API with invalid UTF-8: %d %s", r.status, r.body)
	}
}
