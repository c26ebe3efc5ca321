package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/testenv"
)

// hangEnv makes the re-executed test binary run runWithSignals around a
// command that is stuck where no context reaches: open(2) of a FIFO without
// O_NONBLOCK, the way `audit --baseline FIFO` used to hang. The value is the
// FIFO's path; hangGraceEnv is the grace, as a time.Duration string.
const (
	hangEnv      = "PORTHOLE_TEST_HANG_FIFO"
	hangGraceEnv = "PORTHOLE_TEST_HANG_GRACE"
)

func init() {
	fifo := os.Getenv(hangEnv)
	if fifo == "" {
		return
	}
	grace, err := time.ParseDuration(os.Getenv(hangGraceEnv))
	if err != nil {
		panic(err)
	}
	os.Exit(runWithSignals(func(context.Context) int {
		fmt.Fprintln(os.Stderr, "opening the FIFO")
		f, err := os.Open(fifo) // blocks until a writer comes: none will
		if err == nil {
			f.Close()
		}
		return 0
	}, grace, os.Stderr))
}

// child starts the test binary again with env added, by PID-owned handle,
// and kills it at cleanup if it is still there.
func child(t *testing.T, env []string, args ...string) (*exec.Cmd, *testenv.SyncBuffer) {
	t.Helper()
	cmd := testenv.Reexec(t, env, args...)
	var stderr testenv.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// waitExit waits for cmd, failing the test if it has not ended after a
// minute: a guard against a hang, not a timing assertion.
func waitExit(t *testing.T, cmd *exec.Cmd, stderr *testenv.SyncBuffer) *os.ProcessState {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatalf("the child hung; stderr:\n%s", stderr.String())
	}
	return nil
}

func waitStderr(t *testing.T, stderr *testenv.SyncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("never saw %s on stderr:\n%s", re, stderr.String())
	return nil
}

func mkfifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "baseline.fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// `porthole audit --baseline FIFO` and `watch --baseline FIFO`, as real
// processes with no writer on the FIFO: refused at once, with a message
// naming the file and what it is, instead of blocking in open(2).
func TestBaselineFIFORefused(t *testing.T) {
	fifo := mkfifo(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"audit", "--baseline", fifo}, auditBadBase},
		{[]string{"watch", "--baseline", fifo}, ExitUsage},
	} {
		cmd, stderr := child(t, []string{audWatchMainEnv + "=1"}, tc.args...)
		st := waitExit(t, cmd, stderr)
		if st.ExitCode() != tc.code {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", tc.args[0], st.ExitCode(), tc.code, stderr.String())
		}
		if want := fifo + " is a named pipe (FIFO), not a regular file"; !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: stderr does not say %q:\n%s", tc.args[0], want, stderr.String())
		}
	}
}

// A real SIGTERM to a process stuck in a system call: the command is
// abandoned after the grace with status 143 and a message saying so.
func TestSignalEndsStuckCommand(t *testing.T) {
	cmd, stderr := child(t, []string{hangEnv + "=" + mkfifo(t), hangGraceEnv + "=100ms"})
	waitStderr(t, stderr, regexp.MustCompile("opening the FIFO"))
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st := waitExit(t, cmd, stderr)
	if st.ExitCode() != 143 {
		t.Errorf("exit %d, want 143; stderr:\n%s", st.ExitCode(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "terminated: the command did not stop within 100ms") {
		t.Errorf("stderr does not explain the exit:\n%s", stderr.String())
	}
}

// A second SIGINT ends the process at once, without waiting for the grace.
func TestSecondInterruptKills(t *testing.T) {
	cmd, stderr := child(t, []string{hangEnv + "=" + mkfifo(t), hangGraceEnv + "=1h"})
	waitStderr(t, stderr, regexp.MustCompile("opening the FIFO"))
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// The first signal is taken by Run; send the second until the process
	// is gone (the first may not have been handled yet when it arrives).
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
				cmd.Process.Signal(syscall.SIGINT)
			}
		}
	}()
	st := waitExit(t, cmd, stderr)
	close(done)
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("the process ended with %v, want killed by SIGINT; stderr:\n%s", st, stderr.String())
	}
}

// `porthole serve` as a real process stops cleanly on a real SIGINT.
func TestServeStopsOnInterrupt(t *testing.T) {
	cmd, stderr := child(t, []string{audWatchMainEnv + "=1"}, "serve", "--addr", "127.0.0.1:0",
		"--db", filepath.Join(t.TempDir(), "feedback.db"))
	waitStderr(t, stderr, regexp.MustCompile(`serving http://\S+/`))
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	st := waitExit(t, cmd, stderr)
	if st.ExitCode() != 0 || !strings.Contains(stderr.String(), "porthole: stopped") {
		t.Errorf("exit %d after SIGINT; stderr:\n%s", st.ExitCode(), stderr.String())
	}
}

func mkfifoIfPossible(p string) error { return syscall.Mkfifo(p, 0o600) }

// SIGTERM with connections open on the fast front: one kept alive after
// answers from the front, one that has sent nothing, one in the middle of
// a request. The request is answered, every connection ends, and serve
// exits 0 after "stopped".
func TestServeSIGTERMWithFrontConnections(t *testing.T) {
	cmd, stderr := child(t, []string{audWatchMainEnv + "=1"}, "serve", "--addr", "127.0.0.1:0",
		"--db", filepath.Join(t.TempDir(), "feedback.db"))
	addr := waitStderr(t, stderr, regexp.MustCompile(`serving http://(\S+)/`))[1]
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(time.Minute))
		return c
	}
	req := "GET /ports/2556 HTTP/1.1\r\nHost: localhost\r\n\r\n"
	kept := dial()
	br := bufio.NewReader(kept)
	for range 3 { // rendered, recorded, then answered by the front
		if _, err := io.WriteString(kept, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	silent := dial()
	half := dial()
	if _, err := io.WriteString(half, req[:20]); err != nil {
		t.Fatal(err)
	}
	// Time for serve to read it (a connection that has sent nothing is
	// closed at once on SIGTERM), and time for the signal to arrive
	// before the rest of the request.
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if _, err := io.WriteString(half, req[20:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(half), nil)
	if err != nil {
		t.Fatalf("the request in flight at SIGTERM: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the request in flight at SIGTERM: status %d", resp.StatusCode)
	}
	st := waitExit(t, cmd, stderr)
	if st.ExitCode() != 0 || !strings.Contains(stderr.String(), "porthole: stopped") {
		t.Errorf("exit %d after SIGTERM; stderr:\n%s", st.ExitCode(), stderr.String())
	}
	for name, c := range map[string]net.Conn{"kept": kept, "silent": silent, "half": half} {
		if _, err := io.Copy(io.Discard, c); err != nil && !strings.Contains(err.Error(), "reset") {
			t.Errorf("%s connection after serve stopped: %v", name, err)
		}
	}
}
