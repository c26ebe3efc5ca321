package sockets

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/testenv"
	"golang.org/x/sys/unix"
)

// inodeOfPort is the inode of the TCP listener on 127.0.0.1:port, from a
// dump without owners.
func inodeOfPort(t *testing.T, port int) uint64 {
	t.Helper()
	ls := findPort(mustList(t, Query{TCP: true, Ports: Ports(port, port), NoOwners: true}), "tcp", port)
	for _, l := range ls {
		if l.Addr.String() == "127.0.0.1" && l.Inode != 0 {
			return l.Inode
		}
	}
	t.Fatalf("no listener on 127.0.0.1:%d in %+v", port, ls)
	return 0
}

// guideOnly runs the guided step alone (no cgroup step, no iterator, no
// walk) for one socket and returns what it found.
func guideOnly(t *testing.T, ino uint64) []int {
	t.Helper()
	procfd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(procfd)
	s := newOwnerScan(map[uint64]struct{}{ino: {}}, true, nil)
	if order := s.guide(context.Background(), procfd, nil); order == nil {
		t.Fatal("the guided step did not run for one socket")
	}
	return s.found[ino]
}

// holdersByWalk is every process holding ino, from a full /proc walk.
func holdersByWalk(t *testing.T, ino uint64) []int {
	t.Helper()
	found, _ := scanOwners(context.Background(), map[uint64]struct{}{ino: {}}, false, nil)
	return found[ino]
}

// Processes started one after another in one cgroup (as on a host without
// systemd): the guided step alone names the holder of a socket of the
// oldest, the middle and the newest, reading whole tables only of the
// processes whose first socket is nearest below; a port query names the
// same holder, and so does the full walk.
func TestGuideSharedCgroup(t *testing.T) {
	const n = 12
	hs := make([]*helper, n)
	for i := range hs {
		hs[i] = startHelper(t, "6*tcp4,2*udp4", "")
	}
	for _, i := range []int{0, n / 2, n - 1} {
		h := hs[i]
		for _, k := range []int{0, 3, 5} {
			port := h.ports["tcp4"][k]
			ino := inodeOfPort(t, port)
			if walk := holdersByWalk(t, ino); !slices.Equal(walk, []int{h.pid}) {
				t.Fatalf("helper %d port %d: the walk says %v, want [%d]", i, port, walk, h.pid)
			}
			if got := guideOnly(t, ino); !slices.Equal(got, []int{h.pid}) {
				t.Errorf("helper %d (pid %d), socket %d of 6 (port %d): the guided step found %v", i, h.pid, k+1, port, got)
			}
			portQueryOwnedBy(t, fmt.Sprintf("helper %d port %d", i, port), port, h.pid)
		}
	}
}

// handOff makes a TCP listener in this process, hands a copy to a child
// shell as descriptor 3, which starts "sleep" in the background (inheriting
// it across fork) and exits; then this process closes its own copies. The
// socket is left held by the sleep alone, which neither made it nor was
// started by the process that did. It returns the port and the sleep's PID
// (ended at cleanup, by that PID).
func handOff(t *testing.T) (int, int) {
	t.Helper()
	sh := testenv.NeedTool(t, "sh", "dash")
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sh, "-c", `sleep 120 </dev/null >/dev/null 2>&1 & echo $!`)
	cmd.ExtraFiles = []*os.File{f}
	out, err := cmd.Output()
	f.Close()
	ln.Close()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("sh said %q", out)
	}
	t.Cleanup(func() {
		// The sleep is not our child (its shell exited), so it cannot be
		// waited for; it is ended by the PID this test started it with.
		syscall.Kill(pid, syscall.SIGKILL)
	})
	return port, pid
}

// A socket made by one process and held only by a process that inherited
// it across fork, whose parent has exited: the guided step, a port query
// and the walk name the inheritor and nobody else.
func TestGuideInheritedSocket(t *testing.T) {
	port, sleeper := handOff(t)
	ino := inodeOfPort(t, port)
	if walk := holdersByWalk(t, ino); !slices.Equal(walk, []int{sleeper}) {
		t.Fatalf("the walk says %v hold port %d, want the sleep %d alone", walk, port, sleeper)
	}
	if got := guideOnly(t, ino); !slices.Equal(got, []int{sleeper}) {
		t.Errorf("the guided step found %v, want the sleep %d", got, sleeper)
	}
	ls := findPort(mustList(t, Query{TCP: true, Ports: Ports(port, port)}), "tcp", port)
	if len(ls) != 1 || len(ls[0].Owners) != 1 || ls[0].Owners[0].PID != sleeper {
		t.Errorf("port query: %+v, want the sleep %d", ls, sleeper)
	}
}

