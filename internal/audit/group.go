package audit

import (
	"slices"
	"strconv"
	"strings"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/ports"
)

// A group's words (Finding.gReason, gAdvice) carry these marks where a
// single finding names its listener and the who command for it; Groups
// fills them in once it knows the group's listeners. They cannot occur in
// text from the system: NUL never reaches a reason.
const (
	whereMark = "\x00where\x00"
	whoMark   = "\x00who\x00"
)

// MaxWhoSpecs is how many port specs the who command of a group's advice
// names at most (porthole who tcp/8000-8049 tcp/9000 …); a group with more
// names the first ones, which show the same owner.
const MaxWhoSpecs = 4

// Group is findings that say one thing: the same rule, severity and words
// about listeners of one owner (the same PID in the same network
// namespace) or, for listeners whose owner cannot be named, the same rule
// and words. A process in /tmp holding 10,000 listeners is one group, not
// 10,000 findings. Findings about no listener (baseline-missing) are a
// group each.
type Group struct {
	Rule     string
	Severity Severity
	// Findings are the group's findings in the report's order; never empty.
	Findings []*Finding
	// Reason and Advice are the words for them all: a single finding's
	// own, or, for several, words that hold for each ("these 50
	// listeners").
	Reason, Advice string
}

// Listeners returns the listeners of the group's findings (none for
// baseline-missing).
func (g *Group) Listeners() []*dossier.Listener {
	var ls []*dossier.Listener
	for _, f := range g.Findings {
		if f.Listener != nil {
			ls = append(ls, f.Listener)
		}
	}
	return ls
}

type groupKey struct {
	rule           string
	sev            Severity
	owned, host    bool
	pid            int
	netns          uint64
	reason, advice string
}

// Groups gathers the report's findings into groups, in the report's order
// (severity first; a group stands where its first finding does). Findings
// stay as they are: JSON lists each one.
func (r *Report) Groups() []Group {
	var gs []Group
	at := map[groupKey]int{}
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Listener == nil || f.gReason == "" {
			gs = append(gs, Group{Rule: f.Rule, Severity: f.Severity, Findings: []*Finding{f}})
			continue
		}
		k := groupKey{rule: f.Rule, sev: f.Severity, reason: f.gReason, advice: f.gAdvice}
		if l := f.Listener; l.PID != nil {
			k.owned, k.pid, k.host, k.netns = true, *l.PID, l.HostNetNS, l.NetNS
		}
		if j, ok := at[k]; ok {
			gs[j].Findings = append(gs[j].Findings, f)
			continue
		}
		at[k] = len(gs)
		gs = append(gs, Group{Rule: f.Rule, Severity: f.Severity, Findings: []*Finding{f}})
	}
	for i := range gs {
		g := &gs[i]
		f := g.Findings[0]
		if len(g.Findings) == 1 {
			g.Reason, g.Advice = f.Reason, f.Advice
			continue
		}
		where := "these " + strconv.Itoa(len(g.Findings)) + " listeners"
		who := "porthole who " + strings.Join(WhoSpecs(g.Listeners(), MaxWhoSpecs), " ")
		fill := strings.NewReplacer(whereMark, where, whoMark, who)
		g.Reason, g.Advice = fill.Replace(f.gReason), fill.Replace(f.gAdvice)
	}
	return gs
}

// PortRanges sorts ports and joins runs of consecutive ones:
// 80 443 8001 8000 8002 gives [80 80] [443 443] [8000 8002]. Duplicates
// count once.
func PortRanges(ps []int) [][2]int {
	s := slices.Clone(ps)
	slices.Sort(s)
	s = slices.Compact(s)
	var rs [][2]int
	for _, p := range s {
		if n := len(rs); n > 0 && rs[n-1][1] == p-1 {
			rs[n-1][1] = p
			continue
		}
		rs = append(rs, [2]int{p, p})
	}
	return rs
}

// FormatRange is "80" or "8000-8049".
func FormatRange(r [2]int) string {
	if r[0] == r[1] {
		return strconv.Itoa(r[0])
	}
	return strconv.Itoa(r[0]) + "-" + strconv.Itoa(r[1])
}

// ListenerList describes listeners compactly, one item per protocol,
// address and namespace with their ports as ranges:
// "tcp 0.0.0.0:80, 443, 8000-8049", "tcp [::]:8000-8049 (IPv4 and IPv6)",
// "udp 0.0.0.0:53 netns blue". Items come in the order of their first
// listener. It shows at most max port ranges in all (max < 1: 1) and
// returns how many listeners it left out.
func ListenerList(ls []*dossier.Listener, max int) (items []string, more int) {
	if max < 1 {
		max = 1
	}
	type bucket struct {
		head, tail string
		ports      []int
		count      map[int]int // listeners per port (SO_REUSEPORT shares one)
	}
	var bs []*bucket
	at := map[string]*bucket{}
	for _, l := range ls {
		hp := l.HostPort()
		head := l.Proto.String() + " " + strings.TrimSuffix(hp, ":"+strconv.Itoa(l.Port)) + ":"
		tail := ""
		if l.DualStack {
			tail += " " + dossier.DualStackText(i18n.EN)
		}
		if ns := l.NetNSLabel(); ns != "" {
			tail += " netns " + ns
		}
		b, ok := at[head+tail]
		if !ok {
			b = &bucket{head: head, tail: tail, count: map[int]int{}}
			at[head+tail] = b
			bs = append(bs, b)
		}
		b.ports = append(b.ports, l.Port)
		b.count[l.Port]++
	}
	shown := 0
	for _, b := range bs {
		var parts []string
		for _, r := range PortRanges(b.ports) {
			if shown == max {
				for p := r[0]; p <= r[1]; p++ {
					more += b.count[p]
				}
				continue
			}
			shown++
			parts = append(parts, FormatRange(r))
		}
		if len(parts) > 0 {
			items = append(items, b.head+strings.Join(parts, ", ")+b.tail)
		}
	}
	return items, more
}

// WhoSpecs are the `porthole who` arguments that name exactly the ports of
// ls, per protocol ("tcp/8000-8049", "udp/53"), at most max of them.
func WhoSpecs(ls []*dossier.Listener, max int) []string {
	by := map[ports.Proto][]int{}
	var protos []ports.Proto
	for _, l := range ls {
		if _, ok := by[l.Proto]; !ok {
			protos = append(protos, l.Proto)
		}
		by[l.Proto] = append(by[l.Proto], l.Port)
	}
	slices.Sort(protos)
	var specs []string
	for _, p := range protos {
		for _, r := range PortRanges(by[p]) {
			if len(specs) == max {
				return specs
			}
			specs = append(specs, p.String()+"/"+FormatRange(r))
		}
	}
	return specs
}
