package dossier

import (
	"slices"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
)

// Signal says how much a threat on record for a port tells about a listener
// found there. It is computed from the data, never typed by hand.
type Signal string

// The signals. The zero value means the port has no threat on record.
const (
	// SignalDistinctive: the port's threats are not outweighed by any
	// ordinary use (2556 Bagle, 12345 NetBus, 31337 Back Orifice): a
	// listener there is itself a strong signal.
	SignalDistinctive Signal = "distinctive"
	// SignalCommon: the port has a usual occupant on record at least as
	// surely as its threats (8080 web servers, 5000 Flask), or is a system
	// port IANA assigns to a named service (80 http): a threat there says
	// little unless the owner is odd.
	SignalCommon Signal = "common"
)

// Basis codes say why a port's signal is what it is.
const (
	BasisThreatsOnly = "threats-only"     // no use entry outweighs the threats
	BasisUseEntry    = "use-entry"        // a narrow use entry at least as confident as the threats
	BasisSystemPort  = "iana-system-port" // a system port (0-1023) IANA assigns to a named service
)

// narrowUse is the widest port range a use entry may cover and still be
// about a port: an entry for 30000-32767 (Kubernetes NodePorts) does not
// make 31337 a port that something usually occupies.
const narrowUse = 64

// Occupant is a use entry that says what usually listens on a port.
type Occupant struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	NameKO     string   `json:"name_ko,omitempty"` // Name in Korean, when it has common words
	Confidence string   `json:"confidence"`
	Programs   []string `json:"programs,omitempty"`
	// Narrow is false for an entry about a wide range of ports; such an
	// entry names programs but does not make the port common.
	Narrow bool `json:"narrow"`
}

// NameIn is the entry's name in lang (see Intel.NameIn).
func (o *Occupant) NameIn(lang i18n.Lang) string {
	return nameIn(lang, o.Name, o.NameKO)
}

// Relevance is what a port's intel means for a listener there: what
// usually runs on it and how distinctive its threats are.
type Relevance struct {
	Expected []Occupant `json:"expected"`
	Signal   Signal     `json:"threat_signal,omitempty"` // "" when no threat is on record
	Basis    string     `json:"threat_signal_basis,omitempty"`
	// byProto is set, for any protocol (ProtoNone), when the protocols
	// that have threats get different signals (4444: distinctive on tcp,
	// where Metasploit is on record, while the use entry that would make
	// it common is about udp): the signal of each, in ports.Protos order.
	port    int
	byProto []protoRelevance
}

// protoRelevance is the relevance of a port on one protocol.
type protoRelevance struct {
	proto ports.Proto
	rel   Relevance
}

// Usual names the occupants that "this port is usually" names: the most
// confident of the narrow ones (on 3000 the development servers and
// Grafana, recorded with high confidence, and not a tunnel recorded with
// low). info, the site, who, list and audit all say the same.
func (r *Relevance) Usual() []Occupant {
	top := 0
	for _, o := range r.Expected {
		if o.Narrow {
			top = max(top, intel.Confidence(o.Confidence).Rank())
		}
	}
	var out []Occupant
	for _, o := range r.Expected {
		if o.Narrow && intel.Confidence(o.Confidence).Rank() == top {
			out = append(out, o)
		}
	}
	return out
}

