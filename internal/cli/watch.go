package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/promtext"
	"github.com/porthole/porthole/internal/safefile"
	"github.com/porthole/porthole/internal/watch"
)

// minWatchInterval keeps a typo (1ms) from turning watch into a busy loop.
const minWatchInterval = 100 * time.Millisecond

func runWatch(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "watch", "[flags]", `Watch the listeners here and print an event when one is added, removed, or
held by another program. Identity is the protocol, address, port, network
namespace and executable: a restart with a new PID is not an event. The first
scan prints the current listeners as "added" (initial) events unless
--no-initial is given. A failed scan prints a warning and no events.
With --metrics ADDR, Prometheus metrics are served on http://ADDR/metrics.
Stops on SIGINT or SIGTERM.`)
	asJSON := fs.Bool("json", false, "print one JSON object per event (JSON lines)")
	interval := fs.Duration("interval", time.Second, "time between scans (a Go duration, at least 100ms)")
	metrics := fs.String("metrics", "", "serve Prometheus metrics on `ADDR` (host:port), path /metrics")
	base := fs.String("baseline", "", "judge listeners against this baseline `FILE` (findings in events and metrics)")
	allNS := fs.Bool("all-netns", false, "also watch every other network namespace (containers)")
	noInitial := fs.Bool("no-initial", false, "do not print the listeners found by the first scan")
	fullEvery := fs.Int("full-every", 60, "look owners up at least every `N` scans even when no socket changed")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("watch takes no arguments (got %s)", quoteArg(rest[0]))
	}
	if *interval < minWatchInterval {
		return usagef("--interval %v is too short; the minimum is %v", *interval, minWatchInterval)
	}
	if *fullEvery < 1 {
		return usagef("--full-every must be at least 1")
	}
	if *metrics != "" {
		if err := checkAddr("--metrics", *metrics); err != nil {
			return err
		}
	}
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
	live := &watch.Live{Registry: k.reg, Intel: k.intel, AllNetNS: *allNS, FullEvery: *fullEvery}
	defer live.Close()
	w := &watch.Watcher{Scan: live.Scan, Now: env.Now, NoInitial: *noInitial}
	var bl *audit.Baseline
	if *base != "" {
		var warns []audit.Warning
		bl, warns, err = audit.Load(*base)
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
	opt := audit.Options{Registry: k.reg, Intel: k.intel, Baseline: bl, AllNetNS: *allNS, OS: runtime.GOOS, Root: isPrivileged()}
	if lo, hi, err := env.Ephemeral(); err == nil {
		opt.EphemeralLow, opt.EphemeralHigh = lo, hi
	}
	w.Judge = func(rows []dossier.Listener) *audit.Report { return audit.Run(rows, opt) }
	if *metrics != "" {
		w.Metrics = watch.NewMetrics()
		build := buildInfo(k.reg.Version())
		stop, err := serveMetrics(ctx, env, "watch", *metrics, func(context.Context) ([]promtext.Family, error) {
			return append(w.Metrics.Families(), build), nil
		})
		if err != nil {
			return err
		}
		defer stop()
	}
	emit := func(evs []watch.Event) error {
		for _, e := range evs {
			if err := writeEvent(env, e, *asJSON); err != nil {
				return err
			}
		}
		return nil
	}
	onError := func(err error) {
		fmt.Fprintf(env.Stderr, "porthole: warning: %s scan failed, nothing published: %v\n", env.Now().UTC().Format(time.RFC3339), err)
	}
	return w.Run(ctx, *interval, emit, onError)
}

// writeEvent prints one event: a JSON line, or one line of text.
func writeEvent(env *Env, e watch.Event, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(e)
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
