package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/ports"
)

// ExportOptions tune Export.
type ExportOptions struct {
	// Langs are the languages to export; nil means all.
	Langs []i18n.Lang
	// Ports selects the port pages to write; nil writes all 65,536. Every
	// other page is always written, so links from them to skipped ports
	// are expected to dangle (the crawl test checks them against Paths).
	Ports func(port int) bool
	// Workers render in parallel; 0 means GOMAXPROCS.
	Workers int
	// Progress is called now and then with the pages written so far and
	// the total; it must be quick.
	Progress func(done, total int)
}

// ExportResult counts what Export wrote.
type ExportResult struct {
	Pages int // HTML pages
	Files int // every file, pages included
	// Written is how long rendering and writing took, until the export was
	// in place; removing a previous export comes after.
	Written time.Duration
}

// job is one page to render and write.
type job struct {
	lang i18n.Lang
	kind byte // 'p' port, 'r' range, 'h' home, 's' stats, 'n' 404
	a, b int
	file string
}

// Export writes the site as static files into dir: every page as
// PATH.html (the home pages as index.html), the sitemap, robots.txt and the
// assets under their hashed names. It writes into a temporary directory
// next to dir and renames it into place only when everything is written, so
// dir is never half-exported. The site must have been built with Static.
func (s *Site) Export(ctx context.Context, dir string, o ExportOptions) (ExportResult, error) {
	var res ExportResult
	if !s.opt.Static {
		return res, errors.New("export needs a site built with Options.Static")
	}
	start := time.Now()
	langs := o.Langs
	if langs == nil {
		langs = i18n.Langs
	}
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return res, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return res, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return res, err
	}
	var jobs []job
	for _, l := range langs {
		pre := strings.TrimPrefix(prefix(l), "/")
		sub := func(name string) string { return filepath.Join(tmp, pre, name) }
		for _, d := range []string{sub("ports")} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return res, err
			}
		}
		jobs = append(jobs, job{lang: l, kind: 'h', file: sub("index.html")}, job{lang: l, kind: 's', file: sub("stats.html")},
			job{lang: l, kind: 'n', file: sub("404.html")})
		for _, r := range ports.Ranges {
			for lo := r.Low; lo <= r.High; lo += rangePageSize {
				jobs = append(jobs, job{lang: l, kind: 'r', a: lo, b: r.High,
					file: sub("ports/" + strconv.Itoa(lo) + "-" + strconv.Itoa(r.High) + ".html")})
			}
		}
		for p := 0; p <= ports.Max; p++ {
			if o.Ports == nil || o.Ports(p) {
				jobs = append(jobs, job{lang: l, kind: 'p', a: p, file: sub("ports/" + strconv.Itoa(p) + ".html")})
			}
		}
	}
	workers := o.Workers
	if workers <= 0 {
		// More workers than CPUs: a worker waiting on the file system
		// leaves its CPU to another.
		workers = 4 * runtime.GOMAXPROCS(0)
	}
	var (
		next, done atomic.Int64
		firstErr   error
		errOnce    sync.Once
		wg         sync.WaitGroup
	)
	fail := func(err error) { errOnce.Do(func() { firstErr = err }) }
	total := len(jobs)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= total || ctx.Err() != nil {
					return
				}
				if err := s.exportPage(jobs[i]); err != nil {
					fail(err)
					next.Store(int64(total))
					return
				}
				if n := done.Add(1); o.Progress != nil && n%512 == 0 {
					o.Progress(int(n), total)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if o.Progress != nil {
		o.Progress(total, total)
	}
	res.Pages = total
	res.Files = total
	// The sitemap, robots.txt and the assets.
	extra := map[string][]byte{
		"robots.txt":  []byte(robots(s.opt.BaseURL)),
		"sitemap.xml": []byte(sitemapIndex(s.opt.BaseURL)),
	}
	for _, name := range sitemapNames() {
		if b, ok := s.sitemap(s.opt.BaseURL, name); ok {
			extra["sitemaps/"+name] = b
		}
	}
	for hashed, a := range assets().byHash {
		extra["static/"+hashed] = a.body
	}
	for name, b := range extra {
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return res, err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return res, err
		}
		res.Files++
	}
	// Swap the finished export into place; an older export is removed
	// only after the new one is there.
	var old string
	if _, err := os.Lstat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return res, fmt.Errorf("moving the previous export aside: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return res, err
	}
	ok = true
	res.Written = time.Since(start)
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return res, fmt.Errorf("removing the previous export: %w", err)
		}
	}
	return res, nil
}

func (s *Site) exportPage(j job) error {
	var (
		e   *entry
		err error
	)
	switch j.kind {
	case 'p':
		e, err = s.renderPort(context.Background(), j.lang, j.a, false)
	case 'r':
		e, err = s.renderRange(j.lang, j.a, j.b)
	case 'h':
		e, err = s.renderHome(j.lang)
	case 's':
		e, err = s.renderStats(j.lang)
	case 'n':
		var b []byte
		b, err = s.notFoundPage(j.lang, "")
		e = &entry{body: b}
	}
	if err != nil {
		return fmt.Errorf("rendering %s: %w", j.file, err)
	}
	return writeFile(j.file, e.body)
}

// Paths lists every page path the full site has (with language prefixes),
// as links name them: what an export writes when no port is skipped.
func (s *Site) Paths(langs []i18n.Lang) []string {
	if langs == nil {
		langs = i18n.Langs
	}
	var out []string
	for _, l := range langs {
		for _, p := range s.pagePaths() {
			out = append(out, prefix(l)+p)
		}
		for p := 0; p <= ports.Max; p++ {
			out = append(out, prefix(l)+"/ports/"+strconv.Itoa(p))
		}
	}
	return out
}

// ExportFile maps a link path of the site to the file an export writes for
// it: "/" is index.html, "/ko/" ko/index.html, "/ports/80" ports/80.html.
func ExportFile(path string) string {
	if strings.HasSuffix(path, "/") {
		return strings.TrimPrefix(path, "/") + "index.html"
	}
	if strings.HasPrefix(path, "/static/") || strings.HasSuffix(path, ".xml") || strings.HasSuffix(path, ".txt") {
		return strings.TrimPrefix(path, "/")
	}
	return strings.TrimPrefix(path, "/") + ".html"
}

// pathError is an fs.PathError without importing io/fs into the
// per-system files.
type pathError = fs.PathError
