// Package audit judges the listeners of a machine: pure rules over listener
// listeners (dossier.Listener), the IANA registry, intel and an optional
// baseline give findings, each with a rule id, a severity, the listener, a
// plain reason and advice.
//
// A baseline is a small text file, one expected listener per line (see
// Parse for the syntax and Write for the generator). PID is never part of a
// rule, so a restarted service still matches. Rules are indexed by port so
// that an audit of thousands of listeners against 100,000 rules stays fast.
//
// Run does no I/O. Load reads a baseline file (refusing files over
// MaxBaselineSize) and CheckPaths reports rule paths missing on this host.
package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
)

// Severity orders findings. The zero value is Info.
type Severity int

// The severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

// Severities lists every severity, highest first (the report's order).
var Severities = []Severity{Critical, High, Medium, Low, Info}

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	case Critical:
		return "critical"
	}
	return "severity(" + strconv.Itoa(int(s)) + ")"
}

// ParseSeverity reads a severity name (info, low, medium, high, critical).
func ParseSeverity(s string) (Severity, error) {
	for _, v := range Severities {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q: use info, low, medium, high or critical", s)
}

// MarshalJSON writes the severity's name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a severity's name.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return err
	}
	v, err := ParseSeverity(str)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Rule ids. They are stable: scripts and metrics use them.
const (
	RuleKnownBad       = "known-bad-port"
	RuleExeWritableDir = "exe-in-writable-dir"
	RuleDeletedExe     = "deleted-exe"
	RuleShell          = "shell-listener"
	RuleUnexpected     = "unexpected-listener"
	RuleOwnerChanged   = "owner-changed"
	RuleMissing        = "baseline-missing"
	RuleOwnerUnknown   = "owner-unknown"
	RuleExposedService = "exposed-sensitive-port"
	RulePrivileged     = "privileged-port-non-root"
)

// RuleIDs lists every rule id, for metrics and docs.
var RuleIDs = []string{
	RuleKnownBad, RuleExeWritableDir, RuleDeletedExe, RuleShell, RuleUnexpected,
	RuleOwnerChanged, RuleMissing, RuleOwnerUnknown, RuleExposedService, RulePrivileged,
}

// Word is the finding's reason in one word, for the flag column of list
// and who: the threat's kind for known-bad-port ("worm", "backdoor",
// "c2"), else a short name of the rule ("tmp-exe", "deleted-exe").
func (f *Finding) Word() string {
	switch f.Rule {
	case RuleKnownBad:
		if f.kind != "" {
			return string(f.kind)
		}
		return "threat-port"
	case RuleExeWritableDir:
		return "tmp-exe"
	case RuleDeletedExe:
		return "deleted-exe"
	case RuleShell:
		if f.Listener != nil && isNetcat(f.Listener.Process) {
			return "netcat"
		}
		return "shell"
	case RuleOwnerUnknown:
		return "no-owner"
	case RuleExposedService:
		return "exposed"
	case RulePrivileged:
		return "priv-port"
	case RuleUnexpected:
		return "unexpected"
	case RuleOwnerChanged:
		return "owner-changed"
	}
	return f.Rule
}

// Flags runs the rules without a baseline over rows annotated by
// dossier.Annotate (no intel lookups of its own) and sets each row's Flag
// and FlagSeverity to its most severe finding at low or above, so that
// list and who flag exactly what audit would.
//
// It picks, row by row, the finding Run would sort first among the row's
// own (highest severity, then rule id, then the order judge found them),
// so it builds no report: on a host where every listener is flagged (a
// program run from /tmp holding thousands of sockets) a report of 10,000
// findings, sorted, cost as much as the rest of the listing. A row whose
// Flag is already set keeps it. A long listing is judged in two halves at
// once.
func Flags(rows []dossier.Listener) {
	if len(rows) < flagsSplit {
		flagRows(rows)
		return
	}
	h := len(rows) / 2
	var wg sync.WaitGroup
	wg.Go(func() { flagRows(rows[h:]) })
	flagRows(rows[:h])
	wg.Wait()
}

// flagsSplit is the number of rows from which Flags works in two halves at
// once (a variable for the tests).
var flagsSplit = 2048

