package sockets

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/porthole/porthole/internal/ports"
	"golang.org/x/sys/windows"
)

var (
	iphlpapi                = windows.NewLazySystemDLL("iphlpapi.dll")
	procGetExtendedTcpTable = iphlpapi.NewProc("GetExtendedTcpTable")
	procGetExtendedUdpTable = iphlpapi.NewProc("GetExtendedUdpTable")
)

const (
	tcpTableOwnerPIDListener = 3 // TCP_TABLE_OWNER_PID_LISTENER
	udpTableOwnerPID         = 1 // UDP_TABLE_OWNER_PID
)

// list reads the owner-PID socket tables of iphlpapi; they need no admin
// rights and carry the owning PID.
func list(ctx context.Context, q Query) ([]Listener, error) {
	var ls []Listener
	var pids [][]int
	for _, t := range tables(q) {
		b, err := extendedTable(t)
		if err != nil {
			return nil, err
		}
		err = parseMIBTable(b, t.proto, t.family, func(r *mibRow) {
			if l, p, ok := mibListener(t, r, q); ok {
				ls = append(ls, l)
				pids = append(pids, p)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	attachPIDs(ls, pids, q.NoOwners)
	return ls, nil
}

// extendedTable calls GetExtendedTcpTable/GetExtendedUdpTable, growing the
// buffer while the table grows under us (ERROR_INSUFFICIENT_BUFFER).
func extendedTable(t table) ([]byte, error) {
	af := uintptr(windows.AF_INET)
	if t.family == 6 {
		af = windows.AF_INET6
	}
	proc, class := procGetExtendedTcpTable, uintptr(tcpTableOwnerPIDListener)
	if t.proto == ports.UDP {
		proc, class = procGetExtendedUdpTable, udpTableOwnerPID
	}
	size := uint32(16 << 10)
	for range 8 {
		buf := make([]byte, size)
		r, _, _ := proc.Call(uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0, af, class, 0)
		switch windows.Errno(r) {
		case 0:
			return buf[:min(int(size), len(buf))], nil
		case windows.ERROR_INSUFFICIENT_BUFFER:
			size += 4 << 10
			continue
		default:
			return nil, fmt.Errorf("%s: %w", proc.Name, windows.Errno(r))
		}
	}
	return nil, fmt.Errorf("%s: table keeps growing", proc.Name)
}

// EphemeralRange returns the IANA dynamic range, Windows' default since
// Vista (netsh int ipv4 show dynamicport tcp can change it; not read here).
func EphemeralRange() (low, high int, err error) { return 49152, 65535, nil }
