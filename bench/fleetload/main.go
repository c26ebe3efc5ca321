// Command fleetload simulates a fleet of hosts reporting to a running `porthole serve` and measures how the server
// keeps up.
//
//	fleetload -db DSN -url http://127.0.0.1:8025 -hosts 10000 -interval 30s -duration 2m [-changes 0.05] [-listeners 20] [-enroll=false]
//
// It first creates the hosts (load-0000001, …) with fresh tokens directly in the inventory at DSN (the database the
// server uses). With -enroll (the default) it then sends every host's full report of -listeners listeners, 64 at a
// time, and measures that apart; then it runs one simulated agent per host for -duration: one report per interval,
// spread evenly over the interval — a delta (one listener's owner changes) with probability -changes, else a
// heartbeat. With -enroll=false the full reports are each agent's first report, within the first interval. At the end
// it checks that every acknowledged report is in the inventory (each host's last_seq) and prints one JSON object:
// reports sent, acknowledged, failed, reports/s, latency percentiles, and for the steady phase (every full report in)
// the same plus the database's growth per change and per host per day. It sends traffic only to the URL it is given;
// scripts/bench-fleet.sh gives it loopback addresses only.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/fleet/fleetdb"
	"github.com/porthole/porthole/internal/ports"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fleetload:", err)
		os.Exit(1)
	}
}

