// Command fleetload simulates a fleet of hosts reporting to a running `porthole serve` and measures how the server
// keeps up.
//
//	fleetload -db DSN -url http://127.0.0.1:8025 -hosts 10000 -interval 30s -duration 2m [-changes 0.05]
//
// It first creates the hosts (load-0000001, …) with fresh tokens directly in the inventory at DSN (the database the
// server uses), then runs one simulated agent per host: a full report of 20 listeners, then one report per interval,
// spread evenly over the interval — a delta (one listener's owner changes) with probability -changes, else a
// heartbeat. At the end it checks that every acknowledged report is in the inventory (each host's last_seq) and prints
// one JSON object: reports sent, acknowledged, failed, reports/s, latency percentiles, and the database's size per
// host. It sends traffic only to the URL it is given; scripts/bench-fleet.sh gives it loopback addresses only.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
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

type result struct {
	Hosts         int              `json:"hosts"`
	IntervalS     float64          `json:"interval_s"`
	DurationS     float64          `json:"duration_s"`
	Sent          int64            `json:"sent"`
	Acked         int64            `json:"acked"`
	Failed        int64            `json:"failed"`
	Lost          int              `json:"lost"` // acknowledged reports missing from the inventory
	FailReasons   map[string]int64 `json:"fail_reasons,omitempty"`
	ReportsPerSec float64          `json:"reports_per_s"`
	P50ms         float64          `json:"p50_ms"`
	P99ms         float64          `json:"p99_ms"`
	Maxms         float64          `json:"max_ms"`
	DBBytes       int64            `json:"db_bytes,omitempty"` // SQLite file and WAL
}

func run() error {
	dsn := flag.String("db", "", "the inventory the server uses (SQLite path or postgres:// URL)")
	base := flag.String("url", "http://127.0.0.1:8025", "the server (loopback only)")
	hosts := flag.Int("hosts", 1000, "simulated hosts")
	interval := flag.Duration("interval", 30*time.Second, "each host's reporting interval")
	duration := flag.Duration("duration", time.Minute, "how long to report")
	changes := flag.Float64("changes", 0.05, "share of reports that carry a change")
	flag.Parse()
	if *dsn == "" {
		return fmt.Errorf("give -db")
	}
	ctx := context.Background()
	db, err := fleetdb.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	toks := make([]string, *hosts)
	for i := range toks {
		if toks[i], err = fleet.NewToken(rand.Reader); err != nil {
			return err
		}
		if _, err := db.Token(ctx, name(i), fleet.HashToken(toks[i]), time.Now()); err != nil {
			return err
		}
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var sent, acked, failed atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	reasons := map[string]int64{}
	lastAcked := make([]uint64, *hosts)
	start := time.Now()
	end := start.Add(*duration)
	var wg sync.WaitGroup
	for i := range *hosts {
		wg.Go(func() {
			agent := fmt.Sprintf("%032x", mrand.Uint64())
			ls := make([]fleet.Listener, 20)
			for j := range ls {
				ls[j] = fleet.Listener{Key: fleet.Key{Proto: ports.TCP, Addr: netip.MustParseAddr("0.0.0.0"), Port: uint16(1000 + j)},
					Owner: fleet.Owner{PID: 100 + j, UID: 0, User: "root", Process: "svc", Exe: fmt.Sprintf("/usr/sbin/svc%d", j)}}
			}
			// Spread the hosts evenly over the first interval.
			time.Sleep(time.Duration(float64(*interval) * float64(i) / float64(*hosts)))
			for seq := uint64(1); time.Now().Before(end); seq++ {
				r := fleet.Report{Host: name(i), Agent: agent, Seq: seq, Kind: fleet.KindHeartbeat, Interval: *interval}
				switch {
				case seq == 1:
					r.Kind, r.Listeners = fleet.KindFull, ls
				case mrand.Float64() < *changes:
					j := mrand.IntN(len(ls))
					ls[j].PID++
					r.Kind, r.Changed = fleet.KindDelta, []fleet.Listener{ls[j]}
				}
				b, _ := fleet.Encode(r)
				req, _ := http.NewRequest("POST", *base+"/api/v1/fleet/report", bytes.NewReader(b))
				req.Header.Set("Authorization", "Bearer "+toks[i])
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				sent.Add(1)
				resp, err := client.Do(req)
				d := time.Since(t0)
				if err == nil {
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
					why := ""
					if err != nil {
						why = "error"
					} else {
						why = resp.Status
					}
					mu.Lock()
					reasons[why]++
					mu.Unlock()
					seq-- // resend it next time, as an agent would
				} else {
					acked.Add(1)
					lastAcked[i] = seq
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
				time.Sleep(*interval - d%*interval)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := result{Hosts: *hosts, IntervalS: interval.Seconds(), DurationS: elapsed.Seconds(),
		Sent: sent.Load(), Acked: acked.Load(), Failed: failed.Load(), FailReasons: reasons}
	res.ReportsPerSec = float64(res.Acked) / elapsed.Seconds()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(math.Ceil(p*float64(len(lat))))-1].Microseconds()) / 1000
	}
	res.P50ms, res.P99ms, res.Maxms = pct(0.50), pct(0.99), pct(1)
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
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(*dsn + suffix); err == nil {
			res.DBBytes += fi.Size()
		}
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func name(i int) string { return fmt.Sprintf("load-%07d", i) }
