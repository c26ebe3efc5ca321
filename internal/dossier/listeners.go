package dossier

import (
	"net/netip"
	"strconv"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
)

// ListenerRow is one live listener as `porthole who` and `porthole list`
// print it, `--json` emits it, the audit judges it and the web page shows
// it: the socket, its owner, and what the registry and intel say about the
// port. PID is null (never 0) when no owner is visible; OwnerUnknown says
// why as a stable code and OwnerUnknownReason in English words. The JSON
// form (json.go) writes null for every unknown value and keeps every field.
type ListenerRow struct {
	Proto              string               `json:"proto"`
	Family             int                  `json:"family"`
	Address            string               `json:"address"`
	Port               int                  `json:"port"`
	PID                *int                 `json:"pid"`
	PIDs               []int                `json:"pids,omitempty"` // every process holding the socket, when several do
	OwnerUnknown       sockets.OwnerUnknown `json:"owner_unknown,omitempty"`
	OwnerUnknownReason string               `json:"owner_unknown_reason"`
	Process            string               `json:"process"`
	UID                int                  `json:"uid"` // the socket's owner uid; -1 when unknown
	User               string               `json:"user"`
	Exe                string               `json:"exe"`
	ExeDeleted         bool                 `json:"exe_deleted"`
	Cmdline            []string             `json:"cmdline"`
	NetNS              uint64               `json:"netns"`
	NetNSName          string               `json:"netns_name,omitempty"` // "ip netns" name of NetNS, when it has one (see NameNetNS)
	HostNetNS          bool                 `json:"host_netns"`
	Container          string               `json:"container"`
	ContainerName      string               `json:"container_name"` // the runtime's name for Container, when readable
	Unit               string               `json:"unit"`
	DualStack          bool                 `json:"dual_stack"`
	Loopback           bool                 `json:"loopback"`
	Inode              uint64               `json:"inode,omitempty"`
	// Service is the IANA name for the port and protocol ("" if none);
	// Status is the registry's status for them.
	Service string `json:"service"`
	Status  string `json:"status"`
	// Threat is the name of the strongest intel threat on record for the
	// port and protocol ("" if none), with its confidence and id.
	Threat           string `json:"threat"`
	ThreatConfidence string `json:"threat_confidence,omitempty"`
	ThreatID         string `json:"threat_id,omitempty"`
	ThreatKind       string `json:"threat_kind,omitempty"` // intel kind: worm, backdoor, c2, …
	// Use is the name of an unofficial use on record for the port, if any.
	Use string `json:"use,omitempty"`
	// Expected names what usually listens on the port (intel use entries),
	// ExpectedPrograms their executables' base names, and ThreatSignal how
	// much the port's threat says about a listener ("distinctive",
	// "common"; "" when no threat is on record). See RelevanceOf.
	Expected         []string `json:"expected,omitempty"`
	ExpectedPrograms []string `json:"expected_programs,omitempty"`
	ThreatSignal     Signal   `json:"threat_signal,omitempty"`
	// Flag is the one-word reason of the most severe finding porthole
	// audit would report about this listener at low or above, without a
	// baseline ("worm", "tmp-exe"; "" for none). list and who set it.
	Flag         string `json:"flag,omitempty"`
	FlagSeverity string `json:"flag_severity,omitempty"`
}

// NameNetNS sets NetNSName of the rows in another network namespace that
// names (sockets.NetNSNames) knows.
func NameNetNS(rows []ListenerRow, names map[uint64]string) {
	for i := range rows {
		if r := &rows[i]; !r.HostNetNS && r.NetNS != 0 {
			r.NetNSName = names[r.NetNS]
		}
	}
}

// OwnerUnknownText phrases why a listener has no owner in lang.
func OwnerUnknownText(lang i18n.Lang, c sockets.OwnerUnknown) string {
	if c == sockets.OwnerKnown {
		return i18n.T(lang, "owner.unknown")
	}
	return i18n.T(lang, "owner.unknown."+c.String())
}

// OwnerWarning is sockets.OwnerWarning in English.
func OwnerWarning(ls []sockets.Listener) string {
	return sockets.OwnerWarning(ls, func(c sockets.OwnerUnknown) string { return OwnerUnknownText(i18n.EN, c) })
}

// NetNSLabel names the socket's network namespace for people: "" for the
// host's, else the `ip netns` name, the owning container's name, or the
// namespace inode.
func (r *ListenerRow) NetNSLabel() string {
	switch {
	case r.HostNetNS || r.NetNS == 0:
		return ""
	case r.NetNSName != "":
		return r.NetNSName
	case r.ContainerName != "":
		return "container " + r.ContainerName
	}
	return strconv.FormatUint(r.NetNS, 10)
}

// HostPort is the socket's address and port as people write them:
// "127.0.0.1:2556", "[::1]:2556".
func (r *ListenerRow) HostPort() string {
	if r.Family == 6 {
		return "[" + r.Address + "]:" + strconv.Itoa(r.Port)
	}
	return r.Address + ":" + strconv.Itoa(r.Port)
}

