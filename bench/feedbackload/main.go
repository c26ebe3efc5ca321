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
	"bufio"
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

	u, err := url.Parse(*base)
	if err != nil {
		return err
	}
	if !isLoopback(u.Hostname()) {
		return fmt.Errorf("refusing to load %s: only loopback addresses", u.Host)
	}
	target := strings.TrimSuffix(*base, "/") + "/api/v1/feedback"
	f, err := os.Create(*idsPath)
	if err != nil {
		return err
	}
	defer f.Close()

	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: *c, MaxConnsPerHost: *c, DisableCompression: true},
	}
	var next, acked, failed atomic.Int64
	var firstErr atomic.Value
	var mu sync.Mutex
	w := bufio.NewWriter(f)
	record := func(id int64) error {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(w, id)
		return w.Flush() // to the OS at once: the file must survive a crash of the server, not of this process
	}
	ratings := []string{store.Unhelpful, store.Neutral, store.Helpful}
	start := time.Now()
	var wg sync.WaitGroup
	for range *c {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(*n) {
					return
				}
				body, _ := json.Marshal(map[string]any{
					"port": i % 65536, "lang": []string{"en", "ko"}[i%2], "rating": ratings[i%3],
					"comment": fmt.Sprintf("load test post %d — 부하 시험 ✓", i),
				})
				id, err := post(client, target, body)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				if err := record(id); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				acked.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Printf("posts=%d clients=%d acknowledged=%d failed=%d elapsed=%.2fs posts/s=%.0f\n",
		*n, *c, acked.Load(), failed.Load(), elapsed.Seconds(), float64(acked.Load())/elapsed.Seconds())
	if e := firstErr.Load(); e != nil {
		fmt.Printf("first error: %s\n", e)
	}
	if *requireAll && acked.Load() != int64(*n) {
		return fmt.Errorf("%d of %d posts not acknowledged", int64(*n)-acked.Load(), *n)
	}
	return nil
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

	ctx := context.Background()
	st, err := store.Open(ctx, *dsn)
	if err != nil {
		return fmt.Errorf("opening the store: %w", err)
	}
	defer st.Close()
	integrity := "n/a"
	if c, ok := st.(interface{ Check(context.Context) error }); ok {
		if err := c.Check(ctx); err != nil {
			return err
		}
		integrity = "ok"
	}
	present := map[int64]bool{}
	if err := st.Export(ctx, func(f store.Feedback) error { present[f.ID] = true; return nil }); err != nil {
		return err
	}
	b, err := os.ReadFile(*idsPath)
	if err != nil {
		return err
	}
	var ids, missing int
	for _, line := range strings.Fields(string(b)) {
		id, err := strconv.ParseInt(line, 10, 64)
		if err != nil {
			return fmt.Errorf("ids file: %q", line)
		}
		ids++
		if !present[id] {
			missing++
			if missing <= 5 {
				fmt.Printf("missing acknowledged id %d\n", id)
			}
		}
	}
	fmt.Printf("acknowledged=%d missing=%d rows=%d integrity=%s\n", ids, missing, len(present), integrity)
	if missing > 0 {
		return fmt.Errorf("%d acknowledged ids missing", missing)
	}
	if *wantRows >= 0 && int64(len(present)) != *wantRows {
		return fmt.Errorf("%d rows, want exactly %d", len(present), *wantRows)
	}
	return nil
}
