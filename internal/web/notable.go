package web

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
)

// notablePortsText is the curated list of ports people ask about (issue
// #11), grouped under "## key" lines. scripts/coverage.sh measures intel
// coverage of the same file.
//
//go:embed notable-ports.txt
var notablePortsText string

// notableGroup is one heading of the list and its ports, in file order.
type notableGroup struct {
	Key   string
	Ports []notablePort
}

type notablePort struct {
	Proto ports.Proto
	Port  int
}

// parseNotablePorts reads the list: "## key" starts a group, "proto/port"
// lines (tcp or udp) add a port to it, "#" starts a comment, blank lines are
// ignored. A port before the first group, an unknown protocol, a bad number
// or an empty key is an error naming the line.
func parseNotablePorts(text string) ([]notableGroup, error) {
	var groups []notableGroup
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if key, ok := strings.CutPrefix(line, "##"); ok {
			key = strings.TrimSpace(key)
			if key == "" || strings.ContainsAny(key, " \t#") {
				return nil, fmt.Errorf("notable-ports.txt:%d: bad group key %q", n+1, key)
			}
			groups = append(groups, notableGroup{Key: key})
			continue
		}
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		proto, num, ok := strings.Cut(line, "/")
		p, known := ports.ParseProto(proto)
		if !ok || !known || (p != ports.TCP && p != ports.UDP) {
			return nil, fmt.Errorf("notable-ports.txt:%d: expected tcp/PORT or udp/PORT, got %q", n+1, line)
		}
		port, err := strconv.Atoi(num)
		if err != nil || port < 0 || port > ports.Max {
			return nil, fmt.Errorf("notable-ports.txt:%d: bad port number %q", n+1, num)
		}
		if len(groups) == 0 {
			return nil, fmt.Errorf("notable-ports.txt:%d: port before the first ## group", n+1)
		}
		g := &groups[len(groups)-1]
		g.Ports = append(g.Ports, notablePort{Proto: p, Port: port})
	}
	return groups, nil
}

// notableSection is one heading of the home page's list of ports people ask
// about.
type notableSection struct {
	Label string
	Items []notable
}

// threatGroups are the groups of the list that are about abuse (botnets,
// reflection, trojans): their ports are named after the threat entry. The
// other groups name what normally listens there.
var threatGroups = map[string]bool{"iot": true, "amplification": true, "trojans": true}

// notableSections renders the embedded list for language l: each port links
// to its page and carries the name of the intel entry that covers it on its
// protocol (see threatGroups for which kind comes first). Ports without an
// entry are left out.
func (s *Site) notableSections(l i18n.Lang) []notableSection {
	if s.opt.Intel == nil {
		return nil
	}
	groups, err := parseNotablePorts(notablePortsText)
	if err != nil {
		return nil // the embedded file is checked by TestNotablePortsParse
	}
	var out []notableSection
	for _, g := range groups {
		sec := notableSection{Label: i18n.T(l, "web.notable."+g.Key)}
		for _, np := range g.Ports {
			e := notableEntry(s.opt.Intel, np, threatGroups[g.Key])
			if e == nil {
				continue
			}
			item := notable{Port: np.Port, Href: s.portHref(l, np.Port), Name: entryName(l, e)}
			if np.Proto == ports.UDP {
				item.Note = np.Proto.String()
			}
			sec.Items = append(sec.Items, item)
		}
		if len(sec.Items) > 0 {
			out = append(out, sec)
		}
	}
	return out
}

// notableEntry picks the entry to name for a port: among the entries that
// cover it on its protocol, in ForPort's order, the first threat entry when
// preferThreat is set and the first use entry otherwise, falling back to the
// other kind.
func notableEntry(db *intel.DB, np notablePort, preferThreat bool) *intel.Entry {
	var other *intel.Entry
	for _, m := range db.ForPort(np.Port) {
		onProto := false
		for _, r := range m.Entry.Ports {
			if r.Contains(np.Port) && (r.Proto == np.Proto || r.Proto == ports.ProtoNone) {
				onProto = true
				break
			}
		}
		if !onProto {
			continue
		}
		if m.Entry.IsThreat() == preferThreat {
			return m.Entry
		}
		if other == nil {
			other = m.Entry
		}
	}
	return other
}
