package sockets

import (
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

func scanOwners(ctx context.Context, want map[uint64]struct{}, firstOnly bool, preferUIDs map[uint32]bool) (map[uint64][]int, int64) {
	s := &ownerScan{want: want, firstOnly: firstOnly, preferUIDs: preferUIDs, found: map[uint64][]int{}}
	s.left.Store(int64(len(want)))
	if len(want) == 0 {
		return s.found, 0
	}
	procfd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return s.found, 0
	}
	defer unix.Close(procfd)
	pids := listPIDs(procfd)
	if firstOnly {
		// Newest processes first: the listener someone asks about is more
		// often a recently started server than a long-lived desktop
		// process with thousands of fds. Then the socket owner's uid first.
		slices.Reverse(pids)
		if len(preferUIDs) > 0 {
			pids = preferByUID(procfd, pids, preferUIDs)
		}
	}
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
				s.scanPID(procfd, pids[i], buf)
			}
		}()
	}
	wg.Wait()
	return s.found, s.denied.Load()
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
	var path [32]byte
	p := strconv.AppendInt(path[:0], int64(pid), 10)
	p = append(p, "/fd\x00"...)
	fd, err := openat(procfd, p)
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
		b := buf[:n]
		for len(b) > 0 {
			name, rl, ok := direntName(b)
			if !ok {
				break
			}
			b = b[rl:]
			if len(name) == 0 || name[0] == '.' {
				continue
			}
			// name is NUL-terminated inside buf (direntName checked it).
			ln, err := readlinkat(fd, &name[0], link[:])
			if err != nil || ln <= 0 {
				continue
			}
			ino, ok := parseSocketLink(link[:ln])
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

// readlinkat reads the link target of a NUL-terminated name into buf.
func readlinkat(dirfd int, name *byte, buf []byte) (int, error) {
	r, _, e := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
