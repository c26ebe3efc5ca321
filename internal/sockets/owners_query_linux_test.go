package sockets

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// testCgroup makes an empty cgroup v2 directory for the test and removes
// it (and only it) at cleanup, after the helpers in it have exited.
// Without root or cgroup v2 it skips, except under CI as root, where a
// cgroup v2 mount is expected.
func testCgroup(t *testing.T) string {
	t.Helper()
	root := ""
	for _, d := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if unix.Statfs(d, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			root = d
			break
		}
	}
	if root == "" || os.Geteuid() != 0 {
		if os.Getenv("CI") != "" && os.Geteuid() == 0 {
			t.Fatal("no cgroup v2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified")
		}
		t.Skip("needs root and a cgroup v2 mount")
	}
	dir, err := os.MkdirTemp(root, "porthole-test-")
	if err != nil {
		t.Fatalf("cgroup: %v", err)
	}
	t.Cleanup(func() {
		// Registered before the helpers' cleanups, so it runs after them;
		// a cgroup is removable once its last process has been reaped.
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing cgroup %s: %v", dir, err)
		}
	})
	return dir
}

func inodeOf(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// A port query names the same owner as a full /proc walk wherever the
// owner sits among the processes (oldest, middle, newest), whether the
// holders share one cgroup or each has its own, from every source a port
// query can use: the cgroup's processes, the BPF iterator filtered by
// inode, and the walk.
func TestPortQueryOwnersAgreeWithWalk(t *testing.T) {
	for _, variant := range []string{"one cgroup", "own cgroups"} {
		t.Run(variant, func(t *testing.T) {
			const n = 9
			hs := make([]*helper, n)
			cgs := make([]string, n)
			for i := range hs {
				const spec = "6*tcp4,tcp6,2*udp4,udp6"
				if variant == "own cgroups" {
					cgs[i] = testCgroup(t)
					hs[i] = startHelperIn(t, cgs[i], spec)
				} else {
					hs[i] = startHelper(t, spec, "")
				}
			}
			var full []Listener
			withWalk(func() { full = mustList(t, Query{}) })
			walkOwners := map[uint64][]int{}
			for _, l := range full {
				for _, o := range l.Owners {
					walkOwners[l.Inode] = append(walkOwners[l.Inode], o.PID)
				}
			}
			for _, i := range []int{0, n / 2, n - 1} {
				h := hs[i]
				for kind, ports := range h.ports {
					proto := kind[:3]
					port := ports[len(ports)/2]
					q := Query{TCP: proto == "tcp", UDP: proto == "udp", Ports: Ports(port, port)}
					for _, source := range []string{"default", "walk"} {
						var ls []Listener
						if source == "walk" {
							withWalk(func() { ls = mustList(t, q) })
						} else {
							ls = mustList(t, q)
						}
						mine := ownedBy(findPort(ls, proto, port), h.pid)
						if len(mine) != 1 {
							t.Errorf("holder %d, %s %d (%s): %d rows owned by %d in %+v", i, kind, port, source, len(mine), h.pid, ls)
							continue
						}
						l := mine[0]
						if !slices.Contains(walkOwners[l.Inode], l.Owners[0].PID) {
							t.Errorf("holder %d, %s %d (%s): owner %d, the full walk says %v", i, kind, port, source, l.Owners[0].PID, walkOwners[l.Inode])
						}
						if cgs[i] != "" && l.Cgroup != 0 && l.Cgroup != inodeOf(t, cgs[i]) {
							t.Errorf("holder %d: socket cgroup %d, the holder's cgroup directory is inode %d", i, l.Cgroup, inodeOf(t, cgs[i]))
						}
					}
				}
			}
		})
	}
}

// The kernel names a socket's cgroup, and the id leads to that cgroup's
// processes; the filtered iterator finds exactly the holder of a socket.
func TestCgroupAndInodeFilterSources(t *testing.T) {
	dir := testCgroup(t)
	h := startHelperIn(t, dir, "3*tcp4")
	port := h.ports["tcp4"][1]
	ls := ownedBy(findPort(mustList(t, Query{TCP: true, Ports: Ports(port, port)}), "tcp", port), h.pid)
	if len(ls) != 1 {
		t.Fatalf("port %d: %+v", port, ls)
	}
	id := ls[0].Cgroup
	if id == 0 {
		t.Skipf("kernel %s sends no INET_DIAG_CGROUP_ID (Linux 5.7+)", kernelRelease())
	}
	if want := inodeOf(t, dir); id != want {
		t.Fatalf("socket cgroup %d, directory inode %d", id, want)
	}
	pids, err := cgroupPIDs(id, cgroupMost)
	if err != nil || !slices.Equal(pids, []int{h.pid}) {
		t.Errorf("cgroupPIDs(%d) = %v, %v; want [%d]", id, pids, err, h.pid)
	}
	if _, err := bpfOwnerLink(); err != nil {
		t.Logf("BPF owner source unavailable, filter not checked: %v", err)
		return
	}
	recs, err := bpfOwnersOf([]uint64{ls[0].Inode})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for pid, ino := range recs.all() {
		got = append(got, fmt.Sprintf("%d:%d", pid, ino))
	}
	if want := []string{fmt.Sprintf("%d:%d", h.pid, ls[0].Inode)}; !slices.Equal(got, want) {
		t.Errorf("filtered iterator: %v, want %v", got, want)
	}
}

func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "?"
	}
	return strings.TrimRight(string(u.Release[:]), "\x00")
}

// BenchmarkPortQueryOwner is one port query (dump and owner lookup) with
// 10,000 listeners held by 100 helper processes, and with 1,000 listeners
// and 10,000 established loopback pairs, for a port of the oldest, the
// middle and the newest helper, answered by the BPF iterator filtered by
// inode ("bpf", the default as root; the kernel's layout is read once per
// process, see BenchmarkKernelIterLayout) and by the /proc walk ("walk").
// All helpers share this process's cgroup, so the cgroup step finds
// nothing to narrow.
func BenchmarkPortQueryOwner(b *testing.B) {
	const procs = 100
	for _, load := range []struct {
		name string
		spec string
	}{{"10000listeners", "100*tcp4"}, {"1000listeners+10000established", "10*tcp4,100*tcpconn"}} {
		b.Run(load.name, func(b *testing.B) {
			hs := make([]*helper, procs)
			for i := range hs {
				hs[i] = startHelper(b, load.spec, "")
			}
			for _, pos := range []struct {
				name string
				i    int
			}{{"oldest", 0}, {"middle", procs / 2}, {"newest", procs - 1}} {
				ports := hs[pos.i].ports["tcp4"]
				port := ports[len(ports)/2]
				q := Query{TCP: true, Ports: Ports(port, port)}
				for _, source := range []string{"bpf", "walk"} {
					b.Run(pos.name+"/"+source, func(b *testing.B) {
						if source == "bpf" {
							if _, err := iterLayoutOnce(); err != nil {
								b.Skip(err)
							}
						}
						run := func() {
							cpu0, n := cpuTime(), 0
							for b.Loop() {
								if ls := mustList(b, q); len(ownedBy(ls, hs[pos.i].pid)) != 1 {
									b.Fatalf("port %d: %+v", port, ls)
								}
								n++
							}
							// On a busy machine CPU time is steadier than wall time.
							b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/op")
						}
						if source == "walk" {
							withWalk(run)
						} else {
							run()
						}
					})
				}
			}
		})
	}
}

// cpuTime is this process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
