package sockets

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/porthole/porthole/internal/ports"
)

// randomListeners makes n rows with many ties on protocol and port, so
// the tie-breaks (address, namespace, inode) decide often.
func randomListeners(r *rand.Rand, n int) []Listener {
	ls := make([]Listener, n)
	for i := range ls {
		ls[i] = Listener{
			Proto:     []ports.Proto{ports.TCP, ports.UDP}[r.IntN(2)],
			Port:      r.IntN(8),
			Addr:      netip.AddrFrom4([4]byte{127, 0, 0, byte(r.IntN(3))}),
			HostNetNS: r.IntN(2) == 0,
			NetNS:     uint64(r.IntN(3)),
			Inode:     uint64(i),
			UID:       i,
		}
	}
	return ls
}

// sortListeners gives the order of compareListeners.
func TestSortListeners(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 10, 100, 1000} {
		ls := randomListeners(r, n)
		want := slices.Clone(ls)
		slices.SortStableFunc(want, compareListeners)
		sortListeners(ls)
		if !reflect.DeepEqual(ls, want) {
			t.Fatalf("n=%d: order differs", n)
		}
	}
}

func FuzzSortListeners(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7})
	f.Fuzz(func(t *testing.T, b []byte) {
		ls := make([]Listener, len(b))
		for i, c := range b {
			ls[i] = Listener{Proto: []ports.Proto{ports.TCP, ports.UDP}[c>>7], Port: int(c & 7), Addr: netip.AddrFrom4([4]byte{0, 0, 0, c >> 3 & 3}), Inode: uint64(i)}
		}
		want := slices.Clone(ls)
		slices.SortStableFunc(want, compareListeners)
		sortListeners(ls)
		if !reflect.DeepEqual(ls, want) {
			t.Fatal("order differs")
		}
	})
}

func BenchmarkSortListeners(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	ls := randomListeners(r, 10000)
	for i := range ls {
		ls[i].Port = r.IntN(65536)
	}
	work := make([]Listener, len(ls))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, ls)
		sortListeners(work)
	}
}
