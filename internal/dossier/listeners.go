package dossier

import (
	"net/netip"
	"strconv"
	"sync"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
)

// Listener is one live listener with what the registry and intel say
// about its port: the value `porthole who`, `list`, `audit`, `watch` and
// `info` compute on. Its facts keep their types (the protocol, the
// address, the code of why no owner is known, the registry status); the
// words are made when it is shown: Row is its JSON form, and the text
// renderers phrase it with the methods below. PID is nil when no owner is
// visible; OwnerUnknown then says why.
type Listener struct {
	Proto        ports.Proto
	Family       int // 4 or 6
	Addr         netip.Addr
	Port         int
	PID          *int
	PIDs         []int // every process holding the socket, when several do
	OwnerUnknown sockets.OwnerUnknown
	Process      string
	UID          int // the socket's owner uid; -1 when unknown
	User         string
	Exe          string
	ExeDeleted   bool
	Cmdline      []string
	NetNS        uint64
	NetNSName    string // "ip netns" name of NetNS, when it has one (see NameNetNS)
	HostNetNS    bool
	Container    string
	// ContainerName is the runtime's name for Container, when readable.
	ContainerName string
	Unit          string
	DualStack     bool
	Inode         uint64
	// Service is the IANA name for the port and protocol ("" if none);
	// Status is the registry's status for them.
	Service string
	Status  registry.Status
	// Threat is the name of the strongest intel threat on record for the
	// port and protocol ("" if none), with its confidence, id and kind.
	Threat           string
	ThreatConfidence intel.Confidence
	ThreatID         string
	ThreatKind       intel.Kind
	// Use is the name of an unofficial use on record for the port, if any.
	Use string
	// Expected names what usually listens on the port (Relevance.Usual:
	// the most confident use entries about it), ExpectedPrograms the
	// executables' base names of every use entry about it (what audit
	// accepts as the port's owner), and ThreatSignal how
	// much the port's threat says about a listener ("" when no threat is on
	// record). See RelevanceOf.
	Expected         []string
	ExpectedPrograms []string
	ThreatSignal     Signal
	// Flag is the one-word reason of the most severe finding porthole
	// audit would report about this listener at low or above, without a
	// baseline ("worm", "tmp-exe"; "" for none), and FlagSeverity its
	// severity's name. list and who set them (audit.Flags).
	Flag         string
	FlagSeverity string
}

// ListenerRow is a Listener as `--json` writes it (docs/json.md): every
// fact a string or a number, and the owner-unknown code with its English
// words. It is made only to be written (Listener.Row), or read back from
// porthole's JSON; nothing computes on it. Its JSON form (json.go) writes
// null for every unknown value and keeps every field.
type ListenerRow struct {
	Proto              string               `json:"proto"`
	Family             int                  `json:"family"`
	Address            string               `json:"address"`
	Port               int                  `json:"port"`
	PID                *int                 `json:"pid"`
	PIDs               []int                `json:"pids,omitempty"`
	OwnerUnknown       sockets.OwnerUnknown `json:"owner_unknown,omitempty"`
	OwnerUnknownReason string               `json:"owner_unknown_reason"`
	Process            string               `json:"process"`
	UID                int                  `json:"uid"`
	User               string               `json:"user"`
	Exe                string               `json:"exe"`
	ExeDeleted         bool                 `json:"exe_deleted"`
	Cmdline            []string             `json:"cmdline"`
	NetNS              uint64               `json:"netns"`
	NetNSName          string               `json:"netns_name,omitempty"`
	HostNetNS          bool                 `json:"host_netns"`
	Container          string               `json:"container"`
	ContainerName      string               `json:"container_name"`
	Unit               string               `json:"unit"`
	DualStack          bool                 `json:"dual_stack"`
	Loopback           bool                 `json:"loopback"`
	Inode              uint64               `json:"inode,omitempty"`
	Service            string               `json:"service"`
	Status             string               `json:"status"`
	Threat             string               `json:"threat"`
	ThreatConfidence   string               `json:"threat_confidence,omitempty"`
	ThreatID           string               `json:"threat_id,omitempty"`
	ThreatKind         string               `json:"threat_kind,omitempty"`
	Use                string               `json:"use,omitempty"`
	Expected           []string             `json:"expected,omitempty"`
	ExpectedPrograms   []string             `json:"expected_programs,omitempty"`
	ThreatSignal       Signal               `json:"threat_signal,omitempty"`
	Flag               string               `json:"flag,omitempty"`
	FlagSeverity       string               `json:"flag_severity,omitempty"`
}

