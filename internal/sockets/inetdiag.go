package sockets

// Encoder and decoder for NETLINK_SOCK_DIAG (inet_diag) messages. The layout
// follows include/uapi/linux/netlink.h, sock_diag.h and inet_diag.h. Netlink
// headers and inet_diag fields are in host byte order except the ports and
// addresses of struct inet_diag_sockid, which are in network byte order.
// This file is untagged so it is tested and fuzzed on every OS.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

const (
	nlmsgHdrLen = 16 // struct nlmsghdr

	nlmsgError = 2
	nlmsgDone  = 3

	nlmFRequest  = 0x1
	nlmFDumpIntr = 0x10
	nlmFDump     = 0x300 // NLM_F_ROOT | NLM_F_MATCH

	sockDiagByFamily = 20
	// tcpDiagGetSock is the legacy TCPDIAG_GETSOCK request (struct
	// inet_diag_req). The kernel runs it with family AF_UNSPEC, so one
	// walk of the listening hash returns IPv4 and IPv6 listeners, where
	// SOCK_DIAG_BY_FAMILY needs one walk per family. Its replies carry
	// its message type.
	tcpDiagGetSock = 18
	diagReqV1Len   = 60

	afINET  = 2
	afINET6 = 10

	ipprotoTCP = 6
	ipprotoUDP = 17

	tcpEstablished = 1
	tcpClose       = 7 // an unconnected UDP socket
	tcpListen      = 10

	diagReqLen = 56 // struct inet_diag_req_v2
	diagMsgLen = 72 // struct inet_diag_msg

	diagReqBytecode = 1  // INET_DIAG_REQ_BYTECODE (request attribute)
	diagSkV6Only    = 11 // INET_DIAG_SKV6ONLY (reply attribute, u8)
	diagCgroupID    = 21 // INET_DIAG_CGROUP_ID (reply attribute, u64; Linux 5.7+)

	bcSGE = 2 // INET_DIAG_BC_S_GE
	bcSLE = 3 // INET_DIAG_BC_S_LE
)

// errDumpInterrupted reports NLM_F_DUMP_INTR: the socket tables changed during
// the dump, so the result may be inconsistent and must be thrown away.
var errDumpInterrupted = errors.New("sock_diag dump interrupted")

// diagSocket is the part of an inet_diag_msg we use.
type diagSocket struct {
	Family     uint8
	State      uint8
	SPort      uint16
	DPort      uint16
	Src, Dst   [16]byte
	UID, Inode uint32
	// V6Only is 1 or 0 from INET_DIAG_SKV6ONLY, -1 when the kernel did not
	// send it (IPv4 sockets, connected sockets, old kernels).
	V6Only int8
	// CgroupID is the id of the socket's cgroup v2 (the inode number of its
	// directory) from INET_DIAG_CGROUP_ID, 0 when the kernel did not send
	// it (before Linux 5.7, or built without cgroup socket data).
	CgroupID uint64
}

func (s *diagSocket) addr(b [16]byte) netip.Addr {
	if s.Family == afINET {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b)
}

// LocalAddr is the bound address.
func (s *diagSocket) LocalAddr() netip.Addr { return s.addr(s.Src) }

// Unconnected reports whether the socket has no remote peer.
func (s *diagSocket) Unconnected() bool {
	return s.DPort == 0 && s.addr(s.Dst).IsUnspecified()
}

// appendDiagRequest appends a SOCK_DIAG_BY_FAMILY dump request for one family
// and protocol, restricted to the sockets whose state bit is set in states.
// Unless low..high covers every port (0, 65535) it adds a bytecode program
// that keeps only local ports in [low, high], run by the kernel; 0, 0 keeps
// port 0 only. A single port other than 0 is also set as the source port.
func appendDiagRequest(b []byte, seq uint32, family, proto uint8, states uint32, low, high int) []byte {
	var bc []byte
	if !(low <= 0 && high >= 65535) {
		bc = portRangeBytecode(uint16(low), uint16(high))
	}
	total := nlmsgHdrLen + diagReqLen
	if bc != nil {
		total += 4 + len(bc)
	}
	start := len(b)
	b = append(b, make([]byte, total)...)
	m := b[start:]
	ne := binary.NativeEndian
	ne.PutUint32(m[0:], uint32(total))
	ne.PutUint16(m[4:], sockDiagByFamily)
	ne.PutUint16(m[6:], nlmFRequest|nlmFDump)
	ne.PutUint32(m[8:], seq)
	ne.PutUint32(m[12:], 0) // port id: the kernel fills it in
	r := m[nlmsgHdrLen:]
	r[0] = family
	r[1] = proto
	r[2] = 0 // idiag_ext: no extensions needed; SKV6ONLY and CGROUP_ID come unasked
	ne.PutUint32(r[4:], states)
	if low == high && low > 0 {
		// One port: also in idiag_sport (network order), which the
		// kernel compares before running the bytecode, a little cheaper
		// per socket (zero is the wildcard, so port 0 keeps the bytecode
		// alone).
		binary.BigEndian.PutUint16(r[8:], uint16(low))
	}
	// The rest of inet_diag_sockid stays zero (wildcard); cookie {INET_DIAG_NOCOOKIE} is
	// not needed for dumps.
	if bc != nil {
		a := r[diagReqLen:]
		ne.PutUint16(a[0:], uint16(4+len(bc)))
		ne.PutUint16(a[2:], diagReqBytecode)
		copy(a[4:], bc)
	}
	return b
}

