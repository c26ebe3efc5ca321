package audit

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/safefile"
)

// ErrTooLarge is returned by Load for a file over MaxBaselineSize.
var ErrTooLarge = errors.New("baseline file too large")

// Load reads and parses the baseline file at path. It refuses files over
// MaxBaselineSize without reading them whole, and anything but a regular
// file (a FIFO, a device, a directory) without blocking on it
// (safefile.ErrNotRegular).
func Load(path string) (*Baseline, []Warning, error) {
	data, err := safefile.ReadFile(path, MaxBaselineSize)
	if errors.Is(err, safefile.ErrTooLarge) {
		return nil, nil, fmt.Errorf("%s: %w (the limit is %d MiB)", path, ErrTooLarge, MaxBaselineSize>>20)
	}
	if err != nil {
		return nil, nil, err
	}
	return Parse(path, data)
}

// CheckPaths warns about exe= values without wildcards that do not exist
// here (exists is os.Stat's view of this host). Fleets differ, so this is
// a warning, never an error.
func CheckPaths(b *Baseline, exists func(string) bool) []Warning {
	var out []Warning
	checked := map[string]bool{}
	for i := range b.Rules {
		r := &b.Rules[i]
		if r.Exe == "" || strings.ContainsAny(r.Exe, "*?[\\") {
			continue
		}
		ok, seen := checked[r.Exe]
		if !seen {
			ok = exists(r.Exe)
			checked[r.Exe] = ok
		}
		if !ok {
			out = append(out, Warning{r.File, r.Line, fmt.Sprintf("exe %s does not exist on this host", r.Exe)})
		}
	}
	return out
}

// WriteOptions describe the machine a baseline is written from.
type WriteOptions struct {
	Host                        string
	Now                         time.Time
	EphemeralLow, EphemeralHigh int
	// Registry and Intel, when set, judge the rows for review (see
	// ReviewReasons); without them the rows' own annotation is used.
	Registry *registry.Index
	Intel    *intel.DB
}

// Write writes rows as a commented baseline that Parse reads back and that
// explains every row. One line covers the IPv4 and IPv6 sockets of one
// program on one port and scope. UDP sockets in the ephemeral range get
// the port "ephemeral", since such ports change at every start.
func Write(w io.Writer, rows []dossier.Listener, opt WriteOptions) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `# porthole baseline: the listeners expected on this machine.
# Written by 'porthole baseline' at %s%s. Edit it freely, keep it
# under version control, and check the machine with:
#   porthole audit --baseline FILE
#
# One expected listener per line:
#   PROTO PORT [KEY=VALUE]... [optional] [# comment]
# PROTO   tcp, udp or any
# PORT    22, a range 8000-8100, * (every port), or ephemeral (this host's
#         ephemeral range, where programs get random ports)
# exe=    executable path, a glob: exe=/usr/lib/jvm/*/bin/java
# name=   process name, a glob          user=  user name or uid
# addr=   loopback, any (0.0.0.0 or ::), an address, or a prefix 10.0.0.0/8;
#         leave it out to accept every address
# netns=  host, other, or a namespace inode; container=, unit= are globs
# optional  this listener may be absent (no "baseline-missing" finding)
# Values with spaces or '#' are double-quoted: exe="/opt/my app/bin/srv".
# A PID is never part of a rule: restarting a service changes nothing.
`, opt.Now.UTC().Format(time.RFC3339), hostPart(opt.Host))
	type line struct {
		rule    Rule
		comment string
		fams    int    // bit 1: IPv4 socket, bit 2: IPv6 socket
		review  string // why the line is written commented out
	}
	var lines []line
	index := map[string]int{}
	reviews := ReviewReasons(rows, Options{Registry: opt.Registry, Intel: opt.Intel})
	for i := range rows {
		row := &rows[i]
		r, comment := ruleFor(row, opt)
		key := r.String()
		fam := 1
		if row.Family == 6 {
			fam = 2
		}
		if j, ok := index[key]; ok {
			lines[j].fams |= fam
			if lines[j].review == "" {
				lines[j].review = reviews[i]
			}
			continue
		}
		index[key] = len(lines)
		lines = append(lines, line{r, comment, fam, reviews[i]})
	}
	for i := range lines {
		if lines[i].fams == 3 {
			lines[i].comment = strings.TrimPrefix(lines[i].comment+"; IPv4 and IPv6 sockets", "; ")
		}
	}
	slices.SortStableFunc(lines, func(a, b line) int {
		if c := cmp.Compare(a.rule.Proto, b.rule.Proto); c != 0 {
			return c
		}
		pa, pb := a.rule.Low, b.rule.Low
		if a.rule.Ephemeral {
			pa = 1 << 20
		}
		if b.rule.Ephemeral {
			pb = 1 << 20
		}
		if pa != pb {
			return pa - pb
		}
		return strings.Compare(a.rule.String(), b.rule.String())
	})
	fmt.Fprintf(bw, "\n# %d listeners on %d lines.\n", len(rows), len(lines))
	for _, l := range lines {
		s := l.rule.String()
		if l.comment != "" {
			s += "  # " + strings.ReplaceAll(l.comment, "\n", " ")
		}
		if l.review != "" {
			// A baseline must not bless a listener that looks planted:
			// such a line is written disabled, with the reason above it.
			fmt.Fprintf(bw, "# REVIEW: %s. Remove the '#' below only if this listener belongs here.\n#", l.review)
		}
		fmt.Fprintln(bw, s)
	}
	return bw.Flush()
}

