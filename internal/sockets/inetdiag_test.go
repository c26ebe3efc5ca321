package sockets

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"syscall"
	"testing"
)

// buildDiagMsg builds one SOCK_DIAG_BY_FAMILY reply message laid out as
// struct nlmsghdr + struct inet_diag_msg (include/uapi/linux/inet_diag.h),
// plus an INET_DIAG_SKV6ONLY attribute when v6only >= 0.
func buildDiagMsg(seq uint32, flags uint16, family, state uint8, src netip.AddrPort, uid, inode uint32, v6only int) []byte {
	ne := binary.NativeEndian
	body := make([]byte, diagMsgLen)
	body[0], body[1] = family, state
	binary.BigEndian.PutUint16(body[4:], src.Port())
	a := src.Addr().As16()
	if src.Addr().Is4() {
		a4 := src.Addr().As4()
		a = [16]byte{}
		copy(a[:], a4[:])
	}
	copy(body[8:24], a[:])
	ne.PutUint32(body[64:], uid)
	ne.PutUint32(body[68:], inode)
	if v6only >= 0 {
		attr := make([]byte, 8)
		ne.PutUint16(attr[0:], 5)
		ne.PutUint16(attr[2:], diagSkV6Only)
		attr[4] = byte(v6only)
		body = append(body, attr...)
	}
	return nlmsg(seq, sockDiagByFamily, flags, body)
}

func nlmsg(seq uint32, typ, flags uint16, body []byte) []byte {
	m := make([]byte, nlmsgHdrLen, nlmsgHdrLen+len(body))
	ne := binary.NativeEndian
	ne.PutUint32(m[0:], uint32(nlmsgHdrLen+len(body)))
	ne.PutUint16(m[4:], typ)
	ne.PutUint16(m[6:], flags)
	ne.PutUint32(m[8:], seq)
	m = append(m, body...)
	for len(m)%4 != 0 {
		m = append(m, 0)
	}
	return m
}

// withAttr appends a netlink attribute to the last (only) message of m and
// fixes its length.
func withAttr(m []byte, typ uint16, val []byte) []byte {
	ne := binary.NativeEndian
	m = m[:ne.Uint32(m)]
	m = append(m, 0, 0, 0, 0)
	ne.PutUint16(m[len(m)-4:], uint16(4+len(val)))
	ne.PutUint16(m[len(m)-2:], typ)
	m = append(m, val...)
	ne.PutUint32(m, uint32(len(m)))
	for len(m)%4 != 0 {
		m = append(m, 0)
	}
	return m
}

func u64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }

func TestParseDiagCgroupID(t *testing.T) {
	msg := buildDiagMsg(3, 0x2, afINET6, tcpListen, netip.MustParseAddrPort("[::]:443"), 0, 99, 1)
	for _, c := range []struct {
		name string
		b    []byte
		want uint64
	}{
		{"none", msg, 0},
		{"after v6only", withAttr(msg, diagCgroupID, u64(0x1234_5678_9abc)), 0x1234_5678_9abc},
		{"short, ignored", withAttr(msg, diagCgroupID, []byte{1, 2, 3, 4}), 0},
		{"nested flag dropped", withAttr(msg, diagCgroupID|0x8000, u64(7)), 7},
	} {
		var got []diagSocket
		if _, err := parseDiagMessages(c.b, 3, func(s *diagSocket) { got = append(got, *s) }); err != nil || len(got) != 1 {
			t.Fatalf("%s: %d sockets, %v", c.name, len(got), err)
		}
		if got[0].CgroupID != c.want || got[0].V6Only != 1 || got[0].Inode != 99 {
			t.Errorf("%s: %+v, want cgroup %d", c.name, got[0], c.want)
		}
	}
	// The id of one message does not leak into the next.
	two := append(withAttr(msg, diagCgroupID, u64(5)), msg...)
	var ids []uint64
	if _, err := parseDiagMessages(two, 3, func(s *diagSocket) { ids = append(ids, s.CgroupID) }); err != nil || len(ids) != 2 || ids[0] != 5 || ids[1] != 0 {
		t.Errorf("two messages: %v %v", ids, err)
	}
}

