package watch

import (
	"maps"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/promtext"
)

// Metrics holds the watcher's Prometheus metrics. Every label has a fixed,
// small set of values: proto (tcp, udp), severity, rule id, event type.
// Ports and PIDs are never labels, so a busy host cannot blow up the series
// count. The values live under one mutex: the watcher writes them once per
// scan, a scrape reads a snapshot.
type Metrics struct {
	mu           sync.Mutex
	listeners    map[string]float64 // by proto
	bySeverity   map[string]float64 // by severity, plus "none"
	findings     map[string]float64 // by rule
	events       map[string]float64 // by event type
	scanDuration histogram
	scans        float64
	scanErrors   float64
	lastScan     float64
}

// scanBuckets are the upper bounds of porthole_scan_duration_seconds.
var scanBuckets = [...]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// histogram counts observations per bucket (not cumulative) plus those above
// the last bound.
type histogram struct {
	counts [len(scanBuckets) + 1]uint64
	sum    float64
	count  uint64
}

func (h *histogram) observe(v float64) {
	i := 0
	for i < len(scanBuckets) && v > scanBuckets[i] {
		i++
	}
	h.counts[i]++
	h.sum += v
	h.count++
}

// NewMetrics creates the metrics, with every label value present from the
// start (at zero). A scrape also reports the Go runtime's and the process's
// figures (go_*, process_*).
func NewMetrics() *Metrics {
	m := &Metrics{listeners: map[string]float64{}, bySeverity: map[string]float64{}, findings: map[string]float64{},
		events: map[string]float64{}}
	for _, p := range []string{"tcp", "udp"} {
		m.listeners[p] = 0
	}
	for _, s := range audit.Severities {
		m.bySeverity[s.String()] = 0
	}
	m.bySeverity["none"] = 0
	for _, r := range audit.RuleIDs {
		m.findings[r] = 0
	}
	for _, e := range EventTypes {
		m.events[e] = 0
	}
	return m
}

// Families returns a snapshot of every metric: porthole's, the Go runtime's
// and the process's.
func (m *Metrics) Families() []promtext.Family {
	m.mu.Lock()
	fams := []promtext.Family{
		vec("porthole_listeners", "Listening sockets at the last successful scan, by protocol.", promtext.Gauge, "proto", m.listeners),
		vec("porthole_listeners_by_severity",
			"Listeners at the last successful scan by the severity of their worst audit finding (none: no finding).",
			promtext.Gauge, "severity", m.bySeverity),
		vec("porthole_findings", "Audit findings at the last successful scan, by rule.", promtext.Gauge, "rule", m.findings),
		m.scanDuration.family("porthole_scan_duration_seconds", "Time to list the listeners (and their owners when they changed)."),
		scalar("porthole_scans_total", "Scans attempted.", promtext.Counter, m.scans),
		scalar("porthole_scan_errors_total", "Scans that failed; their results were not published.", promtext.Counter, m.scanErrors),
		vec("porthole_events_total", "Events emitted, by type.", promtext.Counter, "event", m.events),
		scalar("porthole_last_scan_timestamp_seconds", "Unix time of the last successful scan.", promtext.Gauge, m.lastScan),
	}
	m.mu.Unlock()
	fams = append(fams, promtext.GoRuntime()...)
	return append(fams, promtext.Process()...)
}

// Handler serves the metrics in the Prometheus text exposition format.
func (m *Metrics) Handler() http.Handler { return promtext.Handler(m.Families) }

func scalar(name, help string, typ promtext.Type, v float64) promtext.Family {
	return promtext.Family{Name: name, Help: help, Type: typ, Samples: []promtext.Sample{{Value: v}}}
}

// vec is a family with one label, its samples sorted by label value.
func vec(name, help string, typ promtext.Type, label string, values map[string]float64) promtext.Family {
	keys := slices.Sorted(maps.Keys(values))
	f := promtext.Family{Name: name, Help: help, Type: typ, Samples: make([]promtext.Sample, 0, len(keys))}
	for _, k := range keys {
		f.Samples = append(f.Samples, promtext.Sample{Labels: []promtext.Label{{Name: label, Value: k}}, Value: values[k]})
	}
	return f
}

func (h *histogram) family(name, help string) promtext.Family {
	f := promtext.Family{Name: name, Help: help, Type: promtext.Histogram}
	var cum uint64
	for i, n := range h.counts {
		cum += n
		le := math.Inf(1)
		if i < len(scanBuckets) {
			le = scanBuckets[i]
		}
		f.Samples = append(f.Samples, promtext.Sample{Suffix: "_bucket",
			Labels: []promtext.Label{{Name: "le", Value: promtext.FormatFloat(le)}}, Value: float64(cum)})
	}
	f.Samples = append(f.Samples, promtext.Sample{Suffix: "_sum", Value: h.sum},
		promtext.Sample{Suffix: "_count", Value: float64(h.count)})
	return f
}

func (m *Metrics) observeScan(d time.Duration, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scans++
	m.scanDuration.observe(d.Seconds())
	if err != nil {
		m.scanErrors++
	}
}

func (m *Metrics) setLastScan(now time.Time) {
	m.mu.Lock()
	m.lastScan = float64(now.Unix())
	m.mu.Unlock()
}

func (m *Metrics) setState(rows []dossier.Listener, rep *audit.Report, events []Event, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	counts := map[string]int{"tcp": 0, "udp": 0}
	for i := range rows {
		switch rows[i].Proto {
		case ports.TCP, ports.UDP:
			counts[rows[i].Proto.String()]++
		}
	}
	for p, n := range counts {
		m.listeners[p] = float64(n)
	}
	for _, e := range events {
		m.events[e.Type]++
	}
	m.lastScan = float64(now.Unix())
	if rep == nil {
		return
	}
	byRule := map[string]int{}
	worst := map[*dossier.Listener]audit.Severity{}
	for _, f := range rep.Findings {
		byRule[f.Rule]++
		if f.Listener == nil {
			continue
		}
		if s, ok := worst[f.Listener]; !ok || f.Severity > s {
			worst[f.Listener] = f.Severity
		}
	}
	for _, r := range audit.RuleIDs {
		m.findings[r] = float64(byRule[r])
	}
	sev := map[string]int{}
	for _, s := range worst {
		sev[s.String()]++
	}
	for _, s := range audit.Severities {
		m.bySeverity[s.String()] = float64(sev[s.String()])
	}
	m.bySeverity["none"] = float64(len(rows) - len(worst))
}
