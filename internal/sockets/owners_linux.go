package sockets

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ownerScan maps socket inodes to the PIDs holding them by reading
// /proc/PID/fd of every process in parallel. Each worker opens the fd
// directory, reads it with raw getdents64 and calls readlinkat on each entry
// into a stack buffer; nothing is allocated per fd.
type ownerScan struct {
	want map[uint64]struct{} // read-only during the scan
	// firstOnly stops the walk once every wanted inode has one owner.
	firstOnly bool
	// preferUIDs are the socket owners' uids; their processes are read first.
	preferUIDs map[uint32]bool

	mu     sync.Mutex
	found  map[uint64][]int
	left   atomic.Int64
	done   atomic.Bool
	denied atomic.Int64 // /proc/PID/fd we could not open (EACCES/EPERM)
}

// procRoot is where the owner walk finds procfs. Tests point it at a fixture
// tree (testdata/proc) to check the walk without root or live processes.
var procRoot = "/proc"

// cgroupMost is the most processes a socket's cgroup may hold for a port
// query to read them all before anything else; a bigger cgroup (the root
// one, on a host without systemd) says little about who holds the socket.
const cgroupMost = 32

// findOwners is the owner lookup of a port query: it returns the first
// holder of each wanted socket (at most sampleMax of them) without reading
// every process's descriptors, wherever the holder sits. It reads first
// the processes of the sockets' cgroups, a handful under systemd or in
// containers; then, for up to guideMaxInodes sockets still missing, the
// few processes whose sampled sockets are nearest the wanted one (guide:
// a readlink or three per process, a dozen for a few, then one or two
// whole tables); then, as
// root on a kernel with BTF, it asks the kernel for the holders of just
// the sockets still missing (bpfOwnersOf, one pass that compares inode
// numbers but visits every open file of the host); else it walks the rest
// of /proc, in the guided order or (more sockets) the sockets' uids'
// processes first. Each socket is found by the first step that finds it,
// and a socket none finds has no holder here, as with a full walk. With
// all, it returns every holder of each socket instead: from the filtered
// iterator, or from a walk of every process.
func findOwners(ctx context.Context, ls []Listener, want map[uint64]struct{}, uids map[uint32]bool, all bool) (map[uint64][]int, int64) {
	if len(want) == 0 {
		return map[uint64][]int{}, 0 // nothing listens there: nothing to look for
	}
	if all {
		inodes := make([]uint64, 0, len(want))
		for ino := range want {
			inodes = append(inodes, ino)
		}
		if recs, err := bpfOwnersOf(inodes); err == nil {
			return recs.owners(want), 0
		}
		return scanOwners(ctx, want, false, uids)
	}
	procfd, err := unix.Open(procRoot, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return map[uint64][]int{}, 0
	}
	defer unix.Close(procfd)
	var cands []int
	seen := map[uint64]bool{}
	for _, l := range ls {
		if l.Cgroup == 0 || seen[l.Cgroup] || len(cands) >= 2*cgroupMost {
			continue
		}
		seen[l.Cgroup] = true
		pids, err := cgroupPIDs(l.Cgroup, cgroupMost)
		if err == nil {
			cands = append(cands, pids...)
		}
	}
	s := newOwnerScan(want, true, nil)
	if len(cands) > 0 {
		slices.Sort(cands)
		cands = slices.Compact(cands)
		s.parallel(ctx, cands, func(pid int, buf []byte) { s.scanPID(procfd, pid, buf) })
		if s.left.Load() == 0 || ctx.Err() != nil {
			return s.found, s.denied.Load()
		}
	}
	order := s.guide(ctx, procfd, cands)
	if s.left.Load() == 0 || ctx.Err() != nil {
		return s.found, s.denied.Load()
	}
	missing := make([]uint64, 0, len(want))
	rest := make(map[uint64]struct{}, len(want))
	for ino := range want {
		if len(s.found[ino]) == 0 {
			missing = append(missing, ino)
			rest[ino] = struct{}{}
		}
	}
	if recs, err := bpfOwnersOf(missing); err == nil {
		for ino, ps := range recs.owners(rest) {
			s.found[ino] = ps[:1] // the first, as the walk reports
		}
		return s.found, s.denied.Load()
	}
	s.want = rest
	s.left.Store(int64(len(rest)))
	if order != nil {
		// Every process not read yet, already in the sampled order.
		s.parallel(ctx, order, func(pid int, buf []byte) { s.scanPID(procfd, pid, buf) })
	} else {
		s.walk(ctx, procfd, uids, cands)
	}
	return s.found, s.denied.Load()
}