func flagRows(rows []dossier.Listener) {
	opt := Options{brief: true}
	noBaseline := Match{Rule: -1, Changed: -1}
	var buf []Finding
	var facts map[uint32]*portFacts // by port and protocol, as Run
	for i := range rows {
		row := &rows[i]
		if row.Flag != "" {
			continue
		}
		// Without intel, factsOf reads the row's own annotation: a row
		// without a threat has none, and needs no entry in the cache.
		var pf *portFacts
		if row.Threat != "" {
			k := portKey(row.Proto, row.Port)
			var ok bool
			if pf, ok = facts[k]; !ok {
				if facts == nil {
					facts = map[uint32]*portFacts{}
				}
				pf = factsOf(row, nil, nil)
				facts[k] = pf
			}
		}
		buf = judge(buf[:0], row, pf, nil, noBaseline, opt)
		var best *Finding
		for j := range buf {
			f := &buf[j]
			if f.Severity < Low {
				continue
			}
			if best == nil || f.Severity > best.Severity || (f.Severity == best.Severity && f.Rule < best.Rule) {
				best = f
			}
		}
		if best != nil {
			row.Flag, row.FlagSeverity = best.Word(), best.Severity.String()
		}
	}
}

// RuleRef names the baseline rule a finding or an explained listener refers
// to.
type RuleRef struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Text    string `json:"text"`
	Comment string `json:"comment"` // null when the line has none (json.go)
}

func refOf(r *Rule) *RuleRef {
	return &RuleRef{File: r.File, Line: r.Line, Text: r.String(), Comment: r.Comment}
}

// String is "file:line (text)".
func (r *RuleRef) String() string {
	return fmt.Sprintf("%s:%d (%s)", r.File, r.Line, r.Text)
}

// Finding is one judgement about one listener (or, for baseline-missing,
// about one baseline rule with no listener).
type Finding struct {
	Rule     string            `json:"rule"`
	Severity Severity          `json:"severity"`
	Listener *dossier.Listener `json:"listener"`
	Reason   string            `json:"reason"`
	Advice   string            `json:"advice"`
	// Baseline is the rule involved: the one that explains the listener
	// (severity lowered), expects another owner, or has no listener.
	Baseline *RuleRef `json:"baseline_rule"`

	kind intel.Kind // known-bad-port: the threat's intel kind
	// gReason and gAdvice are Reason and Advice for a group of listeners
	// with the same owner (group.go), with marks where the listeners and
	// the who command go.
	gReason, gAdvice string
}

// Explained is a listener a baseline rule accounts for.
type Explained struct {
	Listener *dossier.Listener `json:"listener"`
	Baseline *RuleRef          `json:"baseline_rule"`
}

// Report is the outcome of Run.
type Report struct {
	Listeners int         `json:"listeners"`
	Findings  []Finding   `json:"findings"`
	Explained []Explained `json:"explained,omitempty"`
}

// Count returns how many findings have severity at least min.
func (r *Report) Count(min Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity >= min {
			n++
		}
	}
	return n
}

// Has reports whether a finding of rule exists.
func (r *Report) Has(rule string) bool {
	for _, f := range r.Findings {
		if f.Rule == rule {
			return true
		}
	}
	return false
}

// Scope limits which baseline rules can be missing: a rule is checked only
// when it can match a port the audit looked at.
type Scope struct {
	Proto ports.Proto // ProtoNone: tcp and udp
	Low   int
	High  int
}

// Options are the inputs of Run besides the rows.
type Options struct {
	Registry *registry.Index // may be nil: statuses are taken from the rows
	Intel    *intel.DB       // may be nil: threats are taken from the rows
	Baseline *Baseline       // nil: no baseline rules apply
	// EphemeralLow..High is the host's ephemeral range (0, 0 if unknown).
	EphemeralLow, EphemeralHigh int
	// Scopes restrict the audit to some ports (nil: every port). Rows
	// outside them are expected to be filtered out by the caller already.
	Scopes []Scope
	// AllNetNS says other network namespaces were listed, so rules about
	// them can be missing.
	AllNetNS bool
	// OS is the system the listeners are on ("linux", "darwin",
	// "windows"; "" is linux), for advice that names its tools.
	OS string
	// Root says porthole already runs as root (or an administrator), so
	// advice never asks for it.
	Root bool
	// brief leaves Reason and Advice empty (Flags needs rules and
	// severities only).
	brief bool
}

