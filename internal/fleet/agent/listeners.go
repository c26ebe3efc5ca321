package agent

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
)

// Reader reads this host's state for the agent.
type Reader struct {
	// NetNS, when set, reads only the network namespace at this path (its
	// sockets are dumped from inside it; the agent itself stays in its own)
	// and reports its listeners as this host's own. "" reads every
	// namespace the agent can see.
	NetNS string
	// Intel, when set, makes every snapshot run porthole audit (without a
	// baseline) on the listeners; its findings of severity low and above
	// are reported. Registry may be nil.
	Intel    *intel.DB
	Registry *registry.Index
}

// Snapshot reads the listeners (and the findings) now.
func (r Reader) Snapshot(ctx context.Context) (State, error) {
	q := sockets.Query{AllNetNS: true}
	if r.NetNS != "" {
		q = sockets.Query{NetNS: r.NetNS}
	}
	ls, err := sockets.List(ctx, q)
	if err != nil {
		return State{}, err
	}
	names := sockets.NetNSNames()
	if r.NetNS != "" {
		for i := range ls {
			ls[i].HostNetNS = true
		}
	}
	st := State{Listeners: FromSockets(ls, names)}
	if r.Intel != nil {
		rows := dossier.Annotate(ls, r.Registry, r.Intel)
		opt := audit.Options{Registry: r.Registry, Intel: r.Intel, AllNetNS: r.NetNS == "", OS: runtime.GOOS, Root: os.Geteuid() == 0}
		if lo, hi, err := sockets.EphemeralRange(); err == nil {
			opt.EphemeralLow, opt.EphemeralHigh = lo, hi
		}
		st.Findings, st.Audited = FindingsOf(audit.Run(rows, opt), names), true
	}
	return st, nil
}

// FindingsOf converts an audit report's findings of severity low and above
// (info is not worth a fleet's attention), naming namespaces as FromSockets
// does.
func FindingsOf(rep *audit.Report, names map[uint64]string) []fleet.Finding {
	out := []fleet.Finding{}
	for _, f := range rep.Findings {
		if f.Severity < audit.Low {
			continue
		}
		x := fleet.Finding{Rule: f.Rule, Severity: f.Severity.String(), Reason: clean(f.Reason, fleet.MaxReasonLen)}
		if l := f.Listener; l != nil {
			if l.Proto != ports.ProtoNone && l.Addr.IsValid() && l.Port >= 0 && l.Port <= 65535 {
				x.Key = fleet.Key{Proto: l.Proto, Addr: l.Addr, Port: uint16(l.Port), NetNS: nsName(l.NetNS, l.HostNetNS, names)}
			}
		}
		out = append(out, x)
	}
	return out
}

func nsName(ino uint64, host bool, names map[uint64]string) string {
	if host || ino == 0 {
		return ""
	}
	ns := names[ino]
	if ns == "" {
		ns = "netns:" + strconv.FormatUint(ino, 10)
	}
	return clean(ns, fleet.MaxTextLen)
}

// FromSockets converts listeners as sockets.List returns them; names maps
// namespace inodes to names. Text from the system is made valid for a
// report: control characters escaped, cut to the limits.
func FromSockets(ls []sockets.Listener, names map[uint64]string) []fleet.Listener {
	out := make([]fleet.Listener, 0, len(ls))
	for _, l := range ls {
		proto := l.Proto
		if proto == ports.ProtoNone || l.Port < 0 || l.Port > 65535 || !l.Addr.IsValid() {
			continue
		}
		f := fleet.Listener{Key: fleet.Key{Proto: proto, Addr: l.Addr, Port: uint16(l.Port), NetNS: nsName(l.NetNS, l.HostNetNS, names)},
			Owner: fleet.NoOwner}
		if l.UID >= 0 && l.UID <= fleet.MaxUID {
			f.UID = l.UID
		}
		// The lowest PID holds it for the fleet (fleet.Normalize's rule).
		best := -1
		for i, o := range l.Owners {
			if o.PID > 0 && (best < 0 || o.PID < l.Owners[best].PID) {
				best = i
			}
		}
		if best >= 0 {
			o := l.Owners[best]
			f.PID = min(o.PID, fleet.MaxPID)
			if o.UID >= 0 && o.UID <= fleet.MaxUID {
				f.UID = o.UID
			}
			f.User, f.Process = clean(o.User, fleet.MaxTextLen), clean(o.Name, fleet.MaxTextLen)
			f.Exe, f.Container = clean(o.Exe, fleet.MaxExeLen), clean(o.Container, fleet.MaxTextLen)
		}
		out = append(out, f)
	}
	return fleet.Normalize(out)
}

// clean makes s valid report text: invalid UTF-8 and control characters
// become \xNN escapes (a file name may hold a newline or an escape
// sequence), and the result is cut to max bytes on a character boundary.
func clean(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1, r < 0x20, r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, s[i])
			n = 1
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	out := b.String()
	for len(out) > max {
		_, n := utf8.DecodeLastRuneInString(out)
		out = out[:len(out)-n]
	}
	return out
}
