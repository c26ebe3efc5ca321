package sockets

// Parsers for the tables that Windows' GetExtendedTcpTable and
// GetExtendedUdpTable fill in. Untagged so they are tested and fuzzed on
// every OS. Layouts from the Windows SDK headers tcpmib.h and udpmib.h
// (all fields DWORD/UCHAR, 4-byte aligned, little-endian):
//
//	MIB_TCPTABLE_OWNER_PID   dwNumEntries, then MIB_TCPROW_OWNER_PID[24]:
//	    dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr, dwRemotePort, dwOwningPid
//	MIB_TCP6TABLE_OWNER_PID  dwNumEntries, then MIB_TCP6ROW_OWNER_PID[56]:
//	    ucLocalAddr[16], dwLocalScopeId, dwLocalPort, ucRemoteAddr[16],
//	    dwRemoteScopeId, dwRemotePort, dwState, dwOwningPid
//	MIB_UDPTABLE_OWNER_PID   dwNumEntries, then MIB_UDPROW_OWNER_PID[12]:
//	    dwLocalAddr, dwLocalPort, dwOwningPid
//	MIB_UDP6TABLE_OWNER_PID  dwNumEntries, then MIB_UDP6ROW_OWNER_PID[28]:
//	    ucLocalAddr[16], dwLocalScopeId, dwLocalPort, dwOwningPid
//
// Addresses are in network byte order as stored; a port is a DWORD whose
// first two bytes hold the port in network order.

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/porthole/porthole/internal/ports"
)

const (
	mibTCPStateListen = 2

	tcpRow4Len = 24
	tcpRow6Len = 56
	udpRow4Len = 12
	udpRow6Len = 28
)

// mibRow is one row of any of the four tables.
type mibRow struct {
	Local netip.Addr
	Port  uint16
	State uint32 // TCP only
	PID   uint32
}

// parseMIBTable parses a table of proto (tcp or udp) and family (4/6).
func parseMIBTable(b []byte, proto ports.Proto, family int, fn func(*mibRow)) error {
	le := binary.LittleEndian
	var size int
	switch {
	case proto == ports.TCP && family == 4:
		size = tcpRow4Len
	case proto == ports.TCP && family == 6:
		size = tcpRow6Len
	case proto == ports.UDP && family == 4:
		size = udpRow4Len
	case proto == ports.UDP && family == 6:
		size = udpRow6Len
	default:
		return fmt.Errorf("no table for %s%d", proto, family)
	}
	if len(b) < 4 {
		return fmt.Errorf("%s%d table: %d bytes", proto, family, len(b))
	}
	n := int(le.Uint32(b))
	rows := b[4:]
	if n < 0 || n > len(rows)/size {
		return fmt.Errorf("%s%d table: %d entries do not fit in %d bytes", proto, family, n, len(rows))
	}
	port := func(p []byte) uint16 { return binary.BigEndian.Uint16(p) }
	for i := range n {
		r := rows[i*size : (i+1)*size]
		var m mibRow
		switch size {
		case tcpRow4Len:
			m = mibRow{State: le.Uint32(r[0:]), Local: netip.AddrFrom4([4]byte(r[4:8])), Port: port(r[8:]), PID: le.Uint32(r[20:])}
		case tcpRow6Len:
			m = mibRow{Local: netip.AddrFrom16([16]byte(r[0:16])), Port: port(r[20:]), State: le.Uint32(r[48:]), PID: le.Uint32(r[52:])}
		case udpRow4Len:
			m = mibRow{Local: netip.AddrFrom4([4]byte(r[0:4])), Port: port(r[4:]), PID: le.Uint32(r[8:])}
		case udpRow6Len:
			m = mibRow{Local: netip.AddrFrom16([16]byte(r[0:16])), Port: port(r[20:]), PID: le.Uint32(r[24:])}
		}
		fn(&m)
	}
	return nil
}

// mibListener converts a table row into a Listener when it is a TCP
// listener (UDP tables hold only local endpoints) in the wanted ports.
func mibListener(t table, r *mibRow, q Query) (Listener, []int, bool) {
	if r.Port == 0 || !q.wantPort(int(r.Port)) || (t.proto == ports.TCP && r.State != mibTCPStateListen) {
		return Listener{}, nil, false
	}
	l := Listener{Proto: t.proto, Family: t.family, Addr: r.Local, Port: int(r.Port), UID: -1, HostNetNS: true}
	var pids []int
	if r.PID != 0 { // 0 is the System Idle Process: no owner
		pids = []int{int(r.PID)}
	}
	return l, pids, true
}