// Run judges rows. It is pure and deterministic: the findings are sorted by
// severity (highest first), then protocol, port, address, namespace and
// rule id.
func Run(rows []dossier.Listener, opt Options) *Report {
	rep := &Report{Listeners: len(rows), Findings: []Finding{}}
	eph := [2]int{opt.EphemeralLow, opt.EphemeralHigh}
	var used []bool
	if opt.Baseline != nil {
		used = make([]bool, len(opt.Baseline.Rules))
	}
	facts := map[uint32]*portFacts{} // intel lookups, once per port and protocol
	refs := map[int]*RuleRef{}       // one RuleRef per baseline rule used
	ref := func(i int) *RuleRef {
		r, ok := refs[i]
		if !ok {
			r = refOf(&opt.Baseline.Rules[i])
			refs[i] = r
		}
		return r
	}
	for i := range rows {
		row := &rows[i]
		k := portKey(row.Proto, row.Port)
		pf, ok := facts[k]
		if !ok {
			pf = factsOf(row, opt.Intel, opt.Registry)
			facts[k] = pf
		}
		m := Match{Rule: -1, Changed: -1}
		if opt.Baseline != nil {
			m = opt.Baseline.Lookup(row, eph)
		}
		var explained *Rule
		if m.Rule >= 0 {
			used[m.Rule] = true
			explained = &opt.Baseline.Rules[m.Rule]
			rep.Explained = append(rep.Explained, Explained{Listener: row, Baseline: ref(m.Rule)})
		}
		if m.Changed >= 0 {
			used[m.Changed] = true
		}
		rep.Findings = judge(rep.Findings, row, pf, explained, m, opt)
	}
	if opt.Baseline != nil {
		for i := range opt.Baseline.Rules {
			r := &opt.Baseline.Rules[i]
			if used[i] || r.Optional || !inScope(r, opt, eph) {
				continue
			}
			rep.Findings = append(rep.Findings, Finding{
				Rule: RuleMissing, Severity: Medium, Baseline: refOf(r),
				Reason: fmt.Sprintf("baseline %s expects %s, and nothing like it listens now", r.Ref(), describeRule(r)),
				Advice: "start the service if it should run; if it is gone for good, delete the line, or add the word optional to it if it comes and goes",
			})
		}
	}
	sortFindings(rep.Findings)
	return rep
}

