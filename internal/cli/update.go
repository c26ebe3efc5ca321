package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/process"
	"github.com/porthole/porthole/internal/registry"
)

// updateList is how many rows of each kind of change the text shows.
const updateList = 20

// updateOut is `porthole update --json`: the changes plus what was done.
type updateOut struct {
	registry.Changes
	URL       string `json:"url"`
	Bytes     int    `json:"bytes"`
	DryRun    bool   `json:"dry_run"`
	Installed bool   `json:"installed"`
	Path      string `json:"path"` // where the registry is (or would be) installed
}

func runUpdate(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "update", "[--url URL]", "Download IANA's port registry (CSV), check it, and swap it in atomically in the cache directory; print what was added, removed and changed. On any failure the registry in use stays as it was.")
	src := fs.String("url", registry.OfficialURL, "where to download the registry CSV from")
	asJSON := fs.Bool("json", false, "print the changes as JSON")
	idle := fs.Duration("timeout", registry.DefaultIdleTimeout, "give up when the server sends nothing for this long")
	dryRun := fs.Bool("dry-run", false, "download, check and compare, but install nothing")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("update takes no arguments (got %q); use --url URL for another source", rest[0])
	}
	if *idle <= 0 {
		return usagef("--timeout %s: must be more than zero", *idle)
	}
	if u, err := url.Parse(*src); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--url %q: want an http:// or https:// address", *src)
	}

	dir, err := registry.CacheDir()
	if err != nil {
		return fmt.Errorf("finding the cache directory: %w", err)
	}
	cur, curErr := registry.Load()
	if curErr != nil {
		fmt.Fprintln(env.Stderr, "porthole: warning:", curErr)
	}

	opt := registry.FetchOptions{IdleTimeout: *idle}
	var bar *progressBar
	if !*asJSON && isTerminal(env.Stderr) {
		bar = &progressBar{w: env.Stderr}
		opt.Progress = bar.update
	}
	rows, data, err := registry.Fetch(ctx, *src, opt)
	bar.finish()
	if err != nil {
		return fmt.Errorf("update failed, registry unchanged: %w", err)
	}
	if !*asJSON && bar == nil {
		fmt.Fprintf(env.Stderr, "downloaded %s bytes\n", i18n.Num(i18n.EN, len(data)))
	}
	if err := registry.Plausible(rows, cur); err != nil {
		return fmt.Errorf("update failed, registry unchanged: %s: %w", *src, err)
	}
	blob, next, err := registry.Prepare(rows, registry.FetchedSource(*src, env.Now()))
	if err != nil {
		return fmt.Errorf("update failed, registry unchanged: %w", err)
	}
	if next.Version() < cur.Version() {
		return fmt.Errorf("update failed, registry unchanged: %s holds the registry of %s, older than the %s one in use",
			*src, next.Version(), cur.Version())
	}

	ch := registry.Diff(cur, next)
	out := updateOut{Changes: ch, URL: *src, Bytes: len(data), DryRun: *dryRun, Path: filepath.Join(dir, registry.CacheFile)}
	// Identical rows need no install, unless the cached copy is damaged
	// and this one can replace it.
	if !*dryRun && (!ch.None() || curErr != nil) {
		if err := registry.Install(dir, blob, data); err != nil {
			return fmt.Errorf("update failed: %w", err)
		}
		out.Installed = true
	}
	if *asJSON {
		return writeJSON(env.Stdout, out)
	}
	return renderUpdate(newText(env, i18n.EN), &out, curErr != nil)
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
	return head + truncate(process.Escape(firstLine(r.Description)), width-4-displayWidth(head))
}

// quoteShort quotes a field value, cut to its first line and 32 columns,
// its control characters escaped.
func quoteShort(s string) string {
	first := firstLine(s)
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
