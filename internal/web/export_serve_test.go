package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/i18n"
)

// TestExportOnPlainServer serves an export with Python's http.server, a
// file server that knows nothing of porthole (no rewriting, no .html
// guessing), and crawls it from both home pages: every internal link on
// every page reached answers 200, except links to the port pages this
// partial export skipped, which must be pages of the full site. Every page
// has a .gz sibling that decompresses to the page.
func TestExportOnPlainServer(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set and python3 is missing")
		}
		t.Skip("python3 not found; the plain-server crawl needs it")
	}
	s := testSite(t, Options{Static: true, CacheBytes: -1, BaseURL: "https://porthole.example"})
	dir := filepath.Join(t.TempDir(), "site")
	if _, err := s.Export(context.Background(), dir, ExportOptions{Ports: func(p int) bool { return p >= 2550 && p <= 2560 || p == 22 || p == 65535 }}); err != nil {
		t.Fatal(err)
	}
	// A free loopback port for the server.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	l.Close()
	cmd := exec.Command(py, "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, port)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	base := "http://" + addr
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	fetch := func(u string) (int, []byte) {
		res, err := client.Get(base + u)
		if err != nil {
			return 0, nil
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	for i := 0; ; i++ {
		if code, _ := fetch("/robots.txt"); code == 200 {
			break
		}
		if i == 100 {
			t.Fatal("python3 -m http.server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	full := map[string]bool{}
	for _, p := range s.Paths(nil) {
		full[p] = true
	}
	seen := map[string]bool{"/": true, "/ko/": true}
	queue := []string{"/", "/ko/"}
	pages, links, skipped := 0, 0, 0
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		code, body := fetch(u)
		if code != 200 {
			t.Errorf("GET %s: %d", u, code)
			continue
		}
		pages++
		if !strings.HasSuffix(u, "/") && !strings.HasSuffix(u, ".html") {
			continue // an asset
		}
		file := u
		if strings.HasSuffix(u, "/") {
			file += "index.html"
		}
		gzCode, gz := fetch(file + ".gz")
		if zr, err := gzip.NewReader(bytes.NewReader(gz)); gzCode != 200 || err != nil {
			t.Errorf("%s.gz: %d %v", u, gzCode, err)
		} else if un, err := io.ReadAll(zr); err != nil || !bytes.Equal(un, body) {
			t.Errorf("%s.gz does not decompress to the page", u)
		}
		for _, m := range reLink.FindAllStringSubmatch(string(body), -1) {
			link, _, _ := strings.Cut(m[1], "#")
			if !strings.HasPrefix(link, "/") || seen[link] {
				continue
			}
			seen[link] = true
			links++
			if c, _ := fetch(link); c == 404 && strings.Contains(link, "/ports/") && !strings.Contains(link, "-") && full[link] {
				skipped++ // a port page this partial export left out
				continue
			}
			queue = append(queue, link)
		}
	}
	// Both languages: home, stats, 256 range pages, 13 ports; and the assets.
	if pages < 2*(2+256+13) || links < 500 {
		t.Errorf("crawled %d pages through %d distinct links (%d to skipped ports)", pages, links, skipped)
	}
	if skipped == 0 {
		t.Errorf("no link reached a skipped port page in %d pages", pages)
	}
}

// TestExportNoGzip: with NoGzip an export writes no .gz file at all.
func TestExportNoGzip(t *testing.T) {
	s := testSite(t, Options{Static: true, CacheBytes: -1})
	dir := filepath.Join(t.TempDir(), "site")
	res, err := s.Export(context.Background(), dir, ExportOptions{Langs: []i18n.Lang{i18n.EN}, Ports: func(p int) bool { return p == 80 }, NoGzip: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".gz") {
			t.Errorf("NoGzip export wrote %s", p)
		}
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil || res.Files+1 != n { // +1: the marker
		t.Errorf("%d files on disk, export reported %d (%v)", n, res.Files, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ports/80.html")); err != nil {
		t.Error(err)
	}
}
