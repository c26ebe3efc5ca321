// Package agent is `porthole agent`: it reads this host's listeners, sends
// the server its full state, then only what changed, and a heartbeat when
// nothing did, at least once per interval.
//
// Every report is queued before it is sent, in a spool directory when one
// is given (one file per report, named so that sorting the names orders the
// reports), and leaves the queue only once the server acknowledged it
// (applied, or a replay of one applied before). While the server is
// unreachable the queue grows and is resent in order when it is back; a
// resend the server had already applied is a replay it ignores, so nothing
// is applied twice. Reports spooled by an earlier run (the agent was killed)
// are sent first, then the new run's full state. A queue over MaxQueue
// reports is dropped for one full report, which says everything they said.
package agent

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/fleet"
)

// MaxQueue bounds the reports waiting for the server.
const MaxQueue = 10000

// Config configures Run.
type Config struct {
	Server   string        // the serve's base URL, http:// or https://
	Token    string        // the host token
	Name     string        // the host name
	Interval time.Duration // the longest time without a report
	// Poll is how often the listeners are read; 0 means Interval, at most
	// 10 s.
	Poll  time.Duration
	Spool string // a directory for the queue; "" keeps it in memory
	// Snapshot reads the listeners, and the audit findings when it runs the
	// audit (Reader.Snapshot, outside tests).
	Snapshot func(ctx context.Context) (State, error)
	Client   *http.Client
	Log      *slog.Logger
	Boot     string // the host's boot id ("" when unknown)
	Group    string // the group the server compares this host with ("" for the whole fleet)
}

// ErrRefused is returned by Run when the server refuses the token (401) or
// the host (403): no retry can help.
var ErrRefused = errors.New("the server refused this agent")

// State is what one snapshot saw.
type State struct {
	Listeners []fleet.Listener
	Findings  []fleet.Finding
	Audited   bool // Findings are the audit's result (else the audit did not run)
}

type queued struct {
	r    fleet.Report
	body []byte
	file string // in the spool, "" when in memory
}

type agent struct {
	c      Config
	run    string // this run's id
	runKey string // the spool file prefix of this run: start time and id
	seq    uint64
	sent   []fleet.Listener // the state after the newest queued report
	synced bool             // a full report of this run is queued or applied
	// findings are what the newest report carrying findings sent;
	// findingsSent says one of this run's queued or applied reports did.
	findings       []fleet.Finding
	findingsSent   bool
	findingsCapped bool      // the last snapshot had more findings than a report may carry (warned once)
	maxFindings    int       // findings a report carries at most; 0 is fleet.MaxFindings (tests lower it)
	last           time.Time // when the newest report was queued
	queue          []queued
}

