package fleetapi

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/porthole/porthole/internal/promtext"
)

// Report outcomes counted by porthole_fleet_reports_total: a bounded set,
// never a host or a port.
var outcomes = []string{"applied", "replay", "resync", "invalid", "too_large", "unauthorized", "forbidden", "error"}

// durationBuckets are the upper bounds of porthole_fleet_report_duration_seconds.
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10}

type metrics struct {
	mu      sync.Mutex
	reports map[string]float64
	buckets []float64 // cumulative counts per durationBuckets
	sum     float64
	count   float64
}

func newMetrics() *metrics {
	return &metrics{reports: map[string]float64{}, buckets: make([]float64, len(durationBuckets))}
}

// observe counts one report's outcome and how long its answer took.
func (m *metrics) observe(outcome string, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reports[outcome]++
	s := d.Seconds()
	for i, le := range durationBuckets {
		if s <= le {
			m.buckets[i]++
		}
	}
	m.sum += s
	m.count++
}

// Families returns the fleet's metrics for serve's /metrics:
// porthole_fleet_hosts and porthole_fleet_hosts_stale (read from the
// inventory now, so every replica agrees), porthole_fleet_reports_total by
// outcome and porthole_fleet_report_duration_seconds (this replica's).
func (h *Handler) Families(ctx context.Context) ([]promtext.Family, error) {
	hs, err := h.o.DB.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	now := h.o.Now()
	stale := 0
	for _, x := range hs {
		if !x.Revoked && x.Stale(now) {
			stale++
		}
	}
	m := h.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	reports := make([]promtext.Sample, len(outcomes))
	for i, o := range outcomes {
		reports[i] = promtext.Sample{Labels: []promtext.Label{{Name: "outcome", Value: o}}, Value: m.reports[o]}
	}
	var hist []promtext.Sample
	for i, le := range durationBuckets {
		hist = append(hist, promtext.Sample{Suffix: "_bucket", Labels: []promtext.Label{{Name: "le", Value: strconv.FormatFloat(le, 'g', -1, 64)}}, Value: m.buckets[i]})
	}
	hist = append(hist,
		promtext.Sample{Suffix: "_bucket", Labels: []promtext.Label{{Name: "le", Value: "+Inf"}}, Value: m.count},
		promtext.Sample{Suffix: "_sum", Value: m.sum},
		promtext.Sample{Suffix: "_count", Value: m.count})
	return []promtext.Family{
		{Name: "porthole_fleet_hosts", Help: "Hosts in the fleet inventory.", Type: promtext.Gauge,
			Samples: []promtext.Sample{{Value: float64(len(hs))}}},
		{Name: "porthole_fleet_hosts_stale", Help: "Hosts with a token that have not reported for three intervals (or never).", Type: promtext.Gauge,
			Samples: []promtext.Sample{{Value: float64(stale)}}},
		{Name: "porthole_fleet_reports_total", Help: "Agent reports answered by this server, by outcome.", Type: promtext.Counter,
			Samples: reports},
		{Name: "porthole_fleet_report_duration_seconds", Help: "Time from a report's arrival to its answer.", Type: promtext.Histogram,
			Samples: hist},
	}, nil
}