// enrollResult is the enrolment phase: every host's full report.
type enrollResult struct {
	Seconds       float64 `json:"s"`
	ReportsPerSec float64 `json:"reports_per_s"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	DBBytes       int64   `json:"db_bytes"` // fleetdb.DB.Size after it
}

type result struct {
	Hosts      int     `json:"hosts"`
	Listeners  int     `json:"listeners_per_host"`
	IntervalS  float64 `json:"interval_s"`
	ChangeRate float64 `json:"change_rate"`
	DurationS  float64 `json:"duration_s"`
	SetupS     float64 `json:"setup_s"` // creating the hosts and their tokens, before the clock starts
	// -enroll: every host's full report, sent by 64 clients at once before the clock starts.
	Enroll        *enrollResult    `json:"enroll,omitempty"`
	Sent          int64            `json:"sent"`
	Acked         int64            `json:"acked"`
	Failed        int64            `json:"failed"`
	Lost          int              `json:"lost"` // acknowledged reports missing from the inventory
	FailReasons   map[string]int64 `json:"fail_reasons,omitempty"`
	ReportsPerSec float64          `json:"reports_per_s"` // acknowledged over the whole run
	P50ms         float64          `json:"p50_ms"`
	P99ms         float64          `json:"p99_ms"`
	Maxms         float64          `json:"max_ms"`
	// The steady phase: from the moment every host's full report is acknowledged (and one interval has passed) to
	// the end. Only heartbeats and deltas.
	Steady struct {
		Seconds       float64 `json:"s"`
		ReportsPerSec float64 `json:"reports_per_s"`
		Offered       float64 `json:"offered_per_s"` // hosts / interval
		P50ms         float64 `json:"p50_ms"`
		P99ms         float64 `json:"p99_ms"`
		Maxms         float64 `json:"max_ms"`
		Changes       int64   `json:"changes"`          // listener changes acknowledged (one fleet_changes row each)
		DBBytes0      int64   `json:"db_bytes_start"`   // fleetdb.DB.Size at the start of the phase
		DBBytes1      int64   `json:"db_bytes_end"`     // and at the end
		BytesPerChg   float64 `json:"bytes_per_change"` // growth / changes
		// Growth per host per day at this run's change rate and interval: growth / hosts / phase seconds × 86,400.
		BytesPerHostDay float64 `json:"bytes_per_host_day"`
	} `json:"steady"`
}

func run() error {
	dsn := flag.String("db", "", "the inventory the server uses (SQLite path or postgres:// URL)")
	base := flag.String("url", "http://127.0.0.1:8025", "the server (loopback only)")
	hosts := flag.Int("hosts", 1000, "simulated hosts")
	nls := flag.Int("listeners", 20, "listeners per host")
	interval := flag.Duration("interval", 30*time.Second, "each host's reporting interval")
	duration := flag.Duration("duration", time.Minute, "how long to report")
	changes := flag.Float64("changes", 0.05, "share of reports that carry a change")
	enroll := flag.Bool("enroll", true, "send every host's full report before the clock starts (false: within the first interval)")
	flag.Parse()
	if *dsn == "" {
		return fmt.Errorf("give -db")
	}
	if *nls < 1 || *nls > 50000 || *hosts < 1 || *interval <= 0 || *changes < 0 || *changes > 1 {
		return fmt.Errorf("-hosts, -listeners, -interval or -changes out of range")
	}
	ctx := context.Background()
	db, err := fleetdb.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	t0 := time.Now()
	toks := make([]string, *hosts)
	for i := range toks {
		if toks[i], err = fleet.NewToken(rand.Reader); err != nil {
			return err
		}
	}
	// Create the hosts from a few goroutines: PostgreSQL takes them in parallel; SQLite's writer commits them in
	// groups.
	setup := make(chan int)
	var setupErr atomic.Value
	var swg sync.WaitGroup
	for range 8 {
		swg.Go(func() {
			for i := range setup {
				if _, err := db.Token(ctx, name(i), fleet.HashToken(toks[i]), time.Now()); err != nil {
					setupErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	for i := range toks {
		setup <- i
	}
	close(setup)
	swg.Wait()
	if err, ok := setupErr.Load().(error); ok {
		return err
	}
	setupS := time.Since(t0).Seconds()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	agents := make([]string, *hosts)
	sets := make([][]fleet.Listener, *hosts)
	for i := range sets {
		agents[i] = fmt.Sprintf("%032x", mrand.Uint64())
		ls := make([]fleet.Listener, *nls)
		for j := range ls {
			ls[j] = fleet.Listener{Key: fleet.Key{Proto: ports.TCP, Addr: netip.MustParseAddr("0.0.0.0"), Port: uint16(1000 + j)},
				Owner: fleet.Owner{PID: 100 + j, UID: 0, User: "root", Process: "svc", Exe: fmt.Sprintf("/usr/sbin/svc%d", j%100)}}
		}
		sets[i] = ls
	}
	post := func(i int, r fleet.Report) (time.Duration, string) {
		b, _ := fleet.Encode(r)
		req, _ := http.NewRequest("POST", *base+"/api/v1/fleet/report", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+toks[i])
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		resp, err := client.Do(req)
		d := time.Since(t0)
		if err != nil {
			return d, "error"
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return d, resp.Status
		}
		return d, ""
	}
	var enrolled *enrollResult
	if *enroll {
		t0 := time.Now()
		var emu sync.Mutex
		var elat []time.Duration
		next := make(chan int)
		var ewg sync.WaitGroup
		var efail atomic.Int64
		for range 64 {
			ewg.Go(func() {
				for i := range next {
					for try := 0; ; try++ {
						d, why := post(i, fleet.Report{Host: name(i), Agent: agents[i], Seq: 1, Kind: fleet.KindFull, Interval: *interval, Listeners: sets[i]})
						if why == "" {
							emu.Lock()
							elat = append(elat, d)
							emu.Unlock()
							break
						}
						if try == 5 {
							efail.Add(1)
							break
						}
						time.Sleep(time.Second)
					}
				}
			})
		}
		for i := range *hosts {
			next <- i
		}
		close(next)
		ewg.Wait()
		if n := efail.Load(); n > 0 {
			return fmt.Errorf("enrolment: %d full reports failed six times", n)
		}
		enrolled = &enrollResult{Seconds: time.Since(t0).Seconds()}
		enrolled.ReportsPerSec = float64(*hosts) / enrolled.Seconds
		enrolled.P50ms, enrolled.P99ms = pct(elat, 0.5), pct(elat, 0.99)
		if enrolled.DBBytes, err = db.Size(ctx); err != nil {
			return err
		}
	}
	var sent, acked, failed, fullAcked, steadyChanges atomic.Int64
	var mu sync.Mutex
	var lat, steadyLat []time.Duration
	var steady atomic.Bool
	reasons := map[string]int64{}
	lastAcked := make([]uint64, *hosts)
	first := uint64(1)
	if *enroll {
		fullAcked.Store(int64(*hosts))
		first = 2
		for i := range lastAcked {
			lastAcked[i] = 1
		}
	}
	start := time.Now()
	end := start.Add(*duration)
	// The steady phase starts once every host's full report is acknowledged and one interval has passed.
	var steadyStart time.Time
	var size0 int64
	steadyDone := make(chan error, 1)
	go func() {
		for time.Now().Before(end) {
			if fullAcked.Load() == int64(*hosts) && (*enroll || time.Since(start) >= *interval) {
				n, err := db.Size(ctx)
				mu.Lock()
				steadyStart, size0 = time.Now(), n
				mu.Unlock()
				steady.Store(true)
				steadyDone <- err
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		steadyDone <- nil
	}()
	var wg sync.WaitGroup
	for i := range *hosts {
		wg.Go(func() {
			ls := sets[i]
			// Spread the hosts evenly over the first interval.
			time.Sleep(time.Duration(float64(*interval) * float64(i) / float64(*hosts)))
			for seq := first; time.Now().Before(end); seq++ {
				r := fleet.Report{Host: name(i), Agent: agents[i], Seq: seq, Kind: fleet.KindHeartbeat, Interval: *interval}
				switch {
				case seq == 1:
					r.Kind, r.Listeners = fleet.KindFull, ls
				case mrand.Float64() < *changes:
					j := mrand.IntN(len(ls))
					ls[j].PID++
					r.Kind, r.Changed = fleet.KindDelta, []fleet.Listener{ls[j]}
				}
				inSteady := steady.Load()
				sent.Add(1)
				d, why := post(i, r)
				if why != "" {
					failed.Add(1)
					mu.Lock()
					reasons[why]++
					mu.Unlock()
					seq-- // resend it next time, as an agent would
				} else {
					acked.Add(1)
					lastAcked[i] = seq
					if seq == 1 {
						fullAcked.Add(1)
					}
					if inSteady && r.Kind == fleet.KindDelta {
						steadyChanges.Add(int64(len(r.Changed)))
					}
					mu.Lock()
					lat = append(lat, d)
					if inSteady {
						steadyLat = append(steadyLat, d)
					}
					mu.Unlock()
				}
				pause := *interval - d%*interval
				if time.Now().Add(pause).After(end) {
					break // the run ends before this host's next report
				}
				time.Sleep(pause)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := <-steadyDone; err != nil {
		return err
	}
	res := result{Hosts: *hosts, Listeners: *nls, IntervalS: interval.Seconds(), ChangeRate: *changes, DurationS: elapsed.Seconds(),
		SetupS: setupS, Enroll: enrolled, Sent: sent.Load(), Acked: acked.Load(), Failed: failed.Load(), FailReasons: reasons}
	res.ReportsPerSec = float64(res.Acked) / elapsed.Seconds()
	res.P50ms, res.P99ms, res.Maxms = pct(lat, 0.50), pct(lat, 0.99), pct(lat, 1)
	st := &res.Steady
	st.Offered = float64(*hosts) / interval.Seconds()
	if !steadyStart.IsZero() {
		size1, err := db.Size(ctx)
		if err != nil {
			return err
		}
		st.Seconds = time.Since(steadyStart).Seconds()
		st.ReportsPerSec = float64(len(steadyLat)) / st.Seconds
		st.P50ms, st.P99ms, st.Maxms = pct(steadyLat, 0.50), pct(steadyLat, 0.99), pct(steadyLat, 1)
		st.Changes, st.DBBytes0, st.DBBytes1 = steadyChanges.Load(), size0, size1
		if st.Changes > 0 {
			st.BytesPerChg = float64(size1-size0) / float64(st.Changes)
		}
		st.BytesPerHostDay = float64(size1-size0) / float64(*hosts) / st.Seconds * 86400
	}
	hs, err := db.Hosts(ctx)
	if err != nil {
		return err
	}
	have := map[string]uint64{}
	for _, h := range hs {
		have[h.Name] = h.LastSeq
	}
	for i, s := range lastAcked {
		if have[name(i)] < s {
			res.Lost++
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return err
	}
	if res.Lost > 0 {
		return fmt.Errorf("%d hosts miss acknowledged reports in the inventory", res.Lost)
	}
	return nil
}

// pct returns the p-th percentile of ds in milliseconds, sorting ds.
func pct(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return float64(ds[int(math.Ceil(p*float64(len(ds))))-1].Microseconds()) / 1000
}

func name(i int) string { return fmt.Sprintf("load-%07d", i) }