func TestDiagRequest(t *testing.T) {
	ne := binary.NativeEndian
	req := appendDiagRequest(nil, 7, afINET6, ipprotoTCP, 1<<tcpListen, 0, 65535)
	if len(req) != nlmsgHdrLen+diagReqLen || ne.Uint32(req) != uint32(len(req)) {
		t.Fatalf("len %d, header says %d", len(req), ne.Uint32(req))
	}
	if ne.Uint16(req[4:]) != sockDiagByFamily || ne.Uint16(req[6:]) != nlmFRequest|nlmFDump || ne.Uint32(req[8:]) != 7 {
		t.Errorf("header % x", req[:16])
	}
	if req[16] != afINET6 || req[17] != ipprotoTCP || ne.Uint32(req[20:]) != 1<<tcpListen {
		t.Errorf("body % x", req[16:24])
	}
	// Port 0 alone is filtered like any other port, not a wildcard (and
	// not set as idiag_sport, where 0 is the wildcard).
	if r := appendDiagRequest(nil, 1, afINET, ipprotoTCP, 1<<tcpListen, 0, 0); len(r) != nlmsgHdrLen+diagReqLen+4+16 || r[nlmsgHdrLen+8] != 0 ||
		runBytecode(t, r[nlmsgHdrLen+diagReqLen+4:], 80) || !runBytecode(t, r[nlmsgHdrLen+diagReqLen+4:], 0) {
		t.Errorf("0-0 request does not keep port 0 only")
	}
	// The full range needs no filter.
	if r := appendDiagRequest(nil, 1, afINET, ipprotoUDP, 1<<tcpClose, 0, 65535); len(r) != nlmsgHdrLen+diagReqLen {
		t.Errorf("0-65535 added a filter")
	}
	r := appendDiagRequest(nil, 1, afINET, ipprotoTCP, 1<<tcpListen, 8000, 8080)
	if len(r) != nlmsgHdrLen+diagReqLen+4+16 {
		t.Fatalf("ranged request len %d", len(r))
	}
	a := r[nlmsgHdrLen+diagReqLen:]
	if ne.Uint16(a) != 20 || ne.Uint16(a[2:]) != diagReqBytecode {
		t.Errorf("attr header % x", a[:4])
	}
	if r[nlmsgHdrLen+8] != 0 || r[nlmsgHdrLen+9] != 0 {
		t.Errorf("a range set idiag_sport % x", r[nlmsgHdrLen+8:nlmsgHdrLen+10])
	}
	// One port is also the socket id's source port, in network order.
	if one := appendDiagRequest(nil, 1, afINET, ipprotoTCP, 1<<tcpListen, 8080, 8080); binary.BigEndian.Uint16(one[nlmsgHdrLen+8:]) != 8080 ||
		!runBytecode(t, one[nlmsgHdrLen+diagReqLen+4:], 8080) || runBytecode(t, one[nlmsgHdrLen+diagReqLen+4:], 8081) {
		t.Errorf("one-port request: sport % x", one[nlmsgHdrLen+8:nlmsgHdrLen+10])
	}
	bc := a[4:]
	for _, port := range []uint16{0, 7999, 8000, 8042, 8080, 8081, 65535} {
		want := port >= 8000 && port <= 8080
		if got := runBytecode(t, bc, port); got != want {
			t.Errorf("bytecode(%d) = %v, want %v", port, got, want)
		}
	}
}

// runBytecode mirrors the kernel's inet_diag_bc_run for the S_GE/S_LE ops,
// including its audit rules (jumps are multiples of 4 and at most len+4).
func runBytecode(t *testing.T, bc []byte, port uint16) bool {
	ne := binary.NativeEndian
	l := len(bc)
	pc := 0
	for l > 0 {
		code, yes, no := bc[pc], int(bc[pc+1]), int(ne.Uint16(bc[pc+2:]))
		if yes%4 != 0 || no%4 != 0 || yes > l+4 || no > l+4 || yes < 8 || no < 8 {
			t.Fatalf("bad jump at %d: yes %d no %d len %d", pc, yes, no, l)
		}
		arg := ne.Uint16(bc[pc+6:])
		var ok bool
		switch code {
		case bcSGE:
			ok = port >= arg
		case bcSLE:
			ok = port <= arg
		default:
			t.Fatalf("op %d", code)
		}
		j := no
		if ok {
			j = yes
		}
		l -= j
		pc += j
	}
	return l == 0
}

func TestParseDiagMessages(t *testing.T) {
	var buf []byte
	buf = append(buf, buildDiagMsg(3, 0x2, afINET, tcpListen, netip.MustParseAddrPort("127.0.0.1:8080"), 1000, 4242, -1)...)
	buf = append(buf, buildDiagMsg(3, 0x2, afINET6, tcpListen, netip.MustParseAddrPort("[::]:443"), 0, 99, 0)...)
	buf = append(buf, buildDiagMsg(9, 0x2, afINET6, tcpListen, netip.MustParseAddrPort("[::]:1"), 0, 1, 1)...) // other seq
	buf = append(buf, nlmsg(3, nlmsgDone, 0x2, []byte{0, 0, 0, 0})...)
	var got []diagSocket
	done, err := parseDiagMessages(buf, 3, func(s *diagSocket) { got = append(got, *s) })
	if err != nil || !done {
		t.Fatalf("done %v err %v", done, err)
	}
	if len(got) != 2 {
		t.Fatalf("%d sockets", len(got))
	}
	if a := got[0]; a.LocalAddr() != netip.MustParseAddr("127.0.0.1") || a.SPort != 8080 || a.UID != 1000 || a.Inode != 4242 || a.V6Only != -1 || !a.Unconnected() {
		t.Errorf("first %+v", a)
	}
	if b := got[1]; b.LocalAddr() != netip.IPv6Unspecified() || b.SPort != 443 || b.V6Only != 0 {
		t.Errorf("second %+v", b)
	}
}

