package process

import (
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

const processCommandLineInformation = 60 // PROCESSINFOCLASS, Windows 8.1+

func lookup(pid int) (Info, error) {
	info := Info{PID: pid, UID: -1}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		if err == windows.ERROR_INVALID_PARAMETER {
			return info, ErrNotFound
		}
		// Protected and SYSTEM processes: the PID is all we get without
		// admin rights.
		return info, nil
	}
	defer windows.CloseHandle(h)
	buf := make([]uint16, windows.MAX_LONG_PATH)
	size := uint32(len(buf))
	if windows.QueryFullProcessImageName(h, 0, &buf[0], &size) == nil {
		info.Exe = Escape(windows.UTF16ToString(buf[:size]))
		info.Name = Escape(filepath.Base(info.Exe))
	}
	if cmd := commandLine(h); cmd != "" {
		if args, err := windows.DecomposeCommandLine(cmd); err == nil {
			for i := range args {
				args[i] = Escape(args[i])
			}
			info.Cmdline = args
		}
	}
	var tok windows.Token
	if windows.OpenProcessToken(h, windows.TOKEN_QUERY, &tok) == nil {
		if u, err := tok.GetTokenUser(); err == nil {
			if acct, dom, _, err := u.User.Sid.LookupAccount(""); err == nil {
				info.User = Escape(dom + `\` + acct)
			} else {
				info.User = u.User.Sid.String()
			}
		}
		tok.Close()
	}
	return info, nil
}

// commandLine reads the command line with NtQueryInformationProcess
// (ProcessCommandLineInformation), which returns a UNICODE_STRING whose
// buffer points into the output buffer.
func commandLine(h windows.Handle) string {
	size := uint32(4096)
	for range 4 {
		buf := make([]byte, size)
		var ret uint32
		err := windows.NtQueryInformationProcess(h, processCommandLineInformation, unsafe.Pointer(&buf[0]), size, &ret)
		if err == windows.STATUS_INFO_LENGTH_MISMATCH || err == windows.STATUS_BUFFER_TOO_SMALL || err == windows.STATUS_BUFFER_OVERFLOW {
			size = max(ret, size*2)
			continue
		}
		if err != nil {
			return ""
		}
		us := (*windows.NTUnicodeString)(unsafe.Pointer(&buf[0]))
		if us.Buffer == nil || us.Length == 0 {
			return ""
		}
		start := uintptr(unsafe.Pointer(us.Buffer)) - uintptr(unsafe.Pointer(&buf[0]))
		end := start + uintptr(us.Length)
		if start >= uintptr(len(buf)) || end > uintptr(len(buf)) || start%2 != 0 {
			return ""
		}
		u16 := unsafe.Slice((*uint16)(unsafe.Pointer(&buf[start])), us.Length/2)
		return windows.UTF16ToString(u16)
	}
	return ""
}
