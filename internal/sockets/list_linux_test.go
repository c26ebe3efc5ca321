package sockets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/testenv"
)

func mustList(t testing.TB, q Query) []Listener {
	t.Helper()
	ls, err := List(context.Background(), q)
	if err != nil {
		t.Fatalf("List(%+v): %v", q, err)
	}
	return ls
}

func findPort(ls []Listener, proto string, port int) []Listener {
	var out []Listener
	for _, l := range ls {
		if l.Proto.String() == proto && l.Port == port {
			out = append(out, l)
		}
	}
	return out
}

// ownedBy keeps the rows held by pid: other processes on this machine may
// use the same port number on another address.
func ownedBy(ls []Listener, pid int) []Listener {
	var out []Listener
	for _, l := range ls {
		if hasOwner(l, pid) {
			out = append(out, l)
		}
	}
	return out
}

func hasOwner(l Listener, pid int) bool {
	for _, o := range l.Owners {
		if o.PID == pid {
			return true
		}
	}
	return false
}

func TestListKinds(t *testing.T) {
	h := startHelper(t, "tcp4,tcp6,tcp6any,tcpdual,tcp4any,udp4,udp6,udp6any,udpdual,udp4any,udpconn,tcpconn", "")
	ls := mustList(t, Query{})
	self := selfNetNS()
	tests := []struct {
		kind, proto string
		family      int
		addr        string
		dual        bool
	}{
		{"tcp4", "tcp", 4, "127.0.0.1", false},
		{"tcp6", "tcp", 6, "::1", false},
		{"tcp6any", "tcp", 6, "::", false},
		{"tcpdual", "tcp", 6, "::", true},
		{"tcp4any", "tcp", 4, "0.0.0.0", false},
		{"udp4", "udp", 4, "127.0.0.1", false},
		{"udp6", "udp", 6, "::1", false},
		{"udp6any", "udp", 6, "::", false},
		{"udpdual", "udp", 6, "::", true},
		{"udp4any", "udp", 4, "0.0.0.0", false},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			port := h.ports[tc.kind][0]
			got := ownedBy(findPort(ls, tc.proto, port), h.pid)
			if len(got) != 1 {
				t.Fatalf("%d rows for %s/%d, want 1: %+v", len(got), tc.proto, port, got)
			}
			l := got[0]
			if l.Family != tc.family || l.Addr != netip.MustParseAddr(tc.addr) || l.DualStack != tc.dual {
				t.Errorf("got family %d addr %s dual %v, want %d %s %v", l.Family, l.Addr, l.DualStack, tc.family, tc.addr, tc.dual)
			}
			if !hasOwner(l, h.pid) {
				t.Errorf("owners %+v do not include helper pid %d (reason %q)", l.Owners, h.pid, l.OwnerUnknown)
			}
			if l.NetNS != self || !l.HostNetNS {
				t.Errorf("netns %d host %v, want %d true", l.NetNS, l.HostNetNS, self)
			}
			if l.UID != os.Geteuid() || l.Inode == 0 {
				t.Errorf("uid %d inode %d", l.UID, l.Inode)
			}
			o := l.Owners[0]
			exe, _ := os.Executable()
			if o.Exe != exe || o.ExeDeleted || len(o.Cmdline) == 0 || o.Name == "" || o.UID != os.Geteuid() || o.User == "" || o.NetNS != self {
				t.Errorf("owner info %+v", o)
			}
		})
	}
	for _, kind := range []string{"udpconn", "tcpconn"} {
		port := h.ports[kind][0]
		if got := ownedBy(append(findPort(ls, "udp", port), findPort(ls, "tcp", port)...), h.pid); len(got) != 0 {
			t.Errorf("%s: local port %d is listed: %+v", kind, port, got)
		}
	}
}

