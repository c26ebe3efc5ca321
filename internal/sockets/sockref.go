package sockets

// Small pure helpers for the Linux /proc walks, untagged so they are fuzzed
// everywhere.

// parseSocketLink parses the target of a /proc/PID/fd/N link, "socket:[N]",
// without allocating.
func parseSocketLink(b []byte) (uint64, bool) {
	const prefix = "socket:["
	if len(b) < len(prefix)+2 || string(b[:len(prefix)]) != prefix || b[len(b)-1] != ']' {
		return 0, false
	}
	return parseUint(b[len(prefix):len(b)-1], 10, 64)
}

// parseNSLink parses the target of /proc/PID/ns/net, "net:[N]".
func parseNSLink(b []byte) (uint64, bool) {
	const prefix = "net:["
	if len(b) < len(prefix)+2 || string(b[:len(prefix)]) != prefix || b[len(b)-1] != ']' {
		return 0, false
	}
	return parseUint(b[len(prefix):len(b)-1], 10, 64)
}

// isPID reports whether a /proc entry name is a process id.
func isPID(name []byte) bool {
	if len(name) == 0 || len(name) > 10 {
		return false
	}
	for _, c := range name {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// direntName returns the NUL-terminated name of a linux_dirent64 record and
// the record length. The layout (include/linux/dirent.h) is d_ino u64,
// d_off s64, d_reclen u16, d_type u8, then d_name. ok is false when the record
// is truncated or malformed.
func direntName(buf []byte) (name []byte, reclen int, ok bool) {
	if len(buf) < 20 {
		return nil, 0, false
	}
	reclen = int(uint16(buf[16]) | uint16(buf[17])<<8)
	if isBigEndian {
		reclen = int(uint16(buf[16])<<8 | uint16(buf[17]))
	}
	if reclen < 20 || reclen > len(buf) {
		return nil, 0, false
	}
	n := buf[19:reclen]
	for i, c := range n {
		if c == 0 {
			return n[:i], reclen, true
		}
	}
	return nil, 0, false
}
