package sockets

import (
	"fmt"
	"strconv"
	"strings"
)

// parsePortRange parses "LOW HIGH" as in ip_local_port_range.
func parsePortRange(s string) (low, high int, err error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("ip_local_port_range: %q", s)
	}
	low, err1 := strconv.Atoi(f[0])
	high, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || low < 1 || high > 65535 || low > high {
		return 0, 0, fmt.Errorf("ip_local_port_range: %q", s)
	}
	return low, high, nil
}