// Programs returns every executable base name the occupants name.
func (r *Relevance) Programs() []string {
	var out []string
	for _, o := range r.Expected {
		for _, p := range o.Programs {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// ExpectsProgram reports whether name (an executable's base name) is a
// usual occupant of the port.
func (r *Relevance) ExpectsProgram(name string) bool {
	if name == "" {
		return false
	}
	for _, o := range r.Expected {
		if slices.Contains(o.Programs, name) {
			return true
		}
	}
	return false
}

// BasisPerProtocol says that a port's protocols differ (see
// Relevance.byProto): the signal is then distinctive, the stronger one,
// since on some protocol a listener is a finding whatever its program.
const BasisPerProtocol = "per-protocol"

// RelevanceOf computes the relevance of port on proto (ProtoNone: any) from
// the intel matches for the port (intel.DB.ForPort) and the registry (x may
// be nil: then only intel counts).
//
// The rules: a use entry covering the port on proto is an occupant. The
// port is common when a narrow occupant (at most 64 ports) is on record
// with at least the confidence of the strongest threat, or when it is a
// system port (0-1023) that IANA assigns to a named service with a full
// record; otherwise, when a threat is on record, it is distinctive.
func RelevanceOf(port int, proto ports.Proto, matches []intel.Match, x *registry.Index) Relevance {
	rel := relevanceOn(port, proto, matches, x)
	if proto != ports.ProtoNone || rel.Signal == "" {
		return rel
	}
	// For any protocol, a use entry must not outweigh a threat it shares
	// no protocol with: audit judges each listener on its own protocol.
	// The protocols to weigh are the threats': a threat about any
	// protocol counts for tcp and udp, as intel's "tcp/udp" does.
	var threatens [ports.DCCP + 1]bool
	for _, m := range matches {
		if m.Entry.IsThreat() {
			if m.Proto == ports.ProtoNone {
				threatens[ports.TCP], threatens[ports.UDP] = true, true
			} else {
				threatens[m.Proto] = true
			}
		}
	}
	var byProto []protoRelevance
	same := true
	for _, p := range ports.Protos {
		if !threatens[p] {
			continue
		}
		pr := relevanceOn(port, p, matches, x)
		if pr.Signal == "" {
			continue // no threat on record for p
		}
		byProto = append(byProto, protoRelevance{proto: p, rel: pr})
		same = same && pr.Signal == rel.Signal
	}
	if !same {
		rel.Signal, rel.Basis, rel.port, rel.byProto = SignalDistinctive, BasisPerProtocol, port, byProto
	}
	return rel
}

// relevanceOn is RelevanceOf with every entry about any protocol when
// proto is ProtoNone.
func relevanceOn(port int, proto ports.Proto, matches []intel.Match, x *registry.Index) Relevance {
	rel := Relevance{Expected: []Occupant{}}
	threatRank, useRank := 0, 0
	for _, m := range matches {
		if proto != ports.ProtoNone && m.Proto != ports.ProtoNone && m.Proto != proto {
			continue
		}
		e := m.Entry
		rank := e.Confidence.Rank()
		if e.IsThreat() {
			threatRank = max(threatRank, rank)
			continue
		}
		if !e.IsOccupant() {
			continue // a scan note says what a report means, not what listens
		}
		o := Occupant{ID: e.ID, Name: e.Name, NameKO: e.NameKO, Confidence: string(e.Confidence), Programs: e.Programs,
			Narrow: narrowest(e, port) <= narrowUse}
		rel.Expected = append(rel.Expected, o)
		if o.Narrow {
			useRank = max(useRank, rank)
		}
	}
	if threatRank == 0 {
		return rel
	}
	switch {
	case useRank > 0 && useRank >= threatRank:
		rel.Signal, rel.Basis = SignalCommon, BasisUseEntry
	case x != nil && namedSystemPort(port, proto, x):
		rel.Signal, rel.Basis = SignalCommon, BasisSystemPort
	default:
		rel.Signal, rel.Basis = SignalDistinctive, BasisThreatsOnly
	}
	return rel
}

// narrowest is the width of the narrowest reference of e covering port.
func narrowest(e *intel.Entry, port int) int {
	w := ports.Max + 1
	for _, r := range e.Ports {
		if r.Contains(port) {
			w = min(w, r.High-r.Low+1)
		}
	}
	return w
}

// namedSystemPort reports whether port is a system port that IANA assigns
// to a named service on proto (any protocol for ProtoNone), with a real
// record (not a ghost registration).
func namedSystemPort(port int, proto ports.Proto, x *registry.Index) bool {
	if port < 0 || port > 1023 || x.Ghost(port) {
		return false
	}
	for _, r := range x.Port(port) {
		if r.Name != "" && (proto == ports.ProtoNone || r.Proto == proto || r.Proto == ports.ProtoNone) {
			return true
		}
	}
	return false
}
