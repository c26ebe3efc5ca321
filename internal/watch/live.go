package watch

import (
	"context"
	"encoding/binary"
	"hash/fnv"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
)

// Live scans this machine's sockets. Finding owners means reading every
// process's descriptor table, which is what costs; so each scan first lists
// the sockets alone (a cheap kernel dump) and looks owners up only when the
// set of sockets changed, or every FullEvery scans to catch a program that
// exec()s another while keeping its sockets.
type Live struct {
	Registry  *registry.Index
	Intel     *intel.DB
	AllNetNS  bool
	FullEvery int // 0: 60

	// List is sockets.List; tests may replace it.
	List func(context.Context, sockets.Query) ([]sockets.Listener, error)

	sig   uint64
	rows  []dossier.ListenerRow
	since int
	// Full counts the scans that looked owners up (for tests and the
	// benchmark script).
	Full int
}

// Scan implements Scanner.
func (l *Live) Scan(ctx context.Context) ([]dossier.ListenerRow, error) {
	list := l.List
	if list == nil {
		list = sockets.List
	}
	every := l.FullEvery
	if every <= 0 {
		every = 60
	}
	if l.rows != nil && l.since < every {
		bare, err := list(ctx, sockets.Query{AllNetNS: l.AllNetNS, NoOwners: true})
		if err != nil {
			return nil, err
		}
		if signature(bare) == l.sig {
			l.since++
			return l.rows, nil
		}
	}
	ls, err := list(ctx, sockets.Query{AllNetNS: l.AllNetNS})
	if err != nil {
		return nil, err
	}
	l.Full++
	l.sig, l.since = signature(ls), 0
	l.rows = dossier.Annotate(ls, l.Registry, l.Intel)
	return l.rows, nil
}

// signature hashes the sockets' identities and inodes (List sorts them).
// It writes fixed-size binary records: no formatting, no allocation.
func signature(ls []sockets.Listener) uint64 {
	h := fnv.New64a()
	var b [48]byte
	for i := range ls {
		l := &ls[i]
		b[0] = l.Proto[0]
		a16 := l.Addr.As16()
		copy(b[1:17], a16[:])
		binary.LittleEndian.PutUint16(b[17:], uint16(l.Port))
		binary.LittleEndian.PutUint64(b[19:], l.NetNS)
		binary.LittleEndian.PutUint64(b[27:], l.Inode)
		b[35] = byte(l.Family)
		h.Write(b[:36])
	}
	return h.Sum64()
}
