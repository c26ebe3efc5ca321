package registry

import (
	"encoding/binary"

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
	// Assigned counts port numbers with at least one named service for the
	// protocol itself (a row with no protocol counts only under Any).
	Assigned ProtoCounts `json:"assigned"`
	// Reserved and Unassigned count port numbers whose status, as StatusOf
	// computes it, is reserved or unassigned for the protocol; Any is for
	// ports where no protocol is assigned and the answer holds for tcp and
	// udp alike.
	Reserved   ProtoCounts `json:"reserved"`
	Unassigned ProtoCounts `json:"unassigned"`
	// Ghosts counts ghost registrations (see Index.Ghost).
	Ghosts int `json:"ghosts"`
	// Rows counts registry rows whose first port lies in the range, by kind.
	Rows map[string]int `json:"rows"`
}

// Stats holds the registry's figures, computed from the data.
type Stats struct {
	Version    string       `json:"registry_version"`
	Rows       int          `json:"rows"`
	NameOnly   int          `json:"rows_without_port"`
	RangeRows  int          `json:"rows_with_port_range"`
	Ranges     []RangeStats `json:"ranges"`
	ByProtocol ProtoCounts  `json:"rows_by_protocol"`
}

// The statistics section: the top-level counts, then per range its
// assigned, reserved and unassigned ProtoCounts, ghosts, and rows by kind.
const (
	statsTop   = 3 + 5
	statsRange = 3*5 + 1 + 4
	statsSize  = 4 * (statsTop + 3*statsRange)
)

var rowKinds = [...]Kind{Assigned, Reserved, Unassigned, Other}

func (c ProtoCounts) list() [5]int { return [5]int{c.TCP, c.UDP, c.SCTP, c.DCCP, c.Any} }

func countsOf(v []int) ProtoCounts {
	return ProtoCounts{TCP: v[0], UDP: v[1], SCTP: v[2], DCCP: v[3], Any: v[4]}
}

func appendStats(b []byte, st Stats) []byte {
	v := []int{st.Rows, st.NameOnly, st.RangeRows}
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
	st := Stats{Version: x.version, Rows: v[0], NameOnly: v[1], RangeRows: v[2], ByProtocol: countsOf(v[3:8])}
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

// computeStats walks every row once and every port once.
func (x *Index) computeStats() Stats {
	st := Stats{Version: x.version, Rows: x.n}
	// named[p] has bit (1<<proto) set when a named row for proto covers p.
	var named [ports.Max + 1]uint8
	var rowsByRange [3]map[string]int
	for i := range rowsByRange {
		rowsByRange[i] = map[string]int{}
		for _, k := range rowKinds {
			rowsByRange[i][k.String()] = 0
		}
	}
	for i := 0; i < x.n; i++ {
		proto, flags, low, high := x.head(i)
		st.ByProtocol.add(proto)
		if flags&flagNoPort != 0 {
			st.NameOnly++
			continue
		}
		if flags&flagRange != 0 {
			st.RangeRows++
		}
		kind := Kind(flags & kindMask)
		rowsByRange[rangeNo(low)][kind.String()]++
		if kind == Assigned {
			for p := low; p <= high; p++ {
				named[p] |= 1 << proto
			}
		}
	}
	for ri, r := range ports.Ranges {
		rs := RangeStats{Name: r.Name, Low: r.Low, High: r.High, Size: r.Size(), Rows: rowsByRange[ri]}
		for p := r.Low; p <= r.High; p++ {
			m := named[p]
			if m != 0 {
				rs.Assigned.Any++
			}
			for _, proto := range ports.Protos {
				if m&(1<<proto) != 0 {
					rs.Assigned.add(proto)
				}
			}
			if x.Ghost(p) {
				rs.Ghosts++
			}
			allUnassigned, allReserved := true, true
			for _, proto := range ports.Protos {
				switch x.StatusOf(p, proto) {
				case StatusReserved:
					rs.Reserved.add(proto)
					allUnassigned = false
				case StatusUnassigned:
					rs.Unassigned.add(proto)
					allReserved = false
				default:
					allUnassigned, allReserved = false, false
				}
			}
			if allUnassigned {
				rs.Unassigned.Any++
			}
			if allReserved {
				rs.Reserved.Any++
			}
		}
		st.Ranges = append(st.Ranges, rs)
	}
	return st
}

func rangeNo(port int) int {
	for i, r := range ports.Ranges {
		if r.Contains(port) {
			return i
		}
	}
	return 2
}
