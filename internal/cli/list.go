package cli

import (
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/sockets"
)

// listOptions are `porthole list`'s flags.
type listOptions struct {
	json, tcp, udp, allNS, wide bool
}

var listCmd = &cmdDef[listOptions]{name: "list", args: "[flags]",
	help: "List every listening TCP socket and unconnected UDP socket here, with owner, IANA service name and threat flags.",
	flags: func(fs *cmdFlags, o *listOptions) func([]string) error {
		fs.BoolVar(&o.json, "json", false, "print a JSON array of listeners")
		fs.BoolVar(&o.tcp, "tcp", false, "TCP only")
		fs.BoolVar(&o.udp, "udp", false, "UDP only")
		fs.BoolVar(&o.allNS, "all-netns", false, "also list every other network namespace")
		fs.BoolVar(&o.wide, "wide", false, "print whole rows: no address, process or user is cut to the terminal's width")
		return func(rest []string) error {
			if len(rest) > 0 {
				hint := rest[0]
				if len(hint) > ports.MaxQuotedToken {
					hint = "PORT"
				}
				return usagef("list takes no PORT (got %s); use 'porthole who %s'", quoteArg(rest[0]), hint)
			}
			return nil
		}
	},
}

func runList(ctx context.Context, env *Env, o listOptions) error {
	defer pauseGC(env)()
	// The registry and intel load (a few ms of parsing) on the core the
	// socket dump leaves free, while the kernel lists the sockets.
	type loaded struct {
		k   *knowledge
		err error
	}
	kc := make(chan loaded, 1)
	go func() {
		k, err := loadKnowledge(env)
		if err == nil && k.intel != nil {
			k.intel.ForPort(0) // builds its port index now, not in Annotate
		}
		kc <- loaded{k, err}
	}()
	ls, err := sockets.List(ctx, sockets.Query{TCP: o.tcp, UDP: o.udp, AllNetNS: o.allNS})
	kl := <-kc
	if kl.err != nil {
		return kl.err
	}
	if err != nil {
		return listError(err)
	}
	rows := kl.k.flagged(env, ls)
	if o.json {
		return writeJSONArray(env.Stdout, rows)
	}
	t := newText(env, "en")
	flush := t.buffered()
	renderListTable(t, rows, o.allNS, o.wide)
	return flush()
}

// listHeapLimit is the heap size at which a listing lets the collector run.
const listHeapLimit = 64 << 20

// pauseGC turns the garbage collector off until the heap nears
// listHeapLimit, and returns the function that restores the settings. A
// listing is one burst of allocation (about 16 MB at 10,000 listeners)
// that mostly stays live until it is printed, so collecting during it only
// costs time (~10 ms at 10,000 listeners) and even peak RSS. A user's own
// GOGC or GOMEMLIMIT is left alone.
func pauseGC(env *Env) (restore func()) {
	if env.Getenv("GOGC") != "" || env.Getenv("GOMEMLIMIT") != "" || debug.SetMemoryLimit(-1) < listHeapLimit {
		return func() {}
	}
	limit := debug.SetMemoryLimit(listHeapLimit)
	percent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}

