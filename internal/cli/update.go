package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/process"
	"github.com/porthole/porthole/internal/registry"
)

// updateList is how many rows of each kind of change the text shows.
const updateList = 20

// updateOut is `porthole update --json`: the changes plus what was done.
type updateOut struct {
	registry.Changes
	URL       *string `json:"url"`  // the download's address, or null
	File      *string `json:"file"` // or the file read (--file), or null
	Bytes     int     `json:"bytes"`
	DryRun    bool    `json:"dry_run"`
	Forced    bool    `json:"forced"`
	Installed bool    `json:"installed"`
	Path      string  `json:"path"` // where the registry is (or would be) installed
	// Notes are what the text prints after the changes: a forced install,
	// a replaced future-dated registry, a built-in registry that stays in
	// use.
	Notes []string `json:"notes"`
}

// resetOut is `porthole update --reset --json`.
type resetOut struct {
	Reset    bool     `json:"reset"`
	Removed  []string `json:"removed"`
	Dir      string   `json:"dir"`
	Registry string   `json:"registry_version"` // the registry now in use
}

// updateOptions are `porthole update`'s flags.
type updateOptions struct {
	src     string   // --url as given
	url     *url.URL // --url, parsed
	file    string   // --file PATH, or ""
	json    bool
	timeout time.Duration
	dryRun  bool
	force   bool
	reset   bool
}

var updateCmd = &cmdDef[updateOptions]{name: "update", args: "[--url URL | --file PATH | --reset] [--force] [--dry-run]",
	help: "Download IANA's port registry (CSV), or read it from a file, check it exactly as a download, and swap it in atomically in the cache directory; print what was added, removed and changed. On any failure the registry in use stays as it was. A registry dated in the future is refused; one older than (or the same as) the registry in use is refused unless --force. --reset removes the cached copy (the two files update wrote, by name) to go back to the built-in registry.",
	flags: func(fs *cmdFlags, o *updateOptions) func([]string) error {
		fs.StringVar(&o.src, "url", registry.OfficialURL, "where to download the registry CSV from (https; plain http draws a warning)")
		fs.StringVar(&o.file, "file", "", "read the registry CSV from this local file instead of downloading it (for hosts without Internet access)")
		fs.BoolVar(&o.json, "json", false, "print the changes as JSON")
		fs.DurationVar(&o.timeout, "timeout", registry.DefaultTimeout, "give up when the whole download (connecting, response head and body) takes longer than this; a connection silent for 30s (or this, if shorter) fails sooner")
		fs.BoolVar(&o.dryRun, "dry-run", false, "download, check and compare, but install nothing")
		fs.BoolVar(&o.force, "force", false, "install even when the new registry is older than, or the same as, the one in use")
		fs.BoolVar(&o.reset, "reset", false, "remove the cached registry and go back to the built-in one")
		return func(rest []string) error {
			if len(rest) > 0 {
				return usagef("update takes no arguments (got %q); use --url URL or --file PATH for another source", rest[0])
			}
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			if o.reset {
				for _, other := range []string{"url", "file", "force", "dry-run", "timeout"} {
					if set[other] {
						return usagef("--reset removes the cached registry; it does not combine with --%s", other)
					}
				}
			}
			if set["url"] && set["file"] {
				return usagef("--url and --file both name a source; give one")
			}
			if set["file"] && o.file == "" {
				return usagef("--file needs a PATH")
			}
			if o.timeout <= 0 {
				return usagef("--timeout %s: must be more than zero", o.timeout)
			}
			u, err := url.Parse(o.src)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usagef("--url %q: want an http:// or https:// address", o.src)
			}
			o.url = u
			return nil
		}
	},
}

