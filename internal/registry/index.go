package registry

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/porthole/porthole/internal/ports"
)

// The compiled form of the registry. Parsing 1.1 MB of CSV costs more than a
// whole `porthole info` may take, so the CSV is compiled once (at go generate
// time for the embedded copy, at `porthole update` time for a refreshed one)
// into a blob that is read in place: a lookup decodes only the rows it
// returns. Layout, little-endian:
//
//	magic    "PHREG1\n"
//	u32      row count N
//	u32 × 5  offsets of: port index, postings, name index, row offsets,
//	         statistics
//	str      version (uvarint length + bytes), then source (same)
//	records  per row: u8 proto, u8 flags, u16 low, u16 high, then 11
//	         strings (uvarint length + bytes) in Header order minus the port
//	         and protocol columns
//	rowoff   N × u32: offset of each record
//	portidx  65537 × u32: postings[portidx[p]:portidx[p+1]] are the rows
//	         covering port p, in registry order
//	postings u32 row numbers
//	names    u32 count, then u32 row numbers of named rows sorted by
//	         lower-case name, then registry order
//	stats    the figures of Stats as u32s (see appendStats), computed at
//	         compile time because walking every port costs milliseconds
const magic = "PHREG2\n"

const (
	flagNoPort = 1 << 4
	flagEmpty  = 1 << 5
	flagRange  = 1 << 6 // the CSV wrote the port as a range, even "a-a"
	kindMask   = 0x0f
)

// Compile builds the blob for rows. version is the registry's data date
// and source says where the CSV came from.
func Compile(rows []Row, version, source string) ([]byte, error) {
	if len(rows) == 0 {
		return nil, errors.New("registry has no rows")
	}
	b := []byte(magic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(rows)))
	hdr := len(b)
	b = append(b, make([]byte, 20)...)
	b = appendString(b, version)
	b = appendString(b, source)

	rowOff := make([]uint32, len(rows))
	for i := range rows {
		r := &rows[i]
		rowOff[i] = uint32(len(b))
		flags := byte(r.Kind())
		low, high := r.Low, r.High
		if !r.HasPort() {
			flags |= flagNoPort
			low, high = 0, 0
		}
		if r.Empty() {
			flags |= flagEmpty
		}
		if r.Range {
			flags |= flagRange
		}
		b = append(b, byte(r.Proto), flags)
		b = binary.LittleEndian.AppendUint16(b, uint16(low))
		b = binary.LittleEndian.AppendUint16(b, uint16(high))
		for _, s := range [...]string{r.Name, r.Description, r.Assignee, r.Contact, r.Registered,
			r.Modified, r.Reference, r.ServiceCode, r.Unauthorized, r.Notes} {
			b = appendString(b, s)
		}
	}
	offRowOff := len(b)
	for _, o := range rowOff {
		b = binary.LittleEndian.AppendUint32(b, o)
	}

	// Count, then fill, the rows covering each port.
	var count [ports.Max + 2]uint32
	for i := range rows {
		if rows[i].HasPort() {
			for p := rows[i].Low; p <= rows[i].High; p++ {
				count[p+1]++
			}
		}
	}
	for p := 1; p < len(count); p++ {
		count[p] += count[p-1]
	}
	postings := make([]uint32, count[len(count)-1])
	next := count
	for i := range rows {
		if rows[i].HasPort() {
			for p := rows[i].Low; p <= rows[i].High; p++ {
				postings[next[p]] = uint32(i)
				next[p]++
			}
		}
	}
	offPortIdx := len(b)
	for _, c := range count {
		b = binary.LittleEndian.AppendUint32(b, c)
	}
	offPostings := len(b)
	for _, r := range postings {
		b = binary.LittleEndian.AppendUint32(b, r)
	}

	var named []uint32
	for i := range rows {
		if rows[i].Name != "" {
			named = append(named, uint32(i))
		}
	}
	sort.SliceStable(named, func(a, c int) bool {
		return strings.ToLower(rows[named[a]].Name) < strings.ToLower(rows[named[c]].Name)
	})
	offNames := len(b)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(named)))
	for _, r := range named {
		b = binary.LittleEndian.AppendUint32(b, r)
	}

	for i, o := range []int{offPortIdx, offPostings, offNames, offRowOff} {
		binary.LittleEndian.PutUint32(b[hdr+4*i:], uint32(o))
	}
	binary.LittleEndian.PutUint32(b[hdr+16:], uint32(len(b)))
	x, err := open(string(b)+string(make([]byte, statsSize)), true)
	if err != nil {
		return nil, err
	}
	return appendStats(b, x.computeStats()), nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Index is a compiled registry, read in place. The zero Index is not usable;
