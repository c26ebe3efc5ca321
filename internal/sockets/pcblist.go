package sockets

// Parser for the macOS net.inet.tcp.pcblist_n and net.inet.udp.pcblist_n
// sysctls. Untagged so it is tested and fuzzed on every OS.
//
// The layout comes from XNU bsd/netinet/in_pcb.h and bsd/sys/socketvar.h
// (structs xinpgen, xinpcb_n, xsocket_n, declared under #pragma pack(4)) and
// from how netstat's inet.c walks the buffer:
//
//	struct xinpgen           xig_len u32, xig_count u32, xig_gen u64, xig_sogen u64
//	then per PCB a run of records, each {len u32, kind u32, ...}, each
//	starting at an 8-byte boundary (ROUNDUP64(len)); a PCB's run starts with
//	XSO_INPCB, followed by XSO_SOCKET, buffers, stats and (TCP) XSO_TCPCB;
//	a final struct xinpgen (len <= 24) ends the list.
//
// Offsets used (little-endian host integers; ports in network order):
//
//	xinpcb_n:  16 inp_fport, 18 inp_lport, 36 inp_flags, 44 inp_vflag,
//	           48 foreign address (16 bytes), 64 local address (16 bytes;
//	           an IPv4 address is the last 4, as in struct in_addr_4in6)
//	xsocket_n: 20 so_options, 64 so_uid, 68 so_last_pid, 72 so_e_pid
//
// Records are found by kind, not by fixed stride, so the parser is not tied
// to one macOS release's record sizes.

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/porthole/porthole/internal/ports"
)

const (
	xsoSocket = 0x001
	xsoInpcb  = 0x010

	xinpgenLen      = 24
	xinpcbMinLen    = 80
	xsocketMinLen   = 76
	inpIPv4         = 0x1
	inpIPv6         = 0x2
	in6pIPv6V6Only  = 0x8000 // IN6P_IPV6_V6ONLY in inp_flags
	soAcceptConn    = 0x0002
	maxPcblistItems = 1 << 22
)

// pcbEntry is one PCB of a pcblist_n buffer.
type pcbEntry struct {
	Family        int // 4 or 6
	Local, Remote netip.Addr
	LPort, FPort  uint16
	DualStack     bool
	Listening     bool // SO_ACCEPTCONN
	UID           uint32
	LastPID, EPID int32
}

// parsePcblist calls fn for every PCB that has both an inpcb and a socket
// record.
func parsePcblist(b []byte, fn func(*pcbEntry)) error {
	le := binary.LittleEndian // macOS runs on little-endian CPUs only
	if len(b) < xinpgenLen {
		return fmt.Errorf("pcblist: %d bytes, shorter than struct xinpgen", len(b))
	}
	hl := int(le.Uint32(b))
	if hl < xinpgenLen || hl > len(b) {
		return fmt.Errorf("pcblist: bad xinpgen length %d", hl)
	}
	off := roundup8(hl)
	var cur pcbEntry
	var haveInp, haveSo bool
	flush := func() {
		if haveInp && haveSo {
			e := cur
			fn(&e)
		}
		cur, haveInp, haveSo = pcbEntry{}, false, false
	}
	for n := 0; off+8 <= len(b); n++ {
		if n > maxPcblistItems {
			return fmt.Errorf("pcblist: too many records")
		}
		rl := int(le.Uint32(b[off:]))
		if rl <= xinpgenLen {
			break // the trailing xinpgen
		}
		if rl > len(b)-off {
			return fmt.Errorf("pcblist: record at %d claims %d bytes, %d left", off, rl, len(b)-off)
		}
		r := b[off : off+rl]
		switch le.Uint32(r[4:]) {
		case xsoInpcb:
			flush()
			if rl < xinpcbMinLen {
				return fmt.Errorf("pcblist: short xinpcb_n (%d bytes)", rl)
			}
			cur.FPort = binary.BigEndian.Uint16(r[16:])
			cur.LPort = binary.BigEndian.Uint16(r[18:])
			flags := le.Uint32(r[36:])
			vflag := r[44]
			if vflag&inpIPv6 != 0 {
				cur.Family = 6
				cur.Remote = netip.AddrFrom16([16]byte(r[48:64]))
				cur.Local = netip.AddrFrom16([16]byte(r[64:80]))
				cur.DualStack = vflag&inpIPv4 != 0 && flags&in6pIPv6V6Only == 0 && cur.Local.IsUnspecified()
			} else {
				cur.Family = 4
				cur.Remote = netip.AddrFrom4([4]byte(r[60:64]))
				cur.Local = netip.AddrFrom4([4]byte(r[76:80]))
			}
			haveInp = true
		case xsoSocket:
			if !haveInp {
				break
			}
			if rl < xsocketMinLen {
				return fmt.Errorf("pcblist: short xsocket_n (%d bytes)", rl)
			}
			cur.Listening = le.Uint32(r[20:])&soAcceptConn != 0
			cur.UID = le.Uint32(r[64:])
			cur.LastPID = int32(le.Uint32(r[68:]))
			cur.EPID = int32(le.Uint32(r[72:]))
			haveSo = true
		}
		off += roundup8(rl)
	}
	flush()
	return nil
}

func roundup8(n int) int { return (n + 7) &^ 7 }

// pcbListener converts a PCB into a Listener if it is a TCP listener or an
// unconnected UDP socket; the PIDs to look up are returned too.
func pcbListener(proto ports.Proto, e *pcbEntry, q Query) (Listener, []int, bool) {
	if e.LPort == 0 || !q.wantPort(int(e.LPort)) {
		return Listener{}, nil, false
	}
	if proto == ports.TCP && !e.Listening {
		return Listener{}, nil, false
	}
	if proto == ports.UDP && (e.FPort != 0 || !e.Remote.IsUnspecified()) {
		return Listener{}, nil, false
	}
	l := Listener{Proto: proto, Family: e.Family, Addr: e.Local, Port: int(e.LPort), UID: int(e.UID), HostNetNS: true, DualStack: e.DualStack}
	var pids []int
	if e.LastPID > 0 {
		pids = append(pids, int(e.LastPID))
	}
	if e.EPID > 0 && e.EPID != e.LastPID {
		pids = append(pids, int(e.EPID))
	}
	return l, pids, true
}
