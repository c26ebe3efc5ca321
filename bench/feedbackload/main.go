// Command feedbackload posts feedback to a running server and records what the server acknowledged.
//
//	feedbackload -url http://127.0.0.1:8080 -n 10000 -c 50 -ids acked.txt
//	feedbackload verify -db DSN -ids acked.txt [-rows 10000]
//
// The first form sends n posts from c concurrent clients, writes the id of every 201 answer to the ids file (one
// per line, written as it arrives, so the file is complete even when the server dies mid-run) and prints the
// rate. The second opens the store directly and checks that every recorded id is present, that the database is
// intact (SQLite's integrity check), and optionally the exact number of rows.
//
// It sends traffic only to the URL it is given; the bench script gives it loopback addresses only.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porthole/porthole/internal/store"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "verify" {
		err = verify(os.Args[2:])
	} else {
		err = load(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "feedbackload:", err)
		os.Exit(1)
	}
}

func load(args []string) error {
	fs := flag.NewFlagSet("feedbackload", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	n := fs.Int("n", 10000, "posts to send")
	c := fs.Int("c", 50, "concurrent clients")
	idsPath := fs.String("ids", "acked.txt", "file to write acknowledged ids to")
	requireAll := fs.Bool("require-all", false, "exit 1 unless every post was acknowledged")
	fs.Parse(args)

	f, err := os.Create(*idsPath)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := runLoad(*base, *n, *c, f, nil)
	if err != nil {
		return err
	}
	fmt.Printf("posts=%d clients=%d acknowledged=%d failed=%d elapsed=%.2fs posts/s=%.0f\n",
		*n, *c, res.acked, res.failed, res.elapsed.Seconds(), float64(res.acked)/res.elapsed.Seconds())
	if res.firstErr != "" {
		fmt.Printf("first error: %s\n", res.firstErr)
	}
	if *requireAll && res.acked != int64(*n) {
		return fmt.Errorf("%d of %d posts not acknowledged", int64(*n)-res.acked, *n)
	}
	return nil
}

type loadResult struct {
	acked, failed int64
	elapsed       time.Duration
	firstErr      string
}

// runLoad sends n posts from c clients to base and writes each acknowledged id to ids as it arrives (a line at a
// time, unbuffered, so the record survives a crash of the server). progress, if not nil, is incremented per ack.
func runLoad(base string, n, c int, ids io.Writer, progress *atomic.Int64) (loadResult, error) {
	u, err := url.Parse(base)
	if err != nil {
		return loadResult{}, err
	}
	if !isLoopback(u.Hostname()) {
		return loadResult{}, fmt.Errorf("refusing to load %s: only loopback addresses", u.Host)
	}
	target := strings.TrimSuffix(base, "/") + "/api/v1/feedback"
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: 30 * time.Second, Transport: tr}
	var next, acked, failed atomic.Int64
	var firstErr atomic.Value
	var mu sync.Mutex
	record := func(id int64) error {
		mu.Lock()
		defer mu.Unlock()
		_, err := fmt.Fprintln(ids, id)
		return err
	}
	ratings := []string{store.Unhelpful, store.Neutral, store.Helpful}
	start := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				body, _ := json.Marshal(map[string]any{
					"port": i % 65536, "lang": []string{"en", "ko"}[i%2], "rating": ratings[i%3],
					"comment": fmt.Sprintf("load test post %d — 부하 시험 ✓", i),
				})
				id, err := post(client, target, body)
				if err == nil {
					err = record(id)
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				acked.Add(1)
				if progress != nil {
					progress.Add(1)
				}
			}
		})
	}
	wg.Wait()
	res := loadResult{acked: acked.Load(), failed: failed.Load(), elapsed: time.Since(start)}
	if e, ok := firstErr.Load().(string); ok {
		res.firstErr = e
	}
	return res, nil
}

func post(client *http.Client, target string, body []byte) (int64, error) {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	var r struct{ ID int64 }
	if err := json.Unmarshal(b, &r); err != nil || r.ID <= 0 {
		return 0, fmt.Errorf("bad 201 body %q", b)
	}
	return r.ID, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func verify(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ExitOnError)
	dsn := fs.String("db", "", "the store the server wrote to")
	idsPath := fs.String("ids", "acked.txt", "acknowledged ids, one per line")
	wantRows := fs.Int64("rows", -1, "exact number of rows expected (-1: do not check)")
	fs.Parse(args)

	b, err := os.ReadFile(*idsPath)
	if err != nil {
		return err
	}
	ids, err := parseIDs(b)
	if err != nil {
		return err
	}
	rep, err := verifyStore(context.Background(), *dsn, ids)
	if err != nil {
		return err
	}
	for i, id := range rep.missing {
		if i == 5 {
			break
		}
		fmt.Printf("missing acknowledged id %d\n", id)
	}
	fmt.Printf("acknowledged=%d missing=%d rows=%d integrity=%s\n", len(ids), len(rep.missing), rep.rows, rep.integrity)
	if len(rep.missing) > 0 {
		return fmt.Errorf("%d acknowledged ids missing", len(rep.missing))
	}
	if *wantRows >= 0 && rep.rows != *wantRows {
		return fmt.Errorf("%d rows, want exactly %d", rep.rows, *wantRows)
	}
	return nil
}

func parseIDs(b []byte) ([]int64, error) {
	var ids []int64
	for _, line := range strings.Fields(string(b)) {
		id, err := strconv.ParseInt(line, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("ids file: %q", line)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

type verifyReport struct {
	rows      int64
	missing   []int64
	integrity string
}

// verifyStore opens the store (which runs its migrations: a database that cannot be opened fails here), runs
// SQLite's integrity check where there is one, and lists the acknowledged ids that are not stored.
func verifyStore(ctx context.Context, dsn string, ids []int64) (verifyReport, error) {
	var rep verifyReport
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return rep, fmt.Errorf("opening the store: %w", err)
	}
	defer st.Close()
	rep.integrity = "n/a"
	if c, ok := st.(interface{ Check(context.Context) error }); ok {
		if err := c.Check(ctx); err != nil {
			return rep, err
		}
		rep.integrity = "ok"
	}
	present := map[int64]bool{}
	if err := st.Export(ctx, func(f store.Feedback) error { present[f.ID] = true; return nil }); err != nil {
		return rep, err
	}
	rep.rows = int64(len(present))
	for _, id := range ids {
		if !present[id] {
			rep.missing = append(rep.missing, id)
		}
	}
	return rep, nil
}