// get one from Open or Default.
type Index struct {
	b                                       string
	n                                       int
	portIdx, postings, names, rowOff, stats int
	version, source                         string
}

// Open checks a compiled blob, every record of it, and returns an Index over
// it. The blob must not change afterwards.
func Open(blob string) (*Index, error) { return open(blob, true) }

// open checks the framing, and every record when full is set. The embedded
// blob skips the record walk: the package tests check it, and a cold
// `porthole info` cannot afford to decode 14,500 rows.
func open(blob string, full bool) (*Index, error) {
	bad := func(what string) (*Index, error) {
		return nil, fmt.Errorf("compiled registry is damaged: %s", what)
	}
	if !strings.HasPrefix(blob, magic) || len(blob) < len(magic)+24 {
		return bad("wrong magic or too short")
	}
	x := &Index{b: blob}
	at := len(magic)
	x.n = int(x.u32(at))
	x.portIdx = int(x.u32(at + 4))
	x.postings = int(x.u32(at + 8))
	x.names = int(x.u32(at + 12))
	x.rowOff = int(x.u32(at + 16))
	x.stats = int(x.u32(at + 20))
	size := len(blob)
	switch {
	case x.rowOff+4*x.n > size, x.rowOff < 0:
		return bad("row table out of bounds")
	case x.portIdx+4*(ports.Max+2) > size:
		return bad("port index out of bounds")
	case x.names+4 > size:
		return bad("name index out of bounds")
	case x.stats+statsSize != size:
		return bad("statistics out of bounds")
	}
	if x.postings+4*int(x.u32(x.portIdx+4*(ports.Max+1))) > size {
		return bad("postings out of bounds")
	}
	if x.names+4+4*int(x.u32(x.names)) > size {
		return bad("name index out of bounds")
	}
	var ok bool
	p := at + 24
	if x.version, p, ok = x.str(p); !ok {
		return bad("version")
	}
	if x.source, _, ok = x.str(p); !ok {
		return bad("source")
	}
	// Every record must decode: a damaged blob fails here, once, rather
	// than on some later lookup.
	for i := 0; full && i < x.n; i++ {
		if _, ok := x.row(i); !ok {
			return bad(fmt.Sprintf("row %d", i))
		}
	}
	return x, nil
}

func (x *Index) u32(at int) uint32 {
	s := x.b[at : at+4]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

func (x *Index) u16(at int) int { return int(x.b[at]) | int(x.b[at+1])<<8 }

func (x *Index) str(at int) (string, int, bool) {
	var n uint64
	var shift uint
	for {
		if at >= len(x.b) || shift > 35 {
			return "", 0, false
		}
		c := x.b[at]
		at++
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			break
		}
		shift += 7
	}
	if uint64(len(x.b)-at) < n {
		return "", 0, false
	}
	return x.b[at : at+int(n)], at + int(n), true
}

// Version is the registry's data date (its newest registration or
// modification date).
func (x *Index) Version() string { return x.version }

// Source says where the registry's CSV came from.
func (x *Index) Source() string { return x.source }

// Len is the number of rows.
func (x *Index) Len() int { return x.n }

// head reads the fixed part of row i without decoding its strings.
func (x *Index) head(i int) (proto ports.Proto, flags byte, low, high int) {
	at := int(x.u32(x.rowOff + 4*i))
	return ports.Proto(x.b[at]), x.b[at+1], x.u16(at + 2), x.u16(at + 4)
}