// Run reports until ctx is done, then returns nil. It returns early only
// for ErrRefused or when the spool cannot be used.
func Run(ctx context.Context, c Config) error {
	if c.Poll <= 0 {
		c.Poll = min(c.Interval, 10*time.Second)
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	a := &agent{c: c, run: hex.EncodeToString(id)}
	a.runKey = fmt.Sprintf("%020d-%s", time.Now().UnixNano(), a.run)
	if c.Spool != "" {
		if err := os.MkdirAll(c.Spool, 0o700); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		if err := a.loadSpool(); err != nil {
			return err
		}
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := a.tick(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		t.Reset(c.Poll)
	}
}

// tick reads the listeners, queues a report if one is due, and sends the
// queue.
func (a *agent) tick(ctx context.Context) error {
	st, err := a.c.Snapshot(ctx)
	if err != nil {
		a.c.Log.Warn("reading the listeners", "err", err)
	} else if err := a.enqueue(st, time.Now()); err != nil {
		return err
	}
	return a.flush(ctx)
}

// enqueue queues the report the new snapshot calls for: the full state
// first, then a delta when something changed, else a heartbeat when an
// interval has passed since the last report. Audit findings go along with
// the full report and whenever they differ from the last ones sent.
func (a *agent) enqueue(st State, now time.Time) error {
	ls := fleet.Normalize(st.Listeners)
	fs := slices.Clone(st.Findings)
	slices.SortFunc(fs, fleet.CompareFindings)
	limit := cmp.Or(a.maxFindings, fleet.MaxFindings)
	if kept, left := fleet.MostSevere(fs, limit); left > 0 {
		// The server refuses a report with more; send the most severe.
		if !a.findingsCapped {
			a.c.Log.Warn("more audit findings than a report may carry; sending the most severe", "findings", len(fs), "sent", len(kept))
		}
		fs = kept
	}
	a.findingsCapped = len(st.Findings) > limit
	newFindings := st.Audited && (!a.findingsSent || !slices.Equal(fs, a.findings))
	r := fleet.Report{Host: a.c.Name, Agent: a.run, Boot: a.c.Boot, Group: a.c.Group, Interval: a.c.Interval}
	switch d := fleet.Diff(a.sent, ls); {
	case !a.synced:
		r.Kind, r.Listeners = fleet.KindFull, ls
	case !d.Empty() || newFindings:
		r.Kind, r.Added, r.Removed, r.Changed = fleet.KindDelta, d.Added, d.Removed, d.Changed
	case now.Sub(a.last) >= a.c.Interval:
		r.Kind = fleet.KindHeartbeat
	default:
		return nil
	}
	if len(a.queue) >= MaxQueue {
		// The queue says nothing a full report does not: drop it for one.
		a.c.Log.Warn("the queue is full; replacing it with the full state", "reports", len(a.queue))
		for _, q := range a.queue {
			a.remove(q)
		}
		a.queue = nil
		r.Kind, r.Listeners, r.Added, r.Removed, r.Changed = fleet.KindFull, ls, nil, nil, nil
	}
	if st.Audited && (r.Kind == fleet.KindFull || newFindings) {
		r.Findings, r.FindingsSet = fs, true
	}
	a.seq++
	r.Seq = a.seq
	body, err := fleet.Encode(r)
	if err != nil {
		return err
	}
	q := queued{r: r, body: body}
	if a.c.Spool != "" {
		q.file = filepath.Join(a.c.Spool, fmt.Sprintf("%s-%020d.json", a.runKey, r.Seq))
		if err := writeFile(q.file, body); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
	}
	a.queue = append(a.queue, q)
	a.sent, a.synced, a.last = ls, true, now
	if r.FindingsSet {
		a.findings, a.findingsSent = fs, true
	}
	return nil
}

// flush sends the queue in order until it is empty or the server fails.
func (a *agent) flush(ctx context.Context) error {
	for len(a.queue) > 0 {
		q := a.queue[0]
		status, ans, err := a.post(ctx, q.body)
		switch {
		case err != nil:
			a.c.Log.Warn("server unreachable; keeping the report", "seq", q.r.Seq, "queued", len(a.queue), "err", err)
			return nil
		case status == http.StatusOK:
			if ans.Gap {
				a.c.Log.Warn("the server missed reports before this one", "seq", q.r.Seq)
			}
		case status == http.StatusConflict:
			// The server follows another run, or none: this run's later reports
			// are useless to it until it has the full state.
			if q.r.Agent == a.run {
				a.c.Log.Info("the server asks for the full state", "seq", q.r.Seq)
				a.resync()
				continue
			}
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return fmt.Errorf("%w: %d %s", ErrRefused, status, ans.Error)
		case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
			// The server cannot use this report (a bug on one side): drop it and
			// start over from the full state.
			a.c.Log.Error("the server refused a report; sending the full state instead", "seq", q.r.Seq, "status", status, "error", ans.Error)
			if q.r.Agent == a.run {
				a.resync()
				continue
			}
		default:
			a.c.Log.Warn("server error; keeping the report", "seq", q.r.Seq, "status", status)
			return nil
		}
		a.remove(q)
		a.queue = a.queue[1:]
	}
	return nil
}

// resync drops this run's queued reports and marks the state unsent, so
// the next snapshot is queued as a full report.
func (a *agent) resync() {
	keep := a.queue[:0]
	for _, q := range a.queue {
		if q.r.Agent == a.run {
			a.remove(q)
			continue
		}
		keep = append(keep, q)
	}
	a.queue, a.synced, a.sent, a.findingsSent = keep, false, nil, false
}

type answer struct {
	Outcome string `json:"outcome"`
	Gap     bool   `json:"gap"`
	Error   string `json:"error"`
}

func (a *agent) post(ctx context.Context, body []byte) (int, answer, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimSuffix(a.c.Server, "/")+"/api/v1/fleet/report", bytes.NewReader(body))
	if err != nil {
		return 0, answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+a.c.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.c.Client.Do(req)
	if err != nil {
		return 0, answer{}, err
	}
	defer resp.Body.Close()
	var ans answer
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(b, &ans)
	if ans.Error == "" && resp.StatusCode >= 400 {
		ans.Error = strings.TrimSpace(string(b))
	}
	return resp.StatusCode, ans, nil
}

func (a *agent) remove(q queued) {
	if q.file == "" {
		return
	}
	if err := os.Remove(q.file); err != nil && !errors.Is(err, os.ErrNotExist) {
		a.c.Log.Warn("spool", "err", err)
	}
}

// spoolName matches the agent's spool files: RUNSTART-RUNID-SEQ.json.
func spoolName(name string) bool {
	base, ok := strings.CutSuffix(name, ".json")
	parts := strings.Split(base, "-")
	if !ok || len(parts) != 3 || len(parts[0]) != 20 || len(parts[2]) != 20 {
		return false
	}
	for _, p := range []string{parts[0], parts[2]} {
		if _, err := strconv.ParseUint(p, 10, 64); err != nil {
			return false
		}
	}
	_, err := hex.DecodeString(parts[1])
	return err == nil && len(parts[1]) == 32
}

// loadSpool queues the reports an earlier run left, oldest run and lowest
// seq first. A file that is not a valid report (cut short by a crash) is
// set aside with a .bad suffix, never deleted.
func (a *agent) loadSpool() error {
	es, err := os.ReadDir(a.c.Spool)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	var names []string
	for _, e := range es {
		if e.Type().IsRegular() && spoolName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, n := range names {
		p := filepath.Join(a.c.Spool, n)
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		r, err := fleet.DecodeBytes(b)
		if err != nil || r.Host != a.c.Name {
			a.c.Log.Warn("setting aside a spool file that is not a report of this host", "file", p, "err", err)
			if err := os.Rename(p, p+".bad"); err != nil {
				return fmt.Errorf("spool: %w", err)
			}
			continue
		}
		a.queue = append(a.queue, queued{r: r, body: b, file: p})
	}
	if len(a.queue) > 0 {
		a.c.Log.Info("resending the reports of an earlier run", "reports", len(a.queue))
	}
	return nil
}

// writeFile writes a spool file whole: to a temporary name, synced, then
// renamed, so a crash leaves either the report or nothing under its name.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
