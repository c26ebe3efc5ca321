package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/porthole/porthole/internal/process"
	"github.com/porthole/porthole/internal/search"
)

// searchHit is the hit type of `porthole search --json`; the ranking lives in
// internal/search, shared with the web site.
type searchHit = search.Hit

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
	hits := search.Find(k.reg, k.intel, q)
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
			// Names and descriptions are registry (or intel) data: escape
			// control characters, as process data are.
			h.Name, h.Description = process.Escape(h.Name), process.Escape(firstLine(h.Description))
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
		return &notFound{fmt.Sprintf("nothing matches %s", quoteArg(q))}
	}
	return nil
}