func runUpdate(ctx context.Context, env *Env, o updateOptions) error {
	dir, err := registry.CacheDir(env.Getenv)
	if err != nil {
		return fmt.Errorf("finding the cache directory: %w", err)
	}
	if o.reset {
		return runReset(env, dir, o.json)
	}
	if o.file == "" && plainHTTP(o.url) {
		fmt.Fprintf(env.Stderr, "porthole: warning: --url %s is plain http: anyone on the path can change the registry in transit; prefer https\n", o.src)
	}
	cur, curErr := registry.Load(env.Getenv)
	if curErr != nil {
		fmt.Fprintln(env.Stderr, "porthole: warning:", curErr)
	}

	var rows []registry.Row
	var data []byte
	var source, from string
	if o.file != "" {
		from = o.file
		rows, data, err = registry.ReadCSV(o.file, 0)
		abs, aerr := filepath.Abs(o.file)
		if aerr != nil {
			abs = o.file
		}
		source = registry.FileSource(abs, env.Now())
	} else {
		from = o.src
		opt := registry.FetchOptions{Timeout: o.timeout, IdleTimeout: min(registry.DefaultIdleTimeout, o.timeout)}
		var bar *progressBar
		if !o.json && isTerminal(env.Stderr) {
			bar = &progressBar{w: env.Stderr}
			opt.Progress = bar.update
		}
		rows, data, err = registry.Fetch(ctx, o.src, opt)
		bar.finish()
		if err == nil && !o.json && bar == nil {
			fmt.Fprintf(env.Stderr, "downloaded %s bytes\n", i18n.Num(i18n.EN, len(data)))
		}
		source = registry.FetchedSource(o.src, env.Now())
	}
	if err != nil {
		return fmt.Errorf("update failed, registry unchanged: %w", err)
	}
	if err := registry.CheckDates(rows, env.Now()); err != nil {
		return fmt.Errorf("update failed, registry unchanged: %s: %w", from, err)
	}
	if err := registry.Plausible(rows, cur); err != nil {
		return fmt.Errorf("update failed, registry unchanged: %s: %w", from, err)
	}
	blob, next, err := registry.Prepare(rows, source)
	if err != nil {
		return fmt.Errorf("update failed, registry unchanged: %w", err)
	}
	var notes []string
	curFuture := registry.Future(cur.Version(), env.Now())
	switch {
	case curFuture:
		// A registry dated in the future (installed before porthole
		// refused such dates) would refuse every real update as older.
		notes = append(notes, fmt.Sprintf("the registry in use is dated %s, in the future, so it is not trusted to be newer", cur.Version()))
	case next.Version() < cur.Version() && !o.force:
		return fmt.Errorf("update failed, registry unchanged: %s holds the registry of %s, older than the %s one in use (--force installs it anyway; --reset goes back to the built-in registry)",
			from, next.Version(), cur.Version())
	case next.Version() < cur.Version():
		notes = append(notes, fmt.Sprintf("--force: installing the registry of %s over the newer %s one", next.Version(), cur.Version()))
	}

	ch := registry.Diff(cur, next)
	out := updateOut{Changes: ch, Bytes: len(data), DryRun: o.dryRun, Forced: o.force, Path: filepath.Join(dir, registry.CacheFile)}
	if o.file != "" {
		out.File = &o.file
	} else {
		out.URL = &o.src
	}
	// Identical rows need no install, unless the cached copy is damaged or
	// future-dated and this one can replace it, or --force asks for it.
	if !o.dryRun && (!ch.None() || curErr != nil || curFuture || o.force) {
		if err := registry.Install(dir, blob, data); err != nil {
			return fmt.Errorf("update failed: %w", err)
		}
		out.Installed = true
		if emb := registry.Embedded(); next.Version() < emb.Version() {
			notes = append(notes, fmt.Sprintf("the built-in registry (%s) is newer than this one, so porthole goes on using the built-in one", emb.Version()))
		}
	}
	out.Notes = notes
	if out.Notes == nil {
		out.Notes = []string{}
	}
	if o.json {
		return writeJSON(env.Stdout, out)
	}
	return renderUpdate(newText(env, i18n.EN), &out, curErr != nil)
}

// plainHTTP reports whether u is plain http to a host other than loopback
// (a local mirror has no path for anyone to tamper on).
func plainHTTP(u *url.URL) bool {
	if u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	if ip, err := netip.ParseAddr(h); err == nil {
		return !ip.Unmap().IsLoopback()
	}
	return !strings.EqualFold(h, "localhost")
}

// runReset is `porthole update --reset`.
func runReset(env *Env, dir string, asJSON bool) error {
	removed, err := registry.Reset(dir)
	if err != nil {
		return fmt.Errorf("update --reset: %w", err)
	}
	emb := registry.Embedded()
	out := resetOut{Reset: true, Removed: removed, Dir: dir, Registry: emb.Version()}
	if out.Removed == nil {
		out.Removed = []string{}
	}
	if asJSON {
		return writeJSON(env.Stdout, out)
	}
	t := newText(env, i18n.EN)
	if len(removed) == 0 {
		t.line(fmt.Sprintf("no cached registry in %s; nothing removed", dir))
	}
	for _, p := range removed {
		t.line("removed " + p)
	}
	t.line(fmt.Sprintf("the built-in registry (%s, %s rows) is in use", emb.Version(), i18n.Num(i18n.EN, emb.Len())))
	return t.err
}

