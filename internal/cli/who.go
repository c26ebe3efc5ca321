package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/sockets"
)

func runWho(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "who", "PORT...", "Show who listens on PORT here: every TCP listener and unconnected UDP socket, its owner process, user, executable and container, the port's IANA name and any threat on record. Exit 0 when something listens, 1 when nothing does.")
	asJSON := fs.Bool("json", false, "print a JSON array of listeners")
	allNS := fs.Bool("all-netns", false, "also look in every other network namespace")
	kill := fs.Bool("kill", false, "ask to end the owning processes (SIGTERM)")
	yes := fs.Bool("yes", false, "with --kill: do not ask")
	args, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("who needs a PORT (2556, tcp/2556, udp/53, 6000-6063, http)")
	}
	if *yes && !*kill {
		return usagef("--yes goes with --kill")
	}
	if *kill && *asJSON {
		return usagef("--kill cannot be combined with --json")
	}
	specs := make([]ports.Spec, 0, len(args))
	for _, a := range args {
		s, err := ports.ParseSpec(a)
		if err != nil {
			return err
		}
		if s.Proto == ports.SCTP || s.Proto == ports.DCCP {
			return &ports.SpecError{Token: a, Reason: "porthole lists tcp and udp listeners only"}
		}
		specs = append(specs, s)
	}
	k, err := loadKnowledge(env)
	if err != nil {
		return err
	}
	var ls []sockets.Listener
	seen := map[uint64]bool{}
	var label []string
	for _, s := range specs {
		ps, err := k.resolve(s)
		if err != nil {
			return err
		}
		label = append(label, s.String())
		for _, r := range spans(ps) {
			q := sockets.Query{TCP: s.Proto != ports.UDP, UDP: s.Proto != ports.TCP, Low: r[0], High: r[1], AllNetNS: *allNS}
			got, err := sockets.List(ctx, q)
			if err != nil {
				return listError(err)
			}
			for _, l := range got {
				id := l.Inode
				if id != 0 && seen[id] {
					continue
				}
				seen[id] = id != 0
				ls = append(ls, l)
			}
		}
	}
	rows := dossier.Annotate(ls, k.reg, k.intel)
	audit.Flags(rows)
	if w := dossier.OwnerWarning(ls); w != "" {
		fmt.Fprintln(env.Stderr, "porthole: warning:", w)
	}
	if *asJSON {
		if err := writeJSONArray(env.Stdout, rows); err != nil {
			return err
		}
	} else {
		t := newText(env, "en")
		flush := t.buffered()
		src := k.sources(env)
		verdicts := map[int]bool{}
		for _, r := range rows {
			renderListener(t, r)
			if !verdicts[r.Port] {
				verdicts[r.Port] = true
				t.hang(5, 7, t.dim(dossier.Title(dossier.Build(r.Port, src), "en")))
			}
		}
		if err := flush(); err != nil {
			return err
		}
	}
	if len(rows) == 0 {
		return &notFound{fmt.Sprintf("nothing listens on %s here", whatLabel(specs, label))}
	}
	if *kill {
		return killOwners(env, rows, *yes)
	}
	return nil
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

// renderListener prints one listener in two or three lines.
func renderListener(t *text, r dossier.ListenerRow) {
	head := fmt.Sprintf("%-4s %s", r.Proto, r.HostPort())
	if r.DualStack {
		head += " (IPv4 and IPv6)"
	}
	if !r.HostNetNS && r.NetNS != 0 {
		head += fmt.Sprintf("  netns %d", r.NetNS)
	}
	owner := ownerLabel(r)
	t.line(t.bold(head) + "  " + owner)
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
		facts = append(facts, "container "+shortID(r.Container))
	}
	if r.Unit != "" {
		facts = append(facts, "unit "+r.Unit)
	}
	for _, f := range facts {
		t.hang(5, 7, t.dim(f))
	}
	var notes []string
	if r.Flag != "" {
		notes = append(notes, flagColor(t, r.FlagSeverity, "!"+r.Flag+" ("+r.FlagSeverity+")"))
	}
	if r.Service != "" {
		notes = append(notes, "IANA "+r.Service)
	} else {
		notes = append(notes, "IANA "+r.Status)
	}
	if r.Threat != "" {
		// History, not a verdict: the flag above is the verdict.
		notes = append(notes, "threat on record: "+r.Threat+" ("+r.ThreatConfidence+" confidence)")
	}
	if len(r.Expected) > 0 {
		notes = append(notes, "usually: "+strings.Join(r.Expected, "; "))
	} else if r.Use != "" {
		notes = append(notes, "known use: "+r.Use)
	}
	t.hang(5, 7, strings.Join(notes, " · "))
}

func ownerLabel(r dossier.ListenerRow) string {
	if r.PID == nil {
		s := "pid unknown"
		if r.OwnerUnknownReason != "" {
			s += ": " + r.OwnerUnknownReason
		}
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

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// killOwners ends the processes that own rows, after asking (unless yes).
// It signals only PIDs it just saw holding the socket.
func killOwners(env *Env, rows []dossier.ListenerRow, yes bool) error {
	pids := map[int]string{}
	var order []int
	for _, r := range rows {
		all := r.PIDs
		if len(all) == 0 && r.PID != nil {
			all = []int{*r.PID}
		}
		for _, p := range all {
			if _, ok := pids[p]; !ok && p != os.Getpid() {
				pids[p] = r.Process
				order = append(order, p)
			}
		}
	}
	if len(order) == 0 {
		return fmt.Errorf("no owning process is visible, so there is nothing to end")
	}
	in := bufio.NewReader(env.Stdin)
	var failed []string
	for _, p := range order {
		if !yes {
			fmt.Fprintf(env.Stderr, "End pid %d (%s) with SIGTERM? [y/N] ", p, pids[p])
			ans, _ := in.ReadString('\n')
			if a := strings.ToLower(strings.TrimSpace(ans)); a != "y" && a != "yes" {
				fmt.Fprintln(env.Stderr, "skipped")
				continue
			}
		}
		if err := terminate(p); err != nil {
			failed = append(failed, fmt.Sprintf("pid %d: %v", p, err))
			continue
		}
		fmt.Fprintf(env.Stdout, "sent SIGTERM to pid %d (%s)\n", p, pids[p])
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}
