package web

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/i18n"
)

var (
	reLink = regexp.MustCompile(`(?:href|src)="([^"]*)"`)
	reID   = regexp.MustCompile(`\sid="([^"]*)"`)
)

// TestExportLinks exports the site with the port pages of 2550–2560 only,
// then crawls every file written: each internal link must name a file of
// the export, or a port page of the full site that this partial export
// skipped; each same-page fragment must name an element.
func TestExportLinks(t *testing.T) {
	s := testSite(t, Options{Static: true, CacheBytes: -1, BaseURL: "https://porthole.example"})
	dir := filepath.Join(t.TempDir(), "site")
	if err := os.MkdirAll(filepath.Join(dir, "stale"), 0o755); err != nil {
		t.Fatal(err)
	}
	calls := 0
	res, err := s.Export(context.Background(), dir, ExportOptions{
		Ports:    func(p int) bool { return p >= 2550 && p <= 2560 },
		Progress: func(done, total int) { calls++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Errorf("Progress was never called")
	}
	if _, err := os.Stat(filepath.Join(dir, "stale")); !os.IsNotExist(err) {
		t.Errorf("the previous export was not replaced")
	}
	full := map[string]bool{}
	for _, p := range s.Paths(nil) {
		full[p] = true
	}
	pages, links := 0, 0
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return err
		}
		pages++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		body := string(b)
		ids := map[string]bool{}
		for _, m := range reID.FindAllStringSubmatch(body, -1) {
			ids[m[1]] = true
		}
		rel, _ := filepath.Rel(dir, path)
		for _, m := range reLink.FindAllStringSubmatch(body, -1) {
			u := m[1]
			switch {
			case strings.HasPrefix(u, "#"):
				if !ids[u[1:]] {
					t.Errorf("%s: fragment %s names no element", rel, u)
				}
				continue
			case !strings.HasPrefix(u, "/"):
				continue // external
			}
			links++
			u, _, _ = strings.Cut(u, "#")
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(ExportFile(u)))); err == nil {
				continue
			}
			if strings.Contains(u, "/ports/") && !strings.Contains(u, "-") && full[u] {
				continue // a port page this partial export skipped
			}
			t.Errorf("%s: broken link %s", rel, u)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 2 languages × (home, stats, 404, 256 range pages, 11 ports).
	if want := 2 * (3 + 256 + 11); pages != want || res.Pages != want {
		t.Errorf("crawled %d pages, export reported %d, want %d", pages, res.Pages, want)
	}
	if links < 1000 {
		t.Errorf("only %d internal links checked", links)
	}
	for _, f := range []string{"sitemap.xml", "sitemaps/en-0.xml", "sitemaps/ko-1.xml", "robots.txt", "ko/index.html", "ports/2556.html", "ko/ports/2556.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("export lacks %s", f)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "ports/2556.html"))
	if strings.Contains(string(b), "<form") {
		t.Errorf("a static page has a form, but there is no server to post to")
	}
}

func TestExportNeedsStatic(t *testing.T) {
	s := testSite(t, Options{})
	if _, err := s.Export(context.Background(), t.TempDir(), ExportOptions{Langs: []i18n.Lang{i18n.EN}}); err == nil {
		t.Errorf("Export of a non-static site succeeded")
	}
}
