package cli

import (
	"fmt"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
)

// knowledge is the registry and intel a command works from.
type knowledge struct {
	reg   *registry.Index
	intel *intel.DB // nil for a one-shot lookup: see loadRegistry
	err   error     // the first intel error met by a one-shot lookup
}

// loadRegistry opens the registry only: a one-shot command (info) then
// reads intel port by port with intel.Lookup, which parses only the stanzas
// it needs.
func loadRegistry(env *Env) *knowledge {
	reg, err := registry.Default(env.Getenv)
	if err != nil {
		fmt.Fprintln(env.Stderr, "porthole: warning:", err)
	}
	return &knowledge{reg: reg}
}

// fewPorts is the most ports for which a command reads intel port by port
// (intel.Lookup parses only the stanzas covering one port, ~60 µs) rather
// than all of it (intel.Default, ~450 µs).
const fewPorts = 4

// loadIntelFor gives k (from loadRegistry) the intel about ports: the
// entries covering them, read port by port when they are few, else all of
// it. For those ports it answers exactly as the whole data does.
func (k *knowledge) loadIntelFor(ps []int) error {
	if len(ps) > fewPorts {
		db, err := intel.Default()
		if err != nil {
			return fmt.Errorf("loading intel: %w", err)
		}
		k.intel = db
		return nil
	}
	entries := []intel.Entry{}
	seen := map[string]bool{}
	for _, p := range ps {
		ms, err := intel.Lookup(p)
		if err != nil {
			return fmt.Errorf("loading intel: %w", err)
		}
		for _, m := range ms {
			if !seen[m.Entry.ID] {
				seen[m.Entry.ID] = true
				entries = append(entries, *m.Entry)
			}
		}
	}
	k.intel = intel.New(entries)
	return nil
}

// loadKnowledge opens the registry in use and the intel. A damaged cache
// file is a warning (the built-in registry is used); damaged intel is a
// build fault, reported as a failure.
func loadKnowledge(env *Env) (*knowledge, error) {
	reg, err := registry.Default(env.Getenv)
	if err != nil {
		fmt.Fprintln(env.Stderr, "porthole: warning:", err)
	}
	db, err := intel.Default()
	if err != nil {
		return nil, fmt.Errorf("loading intel: %w", err)
	}
	return &knowledge{reg: reg, intel: db}, nil
}

func (k *knowledge) sources(env *Env) dossier.Sources {
	src := dossier.Sources{Registry: k.reg, Intel: k.intel, Now: env.Now}
	if k.intel == nil {
		src.IntelLookup = func(port int) []intel.Match {
			m, err := intel.Lookup(port)
			if err != nil && k.err == nil {
				k.err = fmt.Errorf("loading intel: %w", err)
			}
			return m
		}
	}
	if lo, hi, err := env.Ephemeral(); err == nil {
		src.EphemeralLow, src.EphemeralHigh = lo, hi
	}
	return src
}

// resolve turns a PORT spec into port numbers. A service name becomes the
// ports of its registry rows (for the spec's protocol, if given); an unknown
// name is a bad argument.
func (k *knowledge) resolve(spec ports.Spec) ([]int, error) {
	if !spec.IsService() {
		out := make([]int, 0, spec.High-spec.Low+1)
		for p := spec.Low; p <= spec.High; p++ {
			out = append(out, p)
		}
		return out, nil
	}
	seen := map[int]bool{}
	var out []int
	for _, r := range k.reg.Name(spec.Service) {
		if !r.HasPort() || (spec.Proto != ports.ProtoNone && !r.ForProto(spec.Proto)) {
			continue
		}
		for p := r.Low; p <= r.High; p++ {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		return nil, &ports.SpecError{Token: spec.String(),
			Reason: fmt.Sprintf("no service of that name has a port in the IANA registry; try 'porthole search %s'", spec.Service)}
	}
	return out, nil
}