// judge appends the findings about one listener.
func judge(out []Finding, row *dossier.Listener, pf *portFacts, explained *Rule, m Match, opt Options) []Finding {
	start := len(out)
	// A finding's words are built only when they are wanted: Flags (list,
	// who) needs the rule and the severity of each finding, and on a host
	// where every listener is flagged the sentences would cost more than
	// the rest of the listing.
	add := func(rule string, sev Severity, text func(g bool) (reason, advice string)) {
		f := Finding{Rule: rule, Severity: sev, Listener: row}
		if !opt.brief {
			f.Reason, f.Advice = text(false)
			// The same words for a group of listeners (group.go): no
			// address or port unless the rule is about the port itself.
			f.gReason, f.gAdvice = text(true)
		}
		out = append(out, f)
	}
	// Most listeners have no finding, so their descriptions are only built
	// when a rule fires. describe(true) sets the words of a group: where
	// and the who command are marks that Groups fills in.
	var where, who, holds, info, whoCmd string
	var listener, owner, who1, whoG string // built once per listener
	describe := func(g bool) {
		if owner == "" {
			listener, owner = describeListener(row), describeOwner(row)
			info = "porthole info " + strconv.Itoa(row.Port)
			who1, whoG = "porthole who "+protoPort(row), whoMark
			if !row.HostNetNS && row.NetNS != 0 {
				// Without the flag, who looks in its own namespace only.
				who1 += " --all-netns"
				whoG += " --all-netns"
			}
		}
		where, who, holds, whoCmd = listener, owner, "holds", who1
		if g {
			where, whoCmd = whereMark, whoG
			if row.PID == nil {
				// Listeners without an owner group by reason alone:
				// several processes may hold them.
				who, holds = "unknown processes", "hold"
			}
		}
	}

	writable := writableDir(row.Exe)
	scriptDir := ""
	if isInterpreter(row.Process) || isInterpreter(baseName(row.Exe)) {
		scriptDir = scriptInWritableDir(row.Cmdline)
	}
	odd := writable != "" || (row.ExeDeleted && !systemDir(row.Exe)) || isShell(row.Process) || isNetcat(row.Process) || scriptDir != ""

	if pf != nil && pf.threat != nil {
		th := pf.threat
		class := classify(row, pf, odd)
		if sev, ok := KnownBadSeverity(pf.signal, class, th.confidence); ok {
			// The reason names the port, so only listeners on the same
			// port (other addresses) share it.
			add(RuleKnownBad, sev, func(g bool) (string, string) {
				describe(g)
				reason := fmt.Sprintf("%s is on record as the port of %s%s; %s %s %s",
					protoPort(row), th.name, th.detail, who, holds, where)
				switch {
				case pf.signal == dossier.SignalCommon:
					reason += "; " + commonWhy(row, pf) + ", so the port alone says little"
					if odd {
						reason += " (the program itself looks wrong: see the other findings)"
					}
				case class == OwnerOdd:
					reason += ", and the program itself looks wrong (see the other findings)"
				}
				return reason, fmt.Sprintf("find out what the program is: run `%s` (the port's history) and `%s`; if it is legitimate, add it to the baseline", info, whoCmd)
			})
			out[len(out)-1].kind = th.kind
		}
	}
	if writable != "" {
		add(RuleExeWritableDir, High, func(g bool) (string, string) {
			describe(g)
			return fmt.Sprintf("%s runs from %s, a directory anyone can write to, and holds %s", who, writable, where),
				fmt.Sprintf("programs that listen should live in system directories; inspect %s and who started it (`%s`)", row.Exe, whoCmd)
		})
	}
	if row.ExeDeleted {
		sev := High
		if systemDir(row.Exe) {
			sev = Medium
		}
		add(RuleDeletedExe, sev, func(g bool) (string, string) {
			describe(g)
			advice := "a program that deletes itself after starting is hiding; keep the process running, copy /proc/PID/exe, and investigate"
			if sev == Medium {
				advice = "usually a package upgrade replaced the file: restart the service so it runs the new executable; if nothing was upgraded, investigate"
			}
			if row.PID != nil {
				advice = strings.Replace(advice, "PID", strconv.Itoa(*row.PID), 1)
			}
			return fmt.Sprintf("the executable of %s, %s, was deleted or replaced after it started; it holds %s", who, row.Exe, where), advice
		})
	}
	switch {
	case isShell(row.Process):
		add(RuleShell, High, func(g bool) (string, string) {
			describe(g)
			return fmt.Sprintf("a shell (%s) holds %s: that is how a bind shell looks", who, where),
				fmt.Sprintf("check the shell's parent and command line (`%s`); end it if nobody can explain it", whoCmd)
		})
	case isNetcat(row.Process):
		add(RuleShell, Medium, func(g bool) (string, string) {
			describe(g)
			return fmt.Sprintf("%s, a raw socket tool often used for bind shells and ad-hoc transfers, holds %s", who, where),
				fmt.Sprintf("check who started it (`%s`); end it if nobody can explain it", whoCmd)
		})
	case scriptDir != "":
		add(RuleShell, High, func(g bool) (string, string) {
			describe(g)
			return fmt.Sprintf("%s runs a script from %s, a directory anyone can write to, and holds %s", who, scriptDir, where),
				fmt.Sprintf("inspect the script and who started it (`%s`)", whoCmd)
		})
	}
	if sev, ok := ownerUnknownSeverity(row); ok {
		add(RuleOwnerUnknown, sev, func(g bool) (string, string) {
			describe(g)
			return fmt.Sprintf("nobody can be named for %s (%s)", where, dossier.OwnerUnknownText(i18n.EN, row.OwnerUnknown)),
				ownerUnknownAdvice(row, opt, whoCmd, g)
		})
	}
	if svc, ok := sensitivePort(row.Proto, row.Port); ok && row.Addr.IsUnspecified() {
		add(RuleExposedService, Medium, func(g bool) (string, string) {
			describe(g)
			return fmt.Sprintf("%s (%s) listens on every interface: %s", protoPort(row), svc, where),
				"bind it to loopback or a private address, or make sure a firewall and authentication protect it"
		})
	}
	if row.Port < 1024 && row.UID > 0 && row.HostNetNS {
		add(RulePrivileged, Low, func(g bool) (string, string) {
			const why = "the program was given CAP_NET_BIND_SERVICE or the unprivileged port floor was lowered"
			if g {
				return fmt.Sprintf("%s are on privileged ports, yet their sockets belong to uid %d, not root: %s", whereMark, row.UID, why), privilegedAdvice
			}
			return fmt.Sprintf("%s is a privileged port, yet its socket belongs to uid %d, not root: %s", protoPort(row), row.UID, why), privilegedAdvice
		})
	}
	if opt.Baseline != nil && explained == nil {
		if m.Changed >= 0 {
			r := &opt.Baseline.Rules[m.Changed]
			add(RuleOwnerChanged, High, func(g bool) (string, string) {
				describe(g)
				it := "it"
				if g {
					it = "them"
				}
				return fmt.Sprintf("baseline %s expects %s on %s, but now %s %s %s", r.Ref(), describeOwnerRule(r), where, who, holds, it),
					fmt.Sprintf("find out why the program changed (`%s`); if the change is intended, update the baseline line", whoCmd)
			})
			out[len(out)-1].Baseline = refOf(r)
		} else {
			sev := Medium
			if row.Addr.IsLoopback() {
				sev = Low
			}
			add(RuleUnexpected, sev, func(g bool) (string, string) {
				describe(g)
				if g {
					// The registry's word differs from port to port: who
					// shows it for each.
					return fmt.Sprintf("%s %s %s, which the baseline does not explain", who, holds, where),
						fmt.Sprintf("find out what they are (`%s` shows each port's IANA name); if they belong here, add lines for them to the baseline", whoCmd)
				}
				return fmt.Sprintf("%s holds %s, which is not in the baseline; %s", who, where, ianaSays(row, opt.Registry)),
					fmt.Sprintf("find out what it is (`%s`, `%s`); if it belongs here, add a line for it to the baseline", whoCmd, info)
			})
		}
	}
	if explained != nil && len(out) > start {
		// A baseline line accepts what it describes: the exposure and the
		// socket's uid, and an owner it could not name. A port's threat
		// history, and where the program lives, are accepted only by a line
		// that names the program itself (exe= or name=). A deleted
		// executable is never accepted, since it happens after the fact.
		ref := refOf(explained)
		namesProgram := explained.Exe != "" || explained.Name != ""
		for i := start; i < len(out); i++ {
			f := &out[i]
			switch f.Rule {
			case RuleOwnerUnknown, RuleExposedService, RulePrivileged:
				f.Severity = Info
			case RuleKnownBad, RuleExeWritableDir, RuleShell:
				if !namesProgram {
					continue
				}
				f.Severity = Info
			default:
				continue
			}
			if !opt.brief {
				why := fmt.Sprintf(" (explained by baseline %s)", ref.String())
				f.Reason += why
				f.gReason += why
			}
			f.Baseline = ref
		}
	}
	return out
}