func TestListPortQuery(t *testing.T) {
	h := startHelper(t, "tcp4,tcp4,udp4", "")
	port := h.ports["tcp4"][1]
	ls := ownedBy(mustList(t, Query{TCP: true, Ports: Ports(port, port)}), h.pid)
	if len(ls) != 1 || ls[0].Port != port || ls[0].Proto != ports.TCP {
		t.Fatalf("port query %d: %+v", port, ls)
	}
	// A range covering both TCP ports and nothing else of ours.
	lo, hi := min(h.ports["tcp4"][0], h.ports["tcp4"][1]), max(h.ports["tcp4"][0], h.ports["tcp4"][1])
	for _, l := range mustList(t, Query{TCP: true, Ports: Ports(lo, hi)}) {
		if l.Port < lo || l.Port > hi || l.Proto != ports.TCP {
			t.Errorf("range %d-%d returned %s/%d", lo, hi, l.Proto, l.Port)
		}
	}
	udp := h.ports["udp4"][0]
	ls = mustList(t, Query{UDP: true, Ports: Ports(udp, udp), NoOwners: true})
	if len(ls) == 0 {
		t.Fatal("udp query with NoOwners: nothing")
	}
	for _, l := range ls {
		if l.Port != udp || l.Proto != ports.UDP || len(l.Owners) != 0 || l.OwnerUnknown != OwnerSkipped {
			t.Fatalf("udp query with NoOwners: %+v", l)
		}
	}
	if _, err := List(context.Background(), Query{Ports: Ports(10, 5)}); err == nil {
		t.Error("inverted range: no error")
	}
	// Port 0 is a port, not a wildcard: no listener holds it.
	if ls := mustList(t, Query{Ports: Ports(0, 0)}); len(ls) != 0 {
		t.Errorf("port 0 query returned %d listeners, first %s/%d", len(ls), ls[0].Proto, ls[0].Port)
	}
}

// Queries that overlap report each socket once, in the order the queries
// found them.
func TestListQueriesOnce(t *testing.T) {
	h := startHelper(t, "tcp4,udp4", "")
	tcp, udp := h.ports["tcp4"][0], h.ports["udp4"][0]
	qs := []Query{
		{UDP: true, Ports: Ports(udp, udp)},
		{Ports: Ports(tcp, tcp)},
		{Ports: Ports(min(tcp, udp), max(tcp, udp))}, // both again, and whatever lies between
		{TCP: true, Ports: Ports(tcp, tcp)},
	}
	ls, err := ListQueries(context.Background(), qs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	seen := map[uint64]bool{}
	for _, l := range ls {
		if seen[l.Inode] {
			t.Errorf("inode %d (%s/%d) listed twice", l.Inode, l.Proto, l.Port)
		}
		seen[l.Inode] = true
		if hasOwner(l, h.pid) {
			got = append(got, l.Proto.String()+"/"+strconv.Itoa(l.Port))
		}
	}
	want := []string{"udp/" + strconv.Itoa(udp), "tcp/" + strconv.Itoa(tcp)}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the helper's sockets: %v, want %v", got, want)
	}
	if _, err := ListQueries(context.Background(), []Query{{}, {Ports: Ports(10, 5)}}); err == nil {
		t.Error("a bad query among good ones: no error")
	}
}

func TestProcNetFallbackAgrees(t *testing.T) {
	h := startHelper(t, "tcp4,tcp6any,tcpdual,udp4,udpdual,udpconn", "")
	q, _ := Query{}.normalize()
	c := &collector{}
	if err := listProcNet("/proc/self/net/", q, c); err != nil {
		t.Fatal(err)
	}
	fb := c.out
	byInode := map[uint64]Listener{}
	for _, l := range fb {
		byInode[l.Inode] = l
	}
	mine := ownedBy(mustList(t, Query{}), h.pid)
	if len(mine) < 5 {
		t.Fatalf("netlink found only %d of the helper's sockets", len(mine))
	}
	for _, l := range mine {
		f, ok := byInode[l.Inode]
		if !ok {
			t.Errorf("/proc/net lacks %s %s:%d (inode %d)", l.Proto, l.Addr, l.Port, l.Inode)
			continue
		}
		if f.Proto != l.Proto || f.Family != l.Family || f.Addr != l.Addr || f.Port != l.Port || f.UID != l.UID {
			t.Errorf("/proc/net %+v, netlink %+v", f, l)
		}
	}
}

// ssRow is one line of "ss -tulnpH".
type ssRow struct {
	proto string
	addr  netip.Addr
	dual  bool
	port  int
	pids  []int
}

func runSS(t *testing.T) []ssRow {
	ss := testenv.NeedTool(t, "ss", "iproute2")
	out, err := exec.Command(ss, "-tulnpH").Output()
	if err != nil {
		t.Fatal(err)
	}
	var rows []ssRow
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		local := f[4]
		i := strings.LastIndexByte(local, ':')
		host, port := local[:i], local[i+1:]
		var r ssRow
		r.proto = f[0]
		r.port, _ = strconv.Atoi(port)
		host = strings.Trim(host, "[]")
		if j := strings.IndexByte(host, '%'); j >= 0 {
			host = host[:j]
		}
		if host == "*" {
			r.addr, r.dual = netip.IPv6Unspecified(), true
		} else if r.addr, err = netip.ParseAddr(host); err != nil {
			t.Fatalf("ss line %q: %v", line, err)
		}
		for _, part := range strings.Split(line, "pid=")[1:] {
			n, _ := strconv.Atoi(strings.SplitN(part, ",", 2)[0])
			r.pids = append(r.pids, n)
		}
		rows = append(rows, r)
	}
	return rows
}

