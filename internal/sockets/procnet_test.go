package sockets

import (
	"encoding/binary"
	"fmt"
	"github.com/porthole/porthole/internal/process"
	"net/netip"
	"strings"
	"testing"
)

// hexAddr renders an address the way the kernel prints /proc/net rows: each
// 32-bit word as %08X of its host-order value.
func hexAddr(a netip.Addr) string {
	b := a.AsSlice()
	var sb strings.Builder
	for i := 0; i < len(b); i += 4 {
		fmt.Fprintf(&sb, "%08X", binary.NativeEndian.Uint32(b[i:]))
	}
	return sb.String()
}

func procNetRow(i int, local netip.AddrPort, remote netip.AddrPort, st int, uid int, inode uint64) string {
	return fmt.Sprintf("%4d: %s:%04X %s:%04X %02X 00000000:00000000 00:00000000 00000000 %5d        0 %d 1 0000000000000000 100 0 0 10 0\n",
		i, hexAddr(local.Addr()), local.Port(), hexAddr(remote.Addr()), remote.Port(), st, uid, inode)
}

const procNetHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

func TestParseProcNet(t *testing.T) {
	text := procNetHeader +
		procNetRow(0, netip.MustParseAddrPort("127.0.0.1:631"), netip.MustParseAddrPort("0.0.0.0:0"), 0x0A, 0, 12345) +
		procNetRow(1, netip.MustParseAddrPort("[::1]:8080"), netip.MustParseAddrPort("[::]:0"), 0x0A, 1000, 777) +
		procNetRow(2, netip.MustParseAddrPort("10.0.0.1:55000"), netip.MustParseAddrPort("10.0.0.2:443"), 0x01, 1000, 8)
	var got []procNetEntry
	if err := parseProcNet(strings.NewReader(text), func(e *procNetEntry) { got = append(got, *e) }); err != nil {
		t.Fatal(err)
	}
	want := []procNetEntry{
		{Local: netip.MustParseAddr("127.0.0.1"), LPort: 631, Remote: netip.MustParseAddr("0.0.0.0"), State: 0x0A, UID: 0, Inode: 12345},
		{Local: netip.MustParseAddr("::1"), LPort: 8080, Remote: netip.MustParseAddr("::"), State: 0x0A, UID: 1000, Inode: 777},
		{Local: netip.MustParseAddr("10.0.0.1"), LPort: 55000, Remote: netip.MustParseAddr("10.0.0.2"), RPort: 443, State: 1, UID: 1000, Inode: 8},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	// A real kernel capture (x86-64, little-endian) as a cross-check of the
	// byte order: 0100007F is 127.0.0.1 and 0277 is 631.
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		raw := procNetHeader + "   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23456 1 0000000000000000 100 0 0 10 0\n"
		var e procNetEntry
		if err := parseProcNet(strings.NewReader(raw), func(p *procNetEntry) { e = *p }); err != nil {
			t.Fatal(err)
		}
		if e.Local != netip.MustParseAddr("127.0.0.1") || e.LPort != 631 || e.Inode != 23456 {
			t.Errorf("raw row: %+v", e)
		}
	}
	for _, bad := range []string{
		procNetHeader + "0: zz:0 00000000:0000 0A 0 0 0 0 0 1\n",
		procNetHeader + "0: 0100007F:0277\n",
		procNetHeader + "0: 0100007F:0277 00000000:0000 0A 0 0 0 x 0 1\n",
	} {
		if err := parseProcNet(strings.NewReader(bad), func(*procNetEntry) {}); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}

func FuzzParseProcNet(f *testing.F) {
	f.Add(procNetHeader + procNetRow(0, netip.MustParseAddrPort("127.0.0.1:631"), netip.MustParseAddrPort("0.0.0.0:0"), 0x0A, 0, 1))
	f.Add(procNetHeader + procNetRow(0, netip.MustParseAddrPort("[::1]:631"), netip.MustParseAddrPort("[::]:0"), 0x07, 0, 1))
	f.Fuzz(func(t *testing.T, s string) {
		parseProcNet(strings.NewReader(s), func(e *procNetEntry) {
			if !e.Local.IsValid() {
				t.Fatal("invalid address accepted")
			}
		})
	})
}

func BenchmarkParseProcNet(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(procNetHeader)
	for i := range 50000 {
		sb.WriteString(procNetRow(i, netip.AddrPortFrom(netip.MustParseAddr("::1"), uint16(i)), netip.MustParseAddrPort("[::]:0"), 0x0A, 0, uint64(i)))
	}
	text := sb.String()
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		n := 0
		if err := parseProcNet(strings.NewReader(text), func(*procNetEntry) { n++ }); err != nil || n != 50000 {
			b.Fatal(err, n)
		}
	}
}

