package sockets

import "fmt"

// parsePIDList decodes a cgroup.procs file: one decimal PID per line. It
// is untagged so it is tested and fuzzed on every OS. A file that is not
// such a list is an error, never a partial answer.
func parsePIDList(b []byte) ([]int, error) {
	var out []int
	line := 1
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		f := b[:i]
		if i < len(b) {
			i++ // the newline
		}
		b = b[i:]
		if len(f) == 0 {
			return nil, fmt.Errorf("cgroup.procs:%d: empty line", line)
		}
		v, ok := parseUint(f, 10, 31)
		if !ok || v == 0 {
			return nil, fmt.Errorf("cgroup.procs:%d: bad PID %q", line, f)
		}
		out = append(out, int(v))
		line++
	}
	return out, nil
}

// cgroup2Mount returns the mount point of the first cgroup v2 file system
// in a /proc/self/mountinfo file, "" if there is none. Fields are
// space-separated, the mount point is the fifth, and the file system type
// follows the " - " separator; spaces and other odd bytes in paths are
// written as \NNN octal escapes.
func cgroup2Mount(b []byte) string {
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		line := b[:i]
		if i < len(b) {
			i++
		}
		b = b[i:]
		fields := splitSpaces(line)
		sep := -1
		for j, f := range fields {
			if string(f) == "-" {
				sep = j
				break
			}
		}
		if sep < 5 || sep+1 >= len(fields) || string(fields[sep+1]) != "cgroup2" {
			continue
		}
		if p, ok := unescapeOctal(fields[4]); ok && len(p) > 0 && p[0] == '/' {
			return p
		}
	}
	return ""
}

func splitSpaces(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		for len(b) > 0 && b[0] == ' ' {
			b = b[1:]
		}
		i := 0
		for i < len(b) && b[i] != ' ' {
			i++
		}
		if i > 0 {
			out = append(out, b[:i])
		}
		b = b[i:]
	}
	return out
}

// unescapeOctal undoes the kernel's \NNN escapes of a mountinfo path.
func unescapeOctal(b []byte) (string, bool) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			out = append(out, b[i])
			continue
		}
		if i+4 > len(b) {
			return "", false
		}
		v := 0
		for _, c := range b[i+1 : i+4] {
			if c < '0' || c > '7' {
				return "", false
			}
			v = v*8 + int(c-'0')
		}
		if v > 255 {
			return "", false
		}
		out = append(out, byte(v))
		i += 3
	}
	return string(out), true
}
