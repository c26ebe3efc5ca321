package sockets

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the listener helper: with helperEnv set it binds
// what PORTHOLE_HELPER_SPEC lists, prints one "KIND PORT" line per socket and
// "ready", then holds them until stdin closes (or 10 minutes pass).
//
// Spec items (comma separated), each optionally prefixed with "N*":
//
//	tcp4 tcp6 tcpdual tcp4any udp4 udp6 udpdual udp4any udpconn tcpconn
const (
	helperEnv     = "PORTHOLE_SOCKETS_HELPER"
	helperSpecEnv = "PORTHOLE_HELPER_SPEC"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(runHelper(os.Getenv(helperSpecEnv)))
	}
	os.Exit(m.Run())
}

func runHelper(spec string) int {
	var keep []io.Closer
	out := bufio.NewWriter(os.Stdout)
	for _, item := range strings.Split(spec, ",") {
		if item == "" {
			continue
		}
		n := 1
		if i := strings.IndexByte(item, '*'); i >= 0 {
			n, _ = strconv.Atoi(item[:i])
			item = item[i+1:]
		}
		for range n {
			c, port, err := helperBind(item)
			if err != nil {
				fmt.Fprintln(os.Stderr, "helper:", item, err)
				return 1
			}
			keep = append(keep, c...)
			fmt.Fprintf(out, "%s %d\n", item, port)
		}
	}
	fmt.Fprintln(out, "ready")
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

func helperBind(kind string) ([]io.Closer, int, error) {
	listen := func(network, addr string) ([]io.Closer, int, error) {
		l, err := net.Listen(network, addr)
		if err != nil {
			return nil, 0, err
		}
		return []io.Closer{l}, l.Addr().(*net.TCPAddr).Port, nil
	}
	packet := func(network, addr string) ([]io.Closer, int, error) {
		c, err := net.ListenPacket(network, addr)
		if err != nil {
			return nil, 0, err
		}
		return []io.Closer{c}, c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	switch kind {
	case "tcp4":
		return listen("tcp4", "127.0.0.1:0")
	case "tcp6":
		return listen("tcp6", "[::1]:0")
	case "tcp6any": // v6-only wildcard
		return listen("tcp6", "[::]:0")
	case "tcpdual": // Go makes "tcp" on a wildcard a dual-stack socket
		return listen("tcp", ":0")
	case "tcp4any":
		return listen("tcp4", "0.0.0.0:0")
	case "udp4":
		return packet("udp4", "127.0.0.1:0")
	case "udp6":
		return packet("udp6", "[::1]:0")
	case "udp6any":
		return packet("udp6", "[::]:0")
	case "udpdual":
		return packet("udp", ":0")
	case "udp4any":
		return packet("udp4", "0.0.0.0:0")
	case "udpconn": // a connected UDP client: must not be listed; port is its local port
		srv, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return nil, 0, err
		}
		c, err := net.Dial("udp4", srv.LocalAddr().String())
		if err != nil {
			return nil, 0, err
		}
		srv.Close()
		return []io.Closer{c}, c.LocalAddr().(*net.UDPAddr).Port, nil
	case "tcpconn": // an outgoing TCP connection: its local port must not be listed
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, 0, err
		}
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			return nil, 0, err
		}
		s, err := l.Accept()
		if err != nil {
			return nil, 0, err
		}
		l.Close()
		return []io.Closer{c, s}, c.LocalAddr().(*net.TCPAddr).Port, nil
	}
	return nil, 0, fmt.Errorf("unknown kind %q", kind)
}

type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	pid   int
	ports map[string][]int // kind -> ports
}

// startHelper starts the helper with spec; argv0 runs instead of the test
// binary when set (deleted-exe test), and wrap prefixes the command (unshare).
func startHelper(t testing.TB, spec string, exe string, wrap ...string) *helper {
	t.Helper()
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			t.Fatal(err)
		}
	}
	args := append(append([]string{}, wrap...), exe, "-test.run=^$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperSpecEnv+"="+spec)
	cmd.Stderr = os.Stderr
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
	h := &helper{cmd: cmd, stdin: stdin, pid: cmd.Process.Pid, ports: map[string][]int{}}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill() // by PID: only the process we started
			<-done
		}
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if line == "ready" {
			return h
		}
		kind, p, ok := strings.Cut(line, " ")
		port, err := strconv.Atoi(p)
		if !ok || err != nil {
			t.Fatalf("helper said %q", line)
		}
		h.ports[kind] = append(h.ports[kind], port)
	}
	t.Fatalf("helper exited before ready: %v", sc.Err())
	return nil
}
