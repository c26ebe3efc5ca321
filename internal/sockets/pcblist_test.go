package sockets

import (
	"encoding/binary"
	"github.com/porthole/porthole/internal/ports"
	"net/netip"
	"os"
	"runtime"
	"testing"
)

// Fixture builders for pcblist_n, following the XNU layout documented in
// pcblist.go (struct xinpgen, xinpcb_n, xsocket_n under #pragma pack(4)).
// Record sizes here are only at least the minimums the parser reads; real
// records are larger, and the parser steps by each record's own length.

type pcbFixture struct {
	vflag         byte
	flags         uint32
	local         netip.Addr
	lport         uint16
	remote        netip.Addr
	fport         uint16
	options       uint32
	uid           uint32
	lastPID, ePID int32
}

func xinpgen() []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint32(b, 24)
	return b
}

func putAddr(dst []byte, a netip.Addr) {
	if a.Is4() {
		a4 := a.As4()
		copy(dst[12:16], a4[:]) // struct in_addr_4in6: 12 pad bytes, then the address
		return
	}
	a16 := a.As16()
	copy(dst, a16[:])
}

func (f pcbFixture) records(withTCPCB bool) []byte {
	le := binary.LittleEndian
	inp := make([]byte, 104) // real xinpcb_n is larger; the parser reads 80
	le.PutUint32(inp[0:], uint32(len(inp)))
	le.PutUint32(inp[4:], xsoInpcb)
	binary.BigEndian.PutUint16(inp[16:], f.fport)
	binary.BigEndian.PutUint16(inp[18:], f.lport)
	le.PutUint32(inp[36:], f.flags)
	inp[44] = f.vflag
	putAddr(inp[48:64], f.remote)
	putAddr(inp[64:80], f.local)

	so := make([]byte, 100) // xsocket_n
	le.PutUint32(so[0:], uint32(len(so)))
	le.PutUint32(so[4:], xsoSocket)
	le.PutUint32(so[20:], f.options)
	le.PutUint32(so[64:], f.uid)
	le.PutUint32(so[68:], uint32(f.lastPID))
	le.PutUint32(so[72:], uint32(f.ePID))

	other := func(kind uint32, n int) []byte { // rcvbuf, sndbuf, stats, tcpcb
		b := make([]byte, n)
		le.PutUint32(b[0:], uint32(n))
		le.PutUint32(b[4:], kind)
		return b
	}
	var out []byte
	add := func(r []byte) { // each record starts on an 8-byte boundary (ROUNDUP64)
		out = append(out, r...)
		for len(out)%8 != 0 {
			out = append(out, 0)
		}
	}
	add(inp)
	add(so) // 100 bytes: exercises the padding
	add(other(0x2, 36))
	add(other(0x4, 40))
	add(other(0x8, 432))
	if withTCPCB {
		add(other(0x20, 208))
	}
	return out
}

func pcblistFixture(tcp bool, fs ...pcbFixture) []byte {
	b := xinpgen()
	for _, f := range fs {
		b = append(b, f.records(tcp)...)
	}
	return append(b, xinpgen()...)
}