func newOwnerScan(want map[uint64]struct{}, firstOnly bool, preferUIDs map[uint32]bool) *ownerScan {
	s := &ownerScan{want: want, firstOnly: firstOnly, preferUIDs: preferUIDs, found: make(map[uint64][]int, len(want))}
	s.left.Store(int64(len(want)))
	return s
}

func scanOwners(ctx context.Context, want map[uint64]struct{}, firstOnly bool, preferUIDs map[uint32]bool) (map[uint64][]int, int64) {
	s := newOwnerScan(want, firstOnly, preferUIDs)
	if len(want) == 0 {
		return s.found, 0
	}
	procfd, err := unix.Open(procRoot, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return s.found, 0
	}
	defer unix.Close(procfd)
	s.walk(ctx, procfd, preferUIDs, nil)
	return s.found, s.denied.Load()
}

// walk reads /proc/PID/fd of every process but those in done (already
// read), in an order that finds a port query's sockets early.
func (s *ownerScan) walk(ctx context.Context, procfd int, preferUIDs map[uint32]bool, done []int) {
	if len(s.want) == 0 {
		return
	}
	pids := listPIDs(procfd)
	if len(done) > 0 {
		pids = slices.DeleteFunc(pids, func(p int) bool { _, ok := slices.BinarySearch(done, p); return ok })
	}
	if s.firstOnly {
		// Newest processes first: the listener someone asks about is more
		// often a recently started server than a long-lived desktop
		// process with thousands of fds. Then the socket owner's uid first.
		slices.Reverse(pids)
		if len(preferUIDs) > 0 {
			pids = preferByUID(procfd, pids, preferUIDs)
		}
		if len(s.want) <= sampleMax {
			pids, _ = s.sampleOrder(ctx, procfd, pids)
		}
	}
	s.parallel(ctx, pids, func(pid int, buf []byte) { s.scanPID(procfd, pid, buf) })
}

// parallel calls fn for each pid on a pool of workers, until the scan is
// done or ctx is cancelled.
func (s *ownerScan) parallel(ctx context.Context, pids []int, fn func(pid int, buf []byte)) {
	workers := min(2*runtime.GOMAXPROCS(0), 16, len(pids))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 16<<10)
			for !s.done.Load() && ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(pids) {
					return
				}
				fn(pids[i], buf)
			}
		}()
	}
	wg.Wait()
}

const (
	// sampleMax is the most wanted inodes for which a first-owner scan
	// samples every process before walking them (a port query).
	sampleMax = 64
	// sampleFDs is how many descriptor numbers, from 3 up, the sample
	// tries at most while looking for a process's first socket.
	sampleFDs = 8
)

// sampleOrder reorders pids for a first-owner scan. A socket's inode number
// comes from the counter that numbers every in-memory file (get_next_ino:
// increasing, in per-CPU runs of 1,024), and a process's lowest descriptors
// are its oldest, so the inode of a process's first socket tells roughly
// when it started making sockets. It reads the first socket of every
// process (firstSocket: a few readlinks, no directory listing), then puts
// first the processes whose first socket is at or just below a wanted
// inode (the ones that were making sockets when it was made), nearest
// first; near says how many those are. Then come the processes whose first
// socket was not seen, in the given order. Processes with no descriptor at
// all (kernel threads) are dropped. A wanted socket met while sampling
// counts as found. The order is a guess: callers still read a process's
// whole table before naming it.
func (s *ownerScan) sampleOrder(ctx context.Context, procfd int, pids []int) (order []int, near int) {
	wanted := make([]uint64, 0, len(s.want))
	for ino := range s.want {
		wanted = append(wanted, ino)
	}
	slices.Sort(wanted)
	const none, unknown = ^uint64(0), ^uint64(0) - 1
	dist := make([]uint64, len(pids))
	idx := make(map[int]int, len(pids))
	for i, p := range pids {
		idx[p] = i
	}
	counted := fdCountWorks(procfd)
	s.parallel(ctx, pids, func(pid int, _ []byte) {
		d := unknown
		if first, _, ok, empty := s.firstSocket(procfd, pid, counted); ok {
			if j, _ := slices.BinarySearch(wanted, first); j < len(wanted) {
				d = wanted[j] - first
			}
		} else if empty {
			d = none
		}
		dist[idx[pid]] = d // each worker writes its own element
	})
	order = make([]int, 0, len(pids))
	for i, p := range pids {
		if dist[i] != none {
			order = append(order, p)
			if dist[i] != unknown {
				near++
			}
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(dist[idx[a]], dist[idx[b]])
	})
	return order, near
}

