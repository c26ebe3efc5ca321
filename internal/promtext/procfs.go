package promtext

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// procStat is what the process metrics need of /proc/PID/stat.
type procStat struct {
	StartTicks uint64 // field 22: start time, clock ticks after boot
	VSize      uint64 // field 23: virtual memory size, bytes
	RSSPages   uint64 // field 24: resident set size, pages
}

var errProcFormat = errors.New("unexpected format")

// parseProcStat parses the one line of /proc/PID/stat. The command name
// (field 2) is in parentheses and may itself hold spaces and parentheses, so
// the fields are counted from the last ')'.
func parseProcStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc stat: %w: no ')'", errProcFormat)
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3, the state
	const first = 3
	if len(f) < 24-first+1 {
		return procStat{}, fmt.Errorf("/proc stat: %w: %d fields", errProcFormat, len(f)+first-1)
	}
	var s procStat
	for _, x := range []struct {
		field int
		dst   *uint64
	}{{22, &s.StartTicks}, {23, &s.VSize}, {24, &s.RSSPages}} {
		v, err := strconv.ParseUint(string(f[x.field-first]), 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("/proc stat: field %d: %w", x.field, errProcFormat)
		}
		*x.dst = v
	}
	return s, nil
}

// parseBootTime returns the "btime" of /proc/stat: the boot time in seconds
// since the Unix epoch.
func parseBootTime(b []byte) (uint64, error) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if rest, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			v, err := strconv.ParseUint(string(bytes.TrimSpace(rest)), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/stat btime: %w", errProcFormat)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("/proc/stat: %w: no btime", errProcFormat)
}

// parseNetstat returns the IpExt InOctets and OutOctets counters of
// /proc/PID/net/netstat: bytes received and sent over IP in the process's
// network namespace. Each section is a line of names and a line of values,
// both starting with the section name.
func parseNetstat(b []byte) (in, out uint64, err error) {
	lines := bytes.Split(b, []byte("\n"))
	for i := 0; i+1 < len(lines); i++ {
		names, ok := bytes.CutPrefix(lines[i], []byte("IpExt:"))
		if !ok {
			continue
		}
		values, ok := bytes.CutPrefix(lines[i+1], []byte("IpExt:"))
		if !ok {
			return 0, 0, fmt.Errorf("netstat: %w: IpExt names without values", errProcFormat)
		}
		n, v := bytes.Fields(names), bytes.Fields(values)
		if len(n) != len(v) {
			return 0, 0, fmt.Errorf("netstat: %w: %d IpExt names, %d values", errProcFormat, len(n), len(v))
		}
		var haveIn, haveOut bool
		for j := range n {
			var dst *uint64
			switch string(n[j]) {
			case "InOctets":
				dst, haveIn = &in, true
			case "OutOctets":
				dst, haveOut = &out, true
			default:
				continue
			}
			if *dst, err = strconv.ParseUint(string(v[j]), 10, 64); err != nil {
				return 0, 0, fmt.Errorf("netstat: %s: %w", n[j], errProcFormat)
			}
		}
		if !haveIn || !haveOut {
			return 0, 0, fmt.Errorf("netstat: %w: no InOctets or OutOctets", errProcFormat)
		}
		return in, out, nil
	}
	return 0, 0, fmt.Errorf("netstat: %w: no IpExt section", errProcFormat)
}
