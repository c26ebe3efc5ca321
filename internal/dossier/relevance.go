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