// portRangeBytecode builds "sport >= low && sport <= high" for the kernel's
// inet_diag_bc_run: each op is {code u8, yes u8, no u16} followed by an op
// whose "no" field carries the port. A jump of len+4 past the end rejects.
func portRangeBytecode(low, high uint16) []byte {
	b := make([]byte, 16)
	ne := binary.NativeEndian
	// op 0: S_GE low; yes -> op at 8, no -> reject (16+4).
	b[0], b[1] = bcSGE, 8
	ne.PutUint16(b[2:], 16+4)
	ne.PutUint16(b[6:], low)
	// op 8: S_LE high; yes -> end (accept), no -> reject (8+4).
	b[8], b[9] = bcSLE, 8
	ne.PutUint16(b[10:], 8+4)
	ne.PutUint16(b[14:], high)
	return b
}

func nlmsgAlign(n int) int { return (n + 3) &^ 3 }

// parseDiagMessages decodes the netlink messages in one receive buffer. It
// calls fn for each inet_diag_msg and returns done=true once NLMSG_DONE is
// seen. Messages with another sequence number are skipped. An NLMSG_ERROR
// becomes a syscall.Errno; NLM_F_DUMP_INTR becomes errDumpInterrupted.
func parseDiagMessages(b []byte, seq uint32, fn func(*diagSocket)) (done bool, err error) {
	ne := binary.NativeEndian
	var s diagSocket // reused: fn must not keep the pointer
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return false, fmt.Errorf("short netlink header: %d bytes", len(b))
		}
		l := int(ne.Uint32(b[0:]))
		typ := ne.Uint16(b[4:])
		flags := ne.Uint16(b[6:])
		mseq := ne.Uint32(b[8:])
		if l < nlmsgHdrLen || l > len(b) {
			return false, fmt.Errorf("bad netlink message length %d (have %d)", l, len(b))
		}
		payload := b[nlmsgHdrLen:l]
		next := nlmsgAlign(l)
		if next > len(b) {
			next = len(b)
		}
		b = b[next:]
		if mseq != seq {
			continue
		}
		if flags&nlmFDumpIntr != 0 {
			return false, errDumpInterrupted
		}
		switch typ {
		case nlmsgDone:
			// Since Linux 4.x the payload is an int: a negative errno if the
			// dump itself failed.
			if len(payload) >= 4 {
				if e := int32(ne.Uint32(payload)); e < 0 {
					return true, syscall.Errno(-e)
				}
			}
			return true, nil
		case nlmsgError:
			if len(payload) < 4 {
				return false, errors.New("short netlink error message")
			}
			e := int32(ne.Uint32(payload))
			if e == 0 {
				continue // an ACK
			}
			if e < 0 {
				e = -e
			}
			return false, syscall.Errno(e)
		case sockDiagByFamily, tcpDiagGetSock:
			if err := decodeDiagMsg(payload, &s); err != nil {
				return false, err
			}
			fn(&s)
		}
	}
	return false, nil
}

// decodeDiagMsg decodes one struct inet_diag_msg and its attributes.
func decodeDiagMsg(p []byte, s *diagSocket) error {
	if len(p) < diagMsgLen {
		return fmt.Errorf("short inet_diag_msg: %d bytes", len(p))
	}
	ne := binary.NativeEndian
	s.Family = p[0]
	s.State = p[1]
	if s.Family != afINET && s.Family != afINET6 {
		return fmt.Errorf("inet_diag_msg: unexpected family %d", s.Family)
	}
	id := p[4:52] // struct inet_diag_sockid
	s.SPort = binary.BigEndian.Uint16(id[0:])
	s.DPort = binary.BigEndian.Uint16(id[2:])
	copy(s.Src[:], id[4:20])
	copy(s.Dst[:], id[20:36])
	// p[52:56] expires, [56:60] rqueue, [60:64] wqueue
	s.UID = ne.Uint32(p[64:])
	s.Inode = ne.Uint32(p[68:])
	s.V6Only = -1
	s.CgroupID = 0
	attrs := p[diagMsgLen:]
	for len(attrs) >= 4 {
		al := int(ne.Uint16(attrs[0:]))
		at := ne.Uint16(attrs[2:]) & 0x3fff // drop NLA_F_NESTED / NET_BYTEORDER
		if al < 4 || al > len(attrs) {
			return fmt.Errorf("inet_diag_msg: bad attribute length %d", al)
		}
		switch {
		case at == diagSkV6Only && al >= 5:
			s.V6Only = 0
			if attrs[4] != 0 {
				s.V6Only = 1
			}
		case at == diagCgroupID && al >= 12:
			s.CgroupID = ne.Uint64(attrs[4:])
		}
		n := nlmsgAlign(al)
		if n > len(attrs) {
			break
		}
		attrs = attrs[n:]
	}
	return nil
}
