// Command listeners is the load generator for scripts/bench-listeners.sh.
// It spawns -p child processes that together hold -n TCP listeners on
// 127.0.0.1 and -conns established loopback connection pairs, then prints one
// listening port held by the middle child and waits. It stops (and its
// children with it) when its stdin closes or after -timeout.
//
//	listeners -n 10000 -p 100 -conns 0 <fifo
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
	child := flag.Bool("child", false, "internal: run as a child")
	flag.Parse()
	if *child {
		os.Exit(runChild(*n, *conns, *timeout))
	}
	os.Exit(runParent(*n, *p, *conns, *timeout))
}

func runParent(n, p, conns int, timeout time.Duration) int {
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
		cmd := exec.Command(exe, "-child", "-n", strconv.Itoa(ni), "-conns", strconv.Itoa(ci), "-timeout", timeout.String())
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
	fmt.Println(kids[p/2].port)
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
