package sockets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The BPF owner source: the task-file iterator of bpfiter.go, loaded once
// per process and read once per lookup. It needs CAP_BPF and CAP_PERFMON
// (root), a kernel with BTF (/sys/kernel/btf/vmlinux) and the iterator
// (5.8+) and sock_from_file helper (5.11+). Whenever any of that is
// missing, or the answer fails its self-check, callers walk /proc/*/fd
// instead, so the result never depends on which source answered.
//
// PORTHOLE_NO_BPF=1 in the environment turns this source off.

var bpfIter struct {
	once sync.Once
	link int // BPF link of the loaded program; valid when err is nil
	err  error
}

// bpfLayout is the running kernel's iterLayout, read once per process.
var bpfLayout struct {
	once   sync.Once
	layout iterLayout
	err    error
}

// bpfForcedOff is set by tests to exercise the /proc walk.
var bpfForcedOff bool

// bpfDisabled reports whether the BPF sources are off: by a test, or by the
// user with PORTHOLE_NO_BPF (read when needed, not at start-up).
func bpfDisabled() bool { return bpfForcedOff || os.Getenv("PORTHOLE_NO_BPF") != "" }

var errBPFOff = errors.New("BPF owner source disabled")

// bpfOwnerLink loads and attaches the iterator program on first use.
func bpfOwnerLink() (int, error) {
	if bpfDisabled() {
		return -1, errBPFOff
	}
	bpfIter.once.Do(func() {
		bpfIter.link, bpfIter.err = loadOwnerIter()
	})
	return bpfIter.link, bpfIter.err
}

// iterLayoutOnce checks that the BPF owner source can work here and reads
// the kernel's layout, once per process.
func iterLayoutOnce() (iterLayout, error) {
	bpfLayout.once.Do(func() {
		switch {
		case unsafe.Sizeof(uintptr(0)) != 8:
			bpfLayout.err = errors.New("BPF owner source: 64-bit kernels only")
		case os.Geteuid() != 0:
			bpfLayout.err = errors.New("BPF owner source: needs root")
		default:
			bpfLayout.layout, bpfLayout.err = kernelIterLayout()
		}
	})
	return bpfLayout.layout, bpfLayout.err
}

func loadOwnerIter() (int, error) {
	layout, err := iterLayoutOnce()
	if err != nil {
		return -1, err
	}
	return loadIter(taskFileProgram(layout, isBigEndian), layout)
}

// loadIter loads a task-file iterator program and returns its BPF link.
func loadIter(insns []byte, layout iterLayout) (int, error) {
	prog, err := bpfProgLoad(unix.BPF_PROG_TYPE_TRACING, unix.BPF_TRACE_ITER, insns, layout.FuncID)
	if err != nil {
		return -1, err
	}
	defer unix.Close(prog) // the link holds the program
	var attr [24]byte
	binary.NativeEndian.PutUint32(attr[0:], uint32(prog))
	binary.NativeEndian.PutUint32(attr[8:], unix.BPF_TRACE_ITER)
	link, err := bpfSyscall(unix.BPF_LINK_CREATE, attr[:])
	if err != nil {
		return -1, fmt.Errorf("BPF link: %w", err)
	}
	unix.CloseOnExec(link)
	return link, nil
}