// A holder that exits between the dump and the owner lookup is named by
// no step: the socket is gone with it, and no other process (nor a PID
// reused since) is named in its place.
func TestGuideOwnerExited(t *testing.T) {
	var hs []*testenv.Helper
	for range 4 {
		hs = append(hs, testenv.StartSockets(t, "", "4*tcp4"))
	}
	h := hs[2]
	port := h.Ports["tcp4"][1]
	ls := findPort(mustList(t, Query{TCP: true, Ports: Ports(port, port), NoOwners: true}), "tcp", port)
	var mine []Listener
	for _, l := range ls {
		if l.Addr.String() == "127.0.0.1" {
			mine = append(mine, l)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("port %d: %+v", port, ls)
	}
	ino := mine[0].Inode
	h.Stop() // closes its stdin and waits for it to exit
	// The socket closes with its last holder; wait until the kernel has
	// taken it out of the table (no timing is asserted).
	for i := 0; i < 100 && len(holdersByWalk(t, ino)) > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if walk := holdersByWalk(t, ino); len(walk) != 0 {
		t.Fatalf("socket %d still held by %v after its holder exited", ino, walk)
	}
	if got := guideOnly(t, ino); len(got) != 0 {
		t.Errorf("the guided step named %v for a socket whose holder exited", got)
	}
	for _, source := range []string{"default", "walk"} {
		run := func() {
			found, _ := findOwners(context.Background(), mine, map[uint64]struct{}{ino: {}}, nil, false)
			if len(found[ino]) != 0 {
				t.Errorf("%s: findOwners named %v for a socket whose holder exited", source, found[ino])
			}
		}
		if source == "walk" {
			withWalk(run)
		} else {
			run()
		}
	}
}

// A socket made long after its holder's first one, with other processes'
// sockets numbered in between (their first sockets are nearer below it):
// the first-socket guess is wrong. With the socket also at the end of the
// holder's table, the guided step finds it among the holder's spread
// samples (the last socket is one); it never names another process; and a port
// query names the holder, through the iterator or the walk when the
// guided step did not.
func TestGuideWrongGuessFallsBack(t *testing.T) {
	early, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer early.Close()
	for range 6 {
		startHelper(t, "40*tcp4", "")
	}
	late, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	port := late.Addr().(*net.TCPAddr).Port
	ino := inodeOfPort(t, port)
	self := os.Getpid()
	if walk := holdersByWalk(t, ino); !slices.Equal(walk, []int{self}) {
		t.Fatalf("the walk says %v hold port %d, want this process %d", walk, port, self)
	}
	// Put a copy of the late socket at the end of this process's table (the
	// descriptor number equal to the count of open ones, when free): then,
	// when the sample sees the early socket among this process's lowest
	// descriptors, its first and last sockets enclose the wanted one, and
	// the guided step finds it by that; otherwise it may find nobody.
	if lf, err := late.(*net.TCPListener).File(); err == nil {
		defer lf.Close()
		var st unix.Stat_t
		if unix.Stat("/proc/self/fd", &st) == nil && st.Size > 3 {
			end := int(st.Size)
			if _, err := unix.FcntlInt(uintptr(end), unix.F_GETFD, 0); err == unix.EBADF {
				if unix.Dup3(int(lf.Fd()), end, unix.O_CLOEXEC) == nil {
					defer unix.Close(end)
				}
			}
		}
	}
	encloses := false
	if procfd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
		var st unix.Stat_t
		if fdCountWorks(procfd) && unix.Fstatat(procfd, "self/fd", &st, 0) == nil {
			s := newOwnerScan(map[uint64]struct{}{}, true, nil)
			first, _, okFirst, _ := s.firstSocket(procfd, self, true)
			last, okLast := s.lastSocket(procfd, self, int(st.Size))
			encloses = okFirst && first < ino && okLast && last == ino
		}
		unix.Close(procfd)
	}
	got := guideOnly(t, ino)
	if encloses && !slices.Equal(got, []int{self}) || len(got) != 0 && !slices.Equal(got, []int{self}) {
		t.Errorf("the guided step named %v, want this process %d (or nobody unless its first and last sockets enclose the wanted one: %v)", got, self, encloses)
	}
	t.Logf("first and last sockets enclose the wanted one: %v; the guided step found %v", encloses, got)
	for _, source := range []string{"default", "walk"} {
		q := Query{TCP: true, Ports: Ports(port, port)}
		var ls []Listener
		if source == "walk" {
			withWalk(func() { ls = mustList(t, q) })
		} else {
			ls = mustList(t, q)
		}
		if ls = findPort(ls, "tcp", port); len(ls) != 1 || len(ls[0].Owners) != 1 || ls[0].Owners[0].PID != self {
			t.Errorf("%s: %+v, want this process %d", source, ls, self)
		}
	}
}

