package sockets

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"
)

// list reads the PCB lists the kernel exports to netstat. They need no
// privileges and carry the socket's last PID, so no process walk is needed.
func list(ctx context.Context, q Query) ([]Listener, error) {
	var ls []Listener
	var pids [][]int
	for _, t := range tables(q) {
		if t.family == 6 {
			continue // one pcblist per protocol holds both families
		}
		proto := t.proto
		name := "net.inet." + proto.String() + ".pcblist_n"
		b, err := unix.SysctlRaw(name)
		if err != nil {
			return nil, fmt.Errorf("sysctl %s: %w", name, err)
		}
		err = parsePcblist(b, func(e *pcbEntry) {
			if l, p, ok := pcbListener(proto, e, q); ok {
				ls = append(ls, l)
				pids = append(pids, p)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("sysctl %s: %w", name, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	attachPIDs(ls, pids, q.NoOwners)
	return ls, nil
}

// EphemeralRange returns net.inet.ip.portrange.first/last (IANA's
// 49152–65535 by default).
func EphemeralRange() (low, high int, err error) {
	lo, err1 := unix.SysctlUint32("net.inet.ip.portrange.first")
	hi, err2 := unix.SysctlUint32("net.inet.ip.portrange.last")
	if err1 != nil || err2 != nil || lo == 0 || hi > 65535 || lo > hi {
		return 49152, 65535, nil
	}
	return int(lo), int(hi), nil
}
