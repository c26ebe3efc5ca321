package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
)

// whoOptions are `porthole who`'s arguments.
type whoOptions struct {
	specs  []ports.Spec
	json   bool
	allNS  bool
	kill   bool
	killed killOptions // --yes, --force, --wait
	wide   bool
}

var whoCmd = &cmdDef[whoOptions]{name: "who", args: "PORT... [--kill [--yes] [--wait D] [--force]]",
	help: `Show who listens on PORT here: every TCP listener and unconnected UDP socket, its owner process, user, executable and container, the port's IANA name and any threat on record. Exit 0 when something listens, 1 when nothing does.

With --kill it names every process holding the sockets (a pre-forked server's parent and children all hold one), asks once whether to end them all (or --yes; without a terminal and without --yes it refuses), sends them SIGTERM, and waits up to --wait for the port to be free. With --force, holders still there after --wait get SIGKILL. It never signals a process it did not find holding the socket, nor pid 0, pid 1 or itself. Exit 0 only when the port is free afterwards; 3 when it is still held (declined, a holder it may not signal, or a holder that outlived the signals: the message names it); 2 without a terminal and without --yes.`,
	flags: func(fs *cmdFlags, o *whoOptions) func([]string) error {
		fs.BoolVar(&o.json, "json", false, "print a JSON array of listeners")
		fs.BoolVar(&o.allNS, "all-netns", false, "also look in every other network namespace")
		fs.BoolVar(&o.kill, "kill", false, "end every process holding the sockets (SIGTERM), after asking once")
		fs.BoolVar(&o.killed.yes, "yes", false, "with --kill: do not ask")
		fs.DurationVar(&o.killed.wait, "wait", 5*time.Second, "with --kill: how long to wait for the port to be free (a Go duration)")
		fs.BoolVar(&o.killed.force, "force", false, "with --kill: send SIGKILL to the holders still there after --wait")
		fs.BoolVar(&o.wide, "wide", false, "print each line whole instead of wrapping it to the terminal's width")
		return func(args []string) error {
			if len(args) == 0 {
				return usagef("who needs a PORT (2556, tcp/2556, udp/53, 6000-6063, http)")
			}
			for _, f := range []struct {
				set  bool
				name string
			}{{o.killed.yes, "--yes"}, {o.killed.force, "--force"}, {flagSet(fs, "wait"), "--wait"}} {
				if f.set && !o.kill {
					return usagef("%s goes with --kill", f.name)
				}
			}
			if o.killed.wait < 0 || o.killed.wait > 10*time.Minute {
				return usagef("--wait %v: give a duration from 0s to 10m", o.killed.wait)
			}
			if o.kill && o.json {
				return usagef("--kill cannot be combined with --json")
			}
			for _, a := range args {
				s, err := ports.ParseSpec(a)
				if err != nil {
					return err
				}
				if s.Proto == ports.SCTP || s.Proto == ports.DCCP {
					return &ports.SpecError{Token: a, Reason: "porthole lists tcp and udp listeners only"}
				}
				o.specs = append(o.specs, s)
			}
			return nil
		}
	},
}

