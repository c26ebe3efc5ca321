package audit

import (
	"net/netip"
	"path"
	"strconv"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/ports"
)

// matchSocket reports whether the socket part of r (protocol, port,
// address, namespace, container) accepts row; eph is the host's ephemeral
// range for "ephemeral" rules.
func (r *Rule) matchSocket(row *dossier.Listener, addr netip.Addr, eph [2]int) bool {
	if r.Proto != ports.ProtoNone && r.Proto != row.Proto {
		return false
	}
	switch {
	case r.AnyPort:
	case r.Ephemeral:
		if eph[0] == 0 || row.Port < eph[0] || row.Port > eph[1] {
			return false
		}
	default:
		if row.Port < r.Low || row.Port > r.High {
			return false
		}
	}
	switch r.addrKind {
	case addrLoopback:
		if !addr.IsLoopback() {
			return false
		}
	case addrWildcard:
		if !addr.IsUnspecified() {
			return false
		}
	case addrExact:
		if addr != r.addr {
			return false
		}
	case addrPrefix:
		if !r.prefix.Contains(addr) {
			return false
		}
	}
	switch r.NetNS {
	case "":
	case "host":
		if !row.HostNetNS {
			return false
		}
	case "other":
		if row.HostNetNS {
			return false
		}
	default:
		if row.NetNS != r.netnsInode {
			return false
		}
	}
	if r.Container != "" && !glob(r.Container, row.Container) {
		return false
	}
	return true
}

// matchOwner reports whether the owner part of r (exe, name, user, unit)
// accepts row. A rule that names an owner never accepts a socket whose
// owner is unknown.
func (r *Rule) matchOwner(row *dossier.Listener) bool {
	if r.Exe != "" && (row.Exe == "" || !glob(r.Exe, row.Exe)) {
		return false
	}
	if r.Name != "" && (row.Process == "" || !glob(r.Name, row.Process)) {
		return false
	}
	if r.User != "" && r.User != row.User && r.User != strconv.Itoa(row.UID) {
		return false
	}
	if r.Unit != "" && !glob(r.Unit, row.Unit) {
		return false
	}
	return true
}

func glob(pattern, s string) bool {
	ok, _ := path.Match(pattern, s) // patterns were checked by Parse
	return ok
}

// Match is the outcome of looking a listener up in a baseline.
type Match struct {
	// Rule explains the listener (socket and owner match); -1 if none.
	Rule int
	// Changed is a rule whose socket part matches but whose owner does not;
	// -1 if none. It is only set when Rule is -1.
	Changed int
}

// Lookup finds the first rule (in file order) that explains row, or else
// the first rule that expects the same socket with another owner. eph is
// the host's ephemeral range (zero if unknown).
func (b *Baseline) Lookup(row *dossier.Listener, eph [2]int) Match {
	m := Match{Rule: -1, Changed: -1}
	if b == nil || len(b.Rules) == 0 {
		return m
	}
	addr := row.Addr.Unmap()
	try := func(idx []int32) {
		for _, i := range idx {
			if m.Rule >= 0 && int(i) > m.Rule {
				return // lists are in file order; a later rule cannot win
			}
			r := &b.Rules[i]
			if !r.matchSocket(row, addr, eph) {
				continue
			}
			if r.matchOwner(row) {
				if m.Rule < 0 || int(i) < m.Rule {
					m.Rule = int(i)
				}
			} else if r.HasOwner() && (m.Changed < 0 || int(i) < m.Changed) {
				m.Changed = int(i)
			}
		}
	}
	try(b.byPort[portKey(row.Proto, row.Port)])
	try(b.byPort[portKey(ports.ProtoNone, row.Port)])
	try(b.wide)
	if m.Rule >= 0 {
		m.Changed = -1
	}
	return m
}
