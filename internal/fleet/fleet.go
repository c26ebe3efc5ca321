// Package fleet is the domain of porthole's fleet inventory: the listeners a
// host reports, the report an agent sends to a central `porthole serve`, its
// wire format (a strict JSON decoder), and the agent-side diff that turns two
// snapshots into a delta. It is pure: no I/O, no clock, no database.
//
// A report belongs to one host (Host) and one run of its agent (Agent, a
// random id drawn at start). Seq numbers the reports of one run from 1, so
// the server can ignore a replay (Seq at or below the last it applied) and
// notice a gap. A run starts with a full report (the whole listener set);
// then each report is a delta (added, removed and owner-changed listeners)
// or a heartbeat (nothing changed), one every Interval at the latest, so
// that a silent host means something.
package fleet

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/porthole/porthole/internal/ports"
)

// Kind is what a report carries.
type Kind uint8

// The report kinds. The zero Kind is invalid.
const (
	KindInvalid   Kind = iota
	KindFull           // the host's whole listener set, replacing what the server holds
	KindDelta          // listeners added, removed and owner-changed since the previous report
	KindHeartbeat      // nothing changed; the host is alive
)

var kindNames = [...]string{"", "full", "delta", "heartbeat"}

// String is the wire spelling: "full", "delta" or "heartbeat" ("" when invalid).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return ""
}

// ParseKind reads a wire spelling.
func ParseKind(s string) (Kind, bool) {
	for i, n := range kindNames {
		if i > 0 && n == s {
			return Kind(i), true
		}
	}
	return KindInvalid, false
}

// Limits of a valid report. They bound what one host can make the server
// store; MaxReportBytes is also the HTTP body limit.
const (
	Version        = 1              // the wire format version this package speaks
	MaxReportBytes = 8 << 20        // a report's JSON, in bytes; also the HTTP body limit
	MaxListeners   = 50000          // listeners in one report, counted over every list
	MaxNameLen     = 63             // host name
	MaxIDLen       = 64             // agent and boot ids
	MaxExeLen      = 4096           // an executable's path (PATH_MAX)
	MaxTextLen     = 256            // user, container, process and netns names
	MaxSeq         = 1<<53 - 1      // the largest seq (exact wherever JSON numbers are read as floats)
	MinInterval    = time.Second    // shortest reporting interval
	MaxInterval    = 24 * time.Hour // longest reporting interval
	MaxPID         = 1<<32 - 1      // a Windows PID is a DWORD; Linux's are at most 4,194,304
	MaxUID         = 1<<32 - 2      // (uid_t)-1 means "no uid"
	StaleAfter     = 3              // intervals without a report after which a host is stale
)

// ErrInvalid wraps every validation error; the message names the field.
var ErrInvalid = errors.New("invalid report")

// Key identifies a listener on one host: the same protocol, address, port
// and network namespace is the same listener, whoever holds it.
type Key struct {
	Proto ports.Proto
	Addr  netip.Addr
	Port  uint16
	NetNS string // the network namespace's name; "" is the agent's own
}

// Owner is who holds a listener (the lowest PID of those holding it).
type Owner struct {
	PID       int    // 0 when unknown
	UID       int    // -1 when unknown
	User      string // user name, or "" when unknown
	Process   string // short process name
	Exe       string // absolute path of the executable, "" when unreadable
	Container string // container id, "" when none
}

// NoOwner is an Owner that says nothing is known.
var NoOwner = Owner{UID: -1}

// Listener is one listening socket of a host with its owner.
type Listener struct {
	Key
	Owner
}

// Compare orders keys by protocol, port, address and namespace, the order
// of `porthole list`.
func (k Key) Compare(o Key) int {
	return cmp.Or(cmp.Compare(k.Proto, o.Proto), cmp.Compare(k.Port, o.Port), k.Addr.Compare(o.Addr), cmp.Compare(k.NetNS, o.NetNS))
}

// String is "tcp 0.0.0.0:2556" (with " netns NAME" when not the agent's own).
func (k Key) String() string {
	s := k.Proto.String() + " " + netip.AddrPortFrom(k.Addr, k.Port).String()
	if k.NetNS != "" {
		s += " netns " + k.NetNS
	}
	return s
}

// Report is one message from an agent.
type Report struct {
	Host     string        // the host's name, as given to `porthole fleet token`
	Agent    string        // the agent run's random id
	Boot     string        // the host's boot id, "" when unknown
	Group    string        // the group the host is compared with for outliers; "" is the whole fleet
	Seq      uint64        // 1, 2, … within one Agent run
	Kind     Kind          //
	Interval time.Duration // the agent's reporting interval, whole seconds
	// Listeners is the whole set of a full report (empty otherwise).
	Listeners []Listener
	// Added, Removed and Changed are a delta's content (empty otherwise).
	// Removed listeners carry their last known owner; Changed ones their
	// new owner.
	Added, Removed, Changed []Listener
	// Findings, when FindingsSet, replace the host's audit findings (none
	// when empty); a report without them leaves the stored ones. Full and
	// delta reports may carry them, heartbeats not.
	Findings    []Finding
	FindingsSet bool
}

