package registry

import (
	"encoding/binary"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/ports"
)

// ProtoCounts counts port numbers per protocol. Any counts a port once
// whatever the protocol, rows with no protocol included.
type ProtoCounts struct {
	TCP  int `json:"tcp"`
	UDP  int `json:"udp"`
	SCTP int `json:"sctp"`
	DCCP int `json:"dccp"`
	Any  int `json:"any"`
}

func (c *ProtoCounts) add(p ports.Proto) {
	switch p {
	case ports.TCP:
		c.TCP++
	case ports.UDP:
		c.UDP++
	case ports.SCTP:
		c.SCTP++
	case ports.DCCP:
		c.DCCP++
	default:
		c.Any++
	}
}

// Get returns the count for p; ports.ProtoNone gives Any.
func (c ProtoCounts) Get(p ports.Proto) int {
	switch p {
	case ports.TCP:
		return c.TCP
	case ports.UDP:
		return c.UDP
	case ports.SCTP:
		return c.SCTP
	case ports.DCCP:
		return c.DCCP
	}
	return c.Any
}

// RangeStats are the registry's figures for one port range.
type RangeStats struct {
	Name string `json:"name"`
	Low  int    `json:"low"`
	High int    `json:"high"`
	Size int    `json:"size"`
	// Assigned, Reserved and Unassigned count port numbers by their status
	// for each protocol, exactly as StatusOf computes it (a row with no
	// protocol speaks for tcp and udp only; see ProtoApplies). Unassigned
	// includes the dynamic range, which IANA never assigns. So for every
	// protocol, Assigned + Reserved + Unassigned = Size. Any is the status
	// for some protocol: assigned when the port is assigned for at least
	// one protocol, else reserved when it is reserved for at least one,
	// else unassigned.
	Assigned   ProtoCounts `json:"assigned"`
	Reserved   ProtoCounts `json:"reserved"`
	Unassigned ProtoCounts `json:"unassigned"`
	// Ghosts counts ghost registrations (see Index.Ghost).
	Ghosts int `json:"ghosts"`
	// Rows counts registry rows whose first port lies in the range, by kind.
	Rows map[string]int `json:"rows"`
}

// AssignedPercent is the share of the range's numbers assigned for some
// protocol, in percent rounded to one decimal (i18n.Share).
func (r RangeStats) AssignedPercent() float64 {
	return i18n.Share(r.Assigned.Any, r.Size)
}

// Stats holds the registry's figures, computed from the data.
type Stats struct {
	Version  string `json:"registry_version"`
	Rows     int    `json:"rows"`
	NameOnly int    `json:"rows_without_port"`
	// Legacy counts named rows with a port and no protocol: legacy TCP/UDP
	// registrations, which count for tcp and udp only (see ProtoApplies).
	Legacy     int          `json:"named_rows_without_proto"`
	RangeRows  int          `json:"rows_with_port_range"`
	Ranges     []RangeStats `json:"ranges"`
	ByProtocol ProtoCounts  `json:"rows_by_proto"`
}

// The statistics section: the top-level counts, then per range its
// assigned, reserved and unassigned ProtoCounts, ghosts, and rows by kind.
const (
	statsTop   = 4 + 5
	statsRange = 3*5 + 1 + 4
	statsSize  = 4 * (statsTop + 3*statsRange)
)

var rowKinds = [...]Kind{Assigned, Reserved, Unassigned, Other}

func (c ProtoCounts) list() [5]int { return [5]int{c.TCP, c.UDP, c.SCTP, c.DCCP, c.Any} }

func countsOf(v []int) ProtoCounts {
	return ProtoCounts{TCP: v[0], UDP: v[1], SCTP: v[2], DCCP: v[3], Any: v[4]}
}

func appendStats(b []byte, st Stats) []byte {
	v := []int{st.Rows, st.NameOnly, st.RangeRows, st.Legacy}
	bp := st.ByProtocol.list()
	v = append(v, bp[:]...)
	for _, r := range st.Ranges {
		for _, c := range []ProtoCounts{r.Assigned, r.Reserved, r.Unassigned} {
			l := c.list()
			v = append(v, l[:]...)
		}
		v = append(v, r.Ghosts)
		for _, k := range rowKinds {
			v = append(v, r.Rows[k.String()])
		}
	}
	for _, n := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
	}
	return b
}

// Stats returns the registry's figures, computed when it was compiled.
func (x *Index) Stats() Stats {
	v := make([]int, statsSize/4)
	for i := range v {
		v[i] = int(x.u32(x.stats + 4*i))
	}
	st := Stats{Version: x.version, Rows: v[0], NameOnly: v[1], RangeRows: v[2], Legacy: v[3], ByProtocol: countsOf(v[4:9])}
	for ri, r := range ports.Ranges {
		w := v[statsTop+ri*statsRange:]
		rs := RangeStats{Name: r.Name, Low: r.Low, High: r.High, Size: r.Size(),
			Assigned: countsOf(w[0:5]), Reserved: countsOf(w[5:10]), Unassigned: countsOf(w[10:15]),
			Ghosts: w[15], Rows: map[string]int{}}
		for k, kind := range rowKinds {
			rs.Rows[kind.String()] = w[16+k]
		}
		st.Ranges = append(st.Ranges, rs)
	}
	return st
}

// computeStats walks every row once and every port once, counting each
// port's status by StatusOf itself, so that stats and info cannot disagree.
func (x *Index) computeStats() Stats {
	st := Stats{Version: x.version, Rows: x.n}
	var rowsByRange [3]map[string]int
	for i := range rowsByRange {
		rowsByRange[i] = map[string]int{}
		for _, k := range rowKinds {
			rowsByRange[i][k.String()] = 0
		}
	}
	for i := 0; i < x.n; i++ {
		proto, flags, low, _ := x.head(i)
		st.ByProtocol.add(proto)
		if flags&flagNoPort != 0 {
			st.NameOnly++
			continue
		}
		if flags&flagRange != 0 {
			st.RangeRows++
		}
		if proto == ports.ProtoNone && Kind(flags&kindMask) == Assigned {
			st.Legacy++
		}
		rowsByRange[rangeNo(low)][Kind(flags&kindMask).String()]++
	}
	for ri, r := range ports.Ranges {
		rs := RangeStats{Name: r.Name, Low: r.Low, High: r.High, Size: r.Size(), Rows: rowsByRange[ri]}
		for p := r.Low; p <= r.High; p++ {
			if x.Ghost(p) {
				rs.Ghosts++
			}
			best := StatusUnassigned
			for _, proto := range ports.Protos {
				s := x.StatusOf(p, proto)
				rs.count(s, proto)
				if s == StatusAssigned || (s == StatusReserved && best != StatusAssigned) {
					best = s
				}
			}
			rs.count(best, ports.ProtoNone)
		}
		st.Ranges = append(st.Ranges, rs)
	}
	return st
}

// count adds one port of status s for proto (ports.ProtoNone: Any).
func (rs *RangeStats) count(s Status, proto ports.Proto) {
	switch s {
	case StatusAssigned:
		rs.Assigned.add(proto)
	case StatusReserved:
		rs.Reserved.add(proto)
	default: // unassigned, dynamic
		rs.Unassigned.add(proto)
	}
}

func rangeNo(port int) int {
	for i, r := range ports.Ranges {
		if r.Contains(port) {
			return i
		}
	}
	return 2
}
