package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/web"
)

// exportOptions are `porthole export`'s arguments.
type exportOptions struct {
	dir     string
	langs   []i18n.Lang
	ports   *ports.Spec // --range: only these port pages; nil for all
	baseURL string      // without a trailing slash
	quiet   bool
	json    bool
	noGzip  bool
}

var exportCmd = &cmdDef[exportOptions]{name: "export", args: "DIR [flags]",
	help: `Write the reference site as static files into DIR: a page for every port in each language, the home, stats and range pages, the sitemap, the assets, and a .porthole-export marker listing the files written. Pages link each other by their file names (ports/80.html), so any static file server can serve DIR as it is; beside each page, sitemap and asset is a gzip-compressed NAME.gz for servers that send those (nginx gzip_static, Caddy precompressed) unless --no-gzip.

A new DIR is written beside it and renamed into place when complete. An empty DIR (such as .) or a previous export (it has the marker) is updated in place, file by file: files of the previous export that the new one lacks are removed, and files that export did not write are left alone. Anything else is refused with exit status 2 and nothing is written: a file, a symbolic link, or a directory that is not empty and has no marker.`,
	flags: func(fs *cmdFlags, o *exportOptions) func([]string) error {
		langs := fs.String("lang", "en,ko", "comma-separated `languages` to export")
		portRange := fs.String("range", "", "export only the port pages of `LOW-HIGH` (other pages are always written)")
		fs.StringVar(&o.baseURL, "base-url", "http://127.0.0.1:8025", "absolute `URL` the site will be served from, for the sitemap")
		fs.BoolVar(&o.quiet, "quiet", false, "no progress bar")
		fs.BoolVar(&o.json, "json", false, "print the summary as JSON")
		fs.BoolVar(&o.noGzip, "no-gzip", false, "do not write the gzip-compressed NAME.gz beside each page, sitemap and asset (they take about two thirds of the export's CPU time)")
		return func(rest []string) error {
			if len(rest) != 1 {
				return usagef("export needs one DIR, as in 'porthole export ./site'")
			}
			o.dir = rest[0]
			o.baseURL = strings.TrimSuffix(o.baseURL, "/")
			for _, s := range strings.Split(*langs, ",") {
				l := i18n.Lang(strings.TrimSpace(s))
				if !i18n.Supported(l) {
					return usagef("--lang: unknown language %s; use en, ko or en,ko", quoteArg(s))
				}
				o.langs = append(o.langs, l)
			}
			if *portRange != "" {
				spec, err := ports.ParseSpec(*portRange)
				if err != nil {
					return err
				}
				if spec.IsService() {
					return usagef("--range %s: give port numbers, as in 2500-2600", quoteArg(*portRange))
				}
				o.ports = &spec
			}
			return nil
		}
	},
}

func runExport(ctx context.Context, env *Env, o exportOptions) error {
	opt := web.ExportOptions{Langs: o.langs, Version: Version, NoGzip: o.noGzip}
	if o.ports != nil {
		low, high := o.ports.Low, o.ports.High
		opt.Ports = func(p int) bool { return p >= low && p <= high }
	}
	k, err := loadKnowledge(env)
	if err != nil {
		return err
	}
	site := web.New(web.Options{Registry: k.reg, Intel: k.intel, Now: env.Now, Static: true, CacheBytes: -1,
		BaseURL: o.baseURL})
	var bar *exportBar
	if !o.quiet && exportIsTerminal(env.Stderr) {
		bar = &exportBar{w: env.Stderr, start: time.Now()}
		opt.Progress = bar.update
	}
	start := time.Now()
	res, err := site.Export(ctx, o.dir, opt)
	if bar != nil {
		bar.finish()
	}
	if errors.Is(err, web.ErrExportRefused) {
		return &exitError{code: ExitUsage, msg: err.Error()}
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	el := res.Written.Seconds()
	if o.json {
		return writeJSON(env.Stdout, exportOut{Dir: o.dir, Pages: res.Pages, Files: res.Files, InPlace: res.InPlace,
			Removed: res.Removed, Seconds: float64(int(time.Since(start).Seconds()*10)) / 10})
	}
	how := ""
	if res.InPlace {
		how = ", in place"
		if res.Removed > 0 {
			how += fmt.Sprintf(", removing %s files of the previous export", i18n.Num(i18n.EN, res.Removed))
		}
	}
	// The whole run's time only when the checks and swap around the
	// writing took a tenth of a second or more.
	all := ""
	if total := time.Since(start).Seconds(); fmt.Sprintf("%.1f", total) != fmt.Sprintf("%.1f", el) {
		all = fmt.Sprintf("; %.1fs in all", total)
	}
	_, err = fmt.Fprintf(env.Stdout, "wrote %s pages (%s files) to %s%s in %.1fs (%s pages/s%s)\n", i18n.Num(i18n.EN, res.Pages),
		i18n.Num(i18n.EN, res.Files), o.dir, how, el, i18n.Num(i18n.EN, int(float64(res.Pages)/el)), all)
	return err
}

// exportOut is `porthole export --json`.
type exportOut struct {
	Dir     string  `json:"dir"`
	Pages   int     `json:"pages"`
	Files   int     `json:"files"`
	InPlace bool    `json:"in_place"` // written into a previous export, not beside it
	Removed int     `json:"removed"`  // files of the previous export removed
	Seconds float64 `json:"seconds"`
}

func exportIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// exportBar draws one self-overwriting line, at most ten times a second.
type exportBar struct {
	w     io.Writer
	start time.Time
	mu    sync.Mutex
	last  time.Time
}

func (p *exportBar) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done < total && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	const width = 30
	n := done * width / max(total, 1)
	rate := float64(done) / max(time.Since(p.start).Seconds(), 0.001)
	fmt.Fprintf(p.w, "\r[%s%s] %3d%% %s/%s pages, %s/s ", strings.Repeat("#", n), strings.Repeat(" ", width-n),
		done*100/max(total, 1), i18n.Num(i18n.EN, done), i18n.Num(i18n.EN, total), i18n.Num(i18n.EN, int(rate)))
}

func (p *exportBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\x1b[K")
}