// Finding is one result of `porthole audit` on the host, run by its agent.
type Finding struct {
	Rule     string // the audit rule id, such as "known-bad-port"
	Severity string // info, low, medium, high or critical
	Key             // the listener it is about; a zero Proto for none (a baseline rule with no listener)
	Reason   string // why, in English
}

// Limits of a finding.
const (
	MaxFindings  = 10000
	MaxReasonLen = 1024
)

var severities = []string{"info", "low", "medium", "high", "critical"}

// The identifier shapes, checked byte by byte: compiling regular
// expressions when the package is initialised cost every porthole command
// a third of a millisecond at start.
const (
	lower = "abcdefghijklmnopqrstuvwxyz"
	alnum = lower + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// shaped reports whether s is 1 to most bytes long, its first byte in
// first and the others in rest.
func shaped(s string, most int, first, rest string) bool {
	if len(s) == 0 || len(s) > most || !strings.ContainsRune(first, rune(s[0])) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !strings.ContainsRune(rest, rune(s[i])) {
			return false
		}
	}
	return true
}

// validRule: ^[a-z][a-z0-9-]{0,63}$
func validRule(s string) bool { return shaped(s, 64, lower, lower+"0123456789-") }

// validNameShape: ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$
func validNameShape(s string) bool { return shaped(s, 63, alnum, alnum+"._-") }

// validIDShape: ^[A-Za-z0-9][A-Za-z0-9-]{0,63}$
func validIDShape(s string) bool { return shaped(s, 64, alnum, alnum+"-") }

// Validate checks one finding; field prefixes the field names in errors.
func (f Finding) Validate(field string) error {
	if !validRule(f.Rule) {
		return fmt.Errorf("%w: %s.rule: %q is not a rule id", ErrInvalid, field, f.Rule)
	}
	if !slices.Contains(severities, f.Severity) {
		return fmt.Errorf("%w: %s.severity: %q is not info, low, medium, high or critical", ErrInvalid, field, f.Severity)
	}
	if f.Proto != ports.ProtoNone {
		if err := (Listener{Key: f.Key, Owner: NoOwner}).Validate(field); err != nil {
			return err
		}
	}
	return validText(field+".reason", f.Reason, MaxReasonLen)
}

// MostSevere keeps at most n of fs (which it may reorder): the most severe
// first, ties in CompareFindings order, and returns them in CompareFindings
// order with how many it left out. An agent on a host with more findings than
// a report may carry (MaxFindings; one per listener is possible) sends these.
func MostSevere(fs []Finding, n int) ([]Finding, int) {
	if len(fs) <= n {
		return fs, 0
	}
	rank := func(f Finding) int { return slices.Index(severities, f.Severity) }
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(rank(b), rank(a)), CompareFindings(a, b))
	})
	kept := fs[:n]
	slices.SortFunc(kept, CompareFindings)
	return kept, len(fs) - n
}

// CompareFindings orders findings by key, then rule, for a stable set.
func CompareFindings(a, b Finding) int {
	if c := a.Key.Compare(b.Key); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Severity, b.Severity), cmp.Compare(a.Reason, b.Reason))
}

// ValidName reports whether s can name a host: 1–63 ASCII letters, digits,
// dots, hyphens and underscores, starting with a letter or digit.
func ValidName(s string) error {
	if !validNameShape(s) {
		return fmt.Errorf("%w: host name %q: use 1–%d letters, digits, '.', '-' or '_', starting with a letter or digit", ErrInvalid, s, MaxNameLen)
	}
	return nil
}

func validID(field, s string, required bool) error {
	if s == "" && !required {
		return nil
	}
	if !validIDShape(s) {
		return fmt.Errorf("%w: %s %q: use 1–%d letters, digits or '-'", ErrInvalid, field, s, MaxIDLen)
	}
	return nil
}

// validText checks a free-text field: valid UTF-8, at most max bytes, no
// control characters (PostgreSQL text cannot hold NUL, and a terminal must
// not receive escapes from a remote host).
// textOK reports whether validText would accept s, without naming a field:
// the common case costs no allocation.
func textOK(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return validText("", s, max) == nil // DEL, or non-ASCII: the full check
		}
	}
	return true
}

func validText(field, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%w: %s is %d bytes, more than %d", ErrInvalid, field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, field)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f {
			return fmt.Errorf("%w: %s holds control character %U", ErrInvalid, field, r)
		}
	}
	return nil
}

