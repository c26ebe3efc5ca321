package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
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
	// Version is the program version, recorded in the ExportMarker.
	Version string
	// NoGzip leaves out the gzip-compressed copy (PATH.html.gz) written
	// beside every page, sitemap and asset for servers that send those
	// (nginx gzip_static, Caddy precompressed); it roughly triples the CPU
	// time of an export.
	NoGzip bool
}

// ExportResult counts what Export wrote.
type ExportResult struct {
	Pages int // HTML pages
	Files int // every file, pages included
	// Removed counts the files of a previous export that this one no
	// longer has (a narrower --range, a language left out).
	Removed int
	// InPlace is true when an existing directory (empty, or a previous
	// export) was updated file by file rather than renamed into place.
	InPlace bool
	// Written is how long rendering and writing took.
	Written time.Duration
}

// ExportMarker is the file every export writes at its top: it says that the
// directory is a porthole export and lists the files it wrote, which are
// the only files a later export of the same directory replaces or removes.
const ExportMarker = ".porthole-export"

// exportMagic is the marker's first line; the number is its format.
const exportMagic = "porthole export 1"

// maxMarkerSize bounds the marker a later export reads (a full export's
// list is about 3 MB).
const maxMarkerSize = 64 << 20

// ErrExportRefused wraps the reasons Export will not write into a
// directory: it is a file, or not empty and not a previous export, or its
// marker is damaged. Nothing was written.
var ErrExportRefused = errors.New("export refused")

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrExportRefused, fmt.Sprintf(format, args...))
}

// job is one page to render and write.
type job struct {
	lang i18n.Lang
	kind byte // 'p' port, 'r' range, 'h' home, 's' stats, 'n' 404
	a, b int
	file string // relative, with forward slashes
	root string
	gz   bool // also write file.gz
}

