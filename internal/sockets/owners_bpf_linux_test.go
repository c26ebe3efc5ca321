package sockets

import (
	"net"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"testing"

	"github.com/porthole/porthole/internal/testenv"
)

// requireBPF skips when this kernel or user cannot load the BPF owner
// source; under CI, on a kernel with BTF and as root, it fails instead,
// since then a load failure is porthole's bug.
func requireBPF(t *testing.T) {
	t.Helper()
	_, err := bpfOwnerLink()
	testenv.NeedBPF(t, "the BPF owner source", err)
}

// withWalk runs fn with the BPF owner source off.
func withWalk(fn func()) {
	old := bpfForcedOff
	bpfForcedOff = true
	defer func() { bpfForcedOff = old }()
	fn()
}

type ownerKey struct {
	proto string
	addr  string
	port  int
	inode uint64
}

func ownerMap(ls []Listener) map[ownerKey][]int {
	m := map[ownerKey][]int{}
	for _, l := range ls {
		k := ownerKey{l.Proto.String(), l.Addr.String(), l.Port, l.Inode}
		var ps []int
		for _, o := range l.Owners {
			ps = append(ps, o.PID)
		}
		slices.Sort(ps)
		m[k] = ps
	}
	return m
}

// The BPF source and the /proc walk give the same owners for every
// listener of the helpers, in full listings of TCP, UDP or both, with
// sockets held by two processes, connected sockets that are not listed,
// and both address families.
func TestBPFOwnersAgreeWithWalk(t *testing.T) {
	requireBPF(t)
	a := startHelper(t, "tcp4,tcp6,tcp6any,tcpdual,udp4,udp6,udp6any,udpdual,udpconn,tcpconn", "")
	b := startHelper(t, "20*tcp4,5*udp4", "")
	for _, q := range []Query{{}, {TCP: true}, {UDP: true}} {
		var viaWalk []Listener
		// Sockets come and go on a shared machine between the two
		// listings; compare only what both saw, and require ours.
		viaBPF := mustList(t, q)
		withWalk(func() { viaWalk = mustList(t, q) })
		// Compare the helpers' sockets only: any other process's owners
		// may change between the two listings (a fork holds its parent's
		// sockets until it execs).
		keep := func(ls []Listener) []Listener {
			return slices.DeleteFunc(ls, func(l Listener) bool { return !hasOwner(l, a.pid) && !hasOwner(l, b.pid) })
		}
		got, want := ownerMap(keep(viaBPF)), ownerMap(keep(viaWalk))
		if len(got) != len(want) {
			t.Errorf("%+v: BPF lists %d of the helpers' sockets, the walk %d", q, len(got), len(want))
		}
		for k, w := range want {
			if g := got[k]; !reflect.DeepEqual(g, w) {
				t.Errorf("%+v: %+v: BPF owners %v, walk owners %v", q, k, g, w)
			}
		}
		mine := 0
		for _, l := range viaBPF {
			if hasOwner(l, a.pid) || hasOwner(l, b.pid) {
				mine++
			}
		}
		if mine == 0 {
			t.Errorf("%+v: BPF listing has none of the helpers' sockets", q)
		}
	}
	// A full listing names both helpers with their executables.
	ls := mustList(t, Query{})
	if n := len(ownedBy(ls, b.pid)); n != 25 {
		t.Errorf("helper b owns %d listed sockets, want 25", n)
	}
	for _, l := range ownedBy(ls, a.pid) {
		if l.Owners[0].Exe == "" || l.Owners[0].Name == "" {
			t.Errorf("%+v: owner without details: %+v", l, l.Owners[0])
		}
	}
}

// A socket held by two processes (inherited across exec) has both as
// owners in a full listing, from either source.
func TestBPFSharedSocket(t *testing.T) {
	requireBPF(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("sleep", "60")
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep to hold the socket: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }() // by PID: the process we started
	port := ln.Addr().(*net.TCPAddr).Port
	want := []int{os.Getpid(), cmd.Process.Pid}
	slices.Sort(want)
	check := func(source string, q Query) {
		ls := findPort(mustList(t, q), "tcp", port)
		if len(ls) != 1 {
			t.Fatalf("%s: %d rows for port %d", source, len(ls), port)
		}
		var got []int
		for _, o := range ls[0].Owners {
			got = append(got, o.PID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: owners %v, want %v", source, got, want)
		}
	}
	check("BPF", Query{TCP: true})
	withWalk(func() { check("walk", Query{TCP: true}) })
	// A port query asking for every holder (who --kill) gets both, from
	// the inode-filtered iterator and from the walk.
	check("BPF, port query", Query{TCP: true, Ports: Ports(port, port), AllOwners: true})
	withWalk(func() { check("walk, port query", Query{TCP: true, Ports: Ports(port, port), AllOwners: true}) })
	// Otherwise a port query stops at the first owner it finds.
	ls := findPort(mustList(t, Query{TCP: true, Ports: Ports(port, port)}), "tcp", port)
	if len(ls) != 1 || len(ls[0].Owners) == 0 || !slices.Contains(want, ls[0].Owners[0].PID) {
		t.Errorf("port query: %+v", ls)
	}
}

// BenchmarkKernelIterLayout reads and indexes the running kernel's BTF,
// the fixed cost of the BPF owner source's first use in a process.
func BenchmarkKernelIterLayout(b *testing.B) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		b.Skip("no kernel BTF")
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kernelIterLayout(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBPFOwnerRecords is one run of the loaded iterator.
func BenchmarkBPFOwnerRecords(b *testing.B) {
	if _, err := bpfOwnerLink(); err != nil {
		b.Skipf("BPF owner source unavailable: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bpfOwnerRecords(); err != nil {
			b.Fatal(err)
		}
	}
}
