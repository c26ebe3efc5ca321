package watch

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"reflect"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
)

// Live scans this machine's sockets. Finding owners means reading every
// process's descriptor table, which is what costs; so each scan first checks
// whether the set of sockets changed and looks owners up only when it did,
// or every FullEvery scans to catch a program that exec()s another while
// keeping its sockets. On Linux, for the host namespace, the check hashes
// the raw sock_diag replies; elsewhere (and with AllNetNS) it compares a
// listing without owners.
type Live struct {
	Registry  *registry.Index
	Intel     *intel.DB
	AllNetNS  bool
	FullEvery int // 0: 60

	// List is sockets.List; tests may replace it.
	List func(context.Context, sockets.Query) ([]sockets.Listener, error)

	sig   uint64
	rows  []dossier.Listener
	since int
	// fp fingerprints the host namespace's sockets without decoding them
	// (Linux); fpSig is its value at the last full scan, fpOK whether that
	// worked.
	fp    sockets.Fingerprinter
	fpSig uint64
	fpOK  bool
	// Full counts the scans that looked owners up (for tests and the
	// benchmark script).
	Full int
}

// Scan implements Scanner.
func (l *Live) Scan(ctx context.Context) ([]dossier.Listener, error) {
	list := l.List
	if list == nil {
		list = sockets.List
	}
	every := l.FullEvery
	if every <= 0 {
		every = 60
	}
	useFP := !l.AllNetNS && l.List == nil
	var fresh uint64 // a fingerprint just taken (fpFresh), reused below
	fpFresh := false
	if l.rows != nil && l.since < every {
		if useFP && l.fpOK {
			sig, err := l.fp.Fingerprint()
			if err == nil && sig == l.fpSig {
				l.since++
				return l.rows, nil
			}
			fresh, fpFresh = sig, err == nil
		} else {
			bare, err := list(ctx, sockets.Query{AllNetNS: l.AllNetNS, NoOwners: true})
			if err != nil {
				return nil, err
			}
			if signature(bare) == l.sig {
				l.since++
				return l.rows, nil
			}
		}
	}
	if useFP {
		// Taken before the listing: a change in between makes the next
		// fingerprint differ, and costs one more full scan, never an event.
		// The one that just told us something changed will do.
		if fpFresh {
			l.fpSig, l.fpOK = fresh, true
		} else {
			var err error
			l.fpSig, err = l.fp.Fingerprint()
			l.fpOK = err == nil
		}
	}
	ls, err := list(ctx, sockets.Query{AllNetNS: l.AllNetNS})
	if err != nil {
		return nil, err
	}
	l.Full++
	l.sig, l.since = signature(ls), 0
	rows := dossier.Annotate(ls, l.Registry, l.Intel)
	if l.rows != nil && reflect.DeepEqual(rows, l.rows) {
		// The periodic owner lookup found nothing new (the usual case):
		// hand back the previous answer, so the watcher sees an unchanged
		// scan and skips diffing and judging 10,000 identical rows.
		return l.rows, nil
	}
	l.rows = rows
	return l.rows, nil
}

// Close releases what the scans keep open between calls: the netlink
// socket and the listen trigger of the fingerprint. A later Scan opens them
// again.
func (l *Live) Close() error { return l.fp.Close() }

// signature hashes the sockets' identities and inodes (List sorts them).
// It writes fixed-size binary records: no formatting, no allocation.
func signature(ls []sockets.Listener) uint64 {
	h := fnv.New64a()
	var b [48]byte
	for i := range ls {
		l := &ls[i]
		b[0] = byte(l.Proto)
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
