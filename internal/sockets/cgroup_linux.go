package sockets

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// The cgroup of a socket, from INET_DIAG_CGROUP_ID, names the few
// processes worth checking first for a port query: under systemd every
// service, and in a container runtime every container, has a cgroup of its
// own. On cgroup v2 the id is the node id of the cgroup's directory in
// kernfs, and a file handle of type FILEID_KERNFS holding that id opens the
// directory directly (open_by_handle_at, CAP_DAC_READ_SEARCH), with no walk
// of the cgroup tree.

const fileidKernfs = 0xfe // FILEID_KERNFS, include/linux/exportfs.h

var cgroupRoot struct {
	once sync.Once
	fd   int // the cgroup v2 mount; valid when err is nil
	err  error
}

var errTooManyPIDs = errors.New("cgroup holds too many processes")

// cgroup2RootFD opens the cgroup v2 mount once per process: the usual
// places first, then the one /proc/self/mountinfo names.
func cgroup2RootFD() (int, error) {
	cgroupRoot.once.Do(func() {
		cgroupRoot.fd, cgroupRoot.err = -1, errors.New("no cgroup v2 mount")
		for _, dir := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified", ""} {
			if dir == "" {
				b, err := os.ReadFile("/proc/self/mountinfo")
				if dir = cgroup2Mount(b); err != nil || dir == "" {
					return
				}
			}
			var st unix.Statfs_t
			if unix.Statfs(dir, &st) != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
				continue
			}
			fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err == nil {
				cgroupRoot.fd, cgroupRoot.err = fd, nil
			}
			return
		}
	})
	return cgroupRoot.fd, cgroupRoot.err
}

// cgroupPIDs returns the processes directly in the cgroup v2 whose id is
// id, from its cgroup.procs, or errTooManyPIDs when there are more than
// most of them.
func cgroupPIDs(id uint64, most int) ([]int, error) {
	root, err := cgroup2RootFD()
	if err != nil {
		return nil, err
	}
	h := unix.NewFileHandle(fileidKernfs, binary.NativeEndian.AppendUint64(nil, id))
	dir, err := unix.OpenByHandleAt(root, h, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return nil, err // ESTALE: the cgroup is gone; EPERM: not root
	}
	defer unix.Close(dir)
	fd, err := unix.Openat(dir, "cgroup.procs", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	// A PID takes at most 8 bytes with its newline (pid_max ≤ 2^22).
	buf := make([]byte, 8*most+1)
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	if n == len(buf) {
		return nil, errTooManyPIDs
	}
	pids, err := parsePIDList(buf[:n])
	if err != nil {
		return nil, err
	}
	if len(pids) > most {
		return nil, errTooManyPIDs
	}
	return pids, nil
}
