package cli

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/sockets"
)

// baselineOptions are `porthole baseline`'s flags.
type baselineOptions struct {
	out   string // -o FILE, or "" for stdout
	allNS bool
	json  bool
}

var baselineCmd = &cmdDef[baselineOptions]{name: "baseline", args: "[-o FILE] [flags]",
	help: "Write the listeners here as a baseline: an editable, commented file with one line per expected listener (program, port, address scope, user, namespace). Review it, keep it, and check the machine against it with 'porthole audit --baseline FILE'. PIDs are never written: a restarted service still matches.",
	flags: func(fs *cmdFlags, o *baselineOptions) func([]string) error {
		fs.StringVar(&o.out, "o", "", "write to `FILE` (atomically) instead of standard output")
		fs.BoolVar(&o.allNS, "all-netns", false, "also include every other network namespace (containers)")
		fs.BoolVar(&o.json, "json", false, "print the rules as a JSON array instead of the file (lines disabled for review are left out)")
		return func(rest []string) error {
			if err := noArgs("baseline")(rest); err != nil {
				return err
			}
			if o.json && o.out != "" {
				return usagef("--json and -o do not go together: the file is always the text form")
			}
			return nil
		}
	},
}

func runBaseline(ctx context.Context, env *Env, o baselineOptions) error {
	if o.out != "" {
		if err := checkOutputPath(o.out); err != nil {
			return err
		}
	}
	k, err := loadKnowledge(env)
	if err != nil {
		return err
	}
	ls, err := sockets.List(ctx, sockets.Query{AllNetNS: o.allNS})
	if err != nil {
		return listError(err)
	}
	if w := dossier.OwnerWarning(ls); w != "" {
		fmt.Fprintln(env.Stderr, "porthole: warning:", w)
	}
	rows := dossier.Annotate(ls, k.reg, k.intel)
	host, _ := os.Hostname()
	opt := audit.WriteOptions{Host: host, Now: env.Now(), Registry: k.reg, Intel: k.intel}
	if lo, hi, err := env.Ephemeral(); err == nil {
		opt.EphemeralLow, opt.EphemeralHigh = lo, hi
	}
	var buf bytes.Buffer
	if err := audit.Write(&buf, rows, opt); err != nil {
		return err
	}
	if o.json {
		b, _, err := audit.Parse("baseline", buf.Bytes())
		if err != nil {
			return fmt.Errorf("internal: the written baseline does not parse: %w", err)
		}
		return writeJSON(env.Stdout, b.Rules)
	}
	if o.out == "" {
		_, err := env.Stdout.Write(buf.Bytes())
		return err
	}
	if err := writeFileAtomic(o.out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "porthole: wrote %d listeners to %s\n", len(rows), o.out)
	return nil
}

// checkOutputPath refuses, before anything is scanned, an -o path that
// cannot be replaced by a file: a directory, a FIFO, a device or a socket
// (a symbolic link is replaced, not written through), or one whose
// directory does not exist.
func checkOutputPath(path string) error {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0 {
		what := "not a regular file"
		if fi.IsDir() {
			what = "a directory"
		}
		return badToken(path, "-o %q is %s; give the name of the file to write (a file there is replaced whole)", path, what)
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return badToken(path, "-o %q: there is no directory %q to write it in", path, dir)
	}
	return nil
}

// writeFileAtomic replaces path with b, of the given mode, through a
// temporary file in the same directory, so a reader never sees half a file.
// The temporary file is created 0600 and widened only after it is complete.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".porthole-baseline-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	if err := f.Sync(); werr == nil {
		werr = err
	}
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr == nil {
		werr = os.Chmod(tmp, mode)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, werr)
	}
	return nil
}