const privilegedAdvice = "check the program's file capabilities (getcap) and net.ipv4.ip_unprivileged_port_start"

// ownerUnknownSeverity rates a listener whose owner could not be named: low
// when the reason is ours (not root, unreadable /proc entries) or the
// socket is the kernel's, medium when a process should have been found and
// was not; no finding when the owner is known or was not looked up.
func ownerUnknownSeverity(row *dossier.Listener) (Severity, bool) {
	if row.PID != nil {
		return 0, false
	}
	switch row.OwnerUnknown {
	case sockets.OwnerKnown, sockets.OwnerSkipped:
		return 0, false
	case sockets.OwnerKernel, sockets.OwnerNotRoot, sockets.OwnerNoAccess:
		return Low, true
	}
	return Medium, true
}

// ownerUnknownAdvice says how to name the owner of a socket porthole could
// not: as root if porthole is not, in the socket's namespace, with the
// system's own socket tool.
func ownerUnknownAdvice(row *dossier.Listener, opt Options, whoCmd string, group bool) string {
	port := strconv.Itoa(row.Port)
	var tool string
	switch {
	case group && opt.OS == "windows":
		tool = "`netstat -ano` shows each socket's owning PID"
	case group && opt.OS == "darwin":
		tool = "`lsof -nP -i` shows each socket's owning process"
	case group:
		tool = "`ss -tulpne` shows each socket's inode and uid"
	case opt.OS == "windows":
		tool = "`netstat -ano | findstr :" + port + "` shows the owning PID"
	case opt.OS == "darwin":
		tool = "`lsof -nP -i :" + port + "` shows the owning process"
	default:
		tool = "`ss -tulpne 'sport = :" + port + "'` shows the socket's inode and uid"
	}
	var steps []string
	if !opt.Root {
		if opt.OS == "windows" {
			steps = append(steps, "run porthole from an administrator prompt")
		} else {
			steps = append(steps, "run porthole as root")
		}
	}
	if row.OwnerUnknown == sockets.OwnerKernel || row.OwnerUnknown == sockets.OwnerNotFound {
		steps = append(steps, "the holder may be the kernel (NFS, WireGuard) or a process in another PID namespace; a container runtime's ps shows the latter")
	}
	steps = append(steps, tool, "`"+whoCmd+"` repeats the lookup")
	return strings.Join(steps, "; ")
}