func TestAgainstSS(t *testing.T) {
	h := startHelper(t, "tcp4,tcp6,tcp6any,tcpdual,udp4,udp6,udp6any,udpdual,udpconn,tcpconn", "")
	ours := map[int]bool{}
	for _, ps := range h.ports {
		for _, p := range ps {
			ours[p] = true
		}
	}
	ls := mustList(t, Query{})
	rows := runSS(t)
	type key struct {
		proto string
		addr  netip.Addr
		port  int
		dual  bool
		pid   int
	}
	got, want := map[key]bool{}, map[key]bool{}
	for _, l := range ls {
		if ours[l.Port] {
			for _, o := range l.Owners {
				if o.PID == h.pid {
					got[key{l.Proto.String(), l.Addr, l.Port, l.DualStack, o.PID}] = true
				}
			}
		}
	}
	for _, r := range rows {
		if ours[r.port] {
			for _, p := range r.pids {
				if p == h.pid {
					want[key{r.proto, r.addr, r.port, r.dual, p}] = true
				}
			}
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("ss has %+v, List does not", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("List has %+v, ss does not", k)
		}
	}
	if len(want) < 8 {
		t.Errorf("ss shows only %d of our listeners", len(want))
	}
}

func TestOtherNetNS(t *testing.T) {
	testenv.NeedNetNS(t)
	// Wildcard binds work in a fresh namespace whose loopback is still down;
	// the namespace is ours and dies with the helper.
	h := startHelper(t, "tcp4any,udp4any", "", "unshare", "-n")
	port := h.ports["tcp4any"][0]
	for _, l := range mustList(t, Query{Ports: Ports(port, port)}) {
		if hasOwner(l, h.pid) {
			t.Fatalf("listener of another netns visible without AllNetNS: %+v", l)
		}
	}
	ls := mustList(t, Query{Ports: Ports(port, port), AllNetNS: true})
	var l *Listener
	for i := range ls {
		if hasOwner(ls[i], h.pid) {
			l = &ls[i]
		}
	}
	if l == nil {
		t.Fatalf("AllNetNS: helper's port %d not found in %+v", port, ls)
	}
	if l.HostNetNS || l.NetNS == 0 || l.NetNS == selfNetNS() || l.NetNS != l.Owners[0].NetNS {
		t.Errorf("netns fields: %+v", l)
	}
	// The whole listing also has it, once.
	n := 0
	for _, l := range mustList(t, Query{AllNetNS: true}) {
		if l.Proto == ports.UDP && hasOwner(l, h.pid) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("AllNetNS full list has %d udp rows of the helper, want 1", n)
	}
}

func TestDeletedExecutable(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "porthole-helper")
	testenv.CopyExe(t, dst)
	h := startHelper(t, "tcp4", dst)
	if err := os.Remove(dst); err != nil {
		t.Fatal(err)
	}
	port := h.ports["tcp4"][0]
	ls := ownedBy(mustList(t, Query{TCP: true, Ports: Ports(port, port)}), h.pid)
	if len(ls) != 1 || len(ls[0].Owners) != 1 {
		t.Fatalf("%+v", ls)
	}
	if o := ls[0].Owners[0]; !o.ExeDeleted || o.Exe != dst {
		t.Errorf("exe %q deleted %v, want %q true", o.Exe, o.ExeDeleted, dst)
	}
}