// renderListTable prints one line per listener, cut to the terminal's
// width (80 columns when stdout is not a terminal); long process names and
// addresses are cut, and wide prints every row whole. Rows are formatted
// into one reused buffer (this runs for every socket of a busy host); the
// columns are padded like fmt's %-Ns, by code points.
func renderListTable(t *text, rows []dossier.Listener, showNS, wide bool) {
	head := fmt.Sprintf("%-5s %-22s %-7s %-15s %-10s %s", "PROTO", "ADDRESS:PORT", "PID", "PROCESS", "USER", "SERVICE / FLAGS")
	if showNS {
		head = fmt.Sprintf("%-11s ", "NETNS") + head
	}
	t.line(t.bold(head))
	cut := func(s string, w int) string {
		if wide {
			return s
		}
		return truncate(s, w)
	}
	var b, ap []byte
	for i := range rows {
		r := &rows[i]
		b = b[:0]
		if showNS {
			if r.HostNetNS {
				b = pad(b, "host", 11)
			} else {
				b = pad(b, cut(r.NetNSLabel(), 11), 11)
			}
			b = append(b, ' ')
		}
		proto := r.Proto.String()
		if r.DualStack {
			proto += "*"
		}
		b = append(pad(b, proto, 5), ' ')
		ap = r.AppendHostPort(ap[:0])
		if len(ap) <= 22 || wide {
			b = padBytes(b, ap, 22)
		} else {
			b = pad(b, truncate(string(ap), 22), 22)
		}
		b = append(b, ' ')
		if r.PID != nil {
			n := len(b)
			b = strconv.AppendInt(b, int64(*r.PID), 10)
			b = spaces(b, 7-(len(b)-n))
		} else {
			b = pad(b, "-", 7)
		}
		b = append(b, ' ')
		b = append(pad(b, cut(r.Process, 15), 15), ' ')
		b = append(pad(b, cut(r.User, 10), 10), ' ')
		// The service and flag take what is left of the width; a row
		// that must be cut is cut as plain text (colour codes take no
		// columns, so they are left off that row).
		deleted := r.ExeDeleted && r.Flag != "deleted-exe"
		if room := t.table() - utf8.RuneCount(b); !wide && listTailWidth(r, deleted) > room {
			b = append(b, truncate(listTail(r, deleted), max(room, 1))...)
		} else {
			b = append(b, r.Service...)
			if r.Flag != "" {
				if r.Service != "" {
					b = append(b, ' ')
				}
				b = appendFlag(b, t, r.FlagSeverity, r.Flag)
			}
			if deleted {
				b = append(b, exeDeletedNote...)
			}
		}
		for len(b) > 0 && b[len(b)-1] == ' ' {
			b = b[:len(b)-1]
		}
		t.writeBytes(append(b, '\n'))
	}
	if len(rows) > 0 {
		t.hang(0, 2, t.dim(fmt.Sprintf("%d listeners; * = IPv6 socket that also accepts IPv4; !word = what 'porthole audit' reports (low or above)", len(rows))))
	}
}

const exeDeletedNote = " (exe deleted)"

// listTail is the last column of a row as plain text: the service name,
// the flag and the deleted-executable note.
func listTail(r *dossier.Listener, deleted bool) string {
	tail := r.Service
	if r.Flag != "" {
		if tail != "" {
			tail += " "
		}
		tail += "!" + r.Flag
	}
	if deleted {
		tail += exeDeletedNote
	}
	return tail
}

// listTailWidth is displayWidth(listTail(r, deleted)) without building the
// string, which most rows would build only to measure. A part with an
// escape byte in it is measured joined to the rest, as the joined string
// would be.
func listTailWidth(r *dossier.Listener, deleted bool) int {
	if strings.IndexByte(r.Service, 0x1b) >= 0 || strings.IndexByte(r.Flag, 0x1b) >= 0 {
		return displayWidth(listTail(r, deleted))
	}
	n := displayWidth(r.Service)
	if r.Flag != "" {
		if r.Service != "" {
			n++
		}
		n += 1 + displayWidth(r.Flag)
	}
	if deleted {
		n += len(exeDeletedNote)
	}
	return n
}

// appendFlag appends "!"+flag, coloured as flagColor does.
func appendFlag(b []byte, t *text, severity, flag string) []byte {
	code := ""
	if t.color {
		switch severity {
		case "critical", "high":
			code = "31"
		case "medium":
			code = "33"
		}
	}
	if code == "" {
		return append(append(b, '!'), flag...)
	}
	b = append(append(append(b, "\x1b["...), code...), 'm')
	b = append(append(b, '!'), flag...)
	return append(b, "\x1b[0m"...)
}

// flagColor marks a flag by the severity of its finding: red for high and
// critical, yellow for medium, plain for low.
func flagColor(t *text, severity, s string) string {
	switch severity {
	case "critical", "high":
		return t.sgr("31", s)
	case "medium":
		return t.sgr("33", s)
	}
	return s
}

// pad appends s and spaces up to w code points, as fmt's %-ws does.
func pad(b []byte, s string, w int) []byte {
	return spaces(append(b, s...), w-utf8.RuneCountInString(s))
}

func padBytes(b, s []byte, w int) []byte {
	return spaces(append(b, s...), w-utf8.RuneCount(s))
}

func spaces(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}