type threat struct {
	name, detail string
	confidence   intel.Confidence
	kind         intel.Kind
}

// portFacts is what intel says about one port and protocol: the strongest
// threat, how distinctive it is, and the usual occupants.
type portFacts struct {
	threat   *threat
	signal   dossier.Signal
	basis    string
	expected []string // names of the use entries
	programs []string // their executables' base names
}

// factsOf looks up the row's port and protocol in the intel DB when given,
// else takes the row's annotation (dossier.Annotate). It returns nil when
// intel says nothing that bears on a listener there.
func factsOf(row *dossier.Listener, db *intel.DB, x *registry.Index) *portFacts {
	if db != nil {
		p := row.Proto
		matches := db.ForPort(row.Port)
		var th *threat
		for _, m := range matches {
			e := m.Entry
			if !e.IsThreat() || (m.Proto != ports.ProtoNone && m.Proto != p) {
				continue
			}
			detail := " (" + i18n.T(i18n.EN, "web.kindname."+string(e.Kind)) // the name info and the site use
			if y := e.Years.String(); y != "" {
				detail += ", " + y
			}
			detail += ", " + string(e.Confidence) + " confidence, intel " + e.ID + ")"
			th = &threat{name: e.Name, detail: detail, confidence: e.Confidence, kind: e.Kind}
			break
		}
		if th == nil {
			return nil // only known-bad-port uses the facts, and only with a threat
		}
		rel := dossier.RelevanceOf(row.Port, p, matches, x)
		pf := &portFacts{threat: th, signal: rel.Signal, basis: rel.Basis, programs: rel.Programs()}
		for _, o := range rel.Usual() {
			pf.expected = append(pf.expected, o.Name)
		}
		return pf
	}
	if row.Threat == "" {
		return nil
	}
	detail := " (" + string(row.ThreatConfidence) + " confidence"
	if row.ThreatID != "" {
		detail += ", intel " + row.ThreatID
	}
	return &portFacts{
		threat: &threat{name: row.Threat, detail: detail + ")", confidence: row.ThreatConfidence, kind: row.ThreatKind},
		signal: row.ThreatSignal, programs: row.ExpectedPrograms, expected: row.Expected,
	}
}

// commonWhy says why a port is common: "tcp/8080 is usually Tomcat" or
// "IANA assigns the system port tcp/80 to http".
func commonWhy(row *dossier.Listener, pf *portFacts) string {
	if pf.basis != dossier.BasisSystemPort && len(pf.expected) > 0 {
		return "the port is usually " + strings.Join(pf.expected, "; ")
	}
	if row.Service != "" {
		return "IANA assigns the system port " + protoPort(row) + " to " + row.Service
	}
	return "the port has a usual occupant on record"
}

// OwnerClass is how the known-bad-port rule sees a listener's program.
type OwnerClass int

// The owner classes.
const (
	// OwnerElsewhere: a program outside the system directories that does
	// not look planted (a home directory, /run, /srv), or an owner that
	// cannot be named.
	OwnerElsewhere OwnerClass = iota
	// OwnerSystem: a program in a system directory (see SystemDirs), not
	// deleted.
	OwnerSystem
	// OwnerExpected: OwnerSystem, and its name is one the port's use
	// entries list as the usual occupant (intel programs:).
	OwnerExpected
	// OwnerOdd: a program in a world-writable directory, deleted (outside
	// the system directories), a shell or netcat, or an interpreter
	// running a script from a world-writable directory.
	OwnerOdd
)

func (c OwnerClass) String() string {
	switch c {
	case OwnerSystem:
		return "system"
	case OwnerExpected:
		return "expected"
	case OwnerOdd:
		return "odd"
	}
	return "elsewhere"
}