// Row is the listener's JSON form: the protocol and address spelled out,
// and, when no owner is known, why in English.
func (l *Listener) Row() ListenerRow {
	r := ListenerRow{
		Proto: l.Proto.String(), Family: l.Family, Address: l.Addr.String(), Port: l.Port, PID: l.PID, PIDs: l.PIDs,
		OwnerUnknown: l.OwnerUnknown, Process: l.Process, UID: l.UID, User: l.User, Exe: l.Exe, ExeDeleted: l.ExeDeleted,
		Cmdline: l.Cmdline, NetNS: l.NetNS, NetNSName: l.NetNSName, HostNetNS: l.HostNetNS, Container: l.Container,
		ContainerName: l.ContainerName, Unit: l.Unit, DualStack: l.DualStack, Loopback: l.Addr.IsLoopback(), Inode: l.Inode,
		Service: l.Service, Status: string(l.Status), Threat: l.Threat, ThreatConfidence: string(l.ThreatConfidence),
		ThreatID: l.ThreatID, ThreatKind: string(l.ThreatKind), Use: l.Use, Expected: l.Expected,
		ExpectedPrograms: l.ExpectedPrograms, ThreatSignal: l.ThreatSignal, Flag: l.Flag, FlagSeverity: l.FlagSeverity,
	}
	if !l.Addr.IsValid() {
		r.Address = "" // a zero Listener, not one List reported
	}
	if l.PID == nil {
		r.OwnerUnknownReason = OwnerUnknownText(i18n.EN, l.OwnerUnknown)
	}
	return r
}

