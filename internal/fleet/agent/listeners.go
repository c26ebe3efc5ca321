package agent

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/sockets"
)

// Listeners reads this host's listeners in every network namespace porthole
// can see, as the fleet names them: a namespace other than the agent's by its
// `ip netns` name, else "netns:INODE".
func Listeners(ctx context.Context) ([]fleet.Listener, error) {
	ls, err := sockets.List(ctx, sockets.Query{AllNetNS: true})
	if err != nil {
		return nil, err
	}
	return FromSockets(ls, sockets.NetNSNames()), nil
}

// FromSockets converts listeners as sockets.List returns them; names maps
// namespace inodes to names. Text from the system is made valid for a
// report: control characters escaped, cut to the limits.
func FromSockets(ls []sockets.Listener, names map[uint64]string) []fleet.Listener {
	out := make([]fleet.Listener, 0, len(ls))
	for _, l := range ls {
		proto, ok := ports.ParseProto(l.Proto)
		if !ok || proto == ports.ProtoNone || l.Port < 0 || l.Port > 65535 || !l.Addr.IsValid() {
			continue
		}
		f := fleet.Listener{Key: fleet.Key{Proto: proto, Addr: l.Addr, Port: uint16(l.Port)}, Owner: fleet.NoOwner}
		if !l.HostNetNS && l.NetNS != 0 {
			ns := names[l.NetNS]
			if ns == "" {
				ns = "netns:" + strconv.FormatUint(l.NetNS, 10)
			}
			f.NetNS = clean(ns, fleet.MaxTextLen)
		}
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

// ListenersIn returns a Snapshot that reads only the network namespace at
// path (its sockets are dumped from inside it; the agent itself stays in
// its own), reporting them as this host's own listeners.
func ListenersIn(path string) func(context.Context) ([]fleet.Listener, error) {
	return func(ctx context.Context) ([]fleet.Listener, error) {
		ls, err := sockets.List(ctx, sockets.Query{NetNS: path})
		if err != nil {
			return nil, err
		}
		for i := range ls {
			ls[i].HostNetNS = true
		}
		return FromSockets(ls, nil), nil
	}
}
