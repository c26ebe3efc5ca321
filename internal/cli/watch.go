package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/jsonw"
	"github.com/porthole/porthole/internal/promtext"
	"github.com/porthole/porthole/internal/safefile"
	"github.com/porthole/porthole/internal/watch"
)

// minWatchInterval keeps a typo (1ms) from turning watch into a busy loop.
const minWatchInterval = 100 * time.Millisecond

// watchOptions are `porthole watch`'s flags.
type watchOptions struct {
	json      bool
	interval  time.Duration
	metrics   string // HOST:PORT, checked, or ""
	baseline  string // FILE, or ""
	allNS     bool
	noInitial bool
	fullEvery int
}

var watchCmd = &cmdDef[watchOptions]{name: "watch", args: "[flags]",
	help: `Watch the listeners here and print an event when one is added, removed, or
held by another program. Identity is the protocol, address, port, network
namespace and executable: a restart with a new PID is not an event. The first
scan prints the current listeners as "added" (initial) events unless
--no-initial is given. A failed scan prints a warning and no events.
With --metrics ADDR, Prometheus metrics are served on http://ADDR/metrics.
Stops on SIGINT or SIGTERM.`,
	flags: func(fs *cmdFlags, o *watchOptions) func([]string) error {
		fs.BoolVar(&o.json, "json", false, "print one JSON object per event (JSON lines)")
		fs.DurationVar(&o.interval, "interval", time.Second, "time between scans (a Go duration, at least 100ms)")
		fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics on `ADDR` (host:port), path /metrics")
		fs.StringVar(&o.baseline, "baseline", "", "judge listeners against this baseline `FILE` (findings in events and metrics)")
		fs.BoolVar(&o.allNS, "all-netns", false, "also watch every other network namespace (containers)")
		fs.BoolVar(&o.noInitial, "no-initial", false, "do not print the listeners found by the first scan")
		fs.IntVar(&o.fullEvery, "full-every", 60, "look owners up at least every `N` scans even when no socket changed")
		return func(rest []string) error {
			if err := noArgs("watch")(rest); err != nil {
				return err
			}
			if o.interval < minWatchInterval {
				return usagef("--interval %v is too short; the minimum is %v", o.interval, minWatchInterval)
			}
			if o.fullEvery < 1 {
				return usagef("--full-every must be at least 1")
			}
			if o.metrics != "" {
				return checkAddr("--metrics", o.metrics)
			}
			return nil
		}
	},
}

func runWatch(ctx context.Context, env *Env, o watchOptions) error {
	k, err := loadKnowledge(env)
	if err != nil {
		return err
	}
	if env.Getenv("GOGC") == "" && env.Getenv("GOMEMLIMIT") == "" {
		// Each scan allocates a fresh socket list and little else survives
		// it, so collecting less often saves most of the GC's CPU; the
		// memory limit keeps the heap bounded on very busy hosts.
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(96 << 20)
	}
	live := &watch.Live{Registry: k.reg, Intel: k.intel, AllNetNS: o.allNS, FullEvery: o.fullEvery}
	defer live.Close()
	w := &watch.Watcher{Scan: live.Scan, Now: env.Now, NoInitial: o.noInitial}
	var bl *audit.Baseline
	if o.baseline != "" {
		var warns []audit.Warning
		bl, warns, err = audit.Load(o.baseline)
		var pe *audit.ParseError
		if errors.As(err, &pe) || errors.Is(err, audit.ErrTooLarge) || errors.Is(err, safefile.ErrNotRegular) {
			return usagef("bad baseline: %v", err)
		}
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		for _, wn := range warns {
			fmt.Fprintln(env.Stderr, "porthole: warning:", wn.String())
		}
	}
	opt := audit.Options{Registry: k.reg, Intel: k.intel, Baseline: bl, AllNetNS: o.allNS, OS: runtime.GOOS, Root: isPrivileged()}
	if lo, hi, err := env.Ephemeral(); err == nil {
		opt.EphemeralLow, opt.EphemeralHigh = lo, hi
	}
	w.Judge = func(rows []dossier.Listener) *audit.Report { return audit.Run(rows, opt) }
	if o.metrics != "" {
		w.Metrics = watch.NewMetrics()
		build := buildInfo(k.reg.Version())
		stop, err := serveMetrics(ctx, env, "watch", o.metrics, func(context.Context) ([]promtext.Family, error) {
			return append(w.Metrics.Families(), build), nil
		})
		if err != nil {
			return err
		}
		defer stop()
	}
	emit := func(evs []watch.Event) error {
		for _, e := range evs {
			if err := writeEvent(env, e, o.json); err != nil {
				return err
			}
		}
		return nil
	}
	onError := func(err error) {
		fmt.Fprintf(env.Stderr, "porthole: warning: %s scan failed, nothing published: %v\n", env.Now().UTC().Format(time.RFC3339), err)
	}
	return w.Run(ctx, o.interval, emit, onError)
}

// writeEvent prints one event: a JSON line, or one line of text.
func writeEvent(env *Env, e watch.Event, asJSON bool) error {
	if asJSON {
		b, err := jsonw.Marshal(e)
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(append(b, '\n'))
		return err
	}
	r := e.Listener
	var b strings.Builder
	b.WriteString(e.Time.UTC().Format(time.RFC3339))
	b.WriteString(" " + e.Type)
	if e.Initial {
		b.WriteString(" (initial)")
	}
	b.WriteString(" " + listenerLabel(&r) + "  " + ownerLabel(&r))
	if r.Exe != "" {
		b.WriteString(" " + r.Exe)
	}
	if e.Previous != nil {
		prev := e.Previous.Exe
		if prev == "" {
			prev = ownerLabel(e.Previous)
		}
		b.WriteString(" (was " + prev + ")")
	}
	if len(e.Findings) > 0 {
		b.WriteString(" [" + strings.Join(e.Findings, " ") + "]")
	}
	b.WriteByte('\n')
	_, err := fmt.Fprint(env.Stdout, b.String())
	return err
}
