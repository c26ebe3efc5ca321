package sockets

import (
	"context"
	"encoding/binary"
	"github.com/porthole/porthole/internal/ports"
	"net"
	"testing"

	"github.com/porthole/porthole/internal/testenv"
)

// stableFingerprint returns a fingerprint that two reads in a row agree on
// (other tests on the machine may open and close sockets meanwhile).
func stableFingerprint(t *testing.T, f *Fingerprinter) uint64 {
	t.Helper()
	for range 20 {
		a, err := f.Fingerprint()
		if err != nil {
			testenv.Missing(t, "sock_diag unavailable: %v", err)
		}
		b, _ := f.Fingerprint()
		if a == b {
			return a
		}
	}
	t.Fatal("the socket set never held still")
	return 0
}

func TestFingerprint(t *testing.T) {
	var f Fingerprinter
	defer f.Close()
	// A listener changes the fingerprint; client sockets do not.
	for attempt := 0; ; attempt++ {
		before := stableFingerprint(t, &f)
		srv, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		with, _ := f.Fingerprint()
		c, err := net.Dial("udp4", srv.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		withClient, _ := f.Fingerprint()
		ln, err := net.Listen("tcp6", "[::1]:0")
		if err != nil {
			t.Skip("no IPv6:", err)
		}
		withTCP6, _ := f.Fingerprint()
		ln.Close()
		c.Close()
		srv.Close()
		after, _ := f.Fingerprint()
		if with != before && withClient == with && withTCP6 != with && after == before {
			return
		}
		if attempt == 10 {
			t.Fatalf("before %x, with listener %x, with client %x, with tcp6 %x, after %x", before, with, withClient, withTCP6, after)
		}
	}
}

// listFingerprint hashes a listing the way Fingerprint hashes the kernel's
// replies.
func listFingerprint(ls []Listener) uint64 {
	var sum, n uint64
	for _, l := range ls {
		if !l.HostNetNS {
			continue
		}
		d := make([]byte, diagMsgLen)
		d[0], d[1] = afINET, tcpListen
		if l.Family == 6 {
			d[0] = afINET6
		}
		proto := uint8(ipprotoTCP)
		if l.Proto == ports.UDP {
			proto, d[1] = ipprotoUDP, tcpClose
		}
		binary.BigEndian.PutUint16(d[4:], uint16(l.Port))
		if l.Family == 4 {
			a := l.Addr.As4()
			copy(d[8:], a[:])
		} else {
			a := l.Addr.As16()
			copy(d[8:], a[:])
		}
		binary.NativeEndian.PutUint32(d[68:], uint32(l.Inode))
		h, ok := fingerprintSocket(d, proto)
		if ok {
			sum += h
			n++
		}
	}
	return sum ^ n*0x9e3779b97f4a7c15
}

// The fingerprint covers exactly what List returns for the host namespace.
func TestFingerprintMatchesList(t *testing.T) {
	var f Fingerprinter
	defer f.Close()
	for attempt := 0; attempt < 20; attempt++ {
		a, err := f.Fingerprint()
		if err != nil {
			testenv.Missing(t, "sock_diag unavailable: %v", err)
		}
		ls, err := List(context.Background(), Query{NoOwners: true})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := f.Fingerprint()
		if a == b && listFingerprint(ls) == a {
			t.Logf("%d listeners, one-walk TCP dump: %v", len(ls), !f.noV1)
			return
		}
	}
	t.Fatal("the fingerprint never matched the listing")
}

func TestFingerprintPerFamilyFallback(t *testing.T) {
	var one, two Fingerprinter
	two.noV1 = true
	defer one.Close()
	defer two.Close()
	for range 20 {
		a, err := one.Fingerprint()
		if err != nil {
			testenv.Missing(t, "sock_diag unavailable: %v", err)
		}
		b, _ := two.Fingerprint()
		c, _ := one.Fingerprint()
		if a == b && b == c {
			return
		}
	}
	t.Fatal("the one-walk and per-family dumps never agreed")
}

func BenchmarkFingerprint(b *testing.B) {
	var f Fingerprinter
	defer f.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Fingerprint(); err != nil {
			b.Skip(err)
		}
	}
}

func BenchmarkFingerprintPerFamily(b *testing.B) {
	f := Fingerprinter{fingerprinter{noV1: true}}
	defer f.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Fingerprint(); err != nil {
			b.Skip(err)
		}
	}
}

// requireTrigger loads a listen trigger or skips (fails under CI as root,
// where the kernel has the tracepoint).
func requireTrigger(t *testing.T) *listenTrigger {
	t.Helper()
	tr := &listenTrigger{}
	if _, ok := tr.count(); !ok {
		testenv.NeedRoot(t)
		testenv.Missing(t, "the listen trigger did not load as root (needs BPF and the sock:inet_sock_set_state tracepoint)")
	}
	t.Cleanup(tr.close)
	return tr
}

// The trigger counts a socket entering LISTEN and leaving it, for both
// families, and nothing for a UDP socket or a TCP client.
func TestListenTriggerCounts(t *testing.T) {
	tr := requireTrigger(t)
	before, _ := tr.count()
	for _, network := range []string{"tcp4", "tcp6"} {
		addr := "127.0.0.1:0"
		if network == "tcp6" {
			addr = "[::1]:0"
		}
		ln, err := net.Listen(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		up, _ := tr.count()
		if up <= before {
			t.Errorf("%s listen: count %d, was %d", network, up, before)
		}
		ln.Close()
		down, _ := tr.count()
		if down <= up {
			t.Errorf("%s close: count %d, was %d", network, down, up)
		}
		before = down
	}
}

// With the trigger loaded, the fingerprint reuses the TCP part while no
// listener changes, and still changes as soon as one opens or closes.
func TestFingerprintWithTrigger(t *testing.T) {
	requireTrigger(t)
	var f Fingerprinter
	defer f.Close()
	a := stableFingerprint(t, &f)
	if _, ok := f.trig.count(); !ok {
		t.Fatal("the fingerprinter did not load its trigger")
	}
	reused := false
	for range 50 {
		if _, err := f.Fingerprint(); err != nil {
			t.Fatal(err)
		}
		if f.tcpAge > 0 {
			reused = true
			break
		}
	}
	if !reused {
		t.Error("50 fingerprints in a row dumped TCP every time")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := f.Fingerprint(); b == a {
		t.Error("fingerprint unchanged after a listener opened")
	}
	ln.Close()
	if c, _ := f.Fingerprint(); c != a {
		t.Logf("fingerprint after close %x, before %x (other sockets changed meanwhile?)", c, a)
	}
}
