package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/jsonw"
	"github.com/porthole/porthole/internal/sockets"
)

// localListener is one listener on an info port, as `info --json` puts it
// in a dossier's "local" array: the row `who --json` prints, with the
// audit's findings about it.
type localListener struct {
	dossier.Listener
	Findings []localFinding `json:"findings"`
}

// localFinding is one audit finding about a local listener.
type localFinding struct {
	Rule     string         `json:"rule"`
	Severity audit.Severity `json:"severity"`
	Reason   string         `json:"reason"`
	Advice   string         `json:"advice"`
}

// infoJSON is a dossier with what listens on its port here. Local is null
// with --offline (or when the sockets cannot be read), [] when nothing
// listens.
type infoJSON struct {
	*dossier.Dossier
	Local []localListener `json:"local"`
}

// localListeners lists the TCP and UDP listeners on ports here with one
// kernel-filtered query per span of ports, and judges them as `audit`
// would (no baseline). The map is empty, not nil, when nothing listens; the
// owner lookup and intel load happen only when something does.
func localListeners(ctx context.Context, env *Env, k *knowledge, ports []int) (map[int][]localListener, error) {
	var qs []sockets.Query
	for _, r := range spans(ports) {
		qs = append(qs, sockets.Query{Ports: sockets.Ports(r[0], r[1])})
	}
	ls, err := listAll(ctx, qs, false)
	if err != nil {
		return nil, err
	}
	out := map[int][]localListener{}
	if len(ls) == 0 {
		return out, nil
	}
	db, err := intel.Default()
	if err != nil {
		return nil, fmt.Errorf("loading intel: %w", err)
	}
	rows := dossier.Annotate(ls, k.reg, db)
	nameNetNS(rows)
	opt := audit.Options{Registry: k.reg, Intel: db}
	if lo, hi, err := env.Ephemeral(); err == nil {
		opt.EphemeralLow, opt.EphemeralHigh = lo, hi
	}
	rep := audit.Run(rows, opt)
	found := map[*dossier.Listener][]localFinding{}
	for _, f := range rep.Findings {
		if f.Listener != nil {
			found[f.Listener] = append(found[f.Listener], localFinding{f.Rule, f.Severity, f.Reason, f.Advice})
		}
	}
	for i := range rows {
		fs := found[&rows[i]]
		if fs == nil {
			fs = []localFinding{}
		}
		out[rows[i].Port] = append(out[rows[i].Port], localListener{rows[i], fs})
	}
	return out, nil
}

// localOrWarn is localListeners for info: a system without a socket
// lister gets no section; another failure is a warning, not a failed info.
func localOrWarn(ctx context.Context, env *Env, k *knowledge, ports []int) map[int][]localListener {
	here, err := localListeners(ctx, env, k, ports)
	if err != nil {
		if !errors.Is(err, sockets.ErrUnsupported) {
			fmt.Fprintln(env.Stderr, "porthole: warning: no \"On this machine\" section:", err)
		}
		return nil
	}
	return here
}

// renderHere prints the "On this machine" section body for what (a port
// or a range): each listener's address, process, user, executable and
// findings, one line each, or that nothing listens.
func renderHere(t *text, what string, ls []localListener) {
	T := func(key string, args ...any) string { return i18n.T(t.lang, key, args...) }
	if len(ls) == 0 {
		t.para(2, T("here.none", what))
		return
	}
	labels := []string{T("here.address"), T("here.process"), T("here.user"), T("here.exe"), T("here.finding")}
	col := 0
	for _, l := range labels {
		col = max(col, displayWidth(l))
	}
	// A label column, then the value wrapped under itself.
	field := func(label, value string) {
		indent := 4 + col
		for i, l := range wrap(value, width-indent, width-indent) {
			if i == 0 {
				t.line("  " + label + strings.Repeat(" ", col-displayWidth(label)+2) + l)
			} else {
				t.line(strings.Repeat(" ", indent) + l)
			}
		}
	}
	for i, l := range ls {
		if i > 0 {
			t.blank()
		}
		r := &l.Listener
		addr := r.Proto.String() + " " + r.HostPort()
		if r.DualStack {
			addr += " " + dossier.DualStackText(t.lang)
		}
		if ns := r.NetNSLabel(); ns != "" {
			addr += " netns " + ns
		}
		field(labels[0], addr)
		if r.PID == nil {
			field(labels[1], dossier.OwnerUnknownText(t.lang, r.OwnerUnknown))
			if r.UID >= 0 {
				field(labels[2], "uid "+strconv.Itoa(r.UID))
			}
		} else {
			p := "pid " + strconv.Itoa(*r.PID) + " " + r.Process
			if len(r.PIDs) > 1 {
				p += " " + T("here.more", len(r.PIDs)-1)
			}
			if r.Container != "" {
				p += " · container " + dossier.ShortID(r.Container)
			}
			field(labels[1], p)
			if r.User != "" {
				field(labels[2], r.User)
			}
			if r.Exe != "" {
				exe := r.Exe
				if r.ExeDeleted {
					exe += " " + T("here.deleted")
				}
				field(labels[3], exe)
			}
		}
		for _, f := range l.Findings {
			field(labels[4], t.threatColor(severityConfidence(f.Severity), f.Severity.String()+" "+f.Rule)+": "+f.Reason)
		}
	}
}

// severityConfidence maps a severity onto threatColor's confidence words.
func severityConfidence(s audit.Severity) string {
	switch {
	case s >= audit.High:
		return "high"
	case s >= audit.Medium:
		return "medium"
	}
	return "low"
}

// MarshalJSON writes the listener as `who --json` does (dossier.ListenerRow)
// with "findings" added last; the embedded listener's MarshalJSON would
// otherwise drop them.
func (l localListener) MarshalJSON() ([]byte, error) {
	row, err := jsonw.Marshal(l.Listener)
	if err != nil {
		return nil, err
	}
	fs := l.Findings
	if fs == nil {
		fs = []localFinding{}
	}
	f, err := jsonw.Marshal(fs)
	if err != nil {
		return nil, err
	}
	out := append(row[:len(row)-1:len(row)-1], `,"findings":`...)
	out = append(out, f...)
	return append(out, '}'), nil
}
