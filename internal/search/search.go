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
// range, protocols merged) or an intel entry. Its JSON form is in json.go.
type Hit struct {
	Source string // "registry" or "intel"
	// Category is what the hit is: "iana" (a registry row), "threat" or
	// "use" (an intel entry).
	Category    string
	Name        string
	NameKO      string   // an intel entry's Korean name, when it has one
	Ports       string   // "80", "6000-6063", "3127-3198 1080"; "-" for none; for a port query, the matching spans first
	Spans       [][2]int // the same as low-high pairs; empty for none
	Port        int      // the first port, for sorting and linking; -1 for none
	Protocols   []string
	Description string
	Kind        string // intel kind
	Confidence  string // intel confidence
	Match       string // what matched: name, name-prefix, acronym, alias, description, port
	score       int
}

// Match strengths, strongest first.
const (
	scoreExact = 100
	// The description's initials (dns for "Domain Name Server") rank
	// above name prefixes for a system port, the ones people call by
	// acronym, and below name matches elsewhere.
	scoreAcronym     = 85
	scoreAcronymHigh = 50
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
	acronym := !numeric && isAcronymQuery(lq)

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
		case acronym && r.HasPort() && r.Low < 1024 && initials(r.Description) == lq:
			score, match = scoreAcronym, "acronym"
		case acronym && initials(r.Description) == lq:
			score, match = scoreAcronymHigh, "acronym"
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
			h = &Hit{Source: "registry", Category: "iana", Name: r.Name, Port: r.Low, Ports: Label(r.Low, r.High),
				Description: r.Description, Match: match, score: score, Protocols: []string{}}
			if r.HasPort() {
				h.Spans = [][2]int{{r.Low, r.High}}
			}
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
			var spans [][2]int
			protos := []string{}
			for _, r := range e.Ports {
				// An entry lists a port once per protocol (tcp/3389 and
				// udp/3389); the spans say each port once.
				if sp := [2]int{r.Low, r.High}; !slices.Contains(spans, sp) {
					ps = append(ps, Label(r.Low, r.High))
					spans = append(spans, sp)
				}
				if p := r.Proto.String(); p != "" && !slices.Contains(protos, p) {
					protos = append(protos, p)
				}
			}
			first, label := -1, "-"
			if len(e.Ports) > 0 {
				first = e.Ports[0].Low
				if numeric {
					// The spans the query matched lead the label, so that
					// a table that cuts it still shows them ("8080" for
					// an entry about 4051 4433 5556 8080 ...).
					var hit, rest []string
					for i, sp := range spans {
						if sp[0] <= spec.High && sp[1] >= spec.Low {
							hit = append(hit, ps[i])
						} else {
							rest = append(rest, ps[i])
						}
					}
					ps = append(hit, rest...)
				}
				label = strings.Join(ps, " ")
			}
			hits = append(hits, Hit{Source: "intel", Category: string(e.Kind.Category()), Name: e.Name, NameKO: e.NameKO, Ports: label, Spans: spans, Port: first,
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

// isAcronymQuery is true for a query that could be initials: two to six
// letters.
func isAcronymQuery(q string) bool {
	if len(q) < 2 || len(q) > 6 {
		return false
	}
	for i := 0; i < len(q); i++ {
		if q[i] < 'a' || q[i] > 'z' {
			return false
		}
	}
	return true
}

// initials returns the lower-case first letters of the words of a
// description's first line ("Domain Name Server" is "dns"), or "" when it
// has fewer than two words.
func initials(desc string) string {
	desc, _, _ = strings.Cut(desc, "\n")
	words := strings.FieldsFunc(desc, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	if len(words) < 2 {
		return ""
	}
	b := make([]byte, 0, len(words))
	for _, w := range words {
		c := w[0]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
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
