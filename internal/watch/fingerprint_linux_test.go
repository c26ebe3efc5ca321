package watch

import (
	"net"
	"testing"
)

// stableFingerprint returns a fingerprint that two reads in a row agree on
// (other tests on the machine may open and close sockets meanwhile).
func stableFingerprint(t *testing.T, f *fingerprinter) uint64 {
	t.Helper()
	for range 20 {
		a, err := f.fingerprint()
		if err != nil {
			t.Skipf("sock_diag unavailable: %v", err)
		}
		b, _ := f.fingerprint()
		if a == b {
			return a
		}
	}
	t.Fatal("the socket set never held still")
	return 0
}

func TestFingerprint(t *testing.T) {
	var f fingerprinter
	// A listener changes the fingerprint; client sockets do not.
	for attempt := 0; ; attempt++ {
		before := stableFingerprint(t, &f)
		srv, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		with, _ := f.fingerprint()
		c, err := net.Dial("udp4", srv.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		withClient, _ := f.fingerprint()
		c.Close()
		srv.Close()
		after, _ := f.fingerprint()
		if with != before && withClient == with && after == before {
			return
		}
		if attempt == 10 {
			t.Fatalf("before %x, with listener %x, with client %x, after %x", before, with, withClient, after)
		}
	}
}

func BenchmarkFingerprint(b *testing.B) {
	var f fingerprinter
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.fingerprint(); err != nil {
			b.Skip(err)
		}
	}
}
