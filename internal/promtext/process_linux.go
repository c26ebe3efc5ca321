package promtext

import (
	"os"
	"syscall"
	"time"
)

// userHZ is the unit of the clock-tick fields of /proc/PID/stat. Linux
// fixes USER_HZ at 100 on every architecture Go supports.
const userHZ = 100

// Process returns the process_* families that the Prometheus Go client's
// process collector exposes on Linux (same names and types), for this
// process. A figure that cannot be read is left out rather than reported
// wrong.
func Process() []Family {
	var fams []Family
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		fams = append(fams, counter("process_cpu_seconds_total", "User and system CPU time used by the process, in seconds.", cpu.Seconds()))
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		fams = append(fams, gauge("process_max_fds", "The process's limit on open file descriptors (soft limit).", float64(lim.Cur)))
	}
	if syscall.Getrlimit(syscall.RLIMIT_AS, &lim) == nil {
		fams = append(fams, gauge("process_virtual_memory_max_bytes", "The process's limit on virtual memory, in bytes (soft limit).", float64(lim.Cur)))
	}
	if n, err := openFDs(); err == nil {
		fams = append(fams, gauge("process_open_fds", "Open file descriptors of the process.", float64(n)))
	}
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		if st, err := parseProcStat(b); err == nil {
			fams = append(fams,
				gauge("process_virtual_memory_bytes", "Virtual memory size of the process, in bytes.", float64(st.VSize)),
				gauge("process_resident_memory_bytes", "Resident memory size of the process, in bytes.", float64(st.RSSPages)*float64(os.Getpagesize())))
			if b, err := os.ReadFile("/proc/stat"); err == nil {
				if boot, err := parseBootTime(b); err == nil {
					start := float64(boot) + float64(st.StartTicks)/userHZ
					fams = append(fams, gauge("process_start_time_seconds", "Start time of the process, in seconds since the Unix epoch.", start))
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/net/netstat"); err == nil {
		if in, out, err := parseNetstat(b); err == nil {
			fams = append(fams,
				counter("process_network_receive_bytes_total", "Bytes received over IP in the process's network namespace.", float64(in)),
				counter("process_network_transmit_bytes_total", "Bytes sent over IP in the process's network namespace.", float64(out)))
		}
	}
	return fams
}

// openFDs counts the entries of /proc/self/fd (less the one reading it).
func openFDs() (int, error) {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	defer d.Close()
	n := 0
	for {
		names, err := d.Readdirnames(512)
		n += len(names)
		if err != nil || len(names) == 0 {
			break
		}
	}
	return n - 1, nil
}
