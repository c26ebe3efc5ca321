// Package suggest picks port numbers for a new service: numbers that IANA
// has not assigned for tcp or udp (the dynamic range is never assigned),
// that no intel entry names, outside the machine's ephemeral range, and
// free on this machine. The command line phrases the picks; this package
// only chooses them.
package suggest

import (
	"math/rand/v2"
	"slices"

	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
)

// Options bound the choice.
type Options struct {
	Low, High int // the range to pick from, inclusive
	// EphemeralLow and EphemeralHigh are the machine's ephemeral range,
	// left out; both 0 when it is not known.
	EphemeralLow, EphemeralHigh int
}

// Candidates returns, in order, the numbers of o's range that qualify by
// the data alone: outside the ephemeral range, unassigned for tcp and udp
// (or in the dynamic range), with no registry row other than an
// Unassigned one, and with no intel entry.
func Candidates(reg *registry.Index, db *intel.DB, o Options) []int {
	var out []int
	for p := o.Low; p <= o.High; p++ {
		if o.EphemeralHigh > 0 && p >= o.EphemeralLow && p <= o.EphemeralHigh {
			continue
		}
		if !Unassigned(reg, p) || len(db.ForPort(p)) > 0 {
			continue
		}
		out = append(out, p)
	}
	return out
}

// Refusals counts why the numbers of o's range are not candidates, each
// number under the first condition it fails, in Candidates' order.
type Refusals struct {
	Ephemeral int // in the machine's ephemeral range
	Registry  int // assigned or reserved at IANA, or with a registry row
	Intel     int // named by an intel entry
	// IntelBy counts the Intel numbers by the name of the first entry
	// that names each (the Windows dynamic port range note covers all of
	// 49152-65535), and IntelOrder lists those names by count, largest
	// first.
	IntelBy    map[string]int
	IntelOrder []string
}

// Refuse says, for a range with few or no candidates, why its numbers
// were left out.
func Refuse(reg *registry.Index, db *intel.DB, o Options) Refusals {
	r := Refusals{IntelBy: map[string]int{}}
	for p := o.Low; p <= o.High; p++ {
		switch {
		case o.EphemeralHigh > 0 && p >= o.EphemeralLow && p <= o.EphemeralHigh:
			r.Ephemeral++
		case !Unassigned(reg, p):
			r.Registry++
		default:
			if m := db.ForPort(p); len(m) > 0 {
				r.Intel++
				name := m[0].Entry.Name
				if r.IntelBy[name] == 0 {
					r.IntelOrder = append(r.IntelOrder, name)
				}
				r.IntelBy[name]++
			}
		}
	}
	slices.SortStableFunc(r.IntelOrder, func(a, b string) int { return r.IntelBy[b] - r.IntelBy[a] })
	return r
}

// Unassigned reports whether reg gives p no service for tcp and udp: its
// status is unassigned for both (or p is in the dynamic range, which IANA
// never assigns), and every registry row on p is an Unassigned row, so
// the number has no history of a name.
func Unassigned(reg *registry.Index, p int) bool {
	dynamic := ports.Dynamic.Contains(p)
	for _, proto := range []ports.Proto{ports.TCP, ports.UDP} {
		if reg.StatusOf(p, proto) != registry.StatusUnassigned && !dynamic {
			return false
		}
	}
	for _, r := range reg.Port(p) {
		if r.Kind() != registry.Unassigned {
			return false
		}
	}
	return true
}

// Pick shuffles a copy of candidates with seed (a seed of 0 picks one at
// random) and returns the first count that free reports free, in the
// shuffled order. The shuffle comes before the check, so that a seed picks
// the same ports while they stay free. An error from free (a check that
// could not be tried at all) stops the search and is returned.
func Pick(candidates []int, seed uint64, count int, free func(port int) (bool, error)) ([]int, error) {
	if seed == 0 {
		seed = rand.Uint64()
	}
	c := append([]int(nil), candidates...)
	rng := rand.New(rand.NewPCG(seed, seed>>1|1))
	rng.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
	var out []int
	for _, p := range c {
		if len(out) == count {
			break
		}
		ok, err := free(p)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p)
		}
	}
	return out, nil
}
