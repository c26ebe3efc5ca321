package audit

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/sockets"
)

func TestPortRanges(t *testing.T) {
	tests := []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{80}, "80"},
		{[]int{0}, "0"},
		{[]int{65535, 65534}, "65534-65535"},
		{[]int{80, 443}, "80 443"},
		{[]int{8002, 8000, 8001}, "8000-8002"},
		{[]int{8000, 8000, 8001}, "8000-8001"},
		{[]int{1, 3, 5, 6, 7, 9}, "1 3 5-7 9"},
		{[]int{22, 80, 81, 443, 8000, 8001, 8002, 8003, 9000}, "22 80-81 443 8000-8003 9000"},
	}
	for _, tc := range tests {
		var got []string
		for _, r := range PortRanges(tc.in) {
			got = append(got, FormatRange(r))
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("PortRanges(%v) = %q, want %q", tc.in, s, tc.want)
		}
	}
	in := []int{3, 1, 2}
	PortRanges(in)
	if !slices.Equal(in, []int{3, 1, 2}) {
		t.Errorf("PortRanges changed its argument: %v", in)
	}
}

// FuzzPortRanges: the ranges are sorted, disjoint, not adjacent, and cover
// exactly the ports given.
func FuzzPortRanges(f *testing.F) {
	f.Add([]byte{1, 2, 3, 9, 9, 200})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ps []int
		for i := 0; i+1 < len(b); i += 2 {
			ps = append(ps, int(b[i])<<8|int(b[i+1]))
		}
		rs := PortRanges(ps)
		n := 0
		for i, r := range rs {
			if r[0] > r[1] || (i > 0 && rs[i-1][1]+1 >= r[0]) {
				t.Fatalf("ranges %v not sorted, disjoint and apart", rs)
			}
			for p := r[0]; p <= r[1]; p++ {
				if !slices.Contains(ps, p) {
					t.Fatalf("range %v covers %d, not given", r, p)
				}
			}
			n += r[1] - r[0] + 1
		}
		s := slices.Clone(ps)
		slices.Sort(s)
		if n != len(slices.Compact(s)) {
			t.Fatalf("ranges %v cover %d ports, given %d distinct", rs, n, len(s))
		}
	})
}

