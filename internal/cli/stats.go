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
	Intel intel.Coverage `json:"intel"`
}

// statsOptions are `porthole stats`'s flags.
type statsOptions struct {
	json bool
}

var statsCmd = &cmdDef[statsOptions]{name: "stats", args: "",
	help: "Registry figures per range and protocol (assigned, reserved, unassigned), ghost registrations, and intel coverage, all computed from the data.",
	flags: func(fs *cmdFlags, o *statsOptions) func([]string) error {
		fs.BoolVar(&o.json, "json", false, "print JSON")
		return noArgs("stats")
	},
}

func runStats(_ context.Context, env *Env, o statsOptions) error {
	k, err := loadKnowledge(env)
	if err != nil {
		return err
	}
	out := statsOut{Stats: k.reg.Stats(), Intel: k.intel.Coverage()}
	if o.json {
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
				n(r.Assigned.Any), n(r.Size), i18n.Pct(i18n.EN, r.AssignedPercent()), n(r.Ghosts)))
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
