package process

import (
	"strings"
	"unicode/utf8"
)

// Escape returns s with control characters (C0, DEL, C1) and invalid UTF-8
// replaced by visible escapes: \xNN for bytes, \u00NN for C1 code points.
// Other text, including backslashes, is left alone. It returns s itself when
// nothing needs escaping.
func Escape(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if needsEscape(r, n) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1, r < 0x20, r == 0x7f:
			c := s[i]
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		case r >= 0x80 && r <= 0x9f:
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(r rune, n int) bool {
	return (r == utf8.RuneError && n == 1) || r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f)
}

// SplitCmdline splits a NUL-separated command line (Linux /proc/PID/cmdline,
// macOS KERN_PROCARGS2 argument area) into escaped arguments. A trailing NUL
// does not make an empty argument.
func SplitCmdline(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	var out []string
	for {
		i := indexByte(b, 0)
		if i < 0 {
			out = append(out, Escape(string(b)))
			return out
		}
		out = append(out, Escape(string(b[:i])))
		b = b[i+1:]
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// TrimDeleted splits the " (deleted)" suffix the Linux kernel appends to the
// /proc/PID/exe link of a deleted executable, keeping the path.
func TrimDeleted(link string) (path string, deleted bool) {
	const suffix = " (deleted)"
	if strings.HasSuffix(link, suffix) {
		return link[:len(link)-len(suffix)], true
	}
	return link, false
}