func TestParseDiagErrors(t *testing.T) {
	noop := func(*diagSocket) {}
	intr := buildDiagMsg(1, 0x2|nlmFDumpIntr, afINET, tcpListen, netip.MustParseAddrPort("127.0.0.1:1"), 0, 1, -1)
	if _, err := parseDiagMessages(intr, 1, noop); !errors.Is(err, errDumpInterrupted) {
		t.Errorf("DUMP_INTR: %v", err)
	}
	e := make([]byte, 4)
	binary.NativeEndian.PutUint32(e, uint32(0xffffffff-uint32(syscall.EPERM)+1)) // -EPERM
	if _, err := parseDiagMessages(nlmsg(1, nlmsgError, 0, e), 1, noop); !errors.Is(err, syscall.EPERM) {
		t.Errorf("NLMSG_ERROR: %v", err)
	}
	if _, err := parseDiagMessages(nlmsg(1, nlmsgDone, 0, e), 1, noop); !errors.Is(err, syscall.EPERM) {
		t.Errorf("NLMSG_DONE with error: %v", err)
	}
	for _, b := range [][]byte{
		{1, 2, 3},
		nlmsg(1, sockDiagByFamily, 0, make([]byte, 10)),
		func() []byte { m := nlmsg(1, nlmsgDone, 0, nil); binary.NativeEndian.PutUint32(m, 400); return m }(),
	} {
		if _, err := parseDiagMessages(b, 1, noop); err == nil {
			t.Errorf("no error for % x", b)
		}
	}
}

func FuzzParseDiagMessages(f *testing.F) {
	f.Add(buildDiagMsg(1, 2, afINET6, tcpListen, netip.MustParseAddrPort("[::1]:22"), 0, 5, 1))
	f.Add(nlmsg(1, nlmsgDone, 2, []byte{0, 0, 0, 0}))
	f.Add(append(buildDiagMsg(1, 2, afINET, tcpClose, netip.MustParseAddrPort("1.2.3.4:53"), 0, 5, -1), 5, 0, 11, 0))
	f.Add(withAttr(buildDiagMsg(1, 2, afINET, tcpListen, netip.MustParseAddrPort("127.0.0.1:80"), 0, 5, -1), diagCgroupID, u64(1)))
	f.Add(withAttr(buildDiagMsg(1, 2, afINET, tcpListen, netip.MustParseAddrPort("127.0.0.1:80"), 0, 5, -1), diagCgroupID, []byte{9}))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseDiagMessages(b, 1, func(s *diagSocket) {
			_ = s.LocalAddr()
			_ = s.Unconnected()
		})
	})
}

func FuzzDiagRequest(f *testing.F) {
	f.Add(uint16(0), uint16(0))
	f.Add(uint16(80), uint16(80))
	f.Add(uint16(1), uint16(65535))
	f.Fuzz(func(t *testing.T, lo, hi uint16) {
		if lo > hi {
			return
		}
		r := appendDiagRequest(nil, 1, afINET, ipprotoTCP, 1<<tcpListen, int(lo), int(hi))
		if binary.NativeEndian.Uint32(r) != uint32(len(r)) {
			t.Fatal("length mismatch")
		}
		if len(r) == nlmsgHdrLen+diagReqLen {
			return // whole range: no filter
		}
		bc := r[nlmsgHdrLen+diagReqLen+4:]
		for _, p := range []uint16{0, lo, hi, lo - 1, hi + 1, 65535} {
			if got, want := runBytecode(t, bc, p), p >= lo && p <= hi; got != want {
				t.Fatalf("[%d,%d] port %d: %v", lo, hi, p, got)
			}
		}
	})
}

func BenchmarkParseDiagMessages(b *testing.B) {
	var buf []byte
	for i := range 400 {
		buf = append(buf, buildDiagMsg(1, 2, afINET6, tcpListen, netip.AddrPortFrom(netip.IPv6Loopback(), uint16(i)), 0, uint32(i), 1)...)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	n := 0
	for b.Loop() {
		if _, err := parseDiagMessages(buf, 1, func(*diagSocket) { n++ }); err != nil {
			b.Fatal(err)
		}
	}
}
