// Package audit judges the listeners of a machine: pure rules over listener
// rows (dossier.ListenerRow), the IANA registry, intel and an optional
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
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
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

// RuleRef names the baseline rule a finding or an explained listener refers
// to.
type RuleRef struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Text    string `json:"text"`
	Comment string `json:"comment,omitempty"`
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
	Rule     string               `json:"rule"`
	Severity Severity             `json:"severity"`
	Listener *dossier.ListenerRow `json:"listener"`
	Reason   string               `json:"reason"`
	Advice   string               `json:"advice"`
	// Baseline is the rule involved: the one that explains the listener
	// (severity lowered), expects another owner, or has no listener.
	Baseline *RuleRef `json:"baseline_rule,omitempty"`
}

// Explained is a listener a baseline rule accounts for.
type Explained struct {
	Listener *dossier.ListenerRow `json:"listener"`
	Baseline *RuleRef             `json:"baseline_rule"`
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
}

// Run judges rows. It is pure and deterministic: the findings are sorted by
// severity (highest first), then protocol, port, address, namespace and
// rule id.
func Run(rows []dossier.ListenerRow, opt Options) *Report {
	rep := &Report{Listeners: len(rows), Findings: []Finding{}}
	eph := [2]int{opt.EphemeralLow, opt.EphemeralHigh}
	var used []bool
	if opt.Baseline != nil {
		used = make([]bool, len(opt.Baseline.Rules))
	}
	threats := map[uint32]*threat{} // intel lookups, once per port and protocol
	refs := map[int]*RuleRef{}      // one RuleRef per baseline rule used
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
		th, ok := threats[k]
		if !ok {
			th = threatOf(row, opt.Intel)
			threats[k] = th
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
		rep.Findings = judge(rep.Findings, row, th, explained, m, opt)
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
func judge(out []Finding, row *dossier.ListenerRow, th *threat, explained *Rule, m Match, opt Options) []Finding {
	start := len(out)
	add := func(rule string, sev Severity, reason, advice string) {
		out = append(out, Finding{Rule: rule, Severity: sev, Listener: row, Reason: reason, Advice: advice})
	}
	// Most listeners have no finding, so their descriptions are only built
	// when a rule fires.
	var where, who, info, whoCmd string
	describe := func() {
		if where == "" {
			where, who = describeListener(row), describeOwner(row)
			info = "porthole info " + strconv.Itoa(row.Port)
			whoCmd = "porthole who " + row.Proto + "/" + strconv.Itoa(row.Port)
		}
	}

	writable := writableDir(row.Exe)
	scriptDir := ""
	if isInterpreter(row.Process) || isInterpreter(baseName(row.Exe)) {
		scriptDir = scriptInWritableDir(row.Cmdline)
	}
	suspicious := writable != "" || (row.ExeDeleted && !systemDir(row.Exe)) || isShell(row.Process) || scriptDir != ""

	if th != nil {
		describe()
		sev := severityOfConfidence(th.confidence)
		reason := fmt.Sprintf("%s is on record as the port of %s%s; %s holds %s",
			protoPort(row), th.name, th.detail, who, where)
		if suspicious {
			sev = Critical
			reason += ", and the program itself looks wrong (see the other findings)"
		}
		add(RuleKnownBad, sev, reason, fmt.Sprintf("find out what the program is: run `%s` (the port's history) and `%s`; if it is legitimate, add it to the baseline", info, whoCmd))
	}
	if writable != "" {
		describe()
		add(RuleExeWritableDir, High,
			fmt.Sprintf("%s runs from %s, a directory anyone can write to, and holds %s", who, writable, where),
			fmt.Sprintf("programs that listen should live in system directories; inspect %s and who started it (`%s`)", row.Exe, whoCmd))
	}
	if row.ExeDeleted {
		describe()
		sev := High
		advice := "a program that deletes itself after starting is hiding; keep the process running, copy /proc/PID/exe, and investigate"
		if systemDir(row.Exe) {
			sev = Medium
			advice = "usually a package upgrade replaced the file: restart the service so it runs the new executable; if nothing was upgraded, investigate"
		}
		if row.PID != nil {
			advice = strings.Replace(advice, "PID", strconv.Itoa(*row.PID), 1)
		}
		add(RuleDeletedExe, sev,
			fmt.Sprintf("the executable of %s, %s, was deleted or replaced after it started; it holds %s", who, row.Exe, where),
			advice)
	}
	if isShell(row.Process) || isNetcat(row.Process) || scriptDir != "" {
		describe()
	}
	switch {
	case isShell(row.Process):
		add(RuleShell, High,
			fmt.Sprintf("a shell (%s) holds %s: that is how a bind shell looks", who, where),
			fmt.Sprintf("check the shell's parent and command line (`%s`); end it if nobody can explain it", whoCmd))
	case isNetcat(row.Process):
		add(RuleShell, Medium,
			fmt.Sprintf("%s, a raw socket tool often used for bind shells and ad-hoc transfers, holds %s", who, where),
			fmt.Sprintf("check who started it (`%s`); end it if nobody can explain it", whoCmd))
	case scriptDir != "":
		add(RuleShell, High,
			fmt.Sprintf("%s runs a script from %s, a directory anyone can write to, and holds %s", who, scriptDir, where),
			fmt.Sprintf("inspect the script and who started it (`%s`)", whoCmd))
	}
	if row.PID == nil && row.OwnerUnknownReason != "" && row.OwnerUnknownReason != "owner lookup skipped" {
		describe()
		sev := Medium
		switch {
		case strings.HasPrefix(row.OwnerUnknownReason, "kernel socket"):
			sev = Low
		case strings.Contains(row.OwnerUnknownReason, "run as root"), strings.Contains(row.OwnerUnknownReason, "unreadable"):
			sev = Low
		}
		add(RuleOwnerUnknown, sev,
			fmt.Sprintf("nobody can be named for %s (%s)", where, row.OwnerUnknownReason),
			fmt.Sprintf("run porthole as root (with --all-netns for containers); `ss -tulpne` and `%s` show the socket's inode and uid", whoCmd))
	}
	if svc, ok := sensitivePort(row.Proto, row.Port); ok && isWildcard(row.Address) {
		describe()
		add(RuleExposedService, Medium,
			fmt.Sprintf("%s (%s) listens on every interface: %s", protoPort(row), svc, where),
			"bind it to loopback or a private address, or make sure a firewall and authentication protect it")
	}
	if row.Port < 1024 && row.UID > 0 && row.HostNetNS {
		add(RulePrivileged, Low,
			fmt.Sprintf("%s is a privileged port, yet its socket belongs to uid %d, not root: the program was given CAP_NET_BIND_SERVICE or the unprivileged port floor was lowered", protoPort(row), row.UID),
			"check the program's file capabilities (getcap) and net.ipv4.ip_unprivileged_port_start")
	}
	if opt.Baseline != nil && explained == nil {
		describe()
		if m.Changed >= 0 {
			r := &opt.Baseline.Rules[m.Changed]
			add(RuleOwnerChanged, High,
				fmt.Sprintf("baseline %s expects %s on %s, but now %s holds it", r.Ref(), describeOwnerRule(r), where, who),
				fmt.Sprintf("find out why the program changed (`%s`); if the change is intended, update the baseline line", whoCmd))
			out[len(out)-1].Baseline = refOf(r)
		} else {
			sev := Medium
			if row.Loopback {
				sev = Low
			}
			add(RuleUnexpected, sev,
				fmt.Sprintf("%s holds %s, which is not in the baseline; %s", who, where, ianaSays(row, opt.Registry)),
				fmt.Sprintf("find out what it is (`%s`, `%s`); if it belongs here, add a line for it to the baseline", whoCmd, info))
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
			f.Reason += fmt.Sprintf(" (explained by baseline %s)", ref.String())
			f.Baseline = ref
		}
	}
	return out
}

type threat struct {
	name, detail string
	confidence   string
}

// threatOf returns the strongest intel threat for the row's port and
// protocol, from the intel DB when given, else from the row's annotation.
func threatOf(row *dossier.ListenerRow, db *intel.DB) *threat {
	if db != nil {
		p, _ := ports.ParseProto(row.Proto)
		for _, m := range db.ForPort(row.Port) {
			e := m.Entry
			if !e.IsThreat() || (m.Proto != ports.ProtoNone && m.Proto != p) {
				continue
			}
			detail := " (" + string(e.Kind)
			if y := e.Years.String(); y != "" {
				detail += ", " + y
			}
			detail += ", " + string(e.Confidence) + " confidence, intel " + e.ID + ")"
			return &threat{name: e.Name, detail: detail, confidence: string(e.Confidence)}
		}
		return nil
	}
	if row.Threat == "" {
		return nil
	}
	detail := " (" + row.ThreatConfidence + " confidence"
	if row.ThreatID != "" {
		detail += ", intel " + row.ThreatID
	}
	return &threat{name: row.Threat, detail: detail + ")", confidence: row.ThreatConfidence}
}

func severityOfConfidence(c string) Severity {
	switch c {
	case "high":
		return High
	case "medium":
		return Medium
	}
	return Low
}

// ianaSays phrases the registry's status for the row's port and protocol.
func ianaSays(row *dossier.ListenerRow, x *registry.Index) string {
	status, service := row.Status, row.Service
	if x != nil {
		p, _ := ports.ParseProto(row.Proto)
		status = string(x.StatusOf(row.Port, p))
		if service == "" {
			for _, r := range x.Port(row.Port) {
				if r.Name != "" && (r.Proto == p || r.Proto == ports.ProtoNone) {
					service = r.Name
					break
				}
			}
		}
	}
	switch {
	case status == "assigned" && service != "":
		return fmt.Sprintf("IANA assigns %s to %s (status assigned)", protoPort(row), service)
	case status == "":
		return "IANA status unknown"
	}
	return fmt.Sprintf("IANA status of %s: %s", protoPort(row), status)
}

func protoPort(row *dossier.ListenerRow) string { return row.Proto + "/" + strconv.Itoa(row.Port) }

// describeListener is "tcp 0.0.0.0:2556" plus the namespace when not the
// host's.
func describeListener(row *dossier.ListenerRow) string {
	s := row.Proto + " " + row.HostPort()
	if row.DualStack {
		s += " (IPv4 and IPv6)"
	}
	if !row.HostNetNS && row.NetNS != 0 {
		s += " in netns " + strconv.FormatUint(row.NetNS, 10)
	}
	if row.Container != "" {
		s += " (container " + shortID(row.Container) + ")"
	}
	return s
}

// describeOwner is "pid 123 bagle (/tmp/x/bagle, user root)" or "an
// unknown process".
func describeOwner(row *dossier.ListenerRow) string {
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

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func isWildcard(a string) bool {
	addr, err := netip.ParseAddr(a)
	return err == nil && addr.IsUnspecified()
}

// writableDirs are the world-writable directories of a Unix system: a
// program there can be planted by any local user.
var writableDirs = []string{"/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/var/crash", "/run/lock", "/var/lock"}

// writableDir returns the world-writable directory that holds p, or "".
func writableDir(p string) string {
	for _, d := range writableDirs {
		if strings.HasPrefix(p, d+"/") {
			return d
		}
	}
	return ""
}

// systemDir reports whether p is under a directory packages install into.
func systemDir(p string) bool {
	for _, d := range []string{"/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/opt/", "/snap/", "/nix/store/"} {
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

func sensitivePort(proto string, port int) (string, bool) {
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
	if proto == "udp" && port != 111 && port != 2049 && port != 11211 {
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
		if s.Proto != ports.ProtoNone && r.Proto != "" && s.Proto.String() != r.Proto {
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
			if c := cmp.Compare(la.Proto, lb.Proto); c != 0 {
				return c
			}
			if c := cmp.Compare(la.Port, lb.Port); c != 0 {
				return c
			}
			if c := cmp.Compare(la.Address, lb.Address); c != 0 {
				return c
			}
			if la.HostNetNS != lb.HostNetNS {
				if la.HostNetNS {
					return -1
				}
				return 1
			}
			if c := cmp.Compare(la.NetNS, lb.NetNS); c != 0 {
				return c
			}
		} else if c := cmp.Compare(a.Baseline.Line, b.Baseline.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Rule, b.Rule)
	})
}