func renderUpdate(t *text, out *updateOut, repaired bool) error {
	n := func(v int) string { return i18n.Num(i18n.EN, v) }
	ch := &out.Changes
	if ch.None() {
		t.line(fmt.Sprintf("registry %s: already up to date (%s rows)", process.Escape(ch.To), n(ch.RowsAfter)))
	} else {
		versions := process.Escape(ch.From) + " → " + process.Escape(ch.To)
		if ch.From == ch.To {
			versions = process.Escape(ch.To)
		}
		t.line(fmt.Sprintf("registry %s: %s added, %s removed, %s changed", versions, n(ch.Added), n(ch.Removed), n(ch.Changed)))
		short := ch.Trim(updateList)
		list := func(title, mark string, refs []registry.RowRef, total int) {
			if total == 0 {
				return
			}
			t.blank()
			t.heading(title + ":")
			for _, r := range refs {
				t.line("  " + mark + " " + rowLine(r))
			}
			more(t, total-len(refs))
		}
		list("added", "+", short.AddedRows, ch.Added)
		list("removed", "-", short.RemovedRows, ch.Removed)
		if ch.Changed > 0 {
			t.blank()
			t.heading("changed:")
			for _, c := range short.ChangedRows {
				t.line("  ~ " + rowLine(c.RowRef))
				for _, f := range c.Fields {
					t.line(fmt.Sprintf("      %s: %s → %s", process.Escape(f.Field), quoteShort(f.Old), quoteShort(f.New)))
				}
			}
			more(t, ch.Changed-len(short.ChangedRows))
		}
		t.blank()
	}
	for _, n := range out.Notes {
		t.line("note: " + n)
	}
	switch {
	case out.Installed && repaired && ch.None():
		t.line(fmt.Sprintf("replaced the damaged %s (%s rows, from %s)", out.Path, n(ch.RowsAfter), process.Escape(ch.ToSource)))
	case out.Installed:
		t.line(fmt.Sprintf("installed %s (%s rows, from %s)", out.Path, n(ch.RowsAfter), process.Escape(ch.ToSource)))
	case out.DryRun:
		t.line("dry run: nothing installed")
	default:
		t.line("nothing to install")
	}
	return t.err
}

func more(t *text, k int) {
	if k > 0 {
		t.line(t.dim(fmt.Sprintf("  … %s more (--json lists all)", i18n.Num(i18n.EN, k))))
	}
}

// rowLine is one registry row in a change list: port, protocol, name (or
// kind, for an unnamed row) and the start of its description.
func rowLine(r registry.RowRef) string {
	port := r.Port
	if port == "" {
		port = "(no port)"
	}
	proto := r.Proto
	if proto == "" {
		proto = "-"
	}
	name := r.Name
	if name == "" {
		name = "(" + r.Kind + ")"
	}
	head := fmt.Sprintf("%-11s %-4s %-20s ", process.Escape(port), process.Escape(proto), truncate(process.Escape(name), 20))
	return head + truncate(process.Escape(dossier.FirstLine(r.Description)), width-4-displayWidth(head))
}

// quoteShort quotes a field value, cut to its first line and 32 columns,
// its control characters escaped.
func quoteShort(s string) string {
	first := dossier.FirstLine(s)
	cut := truncate(first, 32)
	if cut != s && !strings.HasSuffix(cut, "…") {
		cut += "…"
	}
	return `"` + process.Escape(cut) + `"`
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressBar draws a one-line download bar on a terminal, redrawing only
// when the shown figure changes. A nil bar does nothing.
type progressBar struct {
	w     io.Writer
	shown string
	last  time.Time
}

func (p *progressBar) update(done, total int64) {
	var s string
	if total > 0 {
		pct := int(done * 100 / total)
		const cells = 30
		fill := int(done * cells / total)
		s = fmt.Sprintf("downloading [%s%s] %3d%% %s / %s", strings.Repeat("#", fill), strings.Repeat(".", cells-fill),
			pct, sizeText(done), sizeText(total))
	} else {
		s = "downloading " + sizeText(done)
	}
	if s == p.shown || (total <= 0 && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.shown, p.last = s, time.Now()
	fmt.Fprint(p.w, "\r"+s+"\x1b[K")
}

func (p *progressBar) finish() {
	if p != nil && p.shown != "" {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// sizeText writes a byte count for people: 512 B, 40.0 KiB, 1.1 MiB.
func sizeText(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