// Annotate turns listeners into rows, joined with the registry and intel
// (db may be nil). The registry and intel are consulted once per distinct
// port and protocol; intel only for ports that some entry covers at all.
func Annotate(ls []sockets.Listener, x *registry.Index, db *intel.DB) []ListenerRow {
	rows := make([]ListenerRow, len(ls))
	type key struct {
		port  int
		proto string
	}
	type ann struct {
		service, status, threat, confidence, id, kind, use string
		expected, programs                                 []string
		signal                                             Signal
	}
	var covered *portSet
	if db != nil {
		covered = intelPorts(db)
	}
	names := map[key]*ann{}
	pids := make([]int, len(ls)) // backing store for the rows' PID pointers
	var lastAddr netip.Addr      // most rows share a few addresses: format each run once
	var lastAddrS string
	for i := range ls {
		l := &ls[i]
		r := &rows[i]
		if i == 0 || l.Addr != lastAddr {
			lastAddr, lastAddrS = l.Addr, l.Addr.String()
		}
		*r = ListenerRow{
			Proto: l.Proto, Family: l.Family, Address: lastAddrS, Port: l.Port,
			OwnerUnknown: l.OwnerUnknown, UID: l.UID, NetNS: l.NetNS, HostNetNS: l.HostNetNS,
			DualStack: l.DualStack, Loopback: l.Addr.IsLoopback(), Inode: l.Inode, Cmdline: []string{},
		}
		if len(l.Owners) > 0 {
			o := &l.Owners[0]
			pids[i] = o.PID
			r.PID = &pids[i]
			r.Process, r.Exe, r.ExeDeleted, r.User = o.Name, o.Exe, o.ExeDeleted, o.User
			r.Container, r.ContainerName, r.Unit = o.Container, o.ContainerName, o.Unit
			if o.Cmdline != nil {
				r.Cmdline = o.Cmdline
			}
			if r.UID < 0 {
				r.UID = o.UID
			}
			if len(l.Owners) > 1 {
				r.PIDs = make([]int, len(l.Owners))
				for j := range l.Owners {
					r.PIDs[j] = l.Owners[j].PID
				}
			}
			r.OwnerUnknown = sockets.OwnerKnown
		} else {
			r.OwnerUnknownReason = OwnerUnknownText(i18n.EN, l.OwnerUnknown)
		}
		k := key{l.Port, l.Proto}
		a, ok := names[k]
		if !ok {
			st := x.StatusOf(l.Port, protoOf(l.Proto))
			intelDB := db
			if covered != nil && !covered.has(l.Port) {
				intelDB = nil // no entry mentions the port: skip the scan
			}
			if intelDB == nil && st != registry.StatusAssigned {
				// Nothing to look up: the status is all there is, and
				// not worth a cache entry (most listeners on a busy
				// host are on such ports).
				r.Status = string(st)
				continue
			}
			a = &ann{status: string(st)}
			var threat *intel.Match
			// Only a named row makes a port assigned, so other ports have
			// no service name to look for.
			var matches []intel.Match
			a.service, threat, a.use, matches = annotate(l.Port, l.Proto, x, intelDB, st == registry.StatusAssigned)
			if threat != nil {
				a.threat, a.confidence, a.id, a.kind = threat.Entry.Name, string(threat.Entry.Confidence), threat.Entry.ID, string(threat.Entry.Kind)
			}
			if len(matches) > 0 {
				rel := RelevanceOf(l.Port, protoOf(l.Proto), matches, x)
				a.signal, a.programs = rel.Signal, rel.Programs()
				for _, o := range rel.Expected {
					a.expected = append(a.expected, o.Name)
				}
			}
			names[k] = a
		}
		r.Service, r.Status, r.Use = a.service, a.status, a.use
		r.Expected, r.ExpectedPrograms, r.ThreatSignal = a.expected, a.programs, a.signal
		if a.threat != "" {
			r.Threat, r.ThreatConfidence, r.ThreatID, r.ThreatKind = a.threat, a.confidence, a.id, a.kind
		}
	}
	return rows
}

// portSet is a bitmap of the 65,536 ports.
type portSet [1024]uint64

func (s *portSet) has(p int) bool {
	return p >= 0 && p < 65536 && s[p>>6]&(1<<(p&63)) != 0
}

func (s *portSet) addRange(lo, hi int) {
	lo, hi = max(lo, 0), min(hi, 65535)
	for p := lo; p <= hi; p++ {
		if p&63 == 0 && p+63 <= hi {
			s[p>>6] = ^uint64(0)
			p += 63
			continue
		}
		s[p>>6] |= 1 << (p & 63)
	}
}

// intelPorts returns the ports that at least one intel entry covers.
func intelPorts(db *intel.DB) *portSet {
	s := new(portSet)
	for _, e := range db.Entries() {
		for _, r := range e.Ports {
			s.addRange(r.Low, r.High)
		}
	}
	return s
}

func protoOf(s string) ports.Proto {
	p, _ := ports.ParseProto(s)
	return p
}

// annotate returns the IANA name, the strongest threat on record, the
// first use's name and every intel match for a port and protocol.
func annotate(port int, proto string, x *registry.Index, db *intel.DB, named bool) (service string, threat *intel.Match, use string, matches []intel.Match) {
	p := protoOf(proto)
	if named {
		for _, r := range x.Port(port) {
			if r.Name != "" && r.ForProto(p) {
				service = r.Name
				break
			}
		}
	}
	if db == nil {
		return service, nil, "", nil
	}
	matches = db.ForPort(port)
	for _, m := range matches {
		if m.Proto != ports.ProtoNone && m.Proto != p {
			continue
		}
		if m.Entry.IsThreat() {
			if threat == nil {
				threat = &m
			}
		} else if use == "" && m.Entry.IsOccupant() {
			use = m.Entry.Name
		}
	}
	return service, threat, use, matches
}