// A process whose sockets were numbered in three runs, as when it moves
// between CPUs while making them: the first on CPU 0 from a fresh block,
// the second on CPU 1 (from that CPU's block, usually below the first
// run), the third on CPU 0 again from a block above the first run by more
// than the process's plausible span. Its first socket then says nothing of
// the second and third runs; the guided step finds every socket by the
// samples spread over its table, names nobody else, and a port query and
// the walk name the same holder. On a one-CPU machine the second run is
// numbered like the first; the test still runs.
func TestGuideSocketsInRuns(t *testing.T) {
	other := 1
	if runtime.NumCPU() < 2 {
		other = 0
		t.Log("one CPU: the runs differ by the skipped block only")
	}
	// Neighbours made just before and after, as in a shared cgroup.
	startHelper(t, "8*tcp4", "")
	h := startHelper(t, "cpu0,skip,8*tcp4,cpu"+strconv.Itoa(other)+",8*tcp4,cpu0,skip,8*tcp4", "")
	startHelper(t, "8*tcp4", "")
	ports := h.ports["tcp4"]
	if len(ports) != 24 {
		t.Fatalf("helper holds %d tcp4 sockets, want 24", len(ports))
	}
	inos := make([]uint64, len(ports))
	for k, port := range ports {
		inos[k] = inodeOfPort(t, port)
	}
	t.Logf("socket numbers of the three runs: %v / %v / %v", inos[:8], inos[8:16], inos[16:])
	for k, port := range ports {
		ino := inos[k]
		if walk := holdersByWalk(t, ino); !slices.Equal(walk, []int{h.pid}) {
			t.Fatalf("port %d: the walk says %v, want [%d]", port, walk, h.pid)
		}
		if got := guideOnly(t, ino); !slices.Equal(got, []int{h.pid}) {
			t.Errorf("socket %d of 24 (run %d, port %d, inode %d): the guided step found %v, want [%d]", k+1, k/8+1, port, ino, got, h.pid)
		}
		if k%4 != 0 {
			continue // a port query for every fourth
		}
		portQueryOwnedBy(t, fmt.Sprintf("port %d", port), port, h.pid)
	}
}

// closeness is the distance to the nearest sample, whichever side: the
// same as a look at every sample, for every wanted number around them.
func TestClosenessIsNearestSample(t *testing.T) {
	for _, inos := range [][]uint64{nil, {7}, {3, 9}, {10, 11, 40, 41, 1000}} {
		for w := uint64(0); w < 1100; w++ {
			best := ^uint64(0)
			for _, x := range inos {
				best = min(best, max(w, x)-min(w, x))
			}
			for _, span := range []uint64{0, 5, 100} {
				d, ok := closeness(inos, w, span)
				if ok != (best <= span) || ok && d != best {
					t.Fatalf("closeness(%v, %d, %d) = %d, %v; nearest sample is %d away", inos, w, span, d, ok, best)
				}
			}
		}
	}
}

// portQueryOwnedBy checks that a port query for tcp port, with the default
// owner sources and with the full walk alone, gives one row owned by pid
// alone.
func portQueryOwnedBy(t *testing.T, what string, port, pid int) {
	t.Helper()
	for _, source := range []string{"default", "walk"} {
		q := Query{TCP: true, Ports: Ports(port, port)}
		var ls []Listener
		if source == "walk" {
			withWalk(func() { ls = mustList(t, q) })
		} else {
			ls = mustList(t, q)
		}
		if mine := ownedBy(findPort(ls, "tcp", port), pid); len(mine) != 1 || len(mine[0].Owners) != 1 {
			t.Errorf("%s (%s): %+v, want one row owned by %d alone", what, source, ls, pid)
		}
	}
}