func classify(row *dossier.Listener, pf *portFacts, odd bool) OwnerClass {
	switch {
	case odd:
		return OwnerOdd
	case row.PID == nil || row.Exe == "" || row.ExeDeleted || !systemDir(row.Exe):
		return OwnerElsewhere
	case slices.Contains(pf.programs, baseName(row.Exe)) || (row.Process != "" && slices.Contains(pf.programs, row.Process)):
		return OwnerExpected
	}
	return OwnerSystem
}

// KnownBadSeverity is the rule table of known-bad-port: the severity of a
// listener on a port with a threat of confidence on record, given how
// distinctive the threat is there and how the owner looks; ok is false when
// there is no finding at all.
//
//	port signal   owner                          known-bad-port
//	any           expected (usual occupant)      none
//	common        any other                      info (odd owners: own rules)
//	distinctive   odd                            critical
//	distinctive   any other (system dir or not)  by confidence: high, medium, low
//
// A threat whose signal is unknown ("": rows annotated without intel)
// counts as distinctive.
func KnownBadSeverity(sig dossier.Signal, class OwnerClass, confidence intel.Confidence) (Severity, bool) {
	switch {
	case class == OwnerExpected:
		return 0, false
	case sig == dossier.SignalCommon:
		return Info, true
	case class == OwnerOdd:
		return Critical, true
	}
	return severityOfConfidence(confidence), true
}

func severityOfConfidence(c intel.Confidence) Severity {
	switch c {
	case intel.High:
		return High
	case intel.Medium:
		return Medium
	}
	return Low
}

// ianaSays phrases the registry's status for the row's port and protocol.
func ianaSays(row *dossier.Listener, x *registry.Index) string {
	status, service := row.Status, row.Service
	if x != nil {
		status = x.StatusOf(row.Port, row.Proto)
		if service == "" {
			for _, r := range x.Port(row.Port) {
				if r.Name != "" && r.ForProto(row.Proto) {
					service = r.Name
					break
				}
			}
		}
	}
	switch {
	case status == registry.StatusAssigned && service != "":
		return fmt.Sprintf("IANA assigns %s to %s (status assigned)", protoPort(row), service)
	case status == "":
		return "IANA status unknown"
	}
	return fmt.Sprintf("IANA status of %s: %s", protoPort(row), status)
}

func protoPort(row *dossier.Listener) string {
	return row.Proto.String() + "/" + strconv.Itoa(row.Port)
}

// describeListener is "tcp 0.0.0.0:2556" plus the namespace when not the
// host's.
func describeListener(row *dossier.Listener) string {
	s := row.Proto.String() + " " + row.HostPort()
	if row.DualStack {
		s += " " + dossier.DualStackText(i18n.EN)
	}
	if ns := row.NetNSLabel(); ns != "" {
		s += " in netns " + ns
		if row.NetNSName != "" || row.ContainerName != "" {
			s += " (" + strconv.FormatUint(row.NetNS, 10) + ")"
		}
	}
	if row.Container != "" {
		c := dossier.ShortID(row.Container)
		if row.ContainerName != "" {
			c += " " + row.ContainerName
		}
		s += " (container " + c + ")"
	}
	return s
}

