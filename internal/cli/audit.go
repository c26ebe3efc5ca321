package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/jsonw"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/safefile"
	"github.com/porthole/porthole/internal/sockets"
)

// Exit statuses of `porthole audit`. The low bits add up (3 = findings and
// missing baseline entries); errors use sysexits-style values above 7 so a
// script can never mistake an error for a finding.
const (
	auditFindings = 1  // findings at or above --fail-on (other than the two below)
	auditMissing  = 2  // baseline entries with no listener
	auditChanged  = 4  // baseline ports held by another program
	auditUsage    = 64 // bad arguments or PORT
	auditBadBase  = 65 // the baseline file is malformed, too large, or not a regular file
	auditIO       = 74 // reading the baseline or the sockets failed
)

const auditHelp = `Judge every listener here: known-bad ports (intel), executables in
world-writable directories or deleted after start, shells listening, owners
that cannot be resolved, databases and admin ports open on every interface,
privileged ports held by non-root users; with --baseline, listeners the
baseline does not explain, ports now held by another program, and baseline
lines with no listener. PORT... limits the audit to those ports.

known-bad-port weighs the owner against the port (see 'porthole info PORT'):
a port is common when intel records a usual occupant (a use entry about at
most 64 ports, at least as confident as the port's threats) or it is a
system port IANA assigns to a named service; else a threat there is
distinctive. An owner is odd when it runs from /tmp, /var/tmp, /dev/shm
(any world-writable directory), was deleted (outside system directories),
is a shell or netcat, or runs a script from such a directory; it is
expected when it lives in a system directory (/usr, /bin, /sbin, /lib,
/lib64, /opt, /snap, /nix/store), was not deleted, and its name is one the
port's use entries list (programs:).
  port          owner                      known-bad-port
  any           expected                   none
  common        any other                  info; an odd owner is reported by
                                           its own rules (exe-in-writable-dir,
                                           deleted-exe: high; shell-listener)
  distinctive   odd                        critical
  distinctive   any other                  the threat's confidence: high,
                                           medium or low
Info findings are shown with -v only. The report says each thing once:
findings with the same rule, severity and reason about one process (or, for
listeners with no owner, the same reason) are one entry listing the
listeners as port ranges. --json lists every finding, one per listener.

Exit status (bits add up):
  0   no finding at or above --fail-on, no drift
  1   findings at or above --fail-on
  2   baseline entries with no listener (lines marked optional never count)
  4   a baseline port is now held by another program
  64  bad arguments or PORT
  65  the baseline file is malformed, oversized, or not a regular file
  74  I/O error: the baseline or the sockets could not be read`

// auditOptions are `porthole audit`'s arguments.
type auditOptions struct {
	json, allNS, verbose bool
	baseline             string
	failOn               audit.Severity
	specs                []ports.Spec
}

var auditCmd = &cmdDef[auditOptions]{name: "audit", args: "[flags] [PORT...]", help: auditHelp,
	flags: func(fs *cmdFlags, o *auditOptions) func([]string) error {
		fs.BoolVar(&o.json, "json", false, "print the report as JSON")
		fs.StringVar(&o.baseline, "baseline", "", "baseline `FILE` (write one with 'porthole baseline -o FILE')")
		failOn := fs.String("fail-on", "low", "lowest `SEVERITY` that sets exit bit 1: info, low, medium, high or critical")
		fs.BoolVar(&o.allNS, "all-netns", false, "also audit every other network namespace (containers)")
		fs.BoolVar(&o.verbose, "v", false, "also show info findings and the listeners the baseline explains, with the rule that matched")
		fs.BoolVar(&o.verbose, "verbose", false, "same as -v")
		return func(rest []string) error {
			var err error
			if o.failOn, err = audit.ParseSeverity(*failOn); err != nil {
				return &exitError{code: auditUsage, msg: "audit: --fail-on: " + err.Error(), cause: &usageError{token: *failOn}}
			}
			for _, a := range rest {
				s, err := ports.ParseSpec(a)
				if err == nil && (s.Proto == ports.SCTP || s.Proto == ports.DCCP) {
					err = &ports.SpecError{Token: a, Reason: "porthole audits tcp and udp listeners only"}
				}
				if err != nil {
					return &exitError{code: auditUsage, msg: err.Error(), cause: err}
				}
				o.specs = append(o.specs, s)
			}
			return nil
		}
	},
	// audit's statuses report findings, so a bad flag is 64, not 2.
	badUsage: func(err error) error {
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return &exitError{code: auditUsage, msg: err.Error() + "\nRun 'porthole audit --help' for usage.", cause: err}
	},
}

