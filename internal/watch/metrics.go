package watch

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
)

// Metrics holds the watcher's Prometheus metrics in a registry of its own
// (no global state). Every label has a fixed, small set of values: proto
// (tcp, udp), severity, rule id, event type. Ports and PIDs are never
// labels, so a busy host cannot blow up the series count.
type Metrics struct {
	reg          *prometheus.Registry
	listeners    *prometheus.GaugeVec
	bySeverity   *prometheus.GaugeVec
	findings     *prometheus.GaugeVec
	scanDuration prometheus.Histogram
	scans        prometheus.Counter
	scanErrors   prometheus.Counter
	events       *prometheus.CounterVec
	lastScan     prometheus.Gauge
}

// NewMetrics creates the metrics, with every label value present from the
// start (at zero), plus the Go runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		listeners: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "porthole_listeners", Help: "Listening sockets at the last successful scan, by protocol.",
		}, []string{"proto"}),
		bySeverity: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "porthole_listeners_by_severity",
			Help: "Listeners at the last successful scan by the severity of their worst audit finding (none: no finding).",
		}, []string{"severity"}),
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "porthole_findings", Help: "Audit findings at the last successful scan, by rule.",
		}, []string{"rule"}),
		scanDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "porthole_scan_duration_seconds",
			Help:    "Time to list the listeners (and their owners when they changed).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		scans: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "porthole_scans_total", Help: "Scans attempted.",
		}),
		scanErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "porthole_scan_errors_total", Help: "Scans that failed; their results were not published.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "porthole_events_total", Help: "Events emitted, by type.",
		}, []string{"event"}),
		lastScan: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "porthole_last_scan_timestamp_seconds", Help: "Unix time of the last successful scan.",
		}),
	}
	m.reg.MustRegister(m.listeners, m.bySeverity, m.findings, m.scanDuration, m.scans, m.scanErrors, m.events, m.lastScan,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, p := range []string{"tcp", "udp"} {
		m.listeners.WithLabelValues(p)
	}
	for _, s := range audit.Severities {
		m.bySeverity.WithLabelValues(s.String())
	}
	m.bySeverity.WithLabelValues("none")
	for _, r := range audit.RuleIDs {
		m.findings.WithLabelValues(r)
	}
	for _, e := range EventTypes {
		m.events.WithLabelValues(e)
	}
	return m
}

// Registry returns the registry, for tests and for serving.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) observeScan(d time.Duration, err error) {
	m.scans.Inc()
	m.scanDuration.Observe(d.Seconds())
	if err != nil {
		m.scanErrors.Inc()
	}
}

func (m *Metrics) setState(rows []dossier.ListenerRow, rep *audit.Report, events []Event, now time.Time) {
	counts := map[string]int{"tcp": 0, "udp": 0}
	for i := range rows {
		if _, ok := counts[rows[i].Proto]; ok {
			counts[rows[i].Proto]++
		}
	}
	for p, n := range counts {
		m.listeners.WithLabelValues(p).Set(float64(n))
	}
	for _, e := range events {
		m.events.WithLabelValues(e.Type).Inc()
	}
	m.lastScan.Set(float64(now.Unix()))
	if rep == nil {
		return
	}
	byRule := map[string]int{}
	worst := map[*dossier.ListenerRow]audit.Severity{}
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
		m.findings.WithLabelValues(r).Set(float64(byRule[r]))
	}
	sev := map[string]int{}
	for _, s := range worst {
		sev[s.String()]++
	}
	for _, s := range audit.Severities {
		m.bySeverity.WithLabelValues(s.String()).Set(float64(sev[s.String()]))
	}
	m.bySeverity.WithLabelValues("none").Set(float64(len(rows) - len(worst)))
}