// kernelIterLayout reads the running kernel's BTF. Since Linux 6.16 the
// file can be mapped; before that it is read (the kernel hands out 4 KiB
// per read, so that costs a few milliseconds).
func kernelIterLayout() (iterLayout, error) {
	const path = "/sys/kernel/btf/vmlinux"
	f, err := os.Open(path)
	if err != nil {
		return iterLayout{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return iterLayout{}, err
	}
	size := int(st.Size())
	if size <= 0 || size > 1<<30 {
		return iterLayout{}, fmt.Errorf("%s: size %d", path, size)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_PRIVATE)
	if err == nil {
		defer unix.Munmap(b)
	} else {
		b = make([]byte, size)
		if _, err := f.ReadAt(b, 0); err != nil {
			return iterLayout{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	t, err := parseBTF(b)
	if err != nil {
		return iterLayout{}, fmt.Errorf("%s: %w", path, err)
	}
	return iterLayoutFrom(t)
}

// bpfProgLoad loads a program; on failure it loads it again with the
// verifier log on, so the error says why.
func bpfProgLoad(progType, attachType uint32, insns []byte, attachBTFID uint32) (int, error) {
	// Declared to the kernel, which lets GPL-compatible programs use the
	// seq_write helper. The program is porthole's own few instructions.
	license := []byte("Dual MIT/GPL\x00")
	load := func(log []byte) (int, error) {
		var attr [128]byte
		ne := binary.NativeEndian
		ne.PutUint32(attr[0:], progType)
		ne.PutUint32(attr[4:], uint32(len(insns)/8))
		ne.PutUint64(attr[8:], uint64(uintptr(unsafe.Pointer(&insns[0]))))
		ne.PutUint64(attr[16:], uint64(uintptr(unsafe.Pointer(&license[0]))))
		if len(log) > 0 {
			ne.PutUint32(attr[24:], 1) // log_level
			ne.PutUint32(attr[28:], uint32(len(log)))
			ne.PutUint64(attr[32:], uint64(uintptr(unsafe.Pointer(&log[0]))))
		}
		copy(attr[48:63], "porthole")
		ne.PutUint32(attr[68:], attachType) // expected_attach_type
		ne.PutUint32(attr[108:], attachBTFID)
		return bpfSyscall(unix.BPF_PROG_LOAD, attr[:])
	}
	fd, err := load(nil)
	if err == nil {
		unix.CloseOnExec(fd)
		return fd, nil
	}
	log := make([]byte, 64<<10)
	if _, err2 := load(log); err2 != nil {
		if n := bytes.IndexByte(log, 0); n > 0 {
			log = log[:n]
		}
		return -1, fmt.Errorf("BPF program load: %w: %s", err, lastLines(log, 3))
	}
	return -1, fmt.Errorf("BPF program load: %w", err)
}

func bpfSyscall(cmd int, attr []byte) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(unsafe.Pointer(&attr[0])), uintptr(len(attr)))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// bpfOwnerRecords runs the iterator once and returns its records. It fails
// (and the caller walks /proc) unless a socket this process opens for the
// purpose is reported as held by this process's own PID: that proves the
// iterator's PIDs are the ones /proc shows here (it reports the initial
// namespace's numbers, which differ inside a PID namespace). The probe's
// own record is left out of the result.
func bpfOwnerRecords() (ownerRecords, error) {
	link, err := bpfOwnerLink()
	if err != nil {
		return nil, err
	}
	return readIter(link, nil)
}

// bpfOwnersOf runs, for a port query, an iterator that reports only the
// sockets whose inode is in inodes (at most maxInodeFilter-1), with the
// same self-check as bpfOwnerRecords. The program is built for these
// inodes, so it is loaded for this call and dropped after it.
func bpfOwnersOf(inodes []uint64) (ownerRecords, error) {
	if bpfDisabled() {
		return nil, errBPFOff
	}
	if len(inodes) >= maxInodeFilter {
		return nil, errors.New("BPF owner source: too many inodes for a filter")
	}
	layout, err := iterLayoutOnce()
	if err != nil {
		return nil, err
	}
	return readIter(-1, func(probe uint64) (int, error) {
		return loadIter(inodeFileProgram(layout, isBigEndian, append(slices.Clip(inodes), probe)), layout)
	})
}

// readIter reads one run of the iterator of link, or, when load is not
// nil, of the link it returns for the probe socket's inode (it is closed
// afterwards), and checks the probe socket's record.
func readIter(link int, load func(probe uint64) (int, error)) (ownerRecords, error) {
	// An unbound UDP socket: state CLOSE, so the program reports it, and
	// in no socket table, so no dump ever lists it.
	probe, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(probe)
	var st unix.Stat_t
	if err := unix.Fstat(probe, &st); err != nil {
		return nil, err
	}
	if load != nil {
		l, err := load(st.Ino)
		if err != nil {
			return nil, err
		}
		defer unix.Close(l)
		link = l
	}
	var attr [8]byte
	binary.NativeEndian.PutUint32(attr[0:], uint32(link))
	it, err := bpfSyscall(unix.BPF_ITER_CREATE, attr[:])
	if err != nil {
		return nil, fmt.Errorf("BPF iterator: %w", err)
	}
	defer unix.Close(it)
	buf := make([]byte, 0, 64<<10)
	for again := 0; ; {
		if cap(buf)-len(buf) < 32<<10 {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := unix.Read(it, buf[len(buf):cap(buf)])
		if err == unix.EINTR || (err == unix.EAGAIN && again < 8) {
			again++
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("BPF iterator read: %w", err)
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
	}
	recs := ownerRecords(buf)
	if err := recs.check(); err != nil {
		return nil, err
	}
	recs, ok := recs.without(st.Ino, uint32(os.Getpid()))
	if !ok {
		return nil, errors.New("BPF owner source: PIDs do not match this PID namespace")
	}
	return recs, nil
}

// lastLines returns the last n lines of a verifier log, on one line.
func lastLines(b []byte, n int) string {
	end := len(b)
	for end > 0 && (b[end-1] == '\n' || b[end-1] == ' ') {
		end--
	}
	start := end
	for i := 0; i < n && start > 0; i++ {
		start--
		for start > 0 && b[start-1] != '\n' {
			start--
		}
	}
	out := make([]byte, 0, end-start)
	for _, c := range b[start:end] {
		if c == '\n' {
			c = ';'
		}
		out = append(out, c)
	}
	return string(out)
}
