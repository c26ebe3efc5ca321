package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/sockets"
)

func runList(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "list", "[flags]", "List every listening TCP socket and unconnected UDP socket here, with owner, IANA service name and threat flags.")
	asJSON := fs.Bool("json", false, "print a JSON array of listeners")
	tcp := fs.Bool("tcp", false, "TCP only")
	udp := fs.Bool("udp", false, "UDP only")
	allNS := fs.Bool("all-netns", false, "also list every other network namespace")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("list takes no PORT (got %q); use 'porthole who %s'", rest[0], rest[0])
	}
	k, err := loadKnowledge(env)
	if err != nil {
		return err
	}
	ls, err := sockets.List(ctx, sockets.Query{TCP: *tcp, UDP: *udp, AllNetNS: *allNS})
	if err != nil {
		return listError(err)
	}
	rows := dossier.Annotate(ls, k.reg, k.intel)
	if w := sockets.OwnerWarning(ls); w != "" {
		fmt.Fprintln(env.Stderr, "porthole: warning:", w)
	}
	if *asJSON {
		return writeJSON(env.Stdout, rows)
	}
	t := newText(env, "en")
	flush := t.buffered()
	renderListTable(t, rows, *allNS)
	return flush()
}

// renderListTable prints one line per listener, sized to fit 80 columns for
// the common case; long process names and addresses are cut.
func renderListTable(t *text, rows []dossier.ListenerRow, showNS bool) {
	head := fmt.Sprintf("%-5s %-22s %-7s %-15s %-10s %s", "PROTO", "ADDRESS:PORT", "PID", "PROCESS", "USER", "SERVICE / FLAGS")
	if showNS {
		head = fmt.Sprintf("%-11s ", "NETNS") + head
	}
	t.line(t.bold(head))
	for _, r := range rows {
		addr := r.Address
		if r.Family == 6 {
			addr = "[" + addr + "]"
		}
		ap := addr + ":" + strconv.Itoa(r.Port)
		proto := r.Proto
		if r.DualStack {
			proto += "*"
		}
		pid := "-"
		if r.PID != nil {
			pid = strconv.Itoa(*r.PID)
		}
		flags := r.Service
		if r.Threat != "" {
			if flags != "" {
				flags += " "
			}
			flags += t.threatColor(r.ThreatConfidence, "!"+r.Threat)
		}
		if r.ExeDeleted {
			flags += " (exe deleted)"
		}
		line := fmt.Sprintf("%-5s %-22s %-7s %-15s %-10s %s", proto, truncate(ap, 22), pid,
			truncate(r.Process, 15), truncate(r.User, 10), flags)
		if showNS {
			ns := strconv.FormatUint(r.NetNS, 10)
			if r.HostNetNS {
				ns = "host"
			}
			line = fmt.Sprintf("%-11s ", ns) + line
		}
		t.line(line)
	}
	if len(rows) > 0 {
		t.line(t.dim(fmt.Sprintf("%d listeners; * = IPv6 socket that also accepts IPv4", len(rows))))
	}
}