// fdCountWorks reports whether stat of /proc/PID/fd gives the number of
// open descriptors as its size (Linux 6.2+), checked on this process,
// which has at least its standard three open, on procfs only (a test's
// fixture tree is plain directories).
func fdCountWorks(procfd int) bool {
	var fs unix.Statfs_t
	var st unix.Stat_t
	return unix.Fstatfs(procfd, &fs) == nil && fs.Type == unix.PROC_SUPER_MAGIC &&
		unix.Fstatat(procfd, "self/fd", &st, 0) == nil && st.Size >= 3
}

// firstSocket returns the inode of the socket at the lowest descriptor
// number from 3 up (0 to 2 are the standard streams), trying at most
// sampleFDs numbers (stopping at two missing in a row) with one readlinkat
// of PID/fd/N each, and no listing of the directory (which costs more than
// the readlinks). With counted (see
// fdCountWorks) it first reads the number of open descriptors: a process
// with none (a kernel thread) is empty, and numbers past that count plus
// the standard three are not tried, and nfd is that count (0 without
// counted). Wanted sockets met on the way are recorded.
func (s *ownerScan) firstSocket(procfd, pid int, counted bool) (ino uint64, nfd int, ok, empty bool) {
	var path [48]byte
	p := strconv.AppendInt(path[:0], int64(pid), 10)
	p = append(p, "/fd"...)
	top := 3 + sampleFDs
	if counted {
		var st unix.Stat_t
		if unix.Fstatat(procfd, string(p), &st, 0) != nil {
			return 0, 0, false, false // gone or denied: the full scan reports it
		}
		if st.Size <= 0 {
			return 0, 0, false, true
		}
		nfd = int(min(st.Size, 1<<30))
		top = min(top, nfd+3)
	}
	p = append(p, '/')
	var link [64]byte
	gaps := 0
	for fd := 3; fd < top; fd++ {
		q := append(strconv.AppendInt(p, int64(fd), 10), 0)
		ln, err := readlinkat(procfd, &q[0], link[:])
		if err == unix.ENOENT {
			// A gap in the table, or the process is gone; two in a row
			// usually mean the low descriptors are done (a shell's
			// 0-2 and 255).
			if gaps++; gaps == 2 {
				break
			}
			continue
		}
		gaps = 0
		if err != nil {
			return 0, nfd, false, false
		}
		sino, ok := parseSocketLink(link[:ln])
		if !ok {
			continue
		}
		if _, w := s.want[sino]; w {
			s.add(sino, pid)
		}
		return sino, nfd, true, false
	}
	return 0, nfd, false, false
}

// lastSocket returns the inode of the socket at or next to pid's
// highest dense descriptor, given nfd open descriptors: a table without
// gaps ends at nfd-1; a few stray high descriptors (a pipe inherited as
// fd 255) move that end down by as many, gaps below move it up. It tries
// nfd-1, then alternately below and above it, six numbers at most, and
// takes the first socket met.
func (s *ownerScan) lastSocket(procfd, pid, nfd int) (uint64, bool) {
	var path [48]byte
	p := strconv.AppendInt(path[:0], int64(pid), 10)
	p = append(p, "/fd/"...)
	var link [64]byte
	for _, d := range [...]int{0, -1, 1, -2, 2, -3} {
		fd := nfd - 1 + d
		if fd < 3 {
			continue
		}
		q := append(strconv.AppendInt(p, int64(fd), 10), 0)
		ln, err := readlinkat(procfd, &q[0], link[:])
		if err == unix.ENOENT {
			continue
		}
		if err != nil {
			return 0, false
		}
		if ino, ok := parseSocketLink(link[:ln]); ok {
			if _, w := s.want[ino]; w {
				s.add(ino, pid)
			}
			return ino, true
		}
	}
	return 0, false
}

// spreadSockets appends to out the inodes of up to n sockets at
// descriptors spread evenly over pid's table of nfd open descriptors
// (each the first socket among the number and the two after it), then its
// last socket (lastSocket). Wanted sockets met on the way are recorded.
// It stops at the first error other than a missing descriptor (the
// process is gone or denied).
func (s *ownerScan) spreadSockets(procfd, pid, nfd, n int, out []uint64) []uint64 {
	var path [48]byte
	p := strconv.AppendInt(path[:0], int64(pid), 10)
	p = append(p, "/fd/"...)
	var link [64]byte
	prev := 2
	for j := 1; j < n; j++ {
		at := max(nfd*j/n, prev+1)
		for fd := at; fd < at+3 && fd < nfd; fd++ {
			prev = fd
			q := append(strconv.AppendInt(p, int64(fd), 10), 0)
			ln, err := readlinkat(procfd, &q[0], link[:])
			if err == unix.ENOENT {
				continue
			}
			if err != nil {
				return out
			}
			if ino, ok := parseSocketLink(link[:ln]); ok {
				if _, w := s.want[ino]; w {
					s.add(ino, pid)
				}
				out = append(out, ino)
				break
			}
		}
	}
	if ino, ok := s.lastSocket(procfd, pid, nfd); ok {
		out = append(out, ino)
	}
	return out
}

