// Package search ranks registry services and intel entries against a query.
// `porthole search`, the web site's search page and /api/v1/search share it,
// so the three agree on what matches and in which order.
package search

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
)

// Hit is one search result: a registry service (its rows for one port or
// range, protocols merged) or an intel entry.
type Hit struct {
	Source      string   `json:"source"` // "registry" or "intel"
	Name        string   `json:"name"`
	NameKO      string   `json:"name_ko,omitempty"` // an intel entry's Korean name, when it has one
	Ports       string   `json:"ports"`             // "80", "6000-6063", "3127-3198 1080"
	Port        int      `json:"port"`              // the first port, for sorting and linking
	Protocols   []string `json:"protocols"`
	Description string   `json:"description"`
	Kind        string   `json:"kind,omitempty"`       // intel kind
	Confidence  string   `json:"confidence,omitempty"` // intel confidence
	Match       string   `json:"match"`                // what matched: name, name-prefix, alias, description, port
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

// Find ranks registry services and intel entries (db may be nil) against q:
// exact names first, then ports, name prefixes, intel names, substrings,
// aliases and descriptions; ties by port.
func Find(x *registry.Index, db *intel.DB, q string) []Hit {
	q = strings.TrimSpace(q)
	lq := strings.ToLower(q)
	words := strings.Fields(lq)
	if lq == "" {
		return nil
	}
	spec, specErr := ports.ParseSpec(q)
	numeric := specErr == nil && !spec.IsService()

	type key struct {
		name      string
		low, high int
	}
	groups := map[key]*Hit{}
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
				(spec.Proto == ports.ProtoNone || r.ForProto(spec.Proto)) {
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
			h = &Hit{Source: "registry", Name: r.Name, Port: r.Low, Ports: Label(r.Low, r.High),
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
	hits := make([]Hit, 0, len(order))
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
				ps = append(ps, Label(r.Low, r.High))
				if p := r.Proto.String(); p != "" && !slices.Contains(protos, p) {
					protos = append(protos, p)
				}
			}
			first := 0
			if len(e.Ports) > 0 {
				first = e.Ports[0].Low
			}
			hits = append(hits, Hit{Source: "intel", Name: e.Name, NameKO: e.NameKO, Ports: strings.Join(ps, " "), Port: first,
				Protocols: protos, Description: e.Description, Kind: string(e.Kind), Confidence: string(e.Confidence),
				Match: match, score: score})
		}
	}
	slices.SortStableFunc(hits, func(a, b Hit) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		// A name with a port before the same name without one (22 ssh
		// before the DNS-SD-only ssh row): people search for ports.
		if (a.Port < 0) != (b.Port < 0) {
			if a.Port < 0 {
				return 1
			}
			return -1
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
	case strings.Contains(ln, lq) || e.NameKO != "" && strings.Contains(strings.ToLower(e.NameKO), lq):
		return scoreIntelName, "name"
	}
	for _, a := range e.Aliases {
		if strings.Contains(strings.ToLower(a), lq) {
			return scoreAlias, "alias"
		}
	}
	if allWords(strings.ToLower(e.Description+" "+e.DescriptionKO+" "+e.Legit+" "+e.LegitKO), words) {
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

// Label writes a port or a range as "80" or "6000-6063"; a negative low
// port (a row without a port) is "-".
func Label(low, high int) string {
	switch {
	case low < 0:
		return "-"
	case low == high:
		return strconv.Itoa(low)
	}
	return strconv.Itoa(low) + "-" + strconv.Itoa(high)
}
