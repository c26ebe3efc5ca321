package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/sockets"
	"github.com/porthole/porthole/internal/suggest"
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

// suggestOptions are `porthole suggest`'s flags.
type suggestOptions struct {
	json      bool
	count     int
	low, high int // --range, resolved
	seed      uint64
}

var suggestCmd = &cmdDef[suggestOptions]{name: "suggest", args: "[flags]",
	help: "Pick ports for a new service: unassigned at IANA for tcp and udp, with no intel entry, outside this machine's ephemeral range, and free here. Each pick is explained; when none qualifies (exit status 1), the message counts the numbers each condition ruled out.",
	flags: func(fs *cmdFlags, o *suggestOptions) func([]string) error {
		fs.BoolVar(&o.json, "json", false, "print JSON")
		fs.IntVar(&o.count, "count", 3, "how many ports to suggest (1-100)")
		rangeName := fs.String("range", "registered", "range to pick from: registered, dynamic, or LOW-HIGH")
		fs.Uint64Var(&o.seed, "seed", 0, "seed for a repeatable pick (0: random)")
		return func(rest []string) error {
			if err := noArgs("suggest")(rest); err != nil {
				return err
			}
			if o.count < 1 || o.count > 100 {
				return usagef("--count %d: give 1 to 100", o.count)
			}
			var err error
			o.low, o.high, err = suggestRange(*rangeName)
			return err
		}
	},
}

func runSuggest(ctx context.Context, env *Env, o suggestOptions) error {
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
	opt := suggest.Options{Low: o.low, High: o.high}
	if ephErr == nil {
		opt.EphemeralLow, opt.EphemeralHigh = ephLow, ephHigh
	}
	candidates := suggest.Candidates(k.reg, k.intel, opt)
	// The listener list may be a moment old; a bind test settles it. A
	// port in use is skipped; a bind that fails for another reason
	// (permission, no sockets left) says nothing about the port and would
	// fail the same way on every other, so the search stops.
	picks, err := suggest.Pick(candidates, o.seed, o.count, func(p int) (bool, error) {
		if busy[p] {
			return false, nil
		}
		return bindFree(p)
	})
	if err != nil {
		return err
	}
	var out []suggestion
	for _, p := range picks {
		reasons := []string{fmt.Sprintf("%s range, %s at IANA for tcp and udp", ports.RangeOf(p).Name, k.reg.StatusOf(p, ports.TCP))}
		reasons = append(reasons, "no threat or use on record in porthole's intel")
		if ephErr == nil {
			reasons = append(reasons, fmt.Sprintf("outside this machine's ephemeral range %d-%d", ephLow, ephHigh))
		}
		reasons = append(reasons, "free here: nothing listens on it, and tcp and udp binds succeed")
		out = append(out, suggestion{Port: p, Reasons: reasons})
	}
	low, high := o.low, o.high
	if len(out) == 0 {
		return &notFound{fmt.Sprintf("no port in %d-%d meets every condition: %s", low, high,
			refusals(suggest.Refuse(k.reg, k.intel, opt), len(candidates), opt))}
	}
	if o.json {
		j := suggestOut{Candidates: len(candidates), Range: span{low, high}, Suggestions: out}
		if ephErr == nil {
			j.Ephemeral = &span{ephLow, ephHigh}
		}
		return writeJSON(env.Stdout, j)
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
	for _, proto := range []ports.Proto{ports.TCP, ports.UDP} {
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

// refusals says why no number of the range was picked: how many failed
// each condition, the intel entry that named the most, and how many
// candidates were in use here.
func refusals(r suggest.Refusals, candidates int, o suggest.Options) string {
	n := func(v int) string { return i18n.Num(i18n.EN, v) }
	var parts []string
	if r.Ephemeral > 0 {
		parts = append(parts, fmt.Sprintf("%s in this machine's ephemeral range %d-%d", n(r.Ephemeral), o.EphemeralLow, o.EphemeralHigh))
	}
	if r.Registry > 0 {
		parts = append(parts, n(r.Registry)+" assigned or reserved at IANA")
	}
	if r.Intel > 0 {
		s := n(r.Intel) + " on record in porthole's intel"
		if len(r.IntelOrder) > 0 {
			top := r.IntelOrder[0]
			s += fmt.Sprintf(" (%s as %s)", n(r.IntelBy[top]), top)
		}
		parts = append(parts, s)
	}
	if candidates > 0 {
		parts = append(parts, n(candidates)+" in use here")
	}
	return fmt.Sprintf("of its %s numbers, %s", n(o.High-o.Low+1), strings.Join(parts, ", "))
}
