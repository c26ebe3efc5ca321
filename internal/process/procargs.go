package process

import "encoding/binary"

// ParseProcArgs2 parses the macOS kern.procargs2 sysctl: an int32 argc
// (little-endian), the executable path NUL-terminated and NUL-padded, then
// argc NUL-terminated arguments (then the environment, ignored). It returns
// the escaped arguments and the executable path; both are empty when b is
// malformed. Layout from XNU bsd/kern/kern_sysctl.c (sysctl_procargsx).
func ParseProcArgs2(b []byte) (args []string, exe string) {
	if len(b) < 4 {
		return nil, ""
	}
	argc := int(int32(binary.LittleEndian.Uint32(b)))
	b = b[4:]
	i := indexByte(b, 0)
	if i < 0 {
		return nil, ""
	}
	exe = Escape(string(b[:i]))
	b = b[i:]
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if argc < 0 || argc > 1<<16 {
		return nil, exe
	}
	for range argc {
		if len(b) == 0 {
			break
		}
		j := indexByte(b, 0)
		if j < 0 {
			args = append(args, Escape(string(b)))
			break
		}
		args = append(args, Escape(string(b[:j])))
		b = b[j+1:]
	}
	return args, exe
}
