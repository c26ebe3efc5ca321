package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/testenv"
)

// preforkEnv makes this test binary the pre-fork helper (startPrefork).
const preforkEnv = "PORTHOLE_TEST_PREFORK"

func init() {
	if os.Getenv(preforkEnv) == "1" {
		os.Exit(preforkMain(testenv.Args()))
	}
}

// preforkMain is the pre-fork helper, args "N [noterm]": it listens on
// loopback and starts N children ("child [noterm]") that inherit the
// listening socket, as a pre-forking server does, prints "PORT PID..."
// (itself first), and waits. With noterm every process ignores SIGTERM.
func preforkMain(args []string) int {
	if len(args) == 0 {
		return 2
	}
	if slices.Contains(args, "noterm") {
		signal.Ignore(syscall.SIGTERM)
	}
	if args[0] == "child" {
		// fd 3 is the listener; holding it is all a child does.
		if _, err := net.FileListener(os.NewFile(3, "listener")); err != nil {
			return 3
		}
		fmt.Println("ready")
		time.Sleep(2 * time.Minute)
		return 0
	}
	children, _ := strconv.Atoi(args[0])
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 3
	}
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		return 3
	}
	line := []string{strconv.Itoa(l.Addr().(*net.TCPAddr).Port), strconv.Itoa(os.Getpid())}
	for range children {
		c, err := testenv.ReexecCommand([]string{preforkEnv + "=1"}, append([]string{"child"}, args[1:]...)...)
		if err != nil {
			return 3
		}
		c.ExtraFiles = []*os.File{f}
		out, err := c.StdoutPipe()
		if err != nil {
			return 3
		}
		if err := c.Start(); err != nil {
			return 3
		}
		if s, err := bufio.NewReader(out).ReadString('\n'); err != nil || strings.TrimSpace(s) != "ready" {
			return 3
		}
		line = append(line, strconv.Itoa(c.Process.Pid))
	}
	fmt.Println(strings.Join(line, " "))
	time.Sleep(2 * time.Minute)
	return 0
}