// Row decodes row i (0 ≤ i < Len).
func (x *Index) Row(i int) Row {
	r, _ := x.row(i)
	return r
}

func (x *Index) row(i int) (Row, bool) {
	at := int(x.u32(x.rowOff + 4*i))
	if at < 0 || at+6 > len(x.b) {
		return Row{}, false
	}
	proto, flags, low, high := x.head(i)
	r := Row{Proto: proto, Low: low, High: high}
	if flags&flagNoPort != 0 {
		r.Low, r.High = -1, -1
	}
	r.Range = flags&flagRange != 0
	at += 6
	var ok bool
	for _, f := range [...]*string{&r.Name, &r.Description, &r.Assignee, &r.Contact, &r.Registered,
		&r.Modified, &r.Reference, &r.ServiceCode, &r.Unauthorized, &r.Notes} {
		if *f, at, ok = x.str(at); !ok {
			return Row{}, false
		}
	}
	return r, true
}

// rowsAt returns the row numbers covering port, in registry order.
func (x *Index) rowsAt(port int) (first, last int) {
	return int(x.u32(x.portIdx + 4*port)), int(x.u32(x.portIdx + 4*(port+1)))
}

// Port returns every row covering port (0..65535), in registry order.
func (x *Index) Port(port int) []Row {
	if port < 0 || port > ports.Max {
		return nil
	}
	first, last := x.rowsAt(port)
	out := make([]Row, 0, last-first)
	for k := first; k < last; k++ {
		out = append(out, x.Row(int(x.u32(x.postings+4*k))))
	}
	return out
}

// Name returns the rows whose service name equals name, case-insensitively,
// in registry order.
func (x *Index) Name(name string) []Row {
	name = strings.ToLower(name)
	count := int(x.u32(x.names))
	nameAt := func(k int) string {
		at := int(x.u32(x.rowOff + 4*int(x.u32(x.names+4+4*k))))
		s, _, _ := x.str(at + 6)
		return strings.ToLower(s)
	}
	k := sort.Search(count, func(k int) bool { return nameAt(k) >= name })
	var out []Row
	for ; k < count && nameAt(k) == name; k++ {
		out = append(out, x.Row(int(x.u32(x.names+4+4*k))))
	}
	return out
}

// Status is the registry's answer for one port and protocol.
type Status string

// The statuses of a port and protocol.
const (
	StatusAssigned   Status = "assigned"
	StatusReserved   Status = "reserved"
	StatusUnassigned Status = "unassigned"
	StatusDynamic    Status = "dynamic"
)

// StatusOf computes the status of port for proto: assigned when a named row
// covers it for that protocol or for no protocol; else reserved when a
// Reserved row does; else dynamic in 49152–65535 (a rule, not data); else
// unassigned.
func (x *Index) StatusOf(port int, proto ports.Proto) Status {
	first, last := x.rowsAt(port)
	reserved := false
	for k := first; k < last; k++ {
		p, flags, _, _ := x.head(int(x.u32(x.postings + 4*k)))
		if p != proto && p != ports.ProtoNone {
			continue
		}
		switch Kind(flags & kindMask) {
		case Assigned:
			return StatusAssigned
		case Reserved:
			reserved = true
		}
	}
	switch {
	case reserved:
		return StatusReserved
	case ports.Dynamic.Contains(port):
		return StatusDynamic
	}
	return StatusUnassigned
}

// Ghost reports whether port is a ghost registration: it has named rows,
// and none of them names a reference, an assignee or a contact.
func (x *Index) Ghost(port int) bool {
	first, last := x.rowsAt(port)
	named := false
	for k := first; k < last; k++ {
		_, flags, _, _ := x.head(int(x.u32(x.postings + 4*k)))
		if Kind(flags&kindMask) != Assigned {
			continue
		}
		if flags&flagEmpty == 0 {
			return false
		}
		named = true
	}
	return named
}
