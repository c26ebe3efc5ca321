// Command server is a stand-in for `porthole serve` while that command is being written: it serves only the
// feedback routes, wrapped in webguard, with the same flags the real command will take (--db, --rate-limit,
// --addr), so that scripts/bench-feedback.sh can drive either binary.
//
// On SIGTERM or SIGINT it stops accepting connections, lets requests in flight finish (for at most 10 s), closes
// the store and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/porthole/porthole/internal/feedback"
	"github.com/porthole/porthole/internal/store"
	"github.com/porthole/porthole/internal/webguard"
)

// drainTimeout bounds how long shutdown waits for requests in flight.
const drainTimeout = 10 * time.Second

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	db := fs.String("db", "", "feedback store: a SQLite file path or a postgres:// URL (default: the user data directory)")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	rate := fs.Int("rate-limit", 10, "feedback posts per client per minute (0: no limit)")
	verbose := fs.Bool("v", false, "log every feedback post")
	fs.Parse(args)

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := run(*db, *addr, *rate, log); err != nil {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
}

func run(dsn, addr string, rate int, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		st.Close()
		return err
	}
	var inFlight atomic.Int64
	fb := webguard.Wrap(feedback.New(st, time.Now, log, feedback.Options{RateLimit: rate}), log)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		defer inFlight.Add(-1)
		fb.ServeHTTP(w, r)
	})
	srv := webguard.NewServer(addr, h, webguard.Timeouts{}, log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(os.Stderr, "listening on http://%s pid %d\n", ln.Addr(), os.Getpid())

	select {
	case err := <-errc:
		st.Close()
		return err
	case <-ctx.Done():
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "signal: draining %d requests in flight\n", inFlight.Load())
	sctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	serr := srv.Shutdown(sctx)
	if errors.Is(serr, context.DeadlineExceeded) {
		srv.Close()
	}
	cerr := st.Close()
	fmt.Fprintf(os.Stderr, "drained in %s; store closed (shutdown: %v, close: %v)\n",
		time.Since(start).Round(time.Millisecond), serr, cerr)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(serr, cerr)
}