func TestParsePcblist(t *testing.T) {
	any4, any6 := netip.IPv4Unspecified(), netip.IPv6Unspecified()
	b := pcblistFixture(true,
		pcbFixture{vflag: inpIPv4, local: netip.MustParseAddr("127.0.0.1"), lport: 8080, remote: any4, options: soAcceptConn, uid: 501, lastPID: 123},
		pcbFixture{vflag: inpIPv4 | inpIPv6, local: any6, lport: 443, remote: any6, options: soAcceptConn, uid: 0, lastPID: 77, ePID: 78},
		pcbFixture{vflag: inpIPv6, flags: in6pIPv6V6Only, local: any6, lport: 53, remote: any6, options: soAcceptConn, lastPID: 5},
		pcbFixture{vflag: inpIPv4, local: netip.MustParseAddr("10.0.0.2"), lport: 50000, remote: netip.MustParseAddr("1.1.1.1"), fport: 443, lastPID: 9},
	)
	var got []Listener
	var pids [][]int
	q, _ := Query{}.normalize()
	if err := parsePcblist(b, func(e *pcbEntry) {
		if l, p, ok := pcbListener(ports.TCP, e, q); ok {
			got, pids = append(got, l), append(pids, p)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d listeners: %+v", len(got), got)
	}
	if l := got[0]; l.Family != 4 || l.Addr != netip.MustParseAddr("127.0.0.1") || l.Port != 8080 || l.UID != 501 || pids[0][0] != 123 {
		t.Errorf("v4: %+v %v", l, pids[0])
	}
	if l := got[1]; l.Family != 6 || !l.DualStack || l.Port != 443 || len(pids[1]) != 2 {
		t.Errorf("tcp46: %+v %v", l, pids[1])
	}
	if l := got[2]; l.Family != 6 || l.DualStack || l.Port != 53 {
		t.Errorf("v6only: %+v", l)
	}

	// UDP: unconnected kept, connected dropped.
	u := pcblistFixture(false,
		pcbFixture{vflag: inpIPv4, local: any4, lport: 5353, remote: any4, lastPID: 1},
		pcbFixture{vflag: inpIPv4, local: netip.MustParseAddr("127.0.0.1"), lport: 6000, remote: netip.MustParseAddr("127.0.0.1"), fport: 53, lastPID: 2},
	)
	n := 0
	if err := parsePcblist(u, func(e *pcbEntry) {
		if l, _, ok := pcbListener(ports.UDP, e, q); ok {
			n++
			if l.Port != 5353 {
				t.Errorf("udp: %+v", l)
			}
		}
	}); err != nil || n != 1 {
		t.Fatalf("udp: n=%d err=%v", n, err)
	}

	for _, bad := range [][]byte{nil, make([]byte, 10), func() []byte { c := append([]byte{}, b...); binary.LittleEndian.PutUint32(c[24:], 9999); return c }()} {
		if err := parsePcblist(bad, func(*pcbEntry) {}); err == nil {
			t.Errorf("no error for %d bytes", len(bad))
		}
	}
}

func FuzzParsePcblist(f *testing.F) {
	f.Add(pcblistFixture(true, pcbFixture{vflag: inpIPv4, local: netip.MustParseAddr("127.0.0.1"), remote: netip.IPv4Unspecified(), lport: 1, options: soAcceptConn}))
	f.Add(pcblistFixture(false, pcbFixture{vflag: inpIPv6, local: netip.IPv6Unspecified(), remote: netip.IPv6Unspecified(), lport: 1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, _ := Query{}.normalize()
		parsePcblist(b, func(e *pcbEntry) { pcbListener(ports.TCP, e, q); pcbListener(ports.UDP, e, q) })
	})
}

// MIB table fixtures per tcpmib.h/udpmib.h (see iphlpapi.go).
func mibTable(rowLen int, rows ...[]byte) []byte {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, uint32(len(rows)))
	for _, r := range rows {
		if len(r) != rowLen {
			panic("row length")
		}
		b = append(b, r...)
	}
	return b
}

func tcp4Row(state uint32, local netip.AddrPort, pid uint32) []byte {
	r := make([]byte, tcpRow4Len)
	le := binary.LittleEndian
	le.PutUint32(r[0:], state)
	a := local.Addr().As4()
	copy(r[4:8], a[:])
	binary.BigEndian.PutUint16(r[8:], local.Port())
	le.PutUint32(r[20:], pid)
	return r
}

func tcp6Row(state uint32, local netip.AddrPort, pid uint32) []byte {
	r := make([]byte, tcpRow6Len)
	le := binary.LittleEndian
	a := local.Addr().As16()
	copy(r[0:16], a[:])
	binary.BigEndian.PutUint16(r[20:], local.Port())
	le.PutUint32(r[48:], state)
	le.PutUint32(r[52:], pid)
	return r
}

func udp4Row(local netip.AddrPort, pid uint32) []byte {
	r := make([]byte, udpRow4Len)
	a := local.Addr().As4()
	copy(r[0:4], a[:])
	binary.BigEndian.PutUint16(r[4:], local.Port())
	binary.LittleEndian.PutUint32(r[8:], pid)
	return r
}

func udp6Row(local netip.AddrPort, pid uint32) []byte {
	r := make([]byte, udpRow6Len)
	a := local.Addr().As16()
	copy(r[0:16], a[:])
	binary.BigEndian.PutUint16(r[20:], local.Port())
	binary.LittleEndian.PutUint32(r[24:], pid)
	return r
}

func TestParseMIBTables(t *testing.T) {
	collect := func(b []byte, proto ports.Proto, fam int) []mibRow {
		var rows []mibRow
		if err := parseMIBTable(b, proto, fam, func(r *mibRow) { rows = append(rows, *r) }); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	r := collect(mibTable(tcpRow4Len, tcp4Row(2, netip.MustParseAddrPort("127.0.0.1:135"), 900), tcp4Row(5, netip.MustParseAddrPort("10.0.0.1:50000"), 4)), ports.TCP, 4)
	if len(r) != 2 || r[0] != (mibRow{Local: netip.MustParseAddr("127.0.0.1"), Port: 135, State: 2, PID: 900}) || r[1].State != 5 {
		t.Errorf("tcp4 %+v", r)
	}
	r = collect(mibTable(tcpRow6Len, tcp6Row(2, netip.MustParseAddrPort("[::]:445"), 4)), ports.TCP, 6)
	if len(r) != 1 || r[0] != (mibRow{Local: netip.IPv6Unspecified(), Port: 445, State: 2, PID: 4}) {
		t.Errorf("tcp6 %+v", r)
	}
	r = collect(mibTable(udpRow4Len, udp4Row(netip.MustParseAddrPort("0.0.0.0:5353"), 1234)), ports.UDP, 4)
	if len(r) != 1 || r[0] != (mibRow{Local: netip.IPv4Unspecified(), Port: 5353, PID: 1234}) {
		t.Errorf("udp4 %+v", r)
	}
	r = collect(mibTable(udpRow6Len, udp6Row(netip.MustParseAddrPort("[::1]:1900"), 77)), ports.UDP, 6)
	if len(r) != 1 || r[0] != (mibRow{Local: netip.IPv6Loopback(), Port: 1900, PID: 77}) {
		t.Errorf("udp6 %+v", r)
	}
	bad := mibTable(udpRow4Len, udp4Row(netip.MustParseAddrPort("0.0.0.0:1"), 1))
	binary.LittleEndian.PutUint32(bad, 2) // claims two rows, holds one
	if err := parseMIBTable(bad, ports.UDP, 4, func(*mibRow) {}); err == nil {
		t.Error("overlong count accepted")
	}
}

func FuzzParseMIBTable(f *testing.F) {
	f.Add(mibTable(tcpRow4Len, tcp4Row(2, netip.MustParseAddrPort("127.0.0.1:135"), 900)), uint8(0))
	f.Add(mibTable(udpRow6Len, udp6Row(netip.MustParseAddrPort("[::1]:1900"), 77)), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		proto, fam := ports.TCP, 4
		if which&1 != 0 {
			fam = 6
		}
		if which&2 != 0 {
			proto = ports.UDP
		}
		parseMIBTable(b, proto, fam, func(r *mibRow) {
			if !r.Local.IsValid() {
				t.Fatal("invalid address")
			}
		})
	})
}

func TestMIBListenerAndAttach(t *testing.T) {
	q, _ := Query{Ports: Ports(100, 200)}.normalize()
	rows := []mibRow{
		{Local: netip.IPv4Unspecified(), Port: 135, State: mibTCPStateListen, PID: uint32(os.Getpid())},
		{Local: netip.IPv4Unspecified(), Port: 136, State: 5, PID: 1},
		{Local: netip.IPv4Unspecified(), Port: 80, State: mibTCPStateListen, PID: 1},
		{Local: netip.IPv4Unspecified(), Port: 137, State: mibTCPStateListen, PID: 0},
	}
	var ls []Listener
	var pids [][]int
	for i := range rows {
		if l, p, ok := mibListener(table{ports.TCP, 4}, &rows[i], q); ok {
			ls, pids = append(ls, l), append(pids, p)
		}
	}
	if len(ls) != 2 || ls[0].Port != 135 || ls[1].Port != 137 || len(pids[1]) != 0 {
		t.Fatalf("%+v %v", ls, pids)
	}
	attachPIDs(ls, pids, false)
	if len(ls[0].Owners) != 1 || ls[0].Owners[0].PID != os.Getpid() || ls[1].OwnerUnknown != OwnerNoPID {
		t.Errorf("%+v", ls)
	}
	if runtime.GOOS == "linux" && ls[0].Owners[0].Name == "" {
		t.Errorf("own process not described: %+v", ls[0].Owners[0])
	}
}