// Validate checks one listener; field prefixes the field names in errors.
func (l Listener) Validate(field string) error {
	switch l.Proto {
	case ports.TCP, ports.UDP, ports.SCTP, ports.DCCP:
	default:
		return fmt.Errorf("%w: %s.proto: %q is not tcp, udp, sctp or dccp", ErrInvalid, field, l.Proto)
	}
	if !l.Addr.IsValid() {
		return fmt.Errorf("%w: %s.address: missing", ErrInvalid, field)
	}
	if l.Addr.Zone() != "" && len(l.Addr.Zone()) > 16 {
		return fmt.Errorf("%w: %s.address: zone longer than 16 bytes", ErrInvalid, field)
	}
	if l.PID < 0 || l.PID > MaxPID {
		return fmt.Errorf("%w: %s.pid: %d outside 0–%d", ErrInvalid, field, l.PID, MaxPID)
	}
	if l.UID < -1 || l.UID > MaxUID {
		return fmt.Errorf("%w: %s.uid: %d outside -1–%d", ErrInvalid, field, l.UID, MaxUID)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"netns", l.NetNS, MaxTextLen}, {"user", l.User, MaxTextLen}, {"process", l.Process, MaxTextLen},
		{"exe", l.Exe, MaxExeLen}, {"container", l.Container, MaxTextLen}} {
		if !textOK(f.v, f.max) {
			return validText(field+"."+f.name, f.v, f.max)
		}
	}
	return nil
}

// Validate checks the whole report: its header, each listener, and that no
// listener appears twice in one list or in two lists of a delta.
func (r Report) Validate() error {
	if err := ValidName(r.Host); err != nil {
		return fmt.Errorf("host: %w", err)
	}
	if err := validID("agent", r.Agent, true); err != nil {
		return err
	}
	if err := validID("boot", r.Boot, false); err != nil {
		return err
	}
	if r.Group != "" {
		if err := ValidName(r.Group); err != nil {
			return fmt.Errorf("%w: group %q: use 1–%d letters, digits, '.', '-' or '_', starting with a letter or digit", ErrInvalid, r.Group, MaxNameLen)
		}
	}
	if r.Seq < 1 || r.Seq > MaxSeq {
		return fmt.Errorf("%w: seq: %d outside 1–%d", ErrInvalid, r.Seq, uint64(MaxSeq))
	}
	if r.Interval < MinInterval || r.Interval > MaxInterval || r.Interval%time.Second != 0 {
		return fmt.Errorf("%w: interval: %v is not a whole number of seconds from %v to %v", ErrInvalid, r.Interval, MinInterval, MaxInterval)
	}
	n := len(r.Listeners) + len(r.Added) + len(r.Removed) + len(r.Changed)
	if n > MaxListeners {
		return fmt.Errorf("%w: listeners: %d in one report, more than %d", ErrInvalid, n, MaxListeners)
	}
	switch r.Kind {
	case KindFull:
		if len(r.Added)+len(r.Removed)+len(r.Changed) > 0 {
			return fmt.Errorf("%w: a full report carries only listeners, not added, removed or changed", ErrInvalid)
		}
	case KindDelta:
		if len(r.Listeners) > 0 {
			return fmt.Errorf("%w: a delta carries added, removed and changed, not listeners", ErrInvalid)
		}
	case KindHeartbeat:
		if n > 0 {
			return fmt.Errorf("%w: a heartbeat carries no listeners", ErrInvalid)
		}
		if r.FindingsSet {
			return fmt.Errorf("%w: a heartbeat carries no findings", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: kind: not full, delta or heartbeat", ErrInvalid)
	}
	if len(r.Findings) > 0 && !r.FindingsSet {
		return fmt.Errorf("%w: findings without FindingsSet", ErrInvalid)
	}
	if len(r.Findings) > MaxFindings {
		return fmt.Errorf("%w: findings: %d, more than %d", ErrInvalid, len(r.Findings), MaxFindings)
	}
	for i, f := range r.Findings {
		if err := f.Validate(fmt.Sprintf("findings[%d]", i)); err != nil {
			return err
		}
	}
	// Where a listener was seen; its field name is spelled out only in an error.
	type at struct {
		list string
		i    int
	}
	name := func(a at) string { return fmt.Sprintf("%s[%d]", a.list, a.i) }
	seen := make(map[Key]at, n)
	for _, list := range []struct {
		name string
		ls   []Listener
	}{{"listeners", r.Listeners}, {"added", r.Added}, {"removed", r.Removed}, {"changed", r.Changed}} {
		for i, l := range list.ls {
			here := at{list.name, i}
			if err := l.Validate(""); err != nil {
				return l.Validate(name(here))
			}
			if prev, dup := seen[l.Key]; dup {
				return fmt.Errorf("%w: %s: %s is also %s", ErrInvalid, name(here), l.Key, name(prev))
			}
			seen[l.Key] = here
		}
	}
	return nil
}

// Stale reports whether a host last seen at lastSeen with this interval is
// stale at now: StaleAfter intervals have passed without a report.
func Stale(lastSeen time.Time, interval time.Duration, now time.Time) bool {
	if lastSeen.IsZero() || interval <= 0 {
		return true
	}
	return now.Sub(lastSeen) > StaleAfter*interval
}

// Sort orders listeners by Key.Compare, in place.
func Sort(ls []Listener) {
	slices.SortFunc(ls, func(a, b Listener) int { return a.Key.Compare(b.Key) })
}
