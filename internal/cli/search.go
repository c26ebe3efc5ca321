package cli

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
)

// searchHit is one search result: a registry service (its rows for one port
// or range, protocols merged) or an intel entry.
type searchHit struct {
	Source      string   `json:"source"` // "registry" or "intel"
	Name        string   `json:"name"`
	Ports       string   `json:"ports"` // "80", "6000-6063", "3127-3198 1080"
	Port        int      `json:"port"`  // the first port, for sorting and linking
	Protocols   []string `json:"protocols"`
	Description string   `json:"description"`
	Kind        string   `json:"kind,omitempty"`       // intel kind
	Confidence  string   `json:"confidence,omitempty"` // intel confidence
	Match       string   `json:"match"`                // what matched: name, name-prefix, name, alias, description, port
	score       int
}

// Match strengths, strongest first.
const (
	scoreExact       = 100
	scorePrefix      = 80
	scoreIntelName   = 70
	scoreSubstring   = 60
	scoreAlias       = 55
	scoreDescription = 30
	scorePort        = 90
)

func runSearch(_ context.Context, env *Env, args []string) error {
	fs := newFlags(env, "search", "TEXT", "Find ports by service name, description, threat or use name and alias, or port range. Exact names rank first.")
	asJSON := fs.Bool("json", false, "print a JSON array of hits")
	limit := fs.Int("limit", 50, "show at most this many hits (0: all)")
	args, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(strings.Join(args, " "))
	if q == "" {
		return usagef("search needs TEXT, as in 'porthole search kerberos'")
	}
	if *limit < 0 {
		return usagef("--limit %d: must be 0 (all) or more", *limit)
	}
	k, err := loadKnowledge(env)
	if err != nil {
		return err
	}
	hits := search(k.reg, k.intel, q)
	total := len(hits)
	if *limit > 0 && len(hits) > *limit {
		hits = hits[:*limit]
	}
	if *asJSON {
		if hits == nil {
			hits = []searchHit{}
		}
		if err := writeJSON(env.Stdout, hits); err != nil {
			return err
		}
	} else {
		t := newText(env, "en")
		for _, h := range hits {
			ps := h.Ports
			if ps == "-" {
				ps = "(no port)"
			}
			head := fmt.Sprintf("%-11s %-13s %-18s ", truncate(ps, 11), truncate(strings.Join(h.Protocols, ","), 13), truncate(h.Name, 18))
			label := fmt.Sprintf("%-18s", truncate(h.Name, 18))
			if h.Source == "intel" {
				label = t.threatColor(h.Confidence, label)
			}
			desc := truncate(firstLine(h.Description), width-displayWidth(head))
			t.line(head[:len(head)-len(fmt.Sprintf("%-18s ", truncate(h.Name, 18)))] + t.bold(label) + " " + t.dim(desc))
		}
		if total > len(hits) {
			t.line(t.dim(fmt.Sprintf("… %d more; use --limit 0 to see all", total-len(hits))))
		}
		if t.err != nil {
			return t.err
		}
	}
	if total == 0 {
		return &notFound{fmt.Sprintf("nothing matches %q", q)}
	}
	return nil
}

// search ranks registry services and intel entries against q.
func search(x *registry.Index, db *intel.DB, q string) []searchHit {
	lq := strings.ToLower(q)
	words := strings.Fields(lq)
	spec, specErr := ports.ParseSpec(q)
	numeric := specErr == nil && !spec.IsService()

	type key struct {
		name      string
		low, high int
	}
	groups := map[key]*searchHit{}
	var order []key
	for i := 0; i < x.Len(); i++ {
		r := x.Row(i)
		if r.Name == "" && !numeric {
			continue
		}
		score, match := 0, ""
		ln := strings.ToLower(r.Name)
		switch {
		case numeric:
			if r.HasPort() && r.Low <= spec.High && r.High >= spec.Low &&
				(spec.Proto == ports.ProtoNone || r.Proto == spec.Proto || r.Proto == ports.ProtoNone) {
				score, match = scorePort, "port"
			}
		case ln == lq:
			score, match = scoreExact, "name"
		case strings.HasPrefix(ln, lq):
			score, match = scorePrefix, "name-prefix"
		case strings.Contains(ln, lq):
			score, match = scoreSubstring, "name"
		case allWords(strings.ToLower(r.Description), words):
			score, match = scoreDescription, "description"
		}
		if score == 0 {
			continue
		}
		k := key{r.Name, r.Low, r.High}
		h, ok := groups[k]
		if !ok {
			h = &searchHit{Source: "registry", Name: r.Name, Port: r.Low, Ports: portsLabel(r.Low, r.High),
				Description: r.Description, Match: match, score: score, Protocols: []string{}}
			if r.Name == "" {
				h.Name = "(" + r.Kind().String() + ")"
			}
			groups[k] = h
			order = append(order, k)
		}
		if p := r.Proto.String(); p != "" && !slices.Contains(h.Protocols, p) {
			h.Protocols = append(h.Protocols, p)
		}
	}
	hits := make([]searchHit, 0, len(order))
	for _, k := range order {
		hits = append(hits, *groups[k])
	}
	if db != nil {
		for i := range db.Entries() {
			e := &db.Entries()[i]
			score, match := intelScore(e, lq, words, numeric, spec)
			if score == 0 {
				continue
			}
			var ps []string
			protos := []string{}
			for _, r := range e.Ports {
				ps = append(ps, portsLabel(r.Low, r.High))
				if p := r.Proto.String(); p != "" && !slices.Contains(protos, p) {
					protos = append(protos, p)
				}
			}
			first := 0
			if len(e.Ports) > 0 {
				first = e.Ports[0].Low
			}
			hits = append(hits, searchHit{Source: "intel", Name: e.Name, Ports: strings.Join(ps, " "), Port: first,
				Protocols: protos, Description: e.Description, Kind: string(e.Kind), Confidence: string(e.Confidence),
				Match: match, score: score})
		}
	}
	slices.SortStableFunc(hits, func(a, b searchHit) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.Port, b.Port)
	})
	return hits
}

func intelScore(e *intel.Entry, lq string, words []string, numeric bool, spec ports.Spec) (int, string) {
	if numeric {
		for _, r := range e.Ports {
			if r.Low <= spec.High && r.High >= spec.Low {
				return scorePort, "port"
			}
		}
		return 0, ""
	}
	ln := strings.ToLower(e.Name)
	switch {
	case ln == lq || strings.ToLower(e.ID) == lq:
		return scoreExact, "name"
	case strings.Contains(ln, lq):
		return scoreIntelName, "name"
	}
	for _, a := range e.Aliases {
		if strings.Contains(strings.ToLower(a), lq) {
			return scoreAlias, "alias"
		}
	}
	if allWords(strings.ToLower(e.Description+" "+e.DescriptionKO+" "+e.Legit), words) {
		return scoreDescription, "description"
	}
	return 0, ""
}

func allWords(s string, words []string) bool {
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

func portsLabel(low, high int) string {
	switch {
	case low < 0:
		return "-"
	case low == high:
		return strconv.Itoa(low)
	}
	return strconv.Itoa(low) + "-" + strconv.Itoa(high)
}
