package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/process"
	"github.com/porthole/porthole/internal/search"
)

// searchHit is the hit type of `porthole search --json`; the ranking lives in
// internal/search, shared with the web site.
type searchHit = search.Hit

// Widest port and protocol cells of the search table; longer ones (an
// intel entry's many ranges) are cut, and --json has them whole.
const (
	maxPortsCell  = 17
	maxProtosCell = 12
	minDescCell   = 24
)

// hitPorts is a hit's port cell: "no port" for a name without one.
func hitPorts(h *searchHit) string {
	if len(h.Spans) == 0 {
		return "no port"
	}
	return h.Ports
}

// renderHits prints the hits as a table sized to the terminal: the port,
// protocols, what the hit is (IANA row, threat or use), the name, which is
// never cut when it fits the width, and as much description as fits.
func renderHits(t *text, hits []searchHit) {
	if len(hits) == 0 {
		return
	}
	pw, rw, nw := len("PORT"), len("PROTO"), len("NAME")
	for i := range hits {
		h := &hits[i]
		pw = max(pw, min(displayWidth(hitPorts(h)), maxPortsCell))
		rw = max(rw, min(displayWidth(strings.Join(h.Protocols, ",")), maxProtosCell))
		nw = max(nw, displayWidth(h.Name))
	}
	const tw = len("threat")
	fixed := pw + 1 + rw + 1 + tw + 1
	// The name column leaves room for some description; a longer name is
	// printed whole all the same when it fits the line.
	nw = min(nw, max(t.table()-fixed-minDescCell, 12))
	t.line(t.bold(truncate(fmt.Sprintf("%-*s %-*s %-*s %-*s %s", pw, "PORT", rw, "PROTO", tw, "TYPE", nw, "NAME", "DESCRIPTION"), t.table())))
	for i := range hits {
		h := &hits[i]
		name := h.Name
		if displayWidth(name) > t.table()-fixed {
			name = truncate(name, max(t.table()-fixed, 8))
		}
		label := name + strings.Repeat(" ", max(nw-displayWidth(name), 0))
		if h.Category == "threat" {
			label = t.threatColor(h.Confidence, label)
		}
		head := fmt.Sprintf("%s %s %-*s ", padTo(truncate(hitPorts(h), maxPortsCell), pw),
			padTo(truncate(strings.Join(h.Protocols, ","), maxProtosCell), rw), tw, h.Category)
		used := displayWidth(head) + max(nw, displayWidth(name)) + 1
		line := head + t.bold(label)
		if room := t.table() - used; room >= 4 {
			line += " " + t.dim(truncate(dossier.FirstLine(h.Description), room))
		}
		t.line(line)
	}
}

// padTo pads s with spaces to w display columns.
func padTo(s string, w int) string {
	return s + strings.Repeat(" ", max(w-displayWidth(s), 0))
}

// searchOptions are `porthole search`'s arguments.
type searchOptions struct {
	query string // the words of TEXT joined by spaces
	json  bool
	limit int // 0: all
}

var searchCmd = &cmdDef[searchOptions]{name: "search", args: "TEXT",
	help: "Find ports by service name, description, threat or use name and alias, or port range. Exact names rank first.",
	flags: func(fs *cmdFlags, o *searchOptions) func([]string) error {
		fs.BoolVar(&o.json, "json", false, "print a JSON array of hits")
		fs.IntVar(&o.limit, "limit", 50, "show at most this many hits (0: all)")
		return func(args []string) error {
			o.query = strings.TrimSpace(strings.Join(args, " "))
			if o.query == "" {
				return usagef("search needs TEXT, as in 'porthole search kerberos'")
			}
			if o.limit < 0 {
				return usagef("--limit %d: must be 0 (all) or more", o.limit)
			}
			return nil
		}
	},
}

func runSearch(_ context.Context, env *Env, o searchOptions) error {
	q := o.query
	k, err := loadKnowledge(env)
	if err != nil {
		return err
	}
	hits := search.Find(k.reg, k.intel, q)
	total := len(hits)
	if o.limit > 0 && len(hits) > o.limit {
		hits = hits[:o.limit]
	}
	if o.json {
		if hits == nil {
			hits = []searchHit{}
		}
		if err := writeJSON(env.Stdout, hits); err != nil {
			return err
		}
	} else {
		t := newText(env, "en")
		for i := range hits {
			// Names and descriptions are registry (or intel) data: escape
			// control characters, as process data are.
			hits[i].Name, hits[i].Description = process.Escape(hits[i].Name), process.Escape(dossier.FirstLine(hits[i].Description))
		}
		renderHits(t, hits)
		if total > len(hits) {
			t.line(t.dim(fmt.Sprintf("… %d more; use --limit 0 to see all", total-len(hits))))
		}
		if t.err != nil {
			return t.err
		}
	}
	if total == 0 {
		return &notFound{fmt.Sprintf("nothing matches %s", quoteArg(q))}
	}
	return nil
}
