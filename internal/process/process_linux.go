package process

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lookup reads a handful of /proc/PID files relative to one directory fd,
// so each costs openat+read+close with no path walk from the root and no
// fstat (os.ReadFile does both).
func lookup(pid int) (Info, error) {
	info := Info{PID: pid, UID: -1}
	dir, err := unix.Open("/proc/"+strconv.Itoa(pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return info, ErrNotFound
	}
	defer unix.Close(dir)
	buf := make([]byte, 4096)
	comm, ok := readAt(dir, "comm", buf)
	if !ok {
		// The directory can outlive the process briefly; comm is readable
		// for any live process (even zombies), so this means it is gone.
		return info, ErrNotFound
	}
	info.Name = Escape(strings.TrimSuffix(string(comm), "\n"))
	if link, ok := readlinkAt(dir, "exe", buf); ok {
		p, del := TrimDeleted(link)
		info.Exe, info.ExeDeleted = Escape(p), del
	}
	if b, ok := readAt(dir, "cmdline", buf); ok {
		info.Cmdline = SplitCmdline(b)
	}
	if b, ok := readAt(dir, "status", buf); ok {
		info.UID = statusUID(string(b))
	}
	if info.UID >= 0 {
		info.User = UserName(info.UID)
	}
	if b, ok := readAt(dir, "cgroup", buf); ok {
		info.Container, info.Unit = ParseCgroup(string(b))
		if info.Container != "" {
			info.ContainerName = containerName(info.Container)
		}
	}
	if link, ok := readlinkAt(dir, "ns/net", buf); ok {
		info.NetNS = ParseNSLink(link)
	}
	return info, nil
}

// readAt reads a whole /proc file. buf is scratch space; the result may
// alias it, or be a larger slice when the file does not fit.
func readAt(dir int, name string, buf []byte) ([]byte, bool) {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	n := 0
	for {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		n += m
		// seq_file-backed /proc files return everything that fits in one
		// read, so a short read is the end; only a full buffer needs
		// another read (cmdline can be long).
		if m == 0 || n < len(buf) {
			return buf[:n], true
		}
		if len(buf) >= 1<<20 {
			return buf[:n], true // cap: 1 MiB is plenty for a command line
		}
		buf = append(buf, make([]byte, len(buf))...)
	}
}

func readlinkAt(dir int, name string, buf []byte) (string, bool) {
	n, err := unix.Readlinkat(dir, name, buf)
	if err != nil || n <= 0 {
		return "", false
	}
	return string(buf[:n]), true
}
