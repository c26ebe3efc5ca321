package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// StopGrace is how long a command has to return after SIGINT or SIGTERM
// cancelled its context. Every command watches its context; the grace only
// matters when one is stuck in a system call that no context reaches (a
// hung network file system, say). serve's graceful shutdown fits in it.
const StopGrace = 10 * time.Second

// Run is cmd/porthole's main: Main with the real environment, SIGINT and
// SIGTERM cancelling the command's context. A second signal ends the
// process at once (the signal's default action), and a command that has
// not returned StopGrace after the first is abandoned with status 128+N
// (130 for SIGINT, 143 for SIGTERM), as a shell reports a process killed by
// that signal.
func Run(args []string) int {
	return runWithSignals(func(ctx context.Context) int { return Main(ctx, args, &Env{}) }, StopGrace, os.Stderr)
}

func runWithSignals(main func(context.Context) int, grace time.Duration, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigc)
	done := make(chan int, 1)
	go func() { done <- main(ctx) }()
	var sig os.Signal
	select {
	case code := <-done:
		return code
	case sig = <-sigc:
	}
	cancel()
	signal.Stop(sigc) // from now on a signal takes its default action
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case code := <-done:
		return code
	case <-t.C:
	}
	fmt.Fprintf(stderr, "porthole: %v: the command did not stop within %v; exiting anyway\n", sig, grace)
	return signalStatus(sig)
}

// signalStatus is 128 plus the signal number, the status a shell shows for
// a process that a signal ended.
func signalStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + 2
}