// listPIDs returns the numeric entries of /proc (thread group leaders only).
func listPIDs(procfd int) []int {
	var pids []int
	buf := make([]byte, 32<<10)
	if _, err := unix.Seek(procfd, 0, 0); err != nil {
		return nil
	}
	for {
		n, err := unix.Getdents(procfd, buf)
		if err != nil || n <= 0 {
			return pids
		}
		b := buf[:n]
		for len(b) > 0 {
			name, rl, ok := direntName(b)
			if !ok {
				break
			}
			b = b[rl:]
			if isPID(name) {
				v, _ := parseUint(name, 10, 31)
				pids = append(pids, int(v))
			}
		}
	}
}

// preferByUID moves the processes whose /proc/PID owner is one of uids to
// the front, so a port query usually stops after a few processes.
func preferByUID(procfd int, pids []int, uids map[uint32]bool) []int {
	out := make([]int, 0, len(pids))
	var rest []int
	var st unix.Stat_t
	for _, p := range pids {
		if unix.Fstatat(procfd, strconv.Itoa(p), &st, 0) == nil && uids[st.Uid] {
			out = append(out, p)
		} else {
			rest = append(rest, p)
		}
	}
	return append(out, rest...)
}

func (s *ownerScan) scanPID(procfd, pid int, buf []byte) {
	fd, err := openFDDir(procfd, pid)
	if err != nil {
		if err == unix.EACCES || err == unix.EPERM {
			s.denied.Add(1)
		}
		return // gone (ENOENT/ESRCH) or a zombie: not an error
	}
	defer unix.Close(fd)
	var link [64]byte
	for !s.done.Load() {
		n, err := unix.Getdents(fd, buf)
		if err != nil || n <= 0 {
			return
		}
		// fd names are short, so a buffer with room left for another
		// record means the directory is done: skip the getdents that
		// would return 0.
		last := n < len(buf)-64
		for b := buf[:n]; ; {
			name, rest, ok := nextFD(b)
			if !ok {
				break
			}
			b = rest
			ino, ok := socketAt(fd, name, &link)
			if !ok {
				continue
			}
			if _, w := s.want[ino]; w {
				s.add(ino, pid)
			}
		}
		if last {
			return
		}
	}
}

func (s *ownerScan) add(ino uint64, pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.found[ino]
	for _, p := range prev {
		if p == pid {
			return
		}
	}
	s.found[ino] = append(prev, pid)
	if len(prev) == 0 && s.left.Add(-1) == 0 && s.firstOnly {
		s.done.Store(true)
	}
}

// openat opens a NUL-terminated path relative to dirfd as a directory.
func openat(dirfd int, path []byte) (int, error) {
	r, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&path[0])),
		uintptr(unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC), 0, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// nextFD returns the first descriptor name in the getdents64 records b
// (skipping "." and "..") and the records after it; ok is false when there
// is none.
func nextFD(b []byte) (name, rest []byte, ok bool) {
	for len(b) > 0 {
		name, rl, ok := direntName(b)
		if !ok {
			return nil, nil, false
		}
		b = b[rl:]
		if len(name) > 0 && name[0] != '.' {
			return name, b, true
		}
	}
	return nil, nil, false
}

// openFDDir opens /proc/<pid>/fd below procfd.
func openFDDir(procfd, pid int) (int, error) {
	var path [32]byte
	p := strconv.AppendInt(path[:0], int64(pid), 10)
	p = append(p, "/fd\x00"...)
	return openat(procfd, p)
}

// socketAt returns the inode of the socket that descriptor name in the fd
// directory fd links to; ok is false for anything else or when the link
// cannot be read. name is NUL-terminated in its buffer (direntName checked
// it); link holds the target.
func socketAt(fd int, name []byte, link *[64]byte) (ino uint64, ok bool) {
	n, err := readlinkat(fd, &name[0], link[:])
	if err != nil || n <= 0 {
		return 0, false
	}
	return parseSocketLink(link[:n])
}

// readlinkat reads the link target of a NUL-terminated name into buf.
func readlinkat(dirfd int, name *byte, buf []byte) (int, error) {
	r, _, e := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
