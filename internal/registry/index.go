package registry

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"strings"
	"unsafe"

	"github.com/porthole/porthole/internal/ports"
)

// The compiled form of the registry. Parsing 1.1 MB of CSV costs more than a
// whole `porthole info` may take, so the CSV is compiled once (at go generate
// time for the embedded copy, at `porthole update` time for a refreshed one)
// into a blob that is read in place: a lookup decodes only the rows it
// returns. Layout, little-endian:
//
//	magic    "PHREG3\n"
//	u32      row count N
//	u32 × 5  offsets of: port index, postings, name index, row offsets,
//	         statistics
//	str      version (uvarint length + bytes), then source (same)
//	records  per row: u8 proto, u8 flags, u16 low, u16 high, then 10
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
//	crc      u32 CRC-32C (Castagnoli) of every byte before it
//
// A blob in the cache directory is input like any other: Open checks the
// checksum, then every table's bounds, then (see open) that every record
// decodes and every index entry points at a row that fits it, so that a
// damaged or hostile blob is refused whole instead of answering wrongly or
// panicking on some later lookup.
const magic = "PHREG3\n"

// Caps on what a registry may make. IANA's registry (2026) has 14,500 rows,
// its widest row spans 829 ports (an Unassigned range; the widest named row,
// vrml-multi-use, spans 100), its rows cover 55,651 port numbers in all and
// its compiled blob is 1.69 MB. The caps leave room for years of growth
// (rows ×13, widest row ×9, postings ×17, blob ×23) while keeping a hostile
// CSV from making a blob of hundreds of megabytes (every later `info` would
// read it) or an update from taking gigabytes of memory.
const (
	MaxRows     = 200_000
	MaxWidth    = 8_192     // ports one row may span
	MaxPostings = 1_000_000 // port numbers all rows cover, counted per row
	MaxBlob     = 40 << 20  // bytes of a compiled registry
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const (
	flagNoPort = 1 << 4
	flagEmpty  = 1 << 5
	flagRange  = 1 << 6 // the CSV wrote the port as a range, even "a-a"
	kindMask   = 0x0f
)

// Compile builds the blob for rows. version is the registry's data date
// and source says where the CSV came from. It refuses rows beyond the caps
// (MaxRows, MaxWidth, MaxPostings, MaxBlob).
func Compile(rows []Row, version, source string) ([]byte, error) {
	if len(rows) == 0 {
		return nil, errors.New("registry has no rows")
	}
	if err := checkCaps(rows); err != nil {
		return nil, err
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
		if len(b) > MaxBlob {
			return nil, blobTooBig(len(b))
		}
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
	if n := len(b) + statsSize + 4; n > MaxBlob {
		return nil, blobTooBig(n)
	}

	for i, o := range []int{offPortIdx, offPostings, offNames, offRowOff} {
		binary.LittleEndian.PutUint32(b[hdr+4*i:], uint32(o))
	}
	binary.LittleEndian.PutUint32(b[hdr+16:], uint32(len(b)))
	// Open the blob with empty statistics to compute them from its own
	// lookups, then seal it with the real ones.
	x, err := open(string(seal(append(b[:len(b):len(b)], make([]byte, statsSize)...))), checkRecords)
	if err != nil {
		return nil, err
	}
	return seal(appendStats(b, x.computeStats())), nil
}

// seal appends the checksum.
func seal(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func blobTooBig(n int) error {
	return fmt.Errorf("the compiled registry would pass %d bytes (the cap is %d; IANA's makes about 1.7 MB); refusing it", n, MaxBlob)
}

// checkCaps applies MaxRows, MaxWidth and MaxPostings to rows that did not
// come through Parse (which refuses them at their CSV line).
func checkCaps(rows []Row) error {
	if len(rows) > MaxRows {
		return fmt.Errorf("the registry has %d rows, more than the cap of %d", len(rows), MaxRows)
	}
	total := 0
	for i := range rows {
		r := &rows[i]
		if !r.HasPort() {
			continue
		}
		if r.Low > r.High || r.High > ports.Max {
			return fmt.Errorf("row %d: port range %d-%d is not a range of port numbers", i+1, r.Low, r.High)
		}
		if w := r.High - r.Low + 1; w > MaxWidth {
			return fmt.Errorf("row %d: range %d-%d spans %d ports, more than the cap of %d", i+1, r.Low, r.High, w, MaxWidth)
		}
		total += r.High - r.Low + 1
		if total > MaxPostings {
			return fmt.Errorf("row %d: the rows cover more than %d port numbers in all, the cap", i+1, MaxPostings)
		}
	}
	return nil
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
	nPostings, nNames                       int
	version, source                         string
}

// How much open checks.
type check int

const (
	// checkFrame: magic, size and the bounds of every table: a few dozen
	// comparisons. The embedded blob gets only this: it is part of the
	// binary, checked whole by the package tests, and a pass over its
	// 1.7 MB would cost a cold `porthole info` a quarter of a millisecond.
	checkFrame check = iota
	// checkRecords adds the checksum, every record, every port index and
	// posting entry and every name index entry.
	checkRecords
	// checkAll adds the statistics' sums.
	checkAll
)

// Open checks a compiled blob whole (see the layout above) and returns an
// Index over it. The blob must not change afterwards. An Index from Open
// answers every lookup without panicking, whatever the blob held.
func Open(blob string) (*Index, error) { return open(blob, checkAll) }

// DamagedError says what is wrong with a compiled registry.
type DamagedError struct{ What string }

func (e *DamagedError) Error() string { return "compiled registry is damaged: " + e.What }

// open checks blob as deep as c says.
func open(blob string, c check) (*Index, error) {
	bad := func(format string, args ...any) (*Index, error) {
		return nil, &DamagedError{fmt.Sprintf(format, args...)}
	}
	const hdrLen = len(magic) + 24
	switch {
	case len(blob) < len(magic) || blob[:len(magic)] != magic:
		if strings.HasPrefix(blob, magic[:5]) {
			return bad("format %q, not %q (written by another porthole version)", strings.TrimSpace(blob[:min(len(blob), len(magic))]), strings.TrimSpace(magic))
		}
		return bad("not a porthole registry (wrong magic)")
	case len(blob) < hdrLen+statsSize+4:
		return bad("too short: %d bytes", len(blob))
	case len(blob) > MaxBlob:
		return bad("%d bytes, more than the cap of %d", len(blob), MaxBlob)
	}
	end := len(blob) - 4 // the checksum
	if c >= checkRecords {
		// unsafe: crc32 only reads the bytes, and a string cannot change;
		// converting would copy 1.7 MB, six times the cost of the checksum.
		if got, want := crc32.Checksum(unsafe.Slice(unsafe.StringData(blob), end), castagnoli), le32(blob, end); got != want {
			return bad("checksum mismatch (stored %08x, computed %08x): the file was changed or cut after it was written", want, got)
		}
	}
	x := &Index{b: blob}
	// Every offset and count is compared as uint64, so no sum can wrap,
	// even where int has 32 bits; past these checks every table lies
	// inside the blob, which is at most MaxBlob bytes.
	h := func(i int) uint64 { return uint64(le32(blob, len(magic)+4*i)) }
	n, portIdx, postings, names, rowOff, stats := h(0), h(1), h(2), h(3), h(4), h(5)
	within := func(off, size uint64) bool { return off >= uint64(hdrLen) && off+size <= uint64(end) }
	switch {
	case n == 0 || n > MaxRows:
		return bad("row count %d", n)
	case stats+statsSize != uint64(end) || stats < uint64(hdrLen):
		return bad("statistics out of bounds")
	case !within(rowOff, 4*n):
		return bad("row table out of bounds")
	case !within(portIdx, 4*(ports.Max+2)):
		return bad("port index out of bounds")
	case !within(names, 4):
		return bad("name index out of bounds")
	}
	nPostings := uint64(le32(blob, int(portIdx)+4*(ports.Max+1)))
	nNames := uint64(le32(blob, int(names)))
	switch {
	case nPostings > MaxPostings || !within(postings, 4*nPostings):
		return bad("postings out of bounds (%d entries)", nPostings)
	case nNames > n || !within(names, 4+4*nNames):
		return bad("name index out of bounds (%d entries)", nNames)
	}
	x.n, x.portIdx, x.postings, x.names, x.rowOff, x.stats = int(n), int(portIdx), int(postings), int(names), int(rowOff), int(stats)
	x.nPostings, x.nNames = int(nPostings), int(nNames)
	var ok bool
	p := hdrLen
	if x.version, p, ok = x.str(p); !ok {
		return bad("version string")
	}
	if x.source, _, ok = x.str(p); !ok {
		return bad("source string")
	}
	if c >= checkRecords {
		if what := x.checkTables(hdrLen); what != "" {
			return bad("%s", what)
		}
	}
	if c >= checkAll {
		if what := x.checkStats(); what != "" {
			return bad("%s", what)
		}
	}
	return x, nil
}

// checkTables walks every record and index entry: after it, no lookup can
// read outside the blob, and each port's rows are rows that cover it.
func (x *Index) checkTables(hdrLen int) string {
	b := x.b
	// span[i] is row i's ports as low<<16 | high, or noSpan for a row with
	// no port: the postings walk below reads them from here.
	const noSpan = ^uint32(0)
	span := make([]uint32, x.n)
	for i := 0; i < x.n; i++ {
		at := int(le32(b, x.rowOff+4*i))
		if at < hdrLen || at+6 > x.rowOff {
			return fmt.Sprintf("row %d: offset %d out of bounds", i, at)
		}
		proto, flags := ports.Proto(b[at]), b[at+1]
		low, high := int(b[at+2])|int(b[at+3])<<8, int(b[at+4])|int(b[at+5])<<8
		switch {
		case proto > ports.DCCP:
			return fmt.Sprintf("row %d: protocol %d", i, proto)
		case Kind(flags&kindMask) > Other || flags&^(kindMask|flagNoPort|flagEmpty|flagRange) != 0:
			return fmt.Sprintf("row %d: flags %#x", i, flags)
		case low > high, high-low+1 > MaxWidth:
			return fmt.Sprintf("row %d: range %d-%d", i, low, high)
		}
		span[i] = uint32(low)<<16 | uint32(high)
		if flags&flagNoPort != 0 {
			span[i] = noSpan
		}
		// The ten strings must decode (Row would stop at a bad one).
		p := at + 6
		for f := 0; f < 10; f++ {
			s, next, ok := x.str(p)
			if !ok {
				return fmt.Sprintf("row %d: record does not decode", i)
			}
			if f == 0 && (s != "") != (Kind(flags&kindMask) == Assigned) {
				return fmt.Sprintf("row %d: kind does not match its name", i)
			}
			p = next
		}
	}
	prev := uint32(0)
	for p := 0; p <= ports.Max+1; p++ {
		k := le32(b, x.portIdx+4*p)
		if k < prev || (p == 0 && k != 0) {
			return fmt.Sprintf("port index at %d is not ascending", p)
		}
		prev = k
	}
	for p := 0; p <= ports.Max; p++ {
		first, last := x.rowsAt(p)
		prevRow := -1
		for k := first; k < last; k++ {
			i := int(le32(b, x.postings+4*k))
			if i >= x.n || i <= prevRow {
				return fmt.Sprintf("port %d: posting %d names row %d", p, k, i)
			}
			prevRow = i
			if sp := span[i]; sp == noSpan || uint32(p) < sp>>16 || uint32(p) > sp&0xffff {
				return fmt.Sprintf("port %d: posting %d names row %d, which does not cover it", p, k, i)
			}
		}
	}
	prevName := ""
	for k := 0; k < x.nNames; k++ {
		i := int(x.u32(x.names + 4 + 4*k))
		if i >= x.n {
			return fmt.Sprintf("name index entry %d names row %d", k, i)
		}
		name := x.nameOf(i)
		if name == "" || name < prevName {
			return fmt.Sprintf("name index entry %d is out of order", k)
		}
		prevName = name
	}
	return ""
}

// checkStats checks that the stored statistics add up: for every range and
// protocol, assigned + reserved + unassigned is the range's size.
func (x *Index) checkStats() string {
	st := x.Stats()
	for _, r := range st.Ranges {
		for _, p := range append(ports.Protos[:], ports.ProtoNone) {
			if r.Assigned.Get(p)+r.Reserved.Get(p)+r.Unassigned.Get(p) != r.Size {
				return fmt.Sprintf("statistics of the %s range do not add up", r.Name)
			}
		}
	}
	return ""
}

func le32(s string, at int) uint32 {
	return uint32(s[at]) | uint32(s[at+1])<<8 | uint32(s[at+2])<<16 | uint32(s[at+3])<<24
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
	if i < 0 || i >= x.n {
		return Row{}, false
	}
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
	count := x.nNames
	nameAt := func(k int) string { return x.nameOf(int(x.u32(x.names + 4 + 4*k))) }
	k := sort.Search(count, func(k int) bool { return nameAt(k) >= name })
	var out []Row
	for ; k < count && nameAt(k) == name; k++ {
		out = append(out, x.Row(int(x.u32(x.names+4+4*k))))
	}
	return out
}

// nameOf decodes only the service name of row i, in lower case.
func (x *Index) nameOf(i int) string {
	s, _, _ := x.str(int(x.u32(x.rowOff+4*i)) + 6)
	return strings.ToLower(s)
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

// ProtoApplies reports whether a row whose protocol column is rowProto
// speaks for protocol p: a row names its own protocol; a row with no
// protocol is a legacy TCP/UDP registration and speaks for tcp and udp, not
// for sctp or dccp. Before RFC 6335 (2011) merged the registries, IANA's
// port list was a TCP and UDP list whose numbers were handed out to both
// protocols at once, while SCTP (RFC 4960) and DCCP (RFC 4340) ports were
// registered protocol by protocol; RFC 6335 keeps assignments per protocol.
// So a protocol-less row claims no sctp or dccp port. Every status, count
// and page uses this one rule.
func ProtoApplies(rowProto, p ports.Proto) bool {
	if rowProto == ports.ProtoNone {
		return p == ports.TCP || p == ports.UDP
	}
	return rowProto == p
}

// ForProto reports whether the row speaks for protocol p (see ProtoApplies).
func (r *Row) ForProto(p ports.Proto) bool { return ProtoApplies(r.Proto, p) }

// StatusOf computes the status of port for proto: assigned when a named row
// covers it for that protocol (see ProtoApplies); else reserved when a
// Reserved row does; else dynamic in 49152–65535 (a rule, not data); else
// unassigned.
func (x *Index) StatusOf(port int, proto ports.Proto) Status {
	if port < 0 || port > ports.Max {
		return StatusUnassigned
	}
	first, last := x.rowsAt(port)
	reserved := false
	for k := first; k < last; k++ {
		p, flags, _, _ := x.head(int(x.u32(x.postings + 4*k)))
		if !ProtoApplies(p, proto) {
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
	if port < 0 || port > ports.Max {
		return false
	}
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
