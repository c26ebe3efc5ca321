// Package watch polls the listeners of a machine and reports changes as
// events: a listener added, removed, or held by another program.
//
// Identity is semantic: protocol, address, port and network namespace name a
// listener, and its executable names its owner. A PID, an inode or a counter
// is never part of identity, so a restarted service (new PID, same program)
// or a re-created socket is not an event; a different program on the same
// socket is. A failed scan publishes nothing and leaves the state as it was.
//
// Watcher.Poll runs one scan and returns its events; Run calls it on a
// ticker. The clock and the scanner are injected, so tests drive Poll
// directly. Metrics exports the state for Prometheus with bounded label
// sets (no port or PID labels).
package watch

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/sockets"
)

// Event types.
const (
	Added        = "added"
	Removed      = "removed"
	OwnerChanged = "owner-changed"
)

// EventTypes lists the event types, for metrics.
var EventTypes = []string{Added, Removed, OwnerChanged}

// Event is one change. Listener is the listener now (for removed: as it was
// last seen); Previous is the listener before an owner change.
type Event struct {
	Time     time.Time         `json:"time"`
	Type     string            `json:"event"`
	Initial  bool              `json:"initial"` // part of the first scan's inventory
	Listener dossier.Listener  `json:"listener"`
	Previous *dossier.Listener `json:"previous"` // null unless the owner changed
	// Findings are the audit findings about the listener ("rule:severity"),
	// when the watcher judges listeners; null when it does not.
	Findings []string `json:"findings"`
}

// Key is the identity of a listener.
type Key struct {
	Proto ports.Proto
	Addr  netip.Addr
	Port  int
	NetNS uint64
}

// KeyOf returns the identity of a row.
func KeyOf(r *dossier.Listener) Key {
	return Key{Proto: r.Proto, Addr: r.Addr, Port: r.Port, NetNS: r.NetNS}
}

// entry is what the watcher remembers of one key.
type entry struct {
	row    dossier.Listener
	owners string // sorted, distinct executables ("" when unknown)
}

// Scanner returns the current listeners, complete, or an error.
type Scanner func(ctx context.Context) ([]dossier.Listener, error)

// Watcher turns successive scans into events. It is not safe for
// concurrent use; Run calls Poll from one goroutine.
type Watcher struct {
	Scan Scanner
	Now  func() time.Time
	// Judge, when set, audits each changed scan; its findings go into the
	// events and the metrics.
	Judge func([]dossier.Listener) *audit.Report
	// Metrics, when set, is updated after every scan.
	Metrics *Metrics
	// NoInitial suppresses the "added" events of the first scan.
	NoInitial bool

	state  map[Key]entry
	primed bool
	last   []dossier.Listener // the rows of the last scan, to notice a scanner's unchanged answer
}

// sameRows reports whether a and b are the very same slice: a scanner such
// as Live returns its previous answer when nothing changed.
func sameRows(a, b []dossier.Listener) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// owners is the identity of the programs holding the rows of one key.
func owners(rows []*dossier.Listener) string {
	var exes []string
	for _, r := range rows {
		exe := r.Exe
		if exe == "" && r.Process != "" {
			exe = "name:" + r.Process // no readable exe: the process name is the best identity left
		}
		if exe != "" && !slices.Contains(exes, exe) {
			exes = append(exes, exe)
		}
	}
	slices.Sort(exes)
	return strings.Join(exes, "\x00")
}

// Poll scans once and returns the events since the previous successful
// scan. On error it returns no events and keeps the previous state.
func (w *Watcher) Poll(ctx context.Context) ([]Event, error) {
	start := time.Now()
	rows, err := w.Scan(ctx)
	if err == nil {
		err = ctx.Err() // a scan cut short by cancellation is not published
	}
	if w.Metrics != nil {
		w.Metrics.observeScan(time.Since(start), err)
	}
	if err != nil {
		return nil, err
	}
	now := w.Now()
	if w.primed && rows != nil && sameRows(rows, w.last) {
		// Nothing changed since the last scan: no events, same state.
		if w.Metrics != nil {
			w.Metrics.setLastScan(now)
		}
		return nil, nil
	}
	w.last = rows
	groups := make(map[Key][]*dossier.Listener, len(rows))
	order := make([]Key, 0, len(rows))
	for i := range rows {
		k := KeyOf(&rows[i])
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], &rows[i])
	}
	var rep *audit.Report
	if w.Judge != nil {
		rep = w.Judge(rows)
	}
	findings := findingsByKey(rep)
	next := make(map[Key]entry, len(groups))
	var events []Event
	for _, k := range order {
		g := groups[k]
		e := entry{row: *g[0], owners: owners(g)}
		prev, had := w.state[k]
		switch {
		case !had:
			if w.primed || !w.NoInitial {
				events = append(events, Event{Time: now, Type: Added, Initial: !w.primed, Listener: e.row, Findings: findings[k]})
			}
		case e.owners == "" && prev.owners != "":
			// The owner is not visible this time (it may be exiting, or
			// /proc was unreadable): no news is not a change.
			e.owners = prev.owners
		case e.owners != prev.owners:
			p := prev.row
			events = append(events, Event{Time: now, Type: OwnerChanged, Listener: e.row, Previous: &p, Findings: findings[k]})
		}
		next[k] = e
	}
	var gone []Key
	for k := range w.state {
		if _, ok := next[k]; !ok {
			gone = append(gone, k)
		}
	}
	slices.SortFunc(gone, compareKeys)
	for _, k := range gone {
		events = append(events, Event{Time: now, Type: Removed, Listener: w.state[k].row})
	}
	w.state, w.primed = next, true
	if w.Metrics != nil {
		w.Metrics.setState(rows, rep, events, now)
	}
	return events, nil
}

// compareKeys orders keys as listings order their places.
func compareKeys(a, b Key) int {
	return sockets.Place{Proto: a.Proto, Port: a.Port, Addr: a.Addr, NetNS: a.NetNS}.Compare(
		sockets.Place{Proto: b.Proto, Port: b.Port, Addr: b.Addr, NetNS: b.NetNS})
}

func findingsByKey(rep *audit.Report) map[Key][]string {
	if rep == nil {
		return nil
	}
	out := map[Key][]string{}
	for _, f := range rep.Findings {
		if f.Listener == nil {
			continue
		}
		k := KeyOf(f.Listener)
		s := f.Rule + ":" + f.Severity.String()
		if !slices.Contains(out[k], s) {
			out[k] = append(out[k], s)
		}
	}
	return out
}

// Run polls every interval until ctx is done, handing each scan's events to
// emit. A failed scan is reported to onError (if set) and polling goes on;
// an error from emit stops Run. It returns nil when ctx is cancelled.
func (w *Watcher) Run(ctx context.Context, interval time.Duration, emit func([]Event) error, onError func(error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		evs, err := w.Poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if onError != nil {
				onError(err)
			}
		} else if len(evs) > 0 {
			if err := emit(evs); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