func runAudit(ctx context.Context, env *Env, o auditOptions) error {
	k, err := loadKnowledge(env)
	if err != nil {
		return &exitError{code: auditIO, msg: err.Error()}
	}
	var scopes []audit.Scope
	for _, s := range o.specs {
		ps, err := k.resolve(s)
		if err != nil {
			return &exitError{code: auditUsage, msg: err.Error(), cause: err}
		}
		for _, r := range spans(ps) {
			scopes = append(scopes, audit.Scope{Proto: s.Proto, Low: r[0], High: r[1]})
		}
	}
	var bl *audit.Baseline
	if o.baseline != "" {
		var warns []audit.Warning
		bl, warns, err = audit.Load(o.baseline)
		var pe *audit.ParseError
		switch {
		case errors.As(err, &pe), errors.Is(err, audit.ErrTooLarge), errors.Is(err, safefile.ErrNotRegular):
			return &exitError{code: auditBadBase, msg: "bad baseline: " + err.Error()}
		case err != nil:
			return &exitError{code: auditIO, msg: "reading baseline: " + err.Error()}
		}
		warns = append(warns, audit.CheckPaths(bl, func(p string) bool {
			_, err := os.Stat(p)
			return !errors.Is(err, os.ErrNotExist)
		})...)
		const maxWarnings = 20
		for i, w := range warns {
			if i == maxWarnings {
				fmt.Fprintf(env.Stderr, "porthole: warning: %d more baseline warnings not shown\n", len(warns)-maxWarnings)
				break
			}
			fmt.Fprintln(env.Stderr, "porthole: warning:", w.String())
		}
	}
	ls, err := auditListeners(ctx, scopes, o.allNS)
	if err != nil {
		return &exitError{code: auditIO, msg: listError(err).Error()}
	}
	if w := dossier.OwnerWarning(ls); w != "" {
		fmt.Fprintln(env.Stderr, "porthole: warning:", w)
	}
	rows := dossier.Annotate(ls, k.reg, k.intel)
	nameNetNS(rows)
	opt := audit.Options{Registry: k.reg, Intel: k.intel, Baseline: bl, Scopes: scopes, AllNetNS: o.allNS, OS: runtime.GOOS, Root: isPrivileged()}
	if lo, hi, err := env.Ephemeral(); err == nil {
		opt.EphemeralLow, opt.EphemeralHigh = lo, hi
	}
	rep := audit.Run(rows, opt)
	code := auditExit(rep, o.failOn)
	if o.json {
		err = streamAuditJSON(env.Stdout, auditJSON(rep, bl, o, code, env.Now()))
	} else {
		t := newText(env, "en")
		renderAudit(t, rep, bl, o)
		err = t.err
	}
	if err != nil {
		return &exitError{code: auditIO, msg: err.Error()}
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// auditListeners lists the listeners in scope: every one, or those on the
// given ports (one kernel-filtered query per span), each socket once.
func auditListeners(ctx context.Context, scopes []audit.Scope, allNS bool) ([]sockets.Listener, error) {
	if len(scopes) == 0 {
		return sockets.List(ctx, sockets.Query{AllNetNS: allNS})
	}
	qs := make([]sockets.Query, len(scopes))
	for i, s := range scopes {
		qs[i] = sockets.Query{TCP: s.Proto != ports.UDP, UDP: s.Proto != ports.TCP, Ports: sockets.Ports(s.Low, s.High), AllNetNS: allNS}
	}
	return sockets.ListQueries(ctx, qs)
}

// auditExit computes the exit bits of a report.
func auditExit(rep *audit.Report, failOn audit.Severity) int {
	code := 0
	for _, f := range rep.Findings {
		switch f.Rule {
		case audit.RuleMissing:
			code |= auditMissing
		case audit.RuleOwnerChanged:
			code |= auditChanged
		default:
			if f.Severity >= failOn {
				code |= auditFindings
			}
		}
	}
	return code
}

// auditReport is the JSON form of `porthole audit`.
type auditReport struct {
	Generated     string            `json:"generated"`
	Listeners     int               `json:"listeners"`
	Baseline      *string           `json:"baseline"`       // null without --baseline
	BaselineRules *int              `json:"baseline_rules"` // null without --baseline
	FailOn        string            `json:"fail_on"`
	ExitStatus    int               `json:"exit_status"`
	Counts        map[string]int    `json:"counts"`
	Findings      []audit.Finding   `json:"findings"`
	Explained     []audit.Explained `json:"explained"` // null without -v
}

func auditJSON(rep *audit.Report, bl *audit.Baseline, o auditOptions, code int, now time.Time) auditReport {
	r := auditReport{
		Generated: now.UTC().Format(time.RFC3339), Listeners: rep.Listeners, FailOn: o.failOn.String(),
		ExitStatus: code, Counts: map[string]int{}, Findings: rep.Findings,
	}
	for _, s := range audit.Severities {
		r.Counts[s.String()] = 0
	}
	for _, f := range rep.Findings {
		r.Counts[f.Severity.String()]++
	}
	if bl != nil {
		n := len(bl.Rules)
		r.Baseline, r.BaselineRules = &bl.File, &n
	}
	if o.verbose {
		r.Explained = rep.Explained
		if r.Explained == nil {
			r.Explained = []audit.Explained{}
		}
	}
	return r
}

// auditListShown is how many port ranges a grouped entry lists before "and
// N more".
const auditListShown = 12

// renderAudit prints the report grouped by severity, highest first, each
// group of findings (audit.Group: one process, one rule, one reason) once.
func renderAudit(t *text, rep *audit.Report, bl *audit.Baseline, o auditOptions) {
	groups := rep.Groups()
	var parts []string
	for _, s := range audit.Severities {
		if n := countSeverity(rep, s); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	head := fmt.Sprintf("porthole audit: %s, %s", plural(rep.Listeners, "listener"), plural(len(rep.Findings), "finding"))
	if len(groups) < len(rep.Findings) {
		if len(groups) == 1 {
			head += " in 1 entry"
		} else {
			head += " in " + strconv.Itoa(len(groups)) + " entries"
		}
	}
	if len(parts) > 0 {
		head += " (" + strings.Join(parts, ", ") + ")"
	}
	t.hang(0, 2, t.bold(head))
	if bl != nil {
		t.hang(0, 2, fmt.Sprintf("baseline %s: %s, %d explained", bl.File, plural(len(bl.Rules), "rule"), len(rep.Explained)))
	} else {
		t.hang(0, 2, t.dim("no baseline: unexpected listeners are not judged; write one with 'porthole baseline -o FILE'"))
	}
	t.hang(0, 2, t.dim("exit bit 1 on findings of severity "+o.failOn.String()+" or higher"))
	hidden := 0
	for _, s := range audit.Severities {
		if s == audit.Info && !o.verbose {
			hidden = countSeverity(rep, s)
			continue
		}
		first := true
		for i := range groups {
			g := &groups[i]
			if g.Severity != s {
				continue
			}
			if first {
				t.blank()
				t.heading(severityColor(t, s, strings.ToUpper(s.String())))
				first = false
			}
			if len(g.Findings) == 1 {
				renderFinding(t, *g.Findings[0])
			} else {
				renderGroup(t, g)
			}
		}
	}
	if len(rep.Findings) == hidden {
		t.blank()
		t.line("No findings.")
	}
	if hidden > 0 {
		t.blank()
		t.hang(0, 2, t.dim(plural(hidden, "info finding")+" not shown (context, not signals: a threat's port held by its usual kind of program, or what the baseline explains); -v shows them"))
	}
	if o.verbose && len(rep.Explained) > 0 {
		t.blank()
		t.heading("EXPLAINED BY THE BASELINE")
		for _, e := range rep.Explained {
			t.wrapTo(2, 6, listenerLabel(e.Listener)+"  "+ownerLabel(e.Listener), false)
			t.hang(6, 6, t.dim("rule "+e.Baseline.String()))
		}
	}
}

func renderFinding(t *text, f audit.Finding) {
	if f.Listener != nil {
		t.wrapTo(2, 6, t.bold(f.Rule)+"  "+listenerLabel(f.Listener)+"  "+ownerLabel(f.Listener), false)
		renderExe(t, f.Listener)
	} else {
		t.wrapTo(2, 6, t.bold(f.Rule)+"  "+f.Baseline.String(), false)
	}
	t.hang(6, 6, f.Reason)
	t.hang(6, 8, "→ "+f.Advice)
}

// renderGroup prints findings about several listeners of one owner once:
// the rule, the owner, the listeners (ports as ranges), the reason and the
// advice.
func renderGroup(t *text, g *audit.Group) {
	ls := g.Listeners()
	t.wrapTo(2, 6, t.bold(g.Rule)+"  "+groupOwnerLabel(ls)+"  "+plural(len(ls), "listener"), false)
	renderExe(t, ls[0])
	items, more := audit.ListenerList(ls, auditListShown)
	list := strings.Join(items, "; ")
	if more > 0 {
		list += "; and " + plural(more, "more listener")
	}
	t.hang(6, 6, list)
	t.hang(6, 6, g.Reason)
	t.hang(6, 8, "→ "+g.Advice)
}

func renderExe(t *text, l *dossier.Listener) {
	if l.Exe != "" {
		exe := l.Exe
		if l.ExeDeleted {
			exe += " (deleted)"
		}
		t.hang(6, 6, t.dim(exe))
	}
}

// groupOwnerLabel is ownerLabel of a group's listeners: one process, or no
// owner for the same reason; the socket uid only when they share it.
func groupOwnerLabel(ls []*dossier.Listener) string {
	first := ls[0]
	if first.PID != nil {
		return ownerLabel(first)
	}
	// The reason the owner is unknown follows in the entry's text.
	for _, l := range ls[1:] {
		if l.UID != first.UID {
			return "pid unknown"
		}
	}
	if first.UID >= 0 {
		return "pid unknown (socket uid " + strconv.Itoa(first.UID) + ")"
	}
	return "pid unknown"
}

func listenerLabel(r *dossier.Listener) string {
	s := r.Proto.String() + " " + r.HostPort()
	if r.DualStack {
		s += " " + dossier.DualStackText(i18n.EN)
	}
	if ns := r.NetNSLabel(); ns != "" {
		s += " netns " + ns
	}
	return s
}

// nameNetNS names the rows' other network namespaces ("ip netns" names),
// reading /run/netns only when some row is in another namespace.
func nameNetNS(rows []dossier.Listener) {
	for i := range rows {
		if !rows[i].HostNetNS && rows[i].NetNS != 0 {
			dossier.NameNetNS(rows, sockets.NetNSNames())
			return
		}
	}
}

func severityColor(t *text, s audit.Severity, str string) string {
	switch s {
	case audit.Critical, audit.High:
		return t.sgr("31", str)
	case audit.Medium:
		return t.sgr("33", str)
	}
	return str
}

func countSeverity(rep *audit.Report, s audit.Severity) int {
	n := 0
	for _, f := range rep.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// streamAuditJSON writes r exactly as writeJSON would (two-space indent, no
// HTML escaping), but straight into a buffer one finding at a time in its
// final form (audit.Finding.AppendJSON), so that a report of thousands of
// findings is never held in memory twice, nor re-scanned to be indented.
func streamAuditJSON(w io.Writer, r auditReport) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	jw := jsonw.Indented("  ")
	flush := func() {
		bw.Write(jw.B)
		jw.B = jw.B[:0]
	}
	jw.ObjectStart()
	jw.Key("generated")
	jw.String(r.Generated)
	jw.Key("listeners")
	jw.Int(r.Listeners)
	jw.Key("baseline")
	if r.Baseline != nil {
		jw.String(*r.Baseline)
	} else {
		jw.Null()
	}
	jw.Key("baseline_rules")
	if r.BaselineRules != nil {
		jw.Int(*r.BaselineRules)
	} else {
		jw.Null()
	}
	jw.Key("fail_on")
	jw.String(r.FailOn)
	jw.Key("exit_status")
	jw.Int(r.ExitStatus)
	jw.Key("counts")
	jw.ObjectStart()
	for _, k := range slices.Sorted(maps.Keys(r.Counts)) { // encoding/json sorts a map's keys
		jw.Key(k)
		jw.Int(r.Counts[k])
	}
	jw.ObjectEnd()
	jw.Key("findings")
	jw.ArrayStart()
	for i := range r.Findings {
		jw.Elem()
		r.Findings[i].AppendJSON(jw)
		flush()
	}
	jw.ArrayEnd()
	jw.Key("explained")
	if r.Explained == nil {
		jw.Null()
	} else {
		jw.ArrayStart()
		for i := range r.Explained {
			jw.Elem()
			r.Explained[i].AppendJSON(jw)
			flush()
		}
		jw.ArrayEnd()
	}
	jw.ObjectEnd()
	jw.B = append(jw.B, '\n')
	flush()
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}
