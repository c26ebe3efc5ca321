package cli

import (
	"context"
	"fmt"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/process"
	"github.com/porthole/porthole/internal/registry"
)

// statsOut is `porthole stats --json`: the registry's figures (fields
// inline) plus intel coverage.
type statsOut struct {
	registry.Stats
	Intel intelStats `json:"intel"`
}

type intelStats struct {
	Entries int            `json:"entries"`
	Sources int            `json:"sources"`
	ByKind  map[string]int `json:"by_kind"`
	// DocumentedPorts counts the distinct port numbers that an entry names,
	// alone or in a range of at most wideRange numbers.
	DocumentedPorts int `json:"documented_ports"`
	// ThreatPorts and UsePorts count those documented port numbers with at
	// least one entry of the category, per range name and in total.
	ThreatPorts map[string]int `json:"threat_ports"`
	UsePorts    map[string]int `json:"use_ports"`
	// WideRanges are the references wider than wideRange numbers (such as
	// Kubernetes' NodePort range): an entry about a whole range says nothing
	// in particular about each number inside it, so they are listed apart
	// and counted in none of the figures above.
	WideRanges []wideRangeStat `json:"wide_ranges"`
}

// wideRangeStat is one reference wider than wideRange numbers.
type wideRangeStat struct {
	Entry string  `json:"entry"`
	Ports string  `json:"-"`     // "any/30000-32767", for the text
	Proto *string `json:"proto"` // null when the entry covers every protocol
	Low   int     `json:"low"`
	High  int     `json:"high"`
	Size  int     `json:"size"`
}

// wideRange is the widest port reference whose numbers count as documented.
const wideRange = 1000

func runStats(_ context.Context, env *Env, args []string) error {
	fs := newFlags(env, "stats", "", "Registry figures per range and protocol (assigned, reserved, unassigned), ghost registrations, and intel coverage, all computed from the data.")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("stats takes no arguments (got %s)", quoteArg(rest[0]))
	}
	k, err := loadKnowledge(env)
	if err != nil {
		return err
	}
	out := statsOut{Stats: k.reg.Stats(), Intel: coverage(k.intel)}
	if *asJSON {
		return writeJSON(env.Stdout, out)
	}
	t := newText(env, i18n.EN)
	n := func(v int) string { return i18n.Num(i18n.EN, v) }
	t.heading(fmt.Sprintf("IANA registry %s: %s rows (%s with a port range, %s names without a port)",
		process.Escape(out.Version), n(out.Rows), n(out.RangeRows), n(out.NameOnly)))
	t.para(0, fmt.Sprintf("Counted per port number and protocol by the status `info` shows, so that assigned + reserved + unassigned is the range size in every column. The %s named rows with no protocol are legacy TCP/UDP registrations: they count for tcp and udp, not sctp or dccp. The any column counts a number as assigned if it is assigned for some protocol, else reserved if reserved for some.",
		n(out.Legacy)))
	for _, r := range out.Ranges {
		t.blank()
		t.heading(fmt.Sprintf("%s %d–%d (%s numbers)", i18n.T(i18n.EN, "range."+r.Name), r.Low, r.High, n(r.Size)))
		if r.Name == ports.Dynamic.Name {
			t.para(2, i18n.T(i18n.EN, "what.dynamic"))
		} else {
			t.line(fmt.Sprintf("  %-12s %10s %10s %10s %10s %10s", "", "tcp", "udp", "sctp", "dccp", "any"))
			for _, row := range []struct {
				label string
				c     registry.ProtoCounts
			}{{"assigned", r.Assigned}, {"reserved", r.Reserved}, {"unassigned", r.Unassigned}} {
				t.line(fmt.Sprintf("  %-12s %10s %10s %10s %10s %10s", row.label,
					n(row.c.TCP), n(row.c.UDP), n(row.c.SCTP), n(row.c.DCCP), n(row.c.Any)))
			}
			t.para(2, fmt.Sprintf("%s of %s numbers (%s) carry a service for some protocol; %s ghost registrations (named, with no assignee, contact or reference).",
				n(r.Assigned.Any), n(r.Size), i18n.Pct(i18n.EN, i18n.Share(r.Assigned.Any, r.Size)), n(r.Ghosts)))
		}
		t.para(2, fmt.Sprintf("intel: %s ports with a threat on record, %s with an unofficial use",
			n(out.Intel.ThreatPorts[r.Name]), n(out.Intel.UsePorts[r.Name])))
	}
	t.blank()
	t.heading(fmt.Sprintf("Intel: %s entries citing %s sources; %s documented port numbers (%s with threats, %s with unofficial uses)",
		n(out.Intel.Entries), n(out.Intel.Sources), n(out.Intel.DocumentedPorts), n(out.Intel.ThreatPorts["total"]), n(out.Intel.UsePorts["total"])))
	if notes := out.Intel.ByKind[string(intel.ScanNote)] + out.Intel.ByKind[string(intel.OSRange)]; notes > 0 {
		t.line(fmt.Sprintf("  not counted above: %s notes (scan notes, operating system port ranges), which name no listener", n(notes)))
	}
	for _, w := range out.Intel.WideRanges {
		t.line(fmt.Sprintf("  not counted above: %s %s (%s numbers), a range documented as a whole", w.Entry, w.Ports, n(w.Size)))
	}
	return t.err
}

func coverage(db *intel.DB) intelStats {
	st := intelStats{ByKind: map[string]int{}, ThreatPorts: map[string]int{}, UsePorts: map[string]int{}}
	for _, e := range db.Entries() {
		st.Entries++
		st.Sources += len(e.Sources)
		st.ByKind[string(e.Kind)]++
	}
	var threat, use, documented [ports.Max + 1]bool
	for _, e := range db.Entries() {
		if e.IsNote() {
			continue // explains a port, documents no listener there
		}
		for _, r := range e.Ports {
			if size := r.High - r.Low + 1; size > wideRange {
				w := wideRangeStat{Entry: e.ID, Ports: r.String(), Low: r.Low, High: r.High, Size: size}
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
