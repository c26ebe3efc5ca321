package intel

import "github.com/porthole/porthole/internal/ports"

// WideRange is the widest port reference whose numbers count as
// documented in Coverage.
const WideRange = 1000

// Coverage is how much of the port space the entries document (`porthole
// stats`).
type Coverage struct {
	Entries int            `json:"entries"`
	Sources int            `json:"sources"`
	ByKind  map[string]int `json:"by_kind"`
	// DocumentedPorts counts the distinct port numbers that an entry names,
	// alone or in a range of at most WideRange numbers.
	DocumentedPorts int `json:"documented_ports"`
	// ThreatPorts and UsePorts count those documented port numbers with at
	// least one entry of the category, per range name and in total.
	ThreatPorts map[string]int `json:"threat_ports"`
	UsePorts    map[string]int `json:"use_ports"`
	// WideRanges are the references wider than WideRange numbers (such as
	// Kubernetes' NodePort range): an entry about a whole range says
	// nothing in particular about each number inside it, so they are
	// listed apart and counted in none of the figures above.
	WideRanges []WideRangeRef `json:"wide_ranges"`
}

// WideRangeRef is one reference wider than WideRange numbers.
type WideRangeRef struct {
	Entry string  `json:"entry"`
	Ports string  `json:"-"`     // "any/30000-32767", for the text
	Proto *string `json:"proto"` // null when the entry covers every protocol
	Low   int     `json:"low"`
	High  int     `json:"high"`
	Size  int     `json:"size"`
}

// Coverage counts the entries, their sources and kinds, and the port
// numbers they document. Notes (scan notes, operating system ranges)
// explain a port but document no listener there, so they count among the
// entries and kinds only.
func (db *DB) Coverage() Coverage {
	st := Coverage{ByKind: map[string]int{}, ThreatPorts: map[string]int{}, UsePorts: map[string]int{}}
	for _, e := range db.Entries() {
		st.Entries++
		st.Sources += len(e.Sources)
		st.ByKind[string(e.Kind)]++
	}
	var threat, use, documented [ports.Max + 1]bool
	for _, e := range db.Entries() {
		if e.IsNote() {
			continue
		}
		for _, r := range e.Ports {
			if size := r.High - r.Low + 1; size > WideRange {
				w := WideRangeRef{Entry: e.ID, Ports: r.String(), Low: r.Low, High: r.High, Size: size}
				if p := r.Proto.String(); p != "" {
					w.Proto = &p
				}
				st.WideRanges = append(st.WideRanges, w)
				continue
			}
			set := &use
			if e.IsThreat() {
				set = &threat
			}
			for p := r.Low; p <= r.High; p++ {
				set[p], documented[p] = true, true
			}
		}
	}
	for p := range documented {
		if !documented[p] {
			continue
		}
		st.DocumentedPorts++
		for _, c := range []struct {
			on bool
			m  map[string]int
		}{{threat[p], st.ThreatPorts}, {use[p], st.UsePorts}} {
			if c.on {
				c.m[ports.RangeOf(p).Name]++
				c.m["total"]++
			}
		}
	}
	return st
}
