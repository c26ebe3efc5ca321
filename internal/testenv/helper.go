package testenv

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The helper-process protocol: a test binary re-executes itself with
// "-test.run=^$" (so that no test runs in the child), an environment variable
// that a TestMain or an init function checks, and its own arguments after
// "--". The socket helper is one such child: it binds what its spec lists,
// prints "KIND PORT" for each socket and then "ready", and holds the sockets
// until its stdin closes, so that a test can look at a real listener owned by
// another process.

// Reexec returns a command that runs this test binary again with env added
// and args after "--". If the test starts it, the process is killed (by its
// PID, the one the test started) and reaped at cleanup unless it was waited
// for already.
func Reexec(t testing.TB, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd, err := ReexecCommand(env, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.Process != nil && cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// ReexecCommand is Reexec without a test: for a child that starts children
// of its own. Its caller ends what it starts.
func ReexecCommand(env []string, args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return cmd, nil
}

// Args returns this process's arguments after "--": what Reexec passed to a
// re-executed test binary.
func Args() []string {
	if i := slices.Index(os.Args, "--"); i >= 0 {
		return os.Args[i+1:]
	}
	return nil
}

const socketHelperEnv = "PORTHOLE_TEST_SOCKET_HELPER"

// Binder opens the sockets of one spec item of the socket helper: kind, and a
// port to bind (0: any). It returns what to keep open and the port it got.
type Binder func(kind string, port int) ([]io.Closer, int, error)

// SocketHelperMain makes this test binary the socket helper when StartSockets
// or SocketCommand started it: call it first in TestMain or in an init
// function. It binds each item of the spec with bind (nil: Bind), then exits.
// Otherwise it returns at once.
func SocketHelperMain(bind Binder) {
	if os.Getenv(socketHelperEnv) != "1" {
		return
	}
	if bind == nil {
		bind = Bind
	}
	os.Exit(holdSockets(strings.Join(Args(), ","), bind))
}

// holdSockets binds each comma-separated item of spec, "[N*]KIND[:PORT]",
// prints "KIND PORT" for each socket and "ready", and holds the sockets until
// stdin closes or ten minutes pass.
func holdSockets(spec string, bind Binder) int {
	var keep []io.Closer
	out := bufio.NewWriter(os.Stdout)
	for _, item := range strings.Split(spec, ",") {
		if item == "" {
			continue
		}
		n := 1
		if count, rest, ok := strings.Cut(item, "*"); ok {
			n, _ = strconv.Atoi(count)
			item = rest
		}
		kind, p, _ := strings.Cut(item, ":")
		port, _ := strconv.Atoi(p)
		for range n {
			c, got, err := bind(kind, port)
			if err != nil {
				os.Stderr.WriteString("socket helper: " + item + ": " + err.Error() + "\n")
				return 1
			}
			keep = append(keep, c...)
			out.WriteString(kind + " " + strconv.Itoa(got) + "\n")
		}
	}
	out.WriteString("ready\n")
	out.Flush()
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
	}
	for _, c := range keep {
		c.Close()
	}
	return 0
}

// SocketCommand returns the command that runs exe ("": this test binary) as
// the socket helper for spec, with wrap (e.g. "unshare", "-n") before it.
func SocketCommand(exe, spec string, wrap ...string) (*exec.Cmd, error) {
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	args := append(append(slices.Clone(wrap), exe, "-test.run=^$", "--"), strings.Split(spec, ",")...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), socketHelperEnv+"=1")
	return cmd, nil
}

// Helper is a running socket helper.
type Helper struct {
	Cmd   *exec.Cmd        // the started command, for a test that signals it and waits
	PID   int              // the helper's process (unshare -n execs it, so also with wrap)
	Exe   string           // the executable it runs
	Ports map[string][]int // kind -> the ports bound, in spec order
	stop  func()
}

// Stop closes the helper's stdin and waits for it to exit, killing it (by
// PID) after five seconds. It runs at cleanup too; a second call does nothing.
func (h *Helper) Stop() { h.stop() }

// StartSockets starts the socket helper (see SocketCommand) and waits until
// it holds every socket of spec. The test binary must call SocketHelperMain.
func StartSockets(t testing.TB, exe, spec string, wrap ...string) *Helper {
	t.Helper()
	cmd, err := SocketCommand(exe, spec, wrap...)
	if err != nil {
		t.Fatal(err)
	}
	var stderr SyncBuffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &Helper{Cmd: cmd, PID: cmd.Process.Pid, Exe: cmd.Args[len(wrap)], Ports: map[string][]int{}}
	stopped := false
	h.stop = func() {
		if stopped {
			return
		}
		stopped = true
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill() // by PID: only the process this test started
			<-done
		}
	}
	t.Cleanup(h.stop)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if line == "ready" {
			return h
		}
		kind, p, ok := strings.Cut(line, " ")
		port, err := strconv.Atoi(p)
		if !ok || err != nil {
			t.Fatalf("socket helper said %q", line)
		}
		h.Ports[kind] = append(h.Ports[kind], port)
	}
	h.stop()
	t.Fatalf("socket helper %q exited before it was ready: %s", spec, strings.TrimSpace(stderr.String()))
	return nil
}

// CopyExe copies this test binary to dst (a new file, mode 0755), for a
// helper that must run from another path: a directory the audit flags, an
// executable the test then deletes.
func CopyExe(t testing.TB, dst string) {
	t.Helper()
	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
