package process

import (
	"strconv"
	"strings"
)

// statusUID returns the effective uid from /proc/PID/status
// ("Uid:\treal\teffective\tsaved\tfs"), or -1.
func statusUID(status string) int {
	for _, line := range strings.Split(status, "\n") {
		rest, ok := strings.CutPrefix(line, "Uid:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			return -1
		}
		uid, err := strconv.Atoi(f[1])
		if err != nil || uid < 0 {
			return -1
		}
		return uid
	}
	return -1
}

// ParseNSLink returns the inode from a namespace link target such as
// "net:[4026531840]", or 0.
func ParseNSLink(link string) uint64 {
	i := strings.IndexByte(link, '[')
	if i < 0 || !strings.HasSuffix(link, "]") {
		return 0
	}
	n, err := strconv.ParseUint(link[i+1:len(link)-1], 10, 64)
	if err != nil {
		return 0
	}
	return n
}
