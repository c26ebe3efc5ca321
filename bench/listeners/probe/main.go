// Command probe is a stand-in for "porthole who PORT" / "porthole list" in
// the listener benchmarks: it calls sockets.List and prints one line per
// listener. Usage: probe [-udp] [-allns] [-noowners] [PORT]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"

	"github.com/porthole/porthole/internal/sockets"
)

func main() {
	udp := flag.Bool("udp", true, "include UDP")
	allNS := flag.Bool("allns", false, "every network namespace")
	noOwners := flag.Bool("noowners", false, "skip the owner lookup")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of -loop calls to this file")
	loop := flag.Int("loop", 1, "call List this many times (for profiling)")
	flag.Parse()
	q := sockets.Query{TCP: true, UDP: *udp, AllNetNS: *allNS, NoOwners: *noOwners}
	if flag.NArg() > 0 {
		p, err := strconv.Atoi(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe: bad port:", flag.Arg(0))
			os.Exit(2)
		}
		q.Ports, q.UDP = sockets.Ports(p, p), false
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var ls []sockets.Listener
	var err error
	for range max(*loop, 1) {
		ls, err = sockets.List(context.Background(), q)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for _, l := range ls {
		pid, name := "-", "-"
		if len(l.Owners) > 0 {
			pid, name = strconv.Itoa(l.Owners[0].PID), l.Owners[0].Name
		}
		ds := ""
		if l.DualStack {
			ds = " dual-stack"
		}
		host := ""
		if !l.HostNetNS {
			host = " other-netns"
		}
		fmt.Fprintf(w, "%s %s:%d uid=%d cgroup=%d ino=%d netns=%d%s%s pid=%s %s %s\n", l.Proto, l.Addr, l.Port, l.UID, l.Cgroup, l.Inode, l.NetNS, host, ds, pid, name, l.OwnerUnknown)
	}
	if msg := sockets.OwnerWarning(ls, sockets.OwnerUnknown.String); msg != "" {
		fmt.Fprintln(os.Stderr, "warning:", msg)
	}
}