func ptrs(rows []dossier.Listener) []*dossier.Listener {
	out := make([]*dossier.Listener, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out
}

func TestListenerList(t *testing.T) {
	var rows []dossier.Listener
	for p := 8000; p < 8050; p++ {
		rows = append(rows, row("tcp", "0.0.0.0", p, "/tmp/x/m"))
	}
	rows = append(rows, row("tcp", "::", 8000, "/tmp/x/m"), row("tcp", "::", 9000, "/tmp/x/m"))
	rows[len(rows)-1].DualStack = true
	rows = append(rows, row("udp", "0.0.0.0", 53, "/tmp/x/m"), row("udp", "0.0.0.0", 53, "/tmp/x/m")) // SO_REUSEPORT
	ns := row("tcp", "10.0.0.1", 80, "/tmp/x/m")
	ns.HostNetNS, ns.NetNS, ns.NetNSName = false, 4026532500, "blue"
	rows = append(rows, ns)
	tests := []struct {
		max  int
		want string
		more int
	}{
		{12, "tcp 0.0.0.0:8000-8049; tcp [::]:8000; tcp [::]:9000 (IPv4 and IPv6); udp 0.0.0.0:53; tcp 10.0.0.1:80 netns blue", 0},
		{4, "tcp 0.0.0.0:8000-8049; tcp [::]:8000; tcp [::]:9000 (IPv4 and IPv6); udp 0.0.0.0:53", 1},
		{3, "tcp 0.0.0.0:8000-8049; tcp [::]:8000; tcp [::]:9000 (IPv4 and IPv6)", 3},
		{1, "tcp 0.0.0.0:8000-8049", 5},
		{0, "tcp 0.0.0.0:8000-8049", 5},
	}
	for _, tc := range tests {
		items, more := ListenerList(ptrs(rows), tc.max)
		if got := strings.Join(items, "; "); got != tc.want || more != tc.more {
			t.Errorf("max %d: %q and %d more, want %q and %d more", tc.max, got, more, tc.want, tc.more)
		}
	}
	var odd []dossier.Listener
	for _, p := range []int{1, 3, 4, 5, 7, 9, 10} {
		odd = append(odd, row("tcp", "127.0.0.1", p, "/tmp/x/m"))
	}
	items, more := ListenerList(ptrs(odd), 3)
	if got := strings.Join(items, "; "); got != "tcp 127.0.0.1:1, 3-5, 7" || more != 2 {
		t.Errorf("cut inside one address: %q and %d more", got, more)
	}
	if got := WhoSpecs(ptrs(rows), 10); strings.Join(got, " ") != "tcp/80 tcp/8000-8049 tcp/9000 udp/53" {
		t.Errorf("WhoSpecs = %v", got)
	}
	if got := WhoSpecs(ptrs(rows), 2); strings.Join(got, " ") != "tcp/80 tcp/8000-8049" {
		t.Errorf("WhoSpecs cut at 2 = %v", got)
	}
}

// groupsOf renders the groups as "rule severity n: reason → advice".
func groupsOf(rep *Report) []string {
	var out []string
	for _, g := range rep.Groups() {
		out = append(out, fmt.Sprintf("%s %s %d: %s → %s", g.Rule, g.Severity, len(g.Findings), g.Reason, g.Advice))
	}
	return out
}

func TestGroups(t *testing.T) {
	x, db := knowledge(t)
	var rows []dossier.Listener
	// pid 100 in /tmp: 40 listeners, one entry per rule.
	for p := 47000; p < 47040; p++ {
		rows = append(rows, row("tcp", "0.0.0.0", p, "/tmp/x/java"))
	}
	// The same program as another process, and the same PID in another
	// network namespace: other entries.
	other := row("tcp", "0.0.0.0", 47100, "/tmp/x/java")
	other.PID = pid(101)
	ns := row("tcp", "0.0.0.0", 47101, "/tmp/x/java")
	ns.HostNetNS, ns.NetNS = false, 4026532500
	rows = append(rows, other, ns)
	// Three sockets without an owner, for the same reason; one for another.
	for _, p := range []int{47200, 47201, 47300} {
		rows = append(rows, dossier.Listener{Proto: rows[0].Proto, Family: 4, Addr: rows[0].Addr, Port: p, UID: 0,
			OwnerUnknown: sockets.OwnerNotFound, NetNS: 4026531840, HostNetNS: true})
	}
	rows = append(rows, dossier.Listener{Proto: rows[0].Proto, Family: 4, Addr: rows[0].Addr, Port: 47400, UID: 0,
		OwnerUnknown: sockets.OwnerNoAccess, NetNS: 4026531840, HostNetNS: true})
	rep := Run(rows, Options{Registry: x, Intel: db})
	var writable, unknown []Group
	for _, g := range rep.Groups() {
		n := 0
		for _, f := range g.Findings {
			if f.Rule != g.Rule || f.Severity != g.Severity {
				t.Errorf("group %s %s holds %s %s", g.Rule, g.Severity, f.Rule, f.Severity)
			}
			n++
		}
		switch g.Rule {
		case RuleExeWritableDir:
			writable = append(writable, g)
		case RuleOwnerUnknown:
			unknown = append(unknown, g)
		}
	}
	if len(writable) != 3 || len(writable[0].Findings) != 40 || len(writable[1].Findings) != 1 || len(writable[2].Findings) != 1 {
		t.Fatalf("exe-in-writable-dir groups: %v", groupsOf(rep))
	}
	g := writable[0]
	if want := "pid 100 java (/tmp/x/java, user root) runs from /tmp, a directory anyone can write to, and holds these 40 listeners"; g.Reason != want {
		t.Errorf("group reason %q, want %q", g.Reason, want)
	}
	if !strings.Contains(g.Advice, "`porthole who tcp/47000-47039`") {
		t.Errorf("group advice %q does not name the group's ports", g.Advice)
	}
	// A group of one keeps its finding's own words; the namespace's who
	// command keeps --all-netns.
	if g := writable[2]; g.Reason != g.Findings[0].Reason || !strings.Contains(g.Advice, "--all-netns") {
		t.Errorf("group of one: %q → %q", g.Reason, g.Advice)
	}
	if len(unknown) != 2 || len(unknown[0].Findings)+len(unknown[1].Findings) != 4 {
		t.Fatalf("owner-unknown groups: %v", groupsOf(rep))
	}
	for _, g := range unknown {
		if len(g.Findings) == 3 && (!strings.HasPrefix(g.Reason, "nobody can be named for these 3 listeners") ||
			!strings.Contains(g.Advice, "`porthole who tcp/47200-47201 tcp/47300`") || strings.Contains(g.Advice, "sport")) {
			t.Errorf("ownerless group: %q → %q", g.Reason, g.Advice)
		}
	}
	// No mark leaks, and every finding is in exactly one group, in the
	// report's severity order.
	seen := 0
	last := Critical + 1
	for _, g := range rep.Groups() {
		if strings.ContainsRune(g.Reason+g.Advice, 0) {
			t.Errorf("mark left in %q → %q", g.Reason, g.Advice)
		}
		if g.Severity > last {
			t.Errorf("group %s %s after %s", g.Rule, g.Severity, last)
		}
		last = g.Severity
		seen += len(g.Findings)
	}
	if seen != len(rep.Findings) {
		t.Errorf("groups hold %d findings, the report %d", seen, len(rep.Findings))
	}
}

// TestGroupsBaseline: unexpected listeners of one process are one entry
// whose words hold for every port (the registry's name differs from port
// to port, so the entry leaves it to who); owner-changed groups by rule
// line; a missing rule is an entry of its own.
func TestGroupsBaseline(t *testing.T) {
	x, db := knowledge(t)
	bl, warns, err := Parse("b.conf", []byte("tcp 22 exe=/usr/sbin/sshd\ntcp 8000-8009 exe=/usr/bin/old\ntcp 5432\n"))
	if err != nil || len(warns) > 0 {
		t.Fatal(err, warns)
	}
	var rows []dossier.Listener
	for _, p := range []int{22, 47500, 47501, 8000, 8001} {
		r := row("tcp", "10.1.2.3", p, "/usr/sbin/sshd")
		if p == 8000 || p == 8001 {
			r.Exe, r.Process = "/usr/bin/new", "new"
		}
		rows = append(rows, r)
	}
	rep := Run(rows, Options{Registry: x, Intel: db, Baseline: bl})
	got := groupsOf(rep)
	want := []string{
		"owner-changed high 2: baseline b.conf:2 expects /usr/bin/old on these 2 listeners, but now pid 100 new (/usr/bin/new, user root) holds them → find out why the program changed (`porthole who tcp/8000-8001`); if the change is intended, update the baseline line",
		"unexpected-listener medium 2: pid 100 sshd (/usr/sbin/sshd, user root) holds these 2 listeners, which the baseline does not explain → find out what they are (`porthole who tcp/47500-47501` shows each port's IANA name); if they belong here, add lines for them to the baseline",
		"baseline-missing medium 1: baseline b.conf:3 expects tcp 5432, and nothing like it listens now → start the service if it should run; if it is gone for good, delete the line, or add the word optional to it if it comes and goes",
	}
	if !slices.Equal(got, want) {
		t.Errorf("groups:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// BenchmarkRunGroups10000: one process in /tmp holding 10,000 listeners,
// judged and grouped (one entry per rule).
func BenchmarkRunGroups10000(b *testing.B) {
	x, db := knowledge(b)
	rows := make([]dossier.Listener, 10000)
	for i := range rows {
		rows[i] = row("tcp", "0.0.0.0", 20000+i, "/tmp/x/miner")
	}
	b.ReportAllocs()
	for b.Loop() {
		rep := Run(rows, Options{Registry: x, Intel: db})
		if gs := rep.Groups(); len(gs) >= len(rep.Findings) {
			b.Fatalf("%d groups of %d findings", len(gs), len(rep.Findings))
		}
	}
}