// startPrefork starts a pre-forked helper with children children in its own
// process group, which the cleanup ends. It returns the port and the PIDs
// holding it, the parent first.
func startPrefork(t *testing.T, children int, ignoreTerm bool) (port int, pids []int) {
	t.Helper()
	args := []string{strconv.Itoa(children)}
	if ignoreTerm {
		args = append(args, "noterm")
	}
	cmd := testenv.Reexec(t, []string{preforkEnv + "=1"}, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		// Only what this test started: the PIDs the helper reported, while
		// they are still in its process group (Reexec's cleanup, which runs
		// after this one, ends the helper itself).
		for _, p := range pids {
			if g, err := syscall.Getpgid(p); err == nil && g == pgid {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("prefork helper: %v", err)
	}
	f := strings.Fields(line)
	if len(f) != children+2 {
		t.Fatalf("prefork helper printed %q", line)
	}
	port, _ = strconv.Atoi(f[0])
	for _, s := range f[1:] {
		p, _ := strconv.Atoi(s)
		pids = append(pids, p)
	}
	return port, pids
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// A zombie has ended; only its exit status is left.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// waitGone waits (bounded) for pids to end: a child of ours may still be
// exiting after the port was freed.
func waitGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range pids {
		for alive(p) {
			if time.Now().After(deadline) {
				t.Fatalf("pid %d still runs", p)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestWhoKillPrefork(t *testing.T) {
	needLinux(t)
	port, pids := startPrefork(t, 2, false)
	r := run(t, "", "who", "--kill", "--yes", strconv.Itoa(port))
	if r.code != 0 {
		t.Fatalf("who --kill --yes: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "3 processes hold tcp or udp "+strconv.Itoa(port)) {
		t.Errorf("holders not named:\n%s", r.stdout)
	}
	for _, p := range pids {
		if !strings.Contains(r.stdout, "sent SIGTERM to pid "+strconv.Itoa(p)+" ") {
			t.Errorf("pid %d not signalled:\n%s", p, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "is free") {
		t.Errorf("no word that the port is free:\n%s", r.stdout)
	}
	if w := run(t, "", "who", strconv.Itoa(port)); w.code != ExitNotFound {
		t.Errorf("after --kill the port is still held:\n%s", w.stdout)
	}
	waitGone(t, pids)
}

func TestWhoKillStubbornNeedsForce(t *testing.T) {
	needLinux(t)
	port, pids := startPrefork(t, 2, true)
	r := run(t, "", "who", "--kill", "--yes", "--wait", "300ms", strconv.Itoa(port))
	if r.code != ExitFailure || !strings.Contains(r.stderr, "still held") || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("SIGTERM ignored: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, p := range pids {
		if !alive(p) {
			t.Fatalf("pid %d ended though it ignores SIGTERM", p)
		}
		if !strings.Contains(r.stderr, "pid "+strconv.Itoa(p)+" ") {
			t.Errorf("the report does not name pid %d: %s", p, r.stderr)
		}
	}
	r = run(t, "", "who", "--kill", "--yes", "--force", "--wait", "300ms", strconv.Itoa(port))
	if r.code != 0 {
		t.Fatalf("--force: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	for _, p := range pids {
		if !strings.Contains(r.stdout, "sent SIGKILL to pid "+strconv.Itoa(p)+" ") {
			t.Errorf("pid %d not sent SIGKILL:\n%s", p, r.stdout)
		}
	}
	waitGone(t, pids)
}

func TestWhoKillAsksOnce(t *testing.T) {
	needLinux(t)
	port, pids := startPrefork(t, 2, false)
	r := run(t, "n\n", "who", "--kill", strconv.Itoa(port))
	if r.code != ExitFailure || strings.Count(r.stderr, "[y/N]") != 1 || !strings.Contains(r.stderr, "declined") {
		t.Fatalf("declined: exit %d, stderr %q", r.code, r.stderr)
	}
	// Standard input that is not a terminal, and no --yes: refused.
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r = runIn(t, null, "who", "--kill", strconv.Itoa(port))
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--yes") {
		t.Fatalf("no terminal: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, p := range pids {
		if !alive(p) {
			t.Fatalf("pid %d ended without a yes", p)
		}
	}
	r = run(t, "y\n", "who", "--kill", strconv.Itoa(port))
	if r.code != 0 || strings.Count(r.stderr, "[y/N]") != 1 {
		t.Fatalf("accepted: exit %d, stderr %q", r.code, r.stderr)
	}
	waitGone(t, pids)
}

// TestPortZeroIsNotAWildcard: port 0 matches port 0 only, which no listener
// holds; it used to match every listener.
func TestPortZeroIsNotAWildcard(t *testing.T) {
	needLinux(t)
	port, pids := startPrefork(t, 0, false)
	r := run(t, "", "who", "--json", "0")
	if r.code != ExitNotFound || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("who 0: exit %d, %s", r.code, r.stdout)
	}
	r = run(t, "", "who", "--kill", "--yes", "0")
	if r.code != ExitNotFound || strings.Contains(r.stdout, "sent") {
		t.Errorf("who 0 --kill --yes: exit %d, stdout %q", r.code, r.stdout)
	}
	if !alive(pids[0]) {
		t.Fatal("who 0 --kill --yes ended a listener on another port")
	}
	r = run(t, "", "audit", "--json", "0")
	var rep struct{ Listeners int }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Listeners != 0 {
		t.Errorf("audit 0: %v, %d listeners (exit %d)", err, rep.Listeners, r.code)
	}
	// The helper's own port still answers, so the queries did look.
	if r := run(t, "", "who", strconv.Itoa(port)); r.code != 0 {
		t.Errorf("who %d: exit %d", port, r.code)
	}
}

// runIn is run with a real file as standard input.
func runIn(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	return runEnv(stdin, nil, args...)
}
