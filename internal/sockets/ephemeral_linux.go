package sockets

import (
	"os"
)

// EphemeralRange returns the range the kernel picks local ports from
// (net.ipv4.ip_local_port_range; it applies to IPv6 too).
func EphemeralRange() (low, high int, err error) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, err
	}
	return parsePortRange(string(b))
}
