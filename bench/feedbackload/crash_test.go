//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/testenv"
)

// These tests run the real `porthole serve` as a process and kill it: a small version of
// scripts/bench-feedback.sh that CI runs on every change. The binary is built once per test run.

var (
	buildOnce sync.Once
	porthole  string // the built binary
	buildErr  error
)

// portholeBinary builds cmd/porthole into a temporary directory, once.
func portholeBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "porthole-crash-test")
		if err != nil {
			buildErr = err
			return
		}
		porthole = filepath.Join(dir, "porthole")
		// go test puts its own GOROOT/bin first in PATH, so "go" is the toolchain running this test.
		out, err := exec.Command("go", "build", "-o", porthole, "github.com/porthole/porthole/cmd/porthole").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building porthole: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return porthole
}

func TestMain(m *testing.M) {
	code := m.Run()
	if porthole != "" {
		os.RemoveAll(filepath.Dir(porthole))
	}
	os.Exit(code)
}

type server struct {
	cmd    *exec.Cmd
	base   string
	stderr *testenv.SyncBuffer
	done   chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func startServer(t *testing.T, dsn string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{cmd: exec.Command(portholeBinary(t), "serve", "--db", dsn, "--rate-limit", "0", "--addr", addr),
		stderr: &testenv.SyncBuffer{}, done: make(chan error, 1)}
	s.base = "http://" + addr
	// Keep the server off the user's registry cache.
	s.cmd.Env = append(os.Environ(), "PORTHOLE_CACHE_DIR="+t.TempDir())
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill() // only the process this test started, by its PID
			<-s.done
		}
	})
	for {
		resp, err := http.Get(s.base + "/api/v1/feedback")
		if err == nil {
			resp.Body.Close()
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("server exited at start: %v\n%s", err, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// wait returns the server's exit error, failing the test if it has not exited within limit (a guard against a
// hang, not a performance assertion).
func (s *server) wait(t *testing.T, limit time.Duration) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(limit):
		t.Fatalf("server still running after %s\n%s", limit, s.stderr)
		return nil
	}
}

// loadUntil runs a load in the background and returns once at least min posts are acknowledged.
func loadUntil(t *testing.T, base string, n, min int64) (ids *testenv.SyncBuffer, finished chan loadResult) {
	t.Helper()
	ids = &testenv.SyncBuffer{}
	finished = make(chan loadResult, 1)
	var progress atomic.Int64
	go func() {
		res, err := runLoad(base, int(n), 20, ids, &progress)
		if err != nil {
			res.firstErr = err.Error()
		}
		finished <- res
	}()
	for progress.Load() < min {
		select {
		case res := <-finished:
			t.Fatalf("load ended before %d acks: %+v", min, res)
		case <-time.After(5 * time.Millisecond):
		}
	}
	return ids, finished
}

func checkAcked(t *testing.T, dsn string, ids []byte, exactRows int64) {
	t.Helper()
	acked, err := parseIDs(ids)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verifyStore(context.Background(), dsn, acked)
	if err != nil {
		t.Fatalf("the database does not open cleanly: %v", err)
	}
	if len(rep.missing) > 0 {
		t.Errorf("%d of %d acknowledged ids missing, e.g. %v", len(rep.missing), len(acked), rep.missing[:min(5, len(rep.missing))])
	}
	if rep.rows < int64(len(acked)) || (exactRows >= 0 && rep.rows != exactRows) {
		t.Errorf("%d rows for %d acknowledged posts (want exactly %d)", rep.rows, len(acked), exactRows)
	}
	t.Logf("acknowledged=%d rows=%d integrity=%s", len(acked), rep.rows, rep.integrity)
}

func backends(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "feedback.db") },
		"postgres": func(t *testing.T) string { return testenv.Postgres(t) },
	}
}

func TestLoadExactCount(t *testing.T) {
	for name, dsnFor := range backends(t) {
		t.Run(name, func(t *testing.T) {
			dsn := dsnFor(t)
			s := startServer(t, dsn)
			var ids testenv.SyncBuffer
			res, err := runLoad(s.base, 2000, 20, &ids, nil)
			if err != nil || res.acked != 2000 || res.failed != 0 {
				t.Fatalf("load: %+v, %v", res, err)
			}
			t.Logf("%s: %.0f posts/s (informational)", name, float64(res.acked)/res.elapsed.Seconds())
			s.cmd.Process.Signal(syscall.SIGTERM)
			if err := s.wait(t, 15*time.Second); err != nil {
				t.Errorf("exit after SIGTERM: %v\n%s", err, s.stderr)
			}
			checkAcked(t, dsn, ids.Bytes(), 2000)
		})
	}
}

func TestSIGKILLKeepsAcknowledged(t *testing.T) {
	for name, dsnFor := range backends(t) {
		t.Run(name, func(t *testing.T) {
			dsn := dsnFor(t)
			s := startServer(t, dsn)
			ids, finished := loadUntil(t, s.base, 5000, 500)
			s.cmd.Process.Kill() // SIGKILL, mid-load
			var exit *exec.ExitError
			if err := s.wait(t, 15*time.Second); !errors.As(err, &exit) {
				t.Fatalf("server after SIGKILL: %v", err)
			}
			<-finished
			// A restart opens the database cleanly and takes posts again.
			s2 := startServer(t, dsn)
			if _, err := post(http.DefaultClient, s2.base+"/api/v1/feedback",
				[]byte(`{"port":2556,"lang":"en","rating":"helpful","comment":"after the crash"}`)); err != nil {
				t.Errorf("post after restart: %v", err)
			}
			s2.cmd.Process.Signal(syscall.SIGTERM)
			if err := s2.wait(t, 15*time.Second); err != nil {
				t.Errorf("restarted server exit: %v", err)
			}
			checkAcked(t, dsn, ids.Bytes(), -1)
		})
	}
}

func TestSIGTERMDrains(t *testing.T) {
	for name, dsnFor := range backends(t) {
		t.Run(name, func(t *testing.T) {
			dsn := dsnFor(t)
			s := startServer(t, dsn)
			ids, finished := loadUntil(t, s.base, 5000, 500)
			s.cmd.Process.Signal(syscall.SIGTERM)
			// serve gives requests in flight up to StopGrace/2 (5 s); 15 s is the guard.
			if err := s.wait(t, 15*time.Second); err != nil {
				t.Errorf("exit after SIGTERM mid-load: %v\n%s", err, s.stderr)
			}
			<-finished
			// Everything acknowledged is stored, and nothing stored was left unacknowledged: the server answered
			// every request it had taken before it closed the store.
			acked, _ := parseIDs(ids.Bytes())
			checkAcked(t, dsn, ids.Bytes(), int64(len(acked)))
			if !strings.Contains(s.stderr.String(), "porthole: stopped") {
				t.Errorf("serve did not report a clean stop:\n%s", s.stderr)
			}
		})
	}
}
