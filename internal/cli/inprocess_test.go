package cli

import (
	"context"
	"io"
	"regexp"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/testenv"
)

// inProcess is a long-running command (serve, watch, agent) that Main runs
// in this process, in a goroutine, until it is stopped.
type inProcess struct {
	name   string
	stderr *testenv.SyncBuffer
	cancel context.CancelFunc
	done   chan int
	exited bool
	code   int
}

// startMain runs `porthole args...` in process with the test environment
// and the clock now; it is stopped, if it still runs, when t ends.
func startMain(t *testing.T, now func() time.Time, args ...string) *inProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &inProcess{name: args[0], stderr: &testenv.SyncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	env := testEnv(nil, io.Discard, p.stderr)
	env.Now = now
	go func() { p.done <- Main(ctx, args, env) }()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// wait returns the submatches of re once the command's stderr matches it
// ("serving (http://\S+)/"). t fails when the command exits first, or when
// a minute passes (a guard against a hang, not a timing assertion).
func (p *inProcess) wait(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(p.stderr.String()); m != nil {
			return m
		}
		select {
		case p.code = <-p.done:
			p.exited = true
			t.Fatalf("%s exited %d before printing %s: %s", p.name, p.code, re, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s never printed %s: %s", p.name, re, p.stderr.String())
	return nil
}

// stop cancels the command (what SIGTERM does in cmd/porthole) and returns
// its exit status; t fails when it has not stopped 15 s later.
func (p *inProcess) stop(t *testing.T) int {
	t.Helper()
	p.cancel()
	if !p.exited {
		select {
		case p.code = <-p.done:
			p.exited = true
		case <-time.After(15 * time.Second):
			t.Errorf("%s did not stop after cancellation: %s", p.name, p.stderr.String())
			return -1
		}
	}
	return p.code
}
