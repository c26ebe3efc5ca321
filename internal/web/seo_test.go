package web

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

var (
	reCanonical = regexp.MustCompile(`<link rel="canonical" href="([^"]*)">`)
	reHreflang  = regexp.MustCompile(`<link rel="alternate" hreflang="([^"]*)" href="([^"]*)">`)
	reMeta      = regexp.MustCompile(`<meta (?:name|property)="([^"]*)" content="([^"]*)">`)
	reTitle     = regexp.MustCompile(`<title>(.*) · porthole</title>`)
)

// TestHeadLinks checks the head of each kind of page, with and without
// --base-url: canonical and hreflang links absolute from the base URL (and
// root-relative without one), every language and x-default present, a
// meta description and OpenGraph title and description that match the
// page, og:url only when it can be absolute.
func TestHeadLinks(t *testing.T) {
	for _, base := range []string{"", "https://porthole.example"} {
		h := testSite(t, Options{BaseURL: base}).Handler()
		for _, tc := range []struct{ path, self, en, ko string }{
			{"/ports/2556", "/ports/2556", "/ports/2556", "/ko/ports/2556"},
			{"/ko/ports/2556", "/ko/ports/2556", "/ports/2556", "/ko/ports/2556"},
			{"/", "/", "/", "/ko/"},
			{"/ko/", "/ko/", "/", "/ko/"},
			{"/stats", "/stats", "/stats", "/ko/stats"},
			{"/ports/0-1023", "/ports/0-1023", "/ports/0-1023", "/ko/ports/0-1023"},
			{"/ko/ports/6000", "/ko/ports/6000", "/ports/6000", "/ko/ports/6000"},
		} {
			r := get(t, h, tc.path)
			if r.status != 200 {
				t.Fatalf("%s: status %d", tc.path, r.status)
			}
			if m := reCanonical.FindStringSubmatch(r.body); m == nil || m[1] != base+tc.self {
				t.Errorf("base %q %s: canonical %v, want %s", base, tc.path, m, base+tc.self)
			}
			alt := map[string]string{}
			for _, m := range reHreflang.FindAllStringSubmatch(r.body, -1) {
				alt[m[1]] = m[2]
			}
			for lang, want := range map[string]string{"en": tc.en, "ko": tc.ko, "x-default": tc.en} {
				if alt[lang] != base+want {
					t.Errorf("base %q %s: hreflang %s is %q, want %q", base, tc.path, lang, alt[lang], base+want)
				}
			}
			meta := map[string]string{}
			for _, m := range reMeta.FindAllStringSubmatch(r.body, -1) {
				meta[m[1]] = html.UnescapeString(m[2])
			}
			title := html.UnescapeString(reTitle.FindStringSubmatch(r.body)[1])
			if meta["og:title"] != title {
				t.Errorf("%s: og:title %q, title %q", tc.path, meta["og:title"], title)
			}
			if d := meta["description"]; len(d) < 50 || meta["og:description"] != d {
				t.Errorf("%s: description %q, og:description %q", tc.path, d, meta["og:description"])
			}
			if strings.Contains(tc.path, "/ports/") && !strings.Contains(tc.path, "-") && !strings.HasPrefix(meta["description"], title+". ") {
				t.Errorf("%s: the description %q does not open with the verdict %q", tc.path, meta["description"], title)
			}
			if u, ok := meta["og:url"]; (base != "") != ok || (ok && u != base+tc.self) {
				t.Errorf("base %q %s: og:url %q (present %v)", base, tc.path, u, ok)
			}
		}
	}
}