// describeOwner is "pid 123 bagle (/tmp/x/bagle, user root)" or "an
// unknown process".
func describeOwner(row *dossier.Listener) string {
	if row.PID == nil {
		return "an unknown process"
	}
	s := "pid " + strconv.Itoa(*row.PID)
	if row.Process != "" {
		s += " " + row.Process
	}
	var extra []string
	if row.Exe != "" {
		extra = append(extra, row.Exe)
	}
	if row.User != "" {
		extra = append(extra, "user "+row.User)
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

func describeOwnerRule(r *Rule) string {
	var parts []string
	if r.Exe != "" {
		parts = append(parts, r.Exe)
	}
	if r.Name != "" {
		parts = append(parts, "a process named "+r.Name)
	}
	if r.User != "" {
		parts = append(parts, "user "+r.User)
	}
	return strings.Join(parts, ", ")
}

func describeRule(r *Rule) string {
	s := r.String()
	if r.Comment != "" {
		s += " (" + r.Comment + ")"
	}
	return s
}

// writableDirs are the world-writable directories of a Unix system: a
// program there can be planted by any local user.
var writableDirs = []string{"/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/var/crash", "/run/lock", "/var/lock"}

// writableDir returns the world-writable directory that holds p, or "".
func writableDir(p string) string {
	// No d+"/": this runs for every argument of every interpreter's
	// command line, on every listener, and must not allocate.
	for _, d := range writableDirs {
		if len(p) > len(d) && p[len(d)] == '/' && strings.HasPrefix(p, d) {
			return d
		}
	}
	return ""
}

// SystemDirs are the directories packages and administrators install
// programs into; only root can write them on a sane system. /usr covers
// /usr/bin, /usr/sbin, /usr/lib, /usr/libexec and all of /usr/local.
var SystemDirs = []string{"/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/opt/", "/snap/", "/nix/store/"}

// systemDir reports whether p is under one of SystemDirs (and not in a
// world-writable directory below one, such as /usr/tmp).
func systemDir(p string) bool {
	if writableDir(p) != "" || strings.HasPrefix(p, "/usr/tmp/") {
		return false
	}
	for _, d := range SystemDirs {
		if strings.HasPrefix(p, d) {
			return true
		}
	}
	return false
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func isShell(name string) bool {
	switch name {
	case "sh", "bash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "ash", "busybox":
		return true
	}
	return false
}

func isNetcat(name string) bool {
	switch name {
	case "nc", "ncat", "netcat", "nc.openbsd", "nc.traditional", "socat", "cryptcat", "pwncat":
		return true
	}
	return false
}

func isInterpreter(name string) bool {
	for _, p := range []string{"python", "perl", "ruby", "php", "node", "lua", "tclsh", "wish", "pwsh", "deno", "bun"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// scriptInWritableDir returns the world-writable directory of the first
// argument after argv[0] that is a path there (the script), or "".
func scriptInWritableDir(cmdline []string) string {
	for i, a := range cmdline {
		if i == 0 {
			continue
		}
		if d := writableDir(a); d != "" {
			return d
		}
	}
	return ""
}

// sensitivePorts are database, cache, queue and remote-admin ports that
// should not face every interface. An array of constants is static data:
// nothing is built when porthole starts.
var sensitivePorts = [...]struct {
	port int
	name string
}{
	{23, "telnet"}, {111, "rpcbind"}, {135, "Windows RPC"}, {445, "SMB"}, {873, "rsync"}, {1433, "SQL Server"},
	{1521, "Oracle"}, {2049, "NFS"}, {2375, "Docker API (plain)"}, {2379, "etcd"}, {3306, "MySQL"}, {3389, "RDP"},
	{4369, "Erlang epmd"}, {5432, "PostgreSQL"}, {5900, "VNC"}, {5984, "CouchDB"}, {6379, "Redis"},
	{8086, "InfluxDB"}, {8500, "Consul"}, {9042, "Cassandra"}, {9200, "Elasticsearch"}, {10250, "kubelet"},
	{11211, "memcached"}, {15672, "RabbitMQ management"}, {25672, "RabbitMQ distribution"},
	{27017, "MongoDB"}, {28017, "MongoDB HTTP"},
}

func sensitivePort(proto ports.Proto, port int) (string, bool) {
	s := ""
	for _, sp := range sensitivePorts {
		if sp.port == port {
			s = sp.name
			break
		}
	}
	if s == "" {
		return "", false
	}
	if proto == ports.UDP && port != 111 && port != 2049 && port != 11211 {
		return "", false
	}
	return s, true
}

// inScope reports whether a baseline rule could have matched a listener of
// this audit.
func inScope(r *Rule, opt Options, eph [2]int) bool {
	if !opt.AllNetNS && ((r.NetNS != "" && r.NetNS != "host") || r.Container != "") {
		return false
	}
	if len(opt.Scopes) == 0 {
		return true
	}
	lo, hi := r.Low, r.High
	if r.Ephemeral {
		if eph[0] == 0 {
			return false
		}
		lo, hi = eph[0], eph[1]
	}
	for _, s := range opt.Scopes {
		if s.Proto != ports.ProtoNone && r.Proto != ports.ProtoNone && s.Proto != r.Proto {
			continue
		}
		if lo <= s.High && s.Low <= hi {
			return true
		}
	}
	return false
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		la, lb := a.Listener, b.Listener
		if (la == nil) != (lb == nil) {
			if la == nil {
				return 1
			}
			return -1
		}
		if la != nil {
			if c := la.Place().Compare(lb.Place()); c != 0 {
				return c
			}
		} else if c := cmp.Compare(a.Baseline.Line, b.Baseline.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Rule, b.Rule)
	})
}