// Export writes the site as static files into dir: every page as
// PATH.html (the home pages as index.html), the sitemap, robots.txt, the
// assets under their hashed names, and the ExportMarker. Pages link each
// other by those file names (/ports/80.html), so any static file server
// serves the export as it is; each page, sitemap and asset also gets a
// gzip-compressed NAME.gz beside it unless NoGzip. It never deletes or
// replaces anything it did not write:
//
//   - a dir that does not exist is written as a temporary directory next
//     to it and renamed into place when complete;
//   - an empty directory (such as ".") is written in place;
//   - a previous export (it has the marker) is updated in place, file by
//     file: the files the new export has are rewritten, those of the
//     previous one that it lacks are removed, and any other file (added by
//     the user) is left alone. The marker is written first, listing both,
//     so an interrupted export is still recognised and finished by the next;
//   - anything else (a file, a symbolic link, a directory that is not
//     empty and has no marker) is refused with ErrExportRefused.
//
// The site must have been built with Static.
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
	prev, inPlace, err := inspectExportDir(dir)
	if err != nil {
		return res, err
	}
	res.InPlace = inPlace
	root := dir
	if !inPlace {
		parent := filepath.Dir(dir)
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return res, err
		}
		tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
		if err != nil {
			return res, err
		}
		renamed := false
		defer func() {
			if !renamed {
				os.RemoveAll(tmp) // our own temporary directory
			}
		}()
		if err := os.Chmod(tmp, 0o755); err != nil {
			return res, err
		}
		root = tmp
		defer func() { renamed = res.Written != 0 }()
	}
	var jobs []job
	for _, l := range langs {
		pre := strings.TrimPrefix(prefix(l), "/")
		sub := func(name string) string { return path.Join(pre, name) }
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
	if !o.NoGzip {
		addGzSiblings(extra)
	}
	files := make([]string, 0, 2*len(jobs)+len(extra))
	for i := range jobs {
		jobs[i].root = root
		jobs[i].gz = !o.NoGzip
		files = append(files, jobs[i].file)
		if jobs[i].gz {
			files = append(files, jobs[i].file+".gz")
		}
	}
	for name := range extra {
		files = append(files, name)
	}
	slices.Sort(files)
	var stale []string
	if inPlace {
		// Claim every file this export may touch before touching any.
		stale = staleFiles(prev, files)
		claim := append(slices.Clone(files), stale...)
		slices.Sort(claim)
		if err := writeMarker(root, o.Version, s.opt.Registry.Version(), false, claim); err != nil {
			return res, err
		}
	}
	dirs := map[string]bool{}
	for _, f := range files {
		dirs[path.Dir(f)] = true
	}
	for d := range dirs {
		p := filepath.Join(root, filepath.FromSlash(d))
		if err := os.MkdirAll(p, 0o755); err != nil {
			return res, err
		}
		// In a previous export, a symbolic link where a directory of ours
		// belongs would send the pages elsewhere.
		if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
			return res, refuse("%s is not a directory (a symbolic link?): nothing more was written", p)
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
	if !o.NoGzip {
		res.Files += total
	}
	for name, b := range extra {
		if err := writeFile(filepath.Join(root, filepath.FromSlash(name)), b); err != nil {
			return res, err
		}
		res.Files++
	}
	for _, f := range stale {
		removed, err := removeExported(root, f)
		if err != nil {
			return res, fmt.Errorf("removing %s of the previous export: %w", f, err)
		}
		if removed {
			res.Removed++
		}
	}
	if err := writeMarker(root, o.Version, s.opt.Registry.Version(), true, files); err != nil {
		return res, err
	}
	if !inPlace {
		// A directory made at dir since it was inspected is not replaced:
		// rename onto a non-empty directory or a file fails.
		if err := os.Rename(root, dir); err != nil {
			return res, err
		}
	}
	res.Written = max(time.Since(start), 1) // non-zero: the export is in place
	return res, nil
}

// inspectExportDir decides how to export into dir: it returns the files of
// a previous export there (nil if none) and whether to write in place (an
// existing empty directory or a previous export), or refuses.
func inspectExportDir(dir string) (prev []string, inPlace bool, err error) {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, false, refuse("%s is a symbolic link: nothing was written; give the directory it points to, or a new directory", dir)
	case fi.Mode().IsRegular():
		return nil, false, refuse("%s is a file, not a directory: nothing was written; give a new directory, an empty one, or a previous export", dir)
	case !fi.IsDir():
		return nil, false, refuse("%s is not a directory (%s): nothing was written; give a new directory, an empty one, or a previous export", dir, fi.Mode().Type())
	}
	mf := filepath.Join(dir, ExportMarker)
	mi, err := os.Lstat(mf)
	if errors.Is(err, fs.ErrNotExist) {
		f, err := os.Open(dir)
		if err != nil {
			return nil, false, err
		}
		names, err := f.Readdirnames(1)
		f.Close()
		if len(names) > 0 {
			return nil, false, refuse("%s is not empty and has no %s file, so it is not a previous porthole export: nothing was written, "+
				"and nothing is ever deleted that export did not write; give a new or empty directory", dir, ExportMarker)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, false, err
		}
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !mi.Mode().IsRegular() {
		return nil, false, refuse("%s is not a regular file: nothing was written", mf)
	}
	if mi.Size() > maxMarkerSize {
		return nil, false, refuse("%s is %d bytes, more than a marker can be (%d): nothing was written", mf, mi.Size(), maxMarkerSize)
	}
	b, err := os.ReadFile(mf)
	if err != nil {
		return nil, false, err
	}
	prev, err = parseMarker(b)
	if err != nil {
		return nil, false, refuse("%s:%v: nothing was written; if the directory is not an export, give another; "+
			"if it is, remove the marker and the files it lists yourself", mf, err)
	}
	return prev, true, nil
}

// markerError is a damaged marker line.
type markerError struct {
	line int
	msg  string
}

func (e *markerError) Error() string { return strconv.Itoa(e.line) + ": " + e.msg }

// parseMarker reads an ExportMarker and returns the files it lists. Every
// listed name must be a local slash-separated path (no "..", not absolute,
// not the marker itself).
func parseMarker(b []byte) ([]string, error) {
	lines := strings.Split(string(b), "\n")
	if lines[0] != exportMagic {
		return nil, &markerError{1, fmt.Sprintf("the first line is not %q", exportMagic)}
	}
	var files []string
	for i, ln := range lines[1:] {
		n := i + 2
		switch {
		case ln == "" || strings.HasPrefix(ln, "#"):
		case strings.HasPrefix(ln, "file: "):
			f := strings.TrimPrefix(ln, "file: ")
			if !fs.ValidPath(f) || f == "." || f == ExportMarker || strings.ContainsRune(f, '\\') {
				return nil, &markerError{n, fmt.Sprintf("%q is not a file inside the export", f)}
			}
			files = append(files, f)
		case strings.HasPrefix(ln, "version: "), strings.HasPrefix(ln, "registry: "), strings.HasPrefix(ln, "complete: "):
		default:
			return nil, &markerError{n, fmt.Sprintf("unexpected line %q", clipLine(ln))}
		}
	}
	return files, nil
}

func clipLine(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// writeMarker writes the marker atomically (a temporary file renamed over
// it).
func writeMarker(root, version, registry string, complete bool, files []string) error {
	var b strings.Builder
	b.WriteString(exportMagic + "\n")
	b.WriteString("# Written by porthole export. A later export into this directory rewrites or removes the files\n")
	b.WriteString("# listed here, and only those; other files are left alone. Do not edit.\n")
	if version == "" {
		version = "unknown"
	}
	fmt.Fprintf(&b, "version: %s\nregistry: %s\n", oneLine(version), oneLine(registry))
	if complete {
		b.WriteString("complete: yes\n")
	} else {
		b.WriteString("complete: no (an export is running, or was interrupted)\n")
	}
	for _, f := range files {
		b.WriteString("file: " + f + "\n")
	}
	tmp, err := os.CreateTemp(root, ExportMarker+".tmp-")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(b.String())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(root, ExportMarker))
	}
	if err != nil {
		os.Remove(tmp.Name()) // our own temporary file
	}
	return err
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// staleFiles returns the files of prev that files (sorted) lacks.
func staleFiles(prev, files []string) []string {
	var out []string
	for _, f := range prev {
		if _, found := slices.BinarySearch(files, f); !found {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// removeExported removes root/f if it is a regular file (export writes
// nothing else), then the directories above it that are left empty, up to
// root. A file already gone is not an error.
func removeExported(root, f string) (bool, error) {
	p := filepath.Join(root, filepath.FromSlash(f))
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.Mode().IsRegular() {
		return false, nil // not what export wrote: leave it
	}
	if err := os.Remove(p); err != nil {
		return false, err
	}
	for d := path.Dir(f); d != "."; d = path.Dir(d) {
		if os.Remove(filepath.Join(root, filepath.FromSlash(d))) != nil {
			break // not empty (or not ours to remove): stop
		}
	}
	return true, nil
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
	name := filepath.Join(j.root, filepath.FromSlash(j.file))
	if err := writeFile(name, e.body); err != nil || !j.gz {
		return err
	}
	return writeFile(name+".gz", gzipExport(e.body))
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
			if p != "/" {
				p += s.ext()
			}
			out = append(out, prefix(l)+p)
		}
		for p := 0; p <= ports.Max; p++ {
			out = append(out, s.portHref(l, p))
		}
	}
	return out
}

// ExportFile maps a link path of the site to the file an export writes for
// it: "/" is index.html, "/ko/" ko/index.html, "/ports/80" (as served) and
// "/ports/80.html" (as an export links it) ports/80.html.
func ExportFile(path string) string {
	if strings.HasSuffix(path, "/") {
		return strings.TrimPrefix(path, "/") + "index.html"
	}
	if strings.HasPrefix(path, "/static/") || strings.HasSuffix(path, ".xml") || strings.HasSuffix(path, ".txt") || strings.HasSuffix(path, ".html") {
		return strings.TrimPrefix(path, "/")
	}
	return strings.TrimPrefix(path, "/") + ".html"
}

// pathError is an fs.PathError without importing io/fs into the
// per-system files.
type pathError = fs.PathError
