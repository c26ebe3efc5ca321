package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/process"
	"github.com/porthole/porthole/internal/sockets"
)

// killOptions are who --kill's flags.
type killOptions struct {
	yes, force bool
	wait       time.Duration
}

// holder is one process holding some of the sockets asked about.
type holder struct {
	info    process.Info
	sockets []string // "tcp 127.0.0.1:8080"
}

func (h *holder) String() string {
	s := fmt.Sprintf("pid %d %s", h.info.PID, h.info.Name)
	if h.info.User != "" {
		s += " user " + h.info.User
	}
	if h.info.Exe != "" {
		s += " exe " + h.info.Exe
	}
	return s + " (" + strings.Join(h.sockets, ", ") + ")"
}

// holders gathers the processes holding ls, in order of first appearance,
// and the sockets whose owner is not visible.
func holders(ls []sockets.Listener) (hs []*holder, unknown []string) {
	byPID := map[int]*holder{}
	for _, l := range ls {
		sock := socketLabel(l)
		if len(l.Owners) == 0 {
			unknown = append(unknown, sock+": "+dossier.OwnerUnknownText(i18n.EN, l.OwnerUnknown))
			continue
		}
		for _, o := range l.Owners {
			h, ok := byPID[o.PID]
			if !ok {
				h = &holder{info: o}
				byPID[o.PID] = h
				hs = append(hs, h)
			}
			if !slices.Contains(h.sockets, sock) {
				h.sockets = append(h.sockets, sock)
			}
		}
	}
	return hs, unknown
}

func socketLabel(l sockets.Listener) string {
	return l.Proto.String() + " " + l.HostPort()
}

// protectedPID is a process porthole never signals: none (0), init (1),
// and itself.
func protectedPID(pid int) string {
	switch {
	case pid <= 0:
		return "pid " + strconv.Itoa(pid) + " is not a process"
	case pid == 1:
		return "pid 1 is init; stop the service through it (systemctl stop, or the unit that holds the socket)"
	case pid == os.Getpid():
		return "it is porthole itself"
	}
	return ""
}

// stillHeld is the error of a --kill that leaves the port held: exit 3.
func stillHeld(format string, args ...any) error {
	return &exitError{code: ExitFailure, msg: fmt.Sprintf(format, args...)}
}

// killHolders ends every process that holds the sockets ls (found by the
// queries qs), after asking once (unless o.yes), waits up to o.wait for
// the port to be free, and with o.force sends SIGKILL to the holders that
// outlast the wait. It signals only processes that the dump named as
// holders, that the user confirmed, and that still hold a socket in a fresh
// dump taken right before the signal, so a PID reused in the meantime is
// left alone. It returns nil only when the port is free afterwards.
func killHolders(ctx context.Context, env *Env, ls []sockets.Listener, qs []sockets.Query, what string, o killOptions) error {
	hs, unknown := holders(ls)
	if len(unknown) > 0 {
		return stillHeld("not every holder of %s is visible, so ending the others would not free it; nothing was signalled: %s",
			what, strings.Join(unknown, "; "))
	}
	for _, h := range hs {
		if why := protectedPID(h.info.PID); why != "" {
			return stillHeld("%s is held by pid %d (%s), which porthole does not signal: %s; nothing was signalled",
				what, h.info.PID, h.info.Name, why)
		}
	}
	noun := "process holds"
	if len(hs) > 1 {
		noun = "processes hold"
	}
	fmt.Fprintf(env.Stdout, "%d %s %s:\n", len(hs), noun, what)
	for _, h := range hs {
		fmt.Fprintf(env.Stdout, "  %s\n", h)
	}
	if !o.yes {
		if !interactive(env.Stdin) {
			return usagef("--kill asks before ending anything, and standard input is not a terminal; nothing was signalled (add --yes to end them without asking)")
		}
		them := "it"
		if len(hs) > 1 {
			them = "all " + strconv.Itoa(len(hs))
		}
		fmt.Fprintf(env.Stderr, "End %s with %s? [y/N] ", them, softSignalName)
		ans, _ := bufio.NewReader(env.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(ans)); a != "y" && a != "yes" {
			return stillHeld("declined: nothing was signalled, and %s is still held", what)
		}
	}
	confirmed := map[int]bool{}
	for _, h := range hs {
		confirmed[h.info.PID] = true
	}
	left, err := signalHolders(ctx, env, qs, confirmed, false)
	if err == nil && len(left) > 0 {
		left, err = waitFree(ctx, qs, o.wait)
	}
	if err != nil {
		return err
	}
	if len(left) > 0 && o.force {
		fmt.Fprintf(env.Stderr, "porthole: %s is still held after %v; sending %s\n", what, o.wait, hardSignalName)
		if left, err = signalHolders(ctx, env, qs, confirmed, true); err == nil && len(left) > 0 {
			left, err = waitFree(ctx, qs, o.wait)
		}
		if err != nil {
			return err
		}
	}
	if len(left) == 0 {
		_, err := fmt.Fprintf(env.Stdout, "%s is free\n", what)
		return err
	}
	hs, unknown = holders(left)
	var still []string
	for _, h := range hs {
		s := h.String()
		if !confirmed[h.info.PID] {
			s += ", which was not a holder when you were asked, so it was not signalled"
		}
		still = append(still, s)
	}
	still = append(still, unknown...)
	hint := ""
	if !o.force {
		hint = fmt.Sprintf("; wait longer (--wait) or run again with --force to send %s", hardSignalName)
	}
	return stillHeld("%s is still held after %v by %s%s", what, o.wait, strings.Join(still, "; "), hint)
}

// signalHolders takes a fresh dump and signals the confirmed processes that
// still hold a socket in it. It returns the listeners left, empty when the
// port is free already.
func signalHolders(ctx context.Context, env *Env, qs []sockets.Query, confirmed map[int]bool, hard bool) ([]sockets.Listener, error) {
	ls, err := listAll(ctx, qs, false)
	if err != nil {
		return nil, err
	}
	hs, _ := holders(ls)
	name := softSignalName
	if hard {
		name = hardSignalName
	}
	var failed []string
	for _, h := range hs {
		pid := h.info.PID
		if !confirmed[pid] || protectedPID(pid) != "" {
			continue
		}
		if err := terminate(pid, hard); err != nil {
			failed = append(failed, fmt.Sprintf("pid %d: %v", pid, err))
			continue
		}
		fmt.Fprintf(env.Stdout, "sent %s to pid %d (%s)\n", name, pid, h.info.Name)
	}
	if len(failed) > 0 {
		return nil, fmt.Errorf("signalling: %s", strings.Join(failed, "; "))
	}
	return ls, nil
}

// waitFree polls the queries until nothing listens or d has passed, and
// returns the listeners (with owners) still there.
func waitFree(ctx context.Context, qs []sockets.Query, d time.Duration) ([]sockets.Listener, error) {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ls, err := listAll(ctx, qs, true)
		if err != nil {
			return nil, err
		}
		if len(ls) == 0 {
			return nil, nil
		}
		if !time.Now().Before(deadline) {
			return listAll(ctx, qs, false)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// interactive reports whether a confirmation can be asked on r: a terminal,
// or a reader that is not a file at all (a caller such as a test that
// supplies the answer). A file, pipe or /dev/null is not asked.
func interactive(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return true
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