func FuzzParseSocketLink(f *testing.F) {
	f.Add([]byte("socket:[12345]"))
	f.Add([]byte("net:[4026531840]"))
	f.Add([]byte("pipe:[1]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if n, ok := parseSocketLink(b); ok && fmt.Sprintf("socket:[%d]", n) != string(b) && b[8] != '0' {
			t.Fatalf("%q parsed as %d", b, n)
		}
		parseNSLink(b)
		isPID(b)
	})
}

func TestParseLinks(t *testing.T) {
	if n, ok := parseSocketLink([]byte("socket:[12345]")); !ok || n != 12345 {
		t.Error(n, ok)
	}
	for _, s := range []string{"socket:[]", "socket:[1", "pipe:[1]", "socket:[x]", "socket:[99999999999999999999999]"} {
		if _, ok := parseSocketLink([]byte(s)); ok {
			t.Errorf("%q accepted", s)
		}
	}
	if n, ok := parseNSLink([]byte("net:[4026531840]")); !ok || n != 4026531840 {
		t.Error(n, ok)
	}
	if n := testing.AllocsPerRun(100, func() { parseSocketLink([]byte("socket:[12345]")) }); n != 0 {
		t.Errorf("parseSocketLink allocates %v times", n)
	}
}

func FuzzDirentName(f *testing.F) {
	rec := make([]byte, 24)
	binary.NativeEndian.PutUint16(rec[16:], 24)
	copy(rec[19:], "123\x00")
	f.Add(rec)
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			_, rl, ok := direntName(b)
			if !ok {
				return
			}
			b = b[rl:]
		}
	})
}

func TestParsePortRange(t *testing.T) {
	if lo, hi, err := parsePortRange("32768\t60999\n"); err != nil || lo != 32768 || hi != 60999 {
		t.Error(lo, hi, err)
	}
	for _, s := range []string{"", "1", "9 8", "0 10", "1 70000", "a b"} {
		if _, _, err := parsePortRange(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestOwnerWarning(t *testing.T) {
	code := OwnerUnknown.String
	if s := OwnerWarning([]Listener{{OwnerUnknown: OwnerSkipped}}, code); s != "" {
		t.Errorf("skipped lookups warned: %q", s)
	}
	s := OwnerWarning([]Listener{{OwnerUnknown: OwnerNotRoot}, {OwnerUnknown: OwnerNotRoot}, {OwnerUnknown: OwnerKernel}, {Owners: []process.Info{{PID: 1}}}}, code)
	if !strings.Contains(s, "3 of 4") || !strings.Contains(s, "not-root (2)") || strings.Count(s, "\n") != 0 {
		t.Errorf("%q", s)
	}
}

// The codes are stable strings that read back.
func TestOwnerUnknownCodes(t *testing.T) {
	seen := map[string]bool{}
	for c := OwnerKnown; c < ownerUnknownEnd; c++ {
		b, err := c.MarshalText()
		if err != nil || seen[string(b)] {
			t.Fatalf("%d: %q %v (duplicate %v)", c, b, err, seen[string(b)])
		}
		seen[string(b)] = true
		var back OwnerUnknown
		if err := back.UnmarshalText(b); err != nil || back != c {
			t.Errorf("%q read back as %d, %v", b, back, err)
		}
	}
	if OwnerNotFound.String() != "not-found" || OwnerKernel.String() != "kernel" {
		t.Error("codes changed: they are a JSON contract")
	}
	var c OwnerUnknown
	if err := c.UnmarshalText([]byte("kernel socket")); err == nil {
		t.Error("English text accepted as a code")
	}
}

func FuzzParsePortRange(f *testing.F) {
	f.Add("32768\t60999\n")
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := parsePortRange(s)
		if err == nil && (lo < 1 || hi > 65535 || lo > hi) {
			t.Fatalf("%q gave %d-%d", s, lo, hi)
		}
	})
}
