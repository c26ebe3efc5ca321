// Command listeners is the load generator for scripts/bench-listeners.sh.
// It spawns -p child processes that together hold -n TCP listeners on
// 127.0.0.1 and -conns established loopback connection pairs, then prints,
// on one line, a listening port held by the oldest, the middle and the
// newest child, and waits. It stops (and its children with it) when its
// stdin closes or after -timeout. With -cgroup DIR, child i first moves
// itself into the cgroup v2 directory DIR/hI (made by the caller), so each
// holder has a cgroup of its own, as services under systemd do.
//
//	listeners -n 10000 -p 100 -conns 0 [-cgroup DIR] <fifo
//
// bench/listeners/holders.py is the same harness with Python holders.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

func main() {
	n := flag.Int("n", 1000, "listeners in total")
	p := flag.Int("p", 100, "child processes")
	conns := flag.Int("conns", 0, "established loopback connection pairs in total")
	timeout := flag.Duration("timeout", 30*time.Minute, "exit after this long even if stdin stays open")
	cgroup := flag.String("cgroup", "", "put child i into the cgroup v2 directory DIR/hI first")
	child := flag.Bool("child", false, "internal: run as a child")
	flag.Parse()
	if *child {
		if *cgroup != "" {
			// Sockets belong to the cgroup of the process that made
			// them, so move before opening any.
			if err := os.WriteFile(*cgroup+"/cgroup.procs", []byte("0\n"), 0); err != nil {
				fmt.Fprintln(os.Stderr, "listeners child:", err)
				os.Exit(1)
			}
		}
		os.Exit(runChild(*n, *conns, *timeout))
	}
	os.Exit(runParent(*n, *p, *conns, *cgroup, *timeout))
}

func runParent(n, p, conns int, cgroup string, timeout time.Duration) int {
	if p < 1 || n < p {
		fmt.Fprintln(os.Stderr, "listeners: need -n >= -p >= 1")
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "listeners:", err)
		return 1
	}
	type kid struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		port  int
	}
	kids := make([]*kid, p)
	stop := func() {
		for _, k := range kids {
			if k != nil {
				k.stdin.Close()
			}
		}
		for _, k := range kids {
			if k != nil {
				k.cmd.Wait()
			}
		}
	}
	for i := range kids {
		ni := n/p + btoi(i < n%p)
		ci := conns/p + btoi(i < conns%p)
		args := []string{"-child", "-n", strconv.Itoa(ni), "-conns", strconv.Itoa(ci), "-timeout", timeout.String()}
		if cgroup != "" {
			args = append(args, "-cgroup", cgroup+"/h"+strconv.Itoa(i))
		}
		cmd := exec.Command(exe, args...)
		cmd.Stderr = os.Stderr
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "listeners:", err)
			stop()
			return 1
		}
		k := &kid{cmd: cmd, stdin: in}
		kids[i] = k
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			fmt.Fprintln(os.Stderr, "listeners: child failed:", err)
			stop()
			return 1
		}
		k.port, _ = strconv.Atoi(strings.TrimSpace(line))
	}
	fmt.Println(kids[0].port, kids[p/2].port, kids[p-1].port)
	os.Stdout.Sync()
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
	}
	stop()
	return 0
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// runChild holds n listeners and conns established pairs, prints the port of
// its middle listener, and exits when stdin closes.
func runChild(n, conns int, timeout time.Duration) int {
	var keep []io.Closer
	var ports []int
	for range n {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "listeners child:", err)
			return 1
		}
		keep = append(keep, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	if conns > 0 {
		srv := keep[0].(net.Listener)
		for range conns {
			c, err := net.Dial("tcp4", srv.Addr().String())
			if err != nil {
				fmt.Fprintln(os.Stderr, "listeners child:", err)
				return 1
			}
			s, err := srv.Accept()
			if err != nil {
				fmt.Fprintln(os.Stderr, "listeners child:", err)
				return 1
			}
			keep = append(keep, c, s)
		}
	}
	fmt.Println(ports[len(ports)/2])
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
	}
	for _, c := range keep {
		c.Close()
	}
	return 0
}