// NameNetNS sets NetNSName of the listeners in another network namespace
// that names (sockets.NetNSNames) knows.
func NameNetNS(ls []Listener, names map[uint64]string) {
	for i := range ls {
		if l := &ls[i]; !l.HostNetNS && l.NetNS != 0 {
			l.NetNSName = names[l.NetNS]
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

// DualStackText marks a dual-stack socket (an IPv6 wildcard that also
// accepts IPv4) in lang: "(IPv4 and IPv6)".
func DualStackText(lang i18n.Lang) string { return i18n.T(lang, "here.dualstack") }

// Place returns where l listens, which orders listings (see sockets.Place).
func (l *Listener) Place() sockets.Place {
	return sockets.Place{Proto: l.Proto, Port: l.Port, Addr: l.Addr, HostNetNS: l.HostNetNS, NetNS: l.NetNS}
}

// NetNSLabel names the socket's network namespace for people: "" for the
// host's, else the `ip netns` name, the owning container's name, or the
// namespace inode.
func (l *Listener) NetNSLabel() string {
	switch {
	case l.HostNetNS || l.NetNS == 0:
		return ""
	case l.NetNSName != "":
		return l.NetNSName
	case l.ContainerName != "":
		return "container " + l.ContainerName
	}
	return strconv.FormatUint(l.NetNS, 10)
}

// HostPort is the socket's address and port as people write them:
// "127.0.0.1:2556", "[::1]:2556".
func (l *Listener) HostPort() string {
	return string(l.AppendHostPort(nil))
}

// AppendHostPort appends HostPort to b.
func (l *Listener) AppendHostPort(b []byte) []byte {
	return sockets.AppendHostPort(b, l.Family, l.Addr, l.Port)
}

// Annotate joins listeners with the registry and intel (db may be nil).
// The registry and intel are consulted once per distinct port and
// protocol; intel only for ports that some entry covers at all.
//
// A long listing is annotated in two halves at once, each with its own
// cache (the rows are sorted by port, so the halves share at most one):
// most of the time is the first touch of the rows' fresh memory and the
// per-port lookups, and both split cleanly over two cores.
func Annotate(ls []sockets.Listener, x *registry.Index, db *intel.DB) []Listener {
	rows := make([]Listener, len(ls))
	pids := make([]int, len(ls)) // backing store for the rows' PID pointers
	var covered *portSet
	if db != nil {
		covered = intelPorts(db)
	}
	if len(ls) < annotateSplit {
		annotateInto(rows, pids, ls, x, db, covered)
		return rows
	}
	h := len(ls) / 2
	var wg sync.WaitGroup
	wg.Go(func() { annotateInto(rows[h:], pids[h:], ls[h:], x, db, covered) })
	annotateInto(rows[:h], pids[:h], ls[:h], x, db, covered)
	wg.Wait()
	return rows
}

// annotateSplit is the number of listeners from which Annotate works in two
// halves at once (a variable for the tests).
var annotateSplit = 2048

// annotateInto fills rows (and pids, the rows' PID pointers' backing
// store) from ls, one cache lookup per distinct port and protocol.
func annotateInto(rows []Listener, pids []int, ls []sockets.Listener, x *registry.Index, db *intel.DB, covered *portSet) {
	type ann struct {
		service, threat, id, use string
		status                   registry.Status
		confidence               intel.Confidence
		kind                     intel.Kind
		expected, programs       []string
		signal                   Signal
	}
	// By protocol and port in one word: a struct key is hashed as bytes,
	// which on a host with 10,000 listeners was a tenth of Annotate.
	names := make(map[uint32]*ann, len(ls))
	for i := range ls {
		l := &ls[i]
		r := &rows[i]
		*r = Listener{
			Proto: l.Proto, Family: l.Family, Addr: l.Addr, Port: l.Port,
			OwnerUnknown: l.OwnerUnknown, UID: l.UID, NetNS: l.NetNS, HostNetNS: l.HostNetNS,
			DualStack: l.DualStack, Inode: l.Inode, Cmdline: []string{},
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
		}
		k := uint32(l.Proto)<<16 | uint32(uint16(l.Port))
		a, ok := names[k]
		if !ok {
			st := x.StatusOf(l.Port, l.Proto)
			intelDB := db
			if covered != nil && !covered.has(l.Port) {
				intelDB = nil // no entry mentions the port: skip the scan
			}
			if intelDB == nil && st != registry.StatusAssigned {
				// Nothing to look up: the status is all there is, and
				// not worth a cache entry (most listeners on a busy
				// host are on such ports).
				r.Status = st
				continue
			}
			a = &ann{status: st}
			var threat *intel.Match
			// Only a named row makes a port assigned, so other ports have
			// no service name to look for.
			var matches []intel.Match
			a.service, threat, a.use, matches = annotate(l.Port, l.Proto, x, intelDB, st == registry.StatusAssigned)
			if threat != nil {
				a.threat, a.confidence, a.id, a.kind = threat.Entry.Name, threat.Entry.Confidence, threat.Entry.ID, threat.Entry.Kind
			}
			if len(matches) > 0 {
				rel := RelevanceOf(l.Port, l.Proto, matches, x)
				a.signal, a.programs = rel.Signal, rel.Programs()
				for _, o := range rel.Usual() {
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

// annotate returns the IANA name, the strongest threat on record, the
// first use's name and every intel match for a port and protocol.
func annotate(port int, p ports.Proto, x *registry.Index, db *intel.DB, named bool) (service string, threat *intel.Match, use string, matches []intel.Match) {
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
