package intel

import (
	"cmp"
	_ "embed"
	"slices"
	"strings"
	"sync"

	"github.com/porthole/porthole/internal/ports"
)

// The embedded data files. They are strings, not an embed.FS, so that parsing
// slices them without a copy.
var (
	//go:embed data/threats-classic.txt
	threatsClassic string
	//go:embed data/threats-modern.txt
	threatsModern string
	//go:embed data/rmm-tunnels.txt
	rmmTunnels string
	//go:embed data/uses.txt
	uses string
	//go:embed data/services-more.txt
	servicesMore string
	//go:embed data/udp-common.txt
	udpCommon string
	//go:embed data/services-common.txt
	servicesCommon string
	//go:embed data/services-infra.txt
	servicesInfra string
	//go:embed data/ics-iot.txt
	icsIoT string
	//go:embed data/amplification.txt
	amplification string
	//go:embed data/trojans-more.txt
	trojansMore string
	//go:embed data/top-tcp-low.txt
	topTCPLow string
	//go:embed data/top-udp-more.txt
	topUDPMore string
	//go:embed data/top-tcp-mid.txt
	topTCPMid string
	//go:embed data/top-gaps.txt
	topGaps string
	//go:embed data/top-tcp-high.txt
	topTCPHigh string
	//go:embed data/top-last-udp.txt
	topLastUDP string
	//go:embed data/top-last-tcp.txt
	topLastTCP string
	//go:embed data/top-last-hard.txt
	topLastHard string
	//go:embed data/NOTICE-mthcht.txt
	noticeMthcht string
)

// Notice returns the third-party notice that must travel with the embedded
// data: the MIT licence of mthcht/awesome-lists, whose port list several
// entries restate. Show it on an about or credits page.
func Notice() string { return noticeMthcht }

// files lists the embedded files in load order, with the names used in
// error messages and Entry.File.
var files = [...]struct {
	name string
	text *string
}{
	{"data/threats-classic.txt", &threatsClassic},
	{"data/threats-modern.txt", &threatsModern},
	{"data/rmm-tunnels.txt", &rmmTunnels},
	{"data/uses.txt", &uses},
	{"data/services-more.txt", &servicesMore},
	{"data/udp-common.txt", &udpCommon},
	{"data/services-common.txt", &servicesCommon},
	{"data/services-infra.txt", &servicesInfra},
	{"data/ics-iot.txt", &icsIoT},
	{"data/amplification.txt", &amplification},
	{"data/trojans-more.txt", &trojansMore},
	{"data/top-tcp-low.txt", &topTCPLow},
	{"data/top-udp-more.txt", &topUDPMore},
	{"data/top-tcp-mid.txt", &topTCPMid},
	{"data/top-gaps.txt", &topGaps},
	{"data/top-tcp-high.txt", &topTCPHigh},
	{"data/top-last-udp.txt", &topLastUDP},
	{"data/top-last-tcp.txt", &topLastTCP},
	{"data/top-last-hard.txt", &topLastHard},
}

// DB is a parsed, validated set of entries. It is read-only and safe for
// concurrent use.
type DB struct {
	entries []Entry

	// The port index ForPort reads, built on its first call: the entries
	// whose references all span at most indexWidth numbers, by port, and
	// the few with a wider reference (scanned for every port).
	once   sync.Once
	narrow map[uint16][]int32
	wide   []int32
}

// indexWidth is the widest reference the port index lists port by port.
const indexWidth = 1024

// index builds the port index: a listing of 10,000 sockets in an
// operating system's port range asks ForPort 10,000 times, and a scan of
// every entry per port made that the cost of the whole listing.
func (db *DB) index() {
	db.narrow = map[uint16][]int32{}
	for i := range db.entries {
		e := &db.entries[i]
		wide := false
		for _, r := range e.Ports {
			if r.High-r.Low+1 > indexWidth {
				wide = true
			}
		}
		if wide {
			db.wide = append(db.wide, int32(i))
			continue
		}
		for _, r := range e.Ports {
			for p := r.Low; p <= r.High; p++ {
				l := db.narrow[uint16(p)]
				if len(l) == 0 || l[len(l)-1] != int32(i) {
					db.narrow[uint16(p)] = append(l, int32(i))
				}
			}
		}
	}
}

// New builds a DB from entries already parsed (and validated) by Parse.
func New(entries []Entry) *DB { return &DB{entries: entries} }

var (
	defaultOnce sync.Once
	defaultDB   *DB
	defaultErr  error
)

// Default returns the embedded data, parsed and validated once per process.
// An error means the shipped data files are broken; tests catch that.
func Default() (*DB, error) {
	defaultOnce.Do(func() {
		defaultDB, defaultErr = load(maxYear())
		defaultLoaded.Store(true)
	})
	return defaultDB, defaultErr
}

func load(maxYear int) (*DB, error) {
	n := 0
	for _, f := range files {
		n += strings.Count(*f.text, "\nid:") + 1
	}
	all := make([]Entry, 0, n)
	seen := make(map[string]pos, n)
	for _, f := range files {
		var err error
		if all, err = parse(all, f.name, *f.text, 1, maxYear, seen); err != nil {
			return nil, err
		}
	}
	return New(all), nil
}

// Entries returns every entry in file order. The slice is shared: do not
// modify it.
func (db *DB) Entries() []Entry { return db.entries }

// Match is an entry that covers a port, with the protocol it covers the port
// on (ports.ProtoNone: any protocol, or several).
type Match struct {
	Entry *Entry
	Proto ports.Proto
}

// ForPort returns every entry covering port: threats first, then uses that
// name an occupant before scan notes, then by confidence (high first), then the narrower port range first (an entry about
// 2556 alone before one about 2500-2600), then by id.
func (db *DB) ForPort(port int) []Match {
	if port < 0 || port > ports.Max {
		return nil
	}
	db.once.Do(db.index)
	var out []Match
	for _, list := range [2][]int32{db.narrow[uint16(port)], db.wide} {
		for _, i := range list {
			e := &db.entries[i]
			if proto, ok := e.Covers(port); ok {
				out = append(out, Match{Entry: e, Proto: proto})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Match) int {
		if a.Entry.IsThreat() != b.Entry.IsThreat() {
			if a.Entry.IsThreat() {
				return -1
			}
			return 1
		}
		if a.Entry.IsOccupant() != b.Entry.IsOccupant() {
			if a.Entry.IsOccupant() {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.Entry.Confidence.Rank(), a.Entry.Confidence.Rank()); c != 0 {
			return c
		}
		if c := cmp.Compare(width(a.Entry, port), width(b.Entry, port)); c != 0 {
			return c
		}
		return strings.Compare(a.Entry.ID, b.Entry.ID)
	})
	return out
}

// width is the size of the narrowest reference of e covering port.
func width(e *Entry, port int) int {
	w := ports.Max + 1
	for _, r := range e.Ports {
		if r.Contains(port) && r.High-r.Low+1 < w {
			w = r.High - r.Low + 1
		}
	}
	return w
}

// Ports returns the distinct port numbers, ascending, covered by at least one
// entry of category cat. Ranges count every port inside them.
func (db *DB) Ports(cat Category) []int {
	var set [ports.Max + 1]bool
	n := 0
	for i := range db.entries {
		e := &db.entries[i]
		if e.Category != cat {
			continue
		}
		for _, r := range e.Ports {
			for p := r.Low; p <= r.High; p++ {
				if !set[p] {
					set[p] = true
					n++
				}
			}
		}
	}
	out := make([]int, 0, n)
	for p, ok := range set {
		if ok {
			out = append(out, p)
		}
	}
	return out
}
