package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/process"
)

// maxTableRows bounds the text table of a range; JSON has no bound.
const maxTableRows = 4096

// infoOptions are `porthole info`'s arguments.
type infoOptions struct {
	specs   []ports.Spec
	json    bool
	lang    i18n.Lang
	offline bool
}

var infoCmd = &cmdDef[infoOptions]{name: "info", args: "PORT...",
	help: `Show what a port is: its IANA registration, threats and uses on record, how to check it, and its range; and what is on it here: the "On this machine" section names each TCP or UDP listener on the port, its process, user and executable, and the audit's findings about it (one kernel-filtered socket query; the owner is looked up only when something listens). In JSON each port's object has "local": an array of listeners, [] when nothing listens, null with --offline.`,
	flags: func(fs *cmdFlags, o *infoOptions) func([]string) error {
		fs.BoolVar(&o.json, "json", false, "print a JSON array, one object per port")
		lang := fs.String("lang", "en", "language of the text: en or ko")
		fs.BoolVar(&o.offline, "offline", false, "do not look at this machine's sockets: no \"On this machine\" section, \"local\": null in JSON")
		return func(args []string) error {
			if len(args) == 0 {
				return usagef("info needs at least one PORT (2556, tcp/2556, 6000-6063, http)")
			}
			if o.lang = i18n.Lang(*lang); !i18n.Supported(o.lang) {
				return usagef("unknown language %s; use en or ko", quoteArg(*lang))
			}
			for _, a := range args {
				s, err := ports.ParseSpec(a)
				if err != nil {
					return err
				}
				o.specs = append(o.specs, s)
			}
			return nil
		}
	},
}

func runInfo(ctx context.Context, env *Env, o infoOptions) error {
	specs := o.specs
	k := loadRegistry(env)
	src := k.sources(env)
	type group struct {
		spec  ports.Spec
		ports []int
	}
	groups := make([]group, 0, len(specs))
	for _, s := range specs {
		ps, err := k.resolve(s)
		if err != nil {
			return err
		}
		groups = append(groups, group{s, ps})
	}
	// here is nil with --offline: no section, "local": null.
	var here map[int][]localListener
	if !o.offline {
		var all []int
		for _, g := range groups {
			all = append(all, g.ports...)
		}
		here = localOrWarn(ctx, env, k, all)
	}
	localOf := func(p int) []localListener {
		if here == nil {
			return nil
		}
		if ls := here[p]; ls != nil {
			return ls
		}
		return []localListener{}
	}
	if o.json {
		var all []infoJSON
		seen := map[int]bool{}
		for _, g := range groups {
			for _, p := range g.ports {
				if !seen[p] {
					seen[p] = true
					all = append(all, infoJSON{dossier.Build(p, src), localOf(p)})
				}
			}
		}
		if k.err != nil {
			return k.err
		}
		return writeJSON(env.Stdout, all)
	}
	t := newText(env, o.lang)
	for i, g := range groups {
		if i > 0 {
			t.blank()
			t.rule()
			t.blank()
		}
		if len(g.ports) == 1 || (g.spec.IsService() && len(g.ports) <= 4) {
			for j, p := range g.ports {
				if j > 0 {
					t.blank()
					t.rule()
					t.blank()
				}
				var section func(*text)
				if here != nil {
					section = func(t *text) { renderHere(t, strconv.Itoa(p), here[p]) }
				}
				renderDossier(t, dossier.Build(p, src), section)
			}
			continue
		}
		if len(g.ports) > maxTableRows {
			return usagef("%s covers %d ports; the text table shows at most %d (use --json, or a narrower range)", g.spec, len(g.ports), maxTableRows)
		}
		renderTable(t, g.spec.String(), g.ports, src)
		if here != nil {
			var ls []localListener
			for _, p := range g.ports {
				ls = append(ls, here[p]...)
			}
			t.blank()
			t.heading(i18n.T(t.lang, "section.here"))
			what := strconv.Itoa(g.ports[0]) + "-" + strconv.Itoa(g.ports[len(g.ports)-1])
			if g.spec.IsService() {
				what = g.spec.String()
			}
			renderHere(t, what, ls)
		}
	}
	if k.err != nil {
		return k.err
	}
	return t.err
}

// renderTable prints one line per port of a range: statuses, the primary
// name, and intel flags.
func renderTable(t *text, label string, ps []int, src dossier.Sources) {
	t.heading(fmt.Sprintf("%s (%s ports)", label, i18n.Num(t.lang, len(ps))))
	t.line(fmt.Sprintf("%-6s %-11s %-11s %-18s %s", "port", "tcp", "udp", "service", "intel"))
	for _, p := range ps {
		d := dossier.Build(p, src)
		name := ""
		for _, s := range d.Services {
			if s.Name != "" {
				name = s.Name
				break
			}
		}
		head := fmt.Sprintf("%-6d %-11s %-11s %-18s ", p, d.Status["tcp"], d.Status["udp"], process.Escape(name))
		var items []intelItem
		for _, th := range d.Threats {
			items = append(items, intelItem{"!" + th.NameIn(t.lang), th.Confidence})
		}
		for _, u := range d.Uses {
			items = append(items, intelItem{u.NameIn(t.lang), ""})
		}
		// The intel names wrap in their column, so that the table fits the
		// terminal and no threat is cut off.
		w := max(t.table()-displayWidth(head), 20)
		pad := strings.Repeat(" ", displayWidth(head))
		for i, l := range wrap(intelCell(t, items), w, w) {
			if i > 0 {
				head = pad
			}
			for {
				h, tail := splitWidth(l, w)
				t.line(head + h)
				if tail == "" {
					break
				}
				head, l = pad, tail
			}
		}
	}
}

// intelItem is one name in the intel cell of the range table: a threat
// ("!" and its name, coloured by confidence) or a use.
type intelItem struct{ name, confidence string }

// intelCell joins the items with "; ".
func intelCell(t *text, items []intelItem) string {
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(t.threatColor(it.confidence, it.name))
	}
	return b.String()
}
