package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/porthole/porthole/internal/feedback"
	"github.com/porthole/porthole/internal/store"
)

// runFeedback runs the subcommand of `porthole feedback` (export only).
func runFeedback(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "export" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(env.Stdout, "Usage: porthole feedback export [--db DSN] [--json|--csv] [-o FILE]\n\nExport the answers of the \"Was this page helpful?\" widget.")
			return nil
		}
		return usagef("feedback needs a subcommand: porthole feedback export [--db DSN] [--json|--csv]")
	}
	return feedbackExportCmd.bind(runFeedbackExport)(ctx, env, args[1:])
}

// feedbackExportOptions are `porthole feedback export`'s flags.
type feedbackExportOptions struct {
	dsn    string
	format string // feedback.FormatJSON or feedback.FormatCSV
	out    string // -o FILE, or "" for stdout
}

var feedbackExportCmd = &cmdDef[feedbackExportOptions]{name: "feedback export", args: "[--db DSN] [--json|--csv] [-o FILE]",
	help: "Export every answer of the \"Was this page helpful?\" widget, oldest first. JSON keeps comments exactly (bidi controls escaped as \\u202e); CSV quotes every field, shows bidi controls as [U+202E] and carriage returns as line breaks, and puts a quote before anything a spreadsheet in any locale could run as a formula.",
	flags: func(fs *cmdFlags, o *feedbackExportOptions) func([]string) error {
		fs.StringVar(&o.dsn, "db", "", "feedback store `DSN`: a SQLite path or a postgres:// URL (default: the one porthole serve uses)")
		asJSON := fs.Bool("json", false, "write a JSON array (the default)")
		asCSV := fs.Bool("csv", false, "write CSV with a header row")
		fs.StringVar(&o.out, "o", "", "write to `FILE` instead of standard output (mode 0600, like the database; replaced only when the export is complete)")
		return func(rest []string) error {
			if err := noArgs("feedback export")(rest); err != nil {
				return err
			}
			if *asJSON && *asCSV {
				return usagef("--json and --csv exclude each other")
			}
			o.format = feedback.FormatJSON
			if *asCSV {
				o.format = feedback.FormatCSV
			}
			return nil
		}
	},
}

func runFeedbackExport(ctx context.Context, env *Env, o feedbackExportOptions) error {
	format := o.format
	var err error
	path := o.dsn
	if !store.IsPostgres(path) {
		if path == "" {
			if path, err = store.DefaultPath(); err != nil {
				return err
			}
		}
		// Exporting must not create an empty database where none was.
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no feedback database at %s (give --db)", path)
		}
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("opening the feedback store: %w", err)
	}
	defer st.Close()
	if o.out == "" {
		w := bufio.NewWriter(env.Stdout)
		if err := feedback.Export(ctx, st, w, format); err != nil {
			return err
		}
		return w.Flush()
	}
	var buf bytes.Buffer
	if err := feedback.Export(ctx, st, &buf, format); err != nil {
		return err
	}
	// Comments are user data: the file is as private as the database (0600).
	return writeFileAtomic(o.out, buf.Bytes(), 0o600)
}
