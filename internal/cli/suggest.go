package cli

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
)

// suggestion is one port proposed for a new service, with the reasons it
// qualifies.
type suggestion struct {
	Port    int      `json:"port"`
	Reasons []string `json:"reasons"`
}

// suggestOut is `porthole suggest --json`: the picks, the range they come
// from, and the ephemeral range left out (null when unknown).
type suggestOut struct {
	Candidates  int          `json:"candidates"`
	Range       span         `json:"range"`
	Ephemeral   *span        `json:"ephemeral"`
	Suggestions []suggestion `json:"suggestions"`
}

// span is a port range in JSON.
type span struct {
	Low  int `json:"low"`
	High int `json:"high"`
}

func runSuggest(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "suggest", "[flags]", "Pick ports for a new service: unassigned at IANA for tcp and udp, with no intel entry, outside this machine's ephemeral range, and free here. Each pick is explained.")
	asJSON := fs.Bool("json", false, "print JSON")
	count := fs.Int("count", 3, "how many ports to suggest (1-100)")
	rangeName := fs.String("range", "registered", "range to pick from: registered, dynamic, or LOW-HIGH")
	seed := fs.Uint64("seed", 0, "seed for a repeatable pick (0: random)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("suggest takes no arguments (got %s)", quoteArg(rest[0]))
	}
	if *count < 1 || *count > 100 {
		return usagef("--count %d: give 1 to 100", *count)
	}
	low, high, err := suggestRange(*rangeName)
	if err != nil {
		return err
	}
	k, err := loadKnowledge(env)
	if err != nil {
		return err
	}
	ephLow, ephHigh, ephErr := env.Ephemeral()
	ls, err := sockets.List(ctx, sockets.Query{NoOwners: true})
	if err != nil {
		return listError(err)
	}
	busy := map[int]bool{}
	for _, l := range ls {
		busy[l.Port] = true
	}
	var candidates []int
	for p := low; p <= high; p++ {
		if ephErr == nil && p >= ephLow && p <= ephHigh {
			continue
		}
		if k.reg.StatusOf(p, ports.TCP) != registry.StatusUnassigned && !ports.Dynamic.Contains(p) {
			continue
		}
		if k.reg.StatusOf(p, ports.UDP) != registry.StatusUnassigned && !ports.Dynamic.Contains(p) {
			continue
		}
		if len(k.reg.Port(p)) > 0 && !allUnassignedRows(k.reg, p) {
			continue
		}
		if len(k.intel.ForPort(p)) > 0 {
			continue
		}
		candidates = append(candidates, p)
	}
	s := *seed
	if s == 0 {
		s = rand.Uint64()
	}
	rng := rand.New(rand.NewPCG(s, s>>1|1))
	rng.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	var out []suggestion
	// The shuffle comes before the check for free ports, so that a seed
	// picks the same ports while they stay free.
	for _, p := range candidates {
		if len(out) == *count {
			break
		}
		// The listener list may be a moment old; a bind test settles it.
		// A port in use is skipped; a bind that fails for another reason
		// (permission, no sockets left) says nothing about the port and
		// would fail the same way on every other, so the search stops.
		if busy[p] {
			continue
		}
		free, err := bindFree(p)
		if err != nil {
			return err
		}
		if !free {
			continue
		}
		reasons := []string{fmt.Sprintf("%s range, %s at IANA for tcp and udp", ports.RangeOf(p).Name, k.reg.StatusOf(p, ports.TCP))}
		reasons = append(reasons, "no threat or use on record in porthole's intel")
		if ephErr == nil {
			reasons = append(reasons, fmt.Sprintf("outside this machine's ephemeral range %d-%d", ephLow, ephHigh))
		}
		reasons = append(reasons, "free here: nothing listens on it, and tcp and udp binds succeed")
		out = append(out, suggestion{Port: p, Reasons: reasons})
	}
	if len(out) == 0 {
		return &notFound{fmt.Sprintf("no port in %d-%d meets every condition", low, high)}
	}
	if *asJSON {
		o := suggestOut{Candidates: len(candidates), Range: span{low, high}, Suggestions: out}
		if ephErr == nil {
			o.Ephemeral = &span{ephLow, ephHigh}
		}
		return writeJSON(env.Stdout, o)
	}
	t := newText(env, "en")
	for _, s := range out {
		t.line(t.bold(fmt.Sprint(s.Port)))
		for _, r := range s.Reasons {
			t.hang(2, 4, "- "+r)
		}
	}
	t.line(t.dim(fmt.Sprintf("picked at random from %d unassigned, clean numbers in %d-%d", len(candidates), low, high)))
	return t.err
}

// bindFree tests p for tcp and udp: true when both binds succeed, false
// when either is in use, and an error when a bind could not be tried.
func bindFree(p int) (bool, error) {
	for _, proto := range []string{"tcp", "udp"} {
		err := sockets.CheckPort(proto, p)
		var be *sockets.BindError
		switch {
		case err == nil:
		case errors.As(err, &be):
			return false, fmt.Errorf("suggest stopped: %w; no port can be checked until this is fixed", err)
		default:
			return false, nil
		}
	}
	return true, nil
}

// allUnassignedRows reports whether every registry row on p is an
// Unassigned row (so the port has no history of a name).
func allUnassignedRows(x *registry.Index, p int) bool {
	for _, r := range x.Port(p) {
		if r.Kind() != registry.Unassigned {
			return false
		}
	}
	return true
}

func suggestRange(s string) (int, int, error) {
	if r, ok := ports.RangeByName(s); ok {
		if r == ports.WellKnown {
			return 0, 0, usagef("--range %s: well-known ports need privileges and IANA review; pick from registered or dynamic", s)
		}
		return r.Low, r.High, nil
	}
	spec, err := ports.ParseSpec(s)
	if err != nil || spec.IsService() || spec.Proto != ports.ProtoNone || !strings.Contains(s, "-") {
		return 0, 0, usagef("--range %s: use registered, dynamic, or LOW-HIGH such as 20000-30000", quoteArg(s))
	}
	if spec.Low < 1024 {
		return 0, 0, usagef("--range %s: start at 1024 or above", quoteArg(s))
	}
	return spec.Low, spec.High, nil
}