func hostPart(h string) string {
	if h == "" {
		return ""
	}
	return " on " + h
}

// ruleFor is the baseline line for one row, with its comment.
func ruleFor(row *dossier.Listener, opt WriteOptions) (Rule, string) {
	r := Rule{Proto: row.Proto, Low: row.Port, High: row.Port}
	var notes []string
	if row.Process != "" {
		notes = append(notes, row.Process)
	}
	if row.Proto == ports.UDP && opt.EphemeralLow > 0 && row.Port >= opt.EphemeralLow && row.Port <= opt.EphemeralHigh && row.Exe != "" {
		r.Ephemeral, r.Low, r.High = true, 0, 0
		notes = append(notes, "was on port "+strconv.Itoa(row.Port))
	} else if row.Service != "" {
		notes = append(notes, "IANA "+row.Service)
	}
	if row.Proto == ports.TCP && opt.EphemeralLow > 0 && row.Port >= opt.EphemeralLow && row.Port <= opt.EphemeralHigh {
		notes = append(notes, "inside the ephemeral range")
	}
	if row.Exe != "" && !row.ExeDeleted {
		r.Exe = row.Exe
	} else if row.Process != "" {
		r.Name = row.Process
	}
	if row.User != "" {
		r.User = row.User
	}
	if row.PID == nil {
		notes = append(notes, "owner unknown when written: "+dossier.OwnerUnknownText(i18n.EN, row.OwnerUnknown))
	}
	switch addr := row.Addr; {
	case !addr.IsValid():
	case addr.IsLoopback():
		r.Addr, r.addrKind = "loopback", addrLoopback
	case addr.IsUnspecified():
		r.Addr, r.addrKind = "any", addrWildcard
	default:
		r.Addr, r.addrKind, r.addr = addr.String(), addrExact, addr.Unmap()
	}
	if row.HostNetNS {
		r.NetNS = "host"
	} else {
		r.NetNS = "other"
		if row.Container != "" {
			r.Container = row.Container
		}
	}
	if row.Threat != "" && row.ThreatSignal != dossier.SignalCommon {
		// A threat on a port with a usual occupant is history, not news.
		notes = append(notes, "intel: "+row.Threat)
	}
	return r, strings.Join(notes, "; ")
}

// ReviewReasons says, for each row, why its baseline line must be written
// disabled ("" when it need not): the findings porthole audit reports about
// it at high or critical without a baseline (rule, severity and the reason
// in one word), and an owner nobody could name. A baseline written from a
// compromised host must not bless what is wrong with it.
func ReviewReasons(rows []dossier.Listener, opt Options) []string {
	out := make([]string, len(rows))
	index := make(map[*dossier.Listener]int, len(rows))
	for i := range rows {
		index[&rows[i]] = i
	}
	// Run judges the rows in place: findings point at them.
	opt.Baseline = nil
	rep := Run(rows, opt)
	found := make([][]string, len(rows))
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.Severity < High || f.Listener == nil {
			continue
		}
		j, ok := index[f.Listener]
		if !ok {
			continue
		}
		found[j] = append(found[j], fmt.Sprintf("%s %s (%s)", f.Rule, f.Severity, f.Word()))
	}
	for i := range rows {
		var why []string
		if len(found[i]) > 0 {
			why = append(why, "porthole audit finds "+strings.Join(found[i], ", "))
		}
		if rows[i].PID == nil {
			why = append(why, "owner unknown ("+dossier.OwnerUnknownText(i18n.EN, rows[i].OwnerUnknown)+")")
		}
		out[i] = strings.Join(why, "; ")
	}
	return out
}
