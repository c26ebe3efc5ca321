package web

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
	// A previous, wider export, with files of the user's added to it.
	first, err := s.Export(context.Background(), dir, ExportOptions{Ports: func(p int) bool { return p >= 2540 && p <= 2560 }})
	if err != nil || first.InPlace {
		t.Fatalf("first export: %v (in place %v)", err, first.InPlace)
	}
	for _, f := range []string{"notes.txt", "ports/mine.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
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
	if !res.InPlace || res.Removed != 2*10*2 {
		t.Errorf("in place %v, removed %d files; want 40 (2540-2549 in two languages, each with its .gz)", res.InPlace, res.Removed)
	}
	if _, err := os.Stat(filepath.Join(dir, "ports/2545.html")); !os.IsNotExist(err) {
		t.Errorf("a page of the previous export that this one lacks is still there")
	}
	for _, f := range []string{"notes.txt", "ports/mine.txt"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || string(b) != "mine" {
			t.Errorf("the user's %s was touched: %q, %v", f, b, err)
		}
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

// TestExportNeverDestroys: export refuses what is not its own, and says how
// to proceed; the refused targets are left exactly as they were.
func TestExportNeverDestroys(t *testing.T) {
	s := testSite(t, Options{Static: true, CacheBytes: -1})
	opt := ExportOptions{Langs: []i18n.Lang{i18n.EN}, Ports: func(p int) bool { return p == 1 }}
	root := t.TempDir()
	mk := func(name, body string) string {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	notes := mk("d/notes.txt", "x")
	file := mk("file", "keep")
	if err := os.Symlink(filepath.Join(root, "d"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	victim := mk("victim.txt", "keep")
	mk("hostile/"+ExportMarker, exportMagic+"\nfile: ../victim.txt\n")
	mk("hostile/index.html", "old")
	mk("garbled/"+ExportMarker, "not a marker\n")
	for _, tc := range []struct{ dir, want string }{
		{filepath.Join(root, "d"), "not empty and has no " + ExportMarker},
		{file, "is a file"},
		{filepath.Join(root, "link"), "symbolic link"},
		{filepath.Join(root, "hostile"), `"../victim.txt" is not a file inside the export`},
		{filepath.Join(root, "garbled"), ExportMarker + ":1: the first line"},
	} {
		_, err := s.Export(context.Background(), tc.dir, opt)
		if !errors.Is(err, ErrExportRefused) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was written") {
			t.Errorf("Export(%s) = %v; want a refusal saying %q", tc.dir, err, tc.want)
		}
	}
	for p, want := range map[string]string{notes: "x", file: "keep", victim: "keep", filepath.Join(root, "hostile/index.html"): "old"} {
		if b, err := os.ReadFile(p); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want it untouched", p, b, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "d")); len(ents) != 1 {
		t.Errorf("the refused directory has %d entries, want its one file", len(ents))
	}
	if ents, _ := os.ReadDir(root); len(ents) != 6 {
		t.Errorf("export left temporary files beside the refused targets: %d entries", len(ents))
	}
}

// TestExportInPlace: "export ." in an empty working directory, then again
// over its own export (renaming the working directory used to fail with
// EBUSY); a file of the user's added in between stays.
func TestExportInPlace(t *testing.T) {
	s := testSite(t, Options{Static: true, CacheBytes: -1})
	dir := t.TempDir()
	t.Chdir(dir)
	for i, ports := range []int{1, 2} {
		opt := ExportOptions{Langs: []i18n.Lang{i18n.EN}, Ports: func(p int) bool { return p == ports }}
		res, err := s.Export(context.Background(), ".", opt)
		if err != nil || !res.InPlace {
			t.Fatalf("export %d of .: %v (in place %v)", i+1, err, res.InPlace)
		}
		if i == 0 {
			if err := os.WriteFile("CNAME", []byte("ports.example"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := os.Stat("ports/2.html"); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat("ports/1.html"); !os.IsNotExist(err) {
		t.Errorf("ports/1.html of the first export survived the second: %v", err)
	}
	if b, err := os.ReadFile("CNAME"); err != nil || string(b) != "ports.example" {
		t.Errorf("the user's CNAME: %q, %v", b, err)
	}
	b, err := os.ReadFile(ExportMarker)
	if err != nil {
		t.Fatal(err)
	}
	files, err := parseMarker(b)
	if err != nil || !strings.Contains(string(b), "complete: yes") || !slices.Contains(files, "ports/2.html") || slices.Contains(files, "CNAME") {
		t.Errorf("marker: %v\n%.300s", err, b)
	}
	// A symbolic link where a page of ours belongs is not written through.
	target := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove("ports/2.html")
	if err := os.Symlink(target, "ports/2.html"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Export(context.Background(), ".", ExportOptions{Langs: []i18n.Lang{i18n.EN}, Ports: func(p int) bool { return p == 2 }}); err == nil {
		t.Errorf("export wrote through a symbolic link")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the link's target was overwritten: %q", b)
	}
}

func FuzzParseMarker(f *testing.F) {
	f.Add([]byte(exportMagic + "\nversion: dev\nfile: index.html\nfile: ports/1.html\n"))
	f.Add([]byte(exportMagic + "\nfile: ../x\n"))
	f.Add([]byte("nope"))
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := parseMarker(b)
		if err != nil {
			return
		}
		for _, name := range files {
			if !filepath.IsLocal(filepath.FromSlash(name)) || name == ExportMarker {
				t.Fatalf("accepted %q", name)
			}
		}
	})
}