// Processes that start and exit while the walk runs must be skipped quietly.
func TestProcessExitsDuringScan(t *testing.T) {
	exe, _ := os.Executable()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				// The helper with an empty spec exits as soon as stdin closes.
				cmd, err := testenv.SocketCommand(exe, "2*tcp4,udp4")
				if err != nil {
					t.Error(err)
					return
				}
				cmd.Stdin = strings.NewReader("")
				if err := cmd.Run(); err != nil {
					t.Errorf("short-lived helper: %v", err)
					return
				}
			}
		}()
	}
	for range 30 {
		if _, err := List(context.Background(), Query{}); err != nil {
			t.Errorf("List during churn: %v", err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestManyListeners(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const procs, per = 50, 100
	hs := make([]*helper, procs)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := startHelper(t, strconv.Itoa(per)+"*tcp4", "")
			mu.Lock()
			hs[i] = h
			mu.Unlock()
		}()
	}
	wg.Wait()
	ls := mustList(t, Query{TCP: true})
	byPort := map[int]Listener{}
	for _, l := range ls {
		if l.Addr == netip.MustParseAddr("127.0.0.1") {
			byPort[l.Port] = l
		}
	}
	for _, h := range hs {
		for _, p := range h.ports["tcp4"] {
			l, ok := byPort[p]
			if !ok {
				t.Fatalf("port %d of pid %d missing", p, h.pid)
			}
			if !hasOwner(l, h.pid) {
				t.Fatalf("port %d: owners %+v, want pid %d", p, l.Owners, h.pid)
			}
		}
	}
	// A single-port query finds the owner of one in the middle.
	mid := hs[procs/2]
	p := mid.ports["tcp4"][per/2]
	got := ownedBy(mustList(t, Query{TCP: true, Ports: Ports(p, p)}), mid.pid)
	if len(got) != 1 {
		t.Fatalf("port %d: %+v", p, got)
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := List(ctx, Query{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestEphemeralRange(t *testing.T) {
	lo, hi, err := EphemeralRange()
	if err != nil || lo < 1 || hi > 65535 || lo > hi {
		t.Fatalf("EphemeralRange() = %d, %d, %v", lo, hi, err)
	}
}

func TestPortFree(t *testing.T) {
	h := startHelper(t, "tcp4,udp4,tcp6", "")
	for _, tc := range []struct {
		proto ports.Proto
		port  int
	}{{ports.TCP, h.ports["tcp4"][0]}, {ports.UDP, h.ports["udp4"][0]}, {ports.TCP, h.ports["tcp6"][0]}} {
		if PortFree(tc.proto, tc.port) {
			t.Errorf("PortFree(%s, %d) = true for a held port", tc.proto, tc.port)
		}
	}
	if PortFree(ports.SCTP, 80) || PortFree(ports.TCP, 0) {
		t.Error("PortFree accepted a bad argument")
	}
}

func BenchmarkListAll(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := List(context.Background(), Query{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListPort(b *testing.B) {
	h := startHelper(b, "20*tcp4", "")
	p := h.ports["tcp4"][10]
	b.ReportAllocs()
	for b.Loop() {
		ls, err := List(context.Background(), Query{TCP: true, Ports: Ports(p, p)})
		if err != nil || len(ls) == 0 {
			b.Fatal(err, ls)
		}
	}
}

func BenchmarkListNoOwners(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := List(context.Background(), Query{NoOwners: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// A full listing dumps both TCP families in one legacy request; it finds
// the same TCP sockets, with the same family, address, dual-stack mark,
// inode, uid and cgroup, as one SOCK_DIAG_BY_FAMILY dump per family.
func TestListTCPOneWalkAsPerFamily(t *testing.T) {
	var lns []net.Listener
	for _, a := range []string{"tcp4/127.0.0.1:0", "tcp6/[::1]:0", "tcp/[::]:0", "tcp4/0.0.0.0:0"} {
		network, addr, _ := strings.Cut(a, "/")
		ln, err := net.Listen(network, addr)
		if err != nil {
			if network != "tcp4" {
				continue // no IPv6 here
			}
			t.Fatal(err)
		}
		defer ln.Close()
		lns = append(lns, ln)
	}
	key := func(l Listener) string {
		return fmt.Sprintf("%s %d %s %d %v ino=%d uid=%d cg=%d", l.Proto, l.Family, l.Addr, l.Port, l.DualStack, l.Inode, l.UID, l.Cgroup)
	}
	q := Query{TCP: true, NoOwners: true}
	for attempt := 0; ; attempt++ {
		one := mustList(t, q)
		tcpPerFamily = true
		per := mustList(t, q)
		tcpPerFamily = false
		a, b := make([]string, len(one)), make([]string, len(per))
		for i := range one {
			a[i] = key(one[i])
		}
		for i := range per {
			b[i] = key(per[i])
		}
		mine := 0
		for _, ln := range lns {
			ap := ln.Addr().(*net.TCPAddr).AddrPort()
			for _, l := range findPort(one, "tcp", int(ap.Port())) {
				if a := ap.Addr().Unmap(); l.Addr == a {
					if fam := map[bool]int{true: 4, false: 6}[a.Is4()]; l.Family != fam {
						t.Errorf("%s: family %d, want %d", ln.Addr(), l.Family, fam)
					}
					mine++
				}
			}
		}
		if slices.Equal(a, b) && mine == len(lns) {
			return
		}
		// Other processes open and close listeners meanwhile: try again.
		if attempt == 20 {
			t.Fatalf("one walk (%d rows, %d of ours) and per family (%d rows) never agreed", len(one), mine, len(per))
		}
	}
}
