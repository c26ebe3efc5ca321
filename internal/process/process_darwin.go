package process

import (
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	// sysProcInfo is proc_info's number in XNU bsd/kern/syscalls.master.
	// x/sys/unix marks its SYS_PROC_INFO deprecated in favour of libSystem
	// wrappers, which would need cgo; the raw call is what libproc does.
	sysProcInfo         = 336
	procInfoCallPIDInfo = 2    // PROC_INFO_CALL_PIDINFO (libproc's proc_info callnum)
	procPIDPathInfo     = 11   // PROC_PIDPATHINFO flavor
	procPIDPathMax      = 4096 // PROC_PIDPATHINFO_MAXSIZE
)

// pidPath is libproc's proc_pidpath done as the raw proc_info syscall, so no
// cgo is needed.
func pidPath(pid int) (string, error) {
	var buf [procPIDPathMax]byte
	n, _, e := unix.Syscall6(sysProcInfo, procInfoCallPIDInfo, uintptr(pid), procPIDPathInfo, 0,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	if e != 0 {
		return "", e
	}
	if int(n) > len(buf) {
		n = uintptr(len(buf))
	}
	s := buf[:n]
	if i := indexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return string(s), nil
}

func lookup(pid int) (Info, error) {
	info := Info{PID: pid, UID: -1}
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || kp.Proc.P_pid != int32(pid) {
		return info, ErrNotFound
	}
	comm := kp.Proc.P_comm[:]
	if i := indexByte(comm, 0); i >= 0 {
		comm = comm[:i]
	}
	info.Name = Escape(string(comm))
	info.UID = int(kp.Eproc.Ucred.Uid)
	info.User = UserName(info.UID)
	if p, err := pidPath(pid); err == nil && p != "" {
		info.Exe = Escape(p)
		info.Name = Escape(filepath.Base(p))
	}
	if b, err := unix.SysctlRaw("kern.procargs2", pid); err == nil {
		args, exe := ParseProcArgs2(b)
		info.Cmdline = args
		if info.Exe == "" {
			info.Exe = exe
		}
	}
	return info, nil
}