func runWho(ctx context.Context, env *Env, o whoOptions) error {
	specs := o.specs
	// The registry names services; intel is read for the queried ports
	// only, once they are known.
	k := loadRegistry(env)
	var qs []sockets.Query
	var label []string
	var all []int
	for _, s := range specs {
		ps, err := k.resolve(s)
		if err != nil {
			return err
		}
		all = append(all, ps...)
		label = append(label, s.String())
		for _, r := range spans(ps) {
			// --kill needs every holder of a socket, not the first found.
			qs = append(qs, sockets.Query{TCP: s.Proto != ports.UDP, UDP: s.Proto != ports.TCP,
				Ports: sockets.Ports(r[0], r[1]), AllNetNS: o.allNS, AllOwners: o.kill})
		}
	}
	slices.Sort(all)
	if err := k.loadIntelFor(slices.Compact(all)); err != nil {
		return err
	}
	ls, err := listAll(ctx, qs, false)
	if err != nil {
		return err
	}
	rows := k.flagged(env, ls)
	if o.json {
		if err := writeJSONArray(env.Stdout, rows); err != nil {
			return err
		}
	} else {
		t := newText(env, "en")
		flush := t.buffered()
		src := k.sources(env)
		verdicts := map[int]bool{}
		for i := range rows {
			r := &rows[i]
			renderListener(t, r, o.wide)
			if !verdicts[r.Port] {
				verdicts[r.Port] = true
				if d := dossier.Build(r.Port, src); titleSaysMore(&d.Verdict, r) {
					t.wrapTo(5, 7, t.dim(dossier.Title(d, "en")), o.wide)
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
	}
	what := whatLabel(specs, label)
	if len(rows) == 0 {
		return &notFound{fmt.Sprintf("nothing listens on %s here", what)}
	}
	if o.kill {
		return killHolders(ctx, env, ls, qs, what, o.killed)
	}
	return nil
}

// flagged annotates the listeners ls for who and list: registry and intel
// facts, network namespace names and audit flags; a warning when owners
// could not be read.
func (k *knowledge) flagged(env *Env, ls []sockets.Listener) []dossier.Listener {
	rows := dossier.Annotate(ls, k.reg, k.intel)
	nameNetNS(rows)
	audit.Flags(rows)
	if w := dossier.OwnerWarning(ls); w != "" {
		fmt.Fprintln(env.Stderr, "porthole: warning:", w)
	}
	return rows
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *cmdFlags, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// listAll runs the port queries (sockets.ListQueries) and returns each
// socket once; noOwners skips the owner lookup.
func listAll(ctx context.Context, qs []sockets.Query, noOwners bool) ([]sockets.Listener, error) {
	if noOwners {
		qs = slices.Clone(qs)
		for i := range qs {
			qs[i].NoOwners = true
		}
	}
	ls, err := sockets.ListQueries(ctx, qs)
	if err != nil {
		return nil, listError(err)
	}
	return ls, nil
}

// whatLabel phrases the query for the "nothing listens" line: "tcp or udp
// 2556", "tcp 80".
func whatLabel(specs []ports.Spec, label []string) string {
	if len(specs) == 1 && specs[0].Proto == ports.ProtoNone && !specs[0].IsService() {
		return "tcp or udp " + specs[0].String()
	}
	return strings.Join(label, ", ")
}

// spans folds sorted-or-not port numbers into inclusive ranges, so that a
// service with many ports costs few kernel queries.
func spans(ps []int) [][2]int {
	s := append([]int(nil), ps...)
	sort.Ints(s)
	var out [][2]int
	for _, p := range s {
		if n := len(out); n > 0 && p <= out[n-1][1]+1 {
			if p > out[n-1][1] {
				out[n-1][1] = p
			}
			continue
		}
		out = append(out, [2]int{p, p})
	}
	return out
}

func listError(err error) error {
	if errors.Is(err, sockets.ErrUnsupported) {
		return err
	}
	return fmt.Errorf("listing sockets: %w", err)
}

// renderListener prints one listener in two or three lines, wrapped to the
// terminal's width unless wide.
func renderListener(t *text, r *dossier.Listener, wide bool) {
	head := fmt.Sprintf("%-4s %s", r.Proto, r.HostPort())
	if r.DualStack {
		head += " " + dossier.DualStackText(i18n.EN)
	}
	if ns := r.NetNSLabel(); ns != "" {
		head += "  netns " + ns
	}
	owner := ownerLabel(r)
	t.wrapTo(0, 7, t.bold(head)+"  "+owner, wide)
	var facts []string
	if r.Exe != "" {
		exe := r.Exe
		if r.ExeDeleted {
			exe += " (deleted)"
		}
		facts = append(facts, exe)
	}
	if len(r.Cmdline) > 0 {
		facts = append(facts, strings.Join(r.Cmdline, " "))
	}
	if r.Container != "" {
		c := "container " + dossier.ShortID(r.Container)
		if r.ContainerName != "" {
			c += " (" + r.ContainerName + ")"
		}
		facts = append(facts, c)
	}
	if r.Unit != "" {
		facts = append(facts, "unit "+r.Unit)
	}
	for _, f := range facts {
		t.wrapTo(5, 7, t.dim(f), wide)
	}
	var notes []string
	if r.Flag != "" {
		notes = append(notes, flagColor(t, r.FlagSeverity, "!"+r.Flag+" ("+r.FlagSeverity+")"))
	}
	if r.Service != "" {
		notes = append(notes, "IANA "+r.Service)
	} else {
		notes = append(notes, "IANA "+string(r.Status))
	}
	if r.Threat != "" {
		// History, not a verdict: the flag above is the verdict.
		notes = append(notes, "threat on record: "+r.Threat+" ("+string(r.ThreatConfidence)+" confidence)")
	}
	if len(r.Expected) > 0 {
		notes = append(notes, "usually: "+strings.Join(r.Expected, "; "))
	} else if r.Use != "" {
		notes = append(notes, "known use: "+r.Use)
	}
	t.wrapTo(5, 7, strings.Join(notes, " · "), wide)
}

// titleSaysMore reports whether the port's title line adds to the
// listener's notes: not for a bare "Port 8000: irdmi" under "IANA irdmi",
// nor "Port 9415: unassigned at IANA" under "IANA unassigned"; yes when it
// has the service's description, a threat or a use, or a ghost record.
func titleSaysMore(v *dossier.Verdict, r *dossier.Listener) bool {
	if v.Summary != "" || v.Threat != "" || v.Use != "" {
		return true
	}
	switch v.Registry {
	case "assigned":
		return v.Name != r.Service
	case "unassigned":
		return r.Service != "" || r.Status != registry.StatusUnassigned
	}
	return true
}

func ownerLabel(r *dossier.Listener) string {
	if r.PID == nil {
		s := "pid unknown: " + dossier.OwnerUnknownText(i18n.EN, r.OwnerUnknown)
		if r.UID >= 0 {
			s += " (socket uid " + strconv.Itoa(r.UID) + ")"
		}
		return s
	}
	s := fmt.Sprintf("pid %d %s", *r.PID, r.Process)
	if len(r.PIDs) > 1 {
		s += fmt.Sprintf(" (+%d more)", len(r.PIDs)-1)
	}
	if r.User != "" {
		s += " user " + r.User
	}
	return s
}
