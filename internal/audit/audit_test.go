package audit

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
	"net/netip"
)

func pid(n int) *int { return &n }

// row builds a host-namespace listener owned by pid 100.
func row(proto, addr string, port int, exe string) dossier.Listener {
	fam := 4
	if strings.Contains(addr, ":") {
		fam = 6
	}
	name := exe[strings.LastIndexByte(exe, '/')+1:]
	p, _ := ports.ParseProto(proto)
	r := dossier.Listener{
		Proto: p, Family: fam, Addr: netip.MustParseAddr(addr), Port: port, PID: pid(100), Process: name,
		UID: 0, User: "root", Exe: exe, Cmdline: []string{exe}, NetNS: 4026531840, HostNetNS: true,
	}
	return r
}

// sampleRows is a fixed, varied set of rows for the golden reports and the
// baseline writer.
func sampleRows() []dossier.Listener {
	bagle := row("tcp", "0.0.0.0", 2556, "/tmp/x1/bagle")
	bagle.PID = pid(2556)
	deleted := row("tcp", "127.0.0.1", 4444, "/var/tmp/.cache/agent")
	deleted.ExeDeleted = true
	unknown := dossier.Listener{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("0.0.0.0"), Port: 2024, UID: 0, Cmdline: []string{},
		OwnerUnknown: sockets.OwnerNotFound, NetNS: 4026531840, HostNetNS: true}
	ns := row("tcp", "127.0.0.1", 31337, "/usr/bin/ctf")
	ns.HostNetNS, ns.NetNS = false, 4026532500
	dual := row("tcp", "::", 8080, "/usr/bin/app")
	dual.DualStack = true
	pg := row("tcp", "0.0.0.0", 5432, "/usr/lib/postgresql/15/bin/postgres")
	pg.User, pg.UID = "postgres", 0
	shell := row("tcp", "0.0.0.0", 9001, "/usr/bin/bash")
	shell.Process = "bash"
	web := row("tcp", "0.0.0.0", 80, "/usr/sbin/nginx")
	web.UID, web.User = 33, "www-data"
	udp := row("udp", "0.0.0.0", 40000, "/usr/sbin/chronyd")
	v6 := row("tcp", "::1", 2556, "/tmp/x1/bagle")
	py := row("tcp", "127.0.0.1", 8000, "/usr/bin/python3.11")
	py.Process, py.Cmdline = "python3", []string{"python3", "/dev/shm/serve.py"}
	return []dossier.Listener{bagle, deleted, unknown, ns, dual, pg, shell, web, udp, v6, py}
}

func knowledge(tb testing.TB) (*registry.Index, *intel.DB) {
	tb.Helper()
	db, err := intel.Default()
	if err != nil {
		tb.Fatal(err)
	}
	return registry.Embedded(), db
}

// findingsFor lists "rule severity" of the findings about port.
func findingsFor(rep *Report, proto ports.Proto, port int, addr string) []string {
	var out []string
	for _, f := range rep.Findings {
		if f.Listener != nil && f.Listener.Proto == proto && f.Listener.Port == port && (addr == "" || f.Listener.Addr.String() == addr) {
			out = append(out, f.Rule+" "+f.Severity.String())
		}
	}
	slices.Sort(out)
	return out
}

func TestRules(t *testing.T) {
	reg, db := knowledge(t)
	tests := []struct {
		name     string
		row      func() dossier.Listener
		baseline string
		want     []string
	}{
		{"bagle from tmp is critical", func() dossier.Listener { return row("tcp", "0.0.0.0", 2556, "/tmp/a/bagle") },
			"", []string{"exe-in-writable-dir high", "known-bad-port critical"}},
		{"bagle on loopback from usr is still high", func() dossier.Listener { return row("tcp", "127.0.0.1", 2556, "/usr/bin/x") },
			"", []string{"known-bad-port high"}},
		{"bagle on ::1", func() dossier.Listener { return row("tcp", "::1", 2556, "/usr/bin/x") },
			"", []string{"known-bad-port high"}},
		{"udp 2556 is not the bagle port", func() dossier.Listener { return row("udp", "0.0.0.0", 2556, "/usr/bin/x") },
			"", nil},
		{"low-confidence threat on a port with a usual occupant", func() dossier.Listener { return row("tcp", "127.0.0.1", 8888, "/usr/bin/jupyter") },
			"", []string{"known-bad-port info"}},
		{"baselined threat port is info", func() dossier.Listener { return row("tcp", "127.0.0.1", 6667, "/usr/sbin/ircd") },
			"tcp 6667 exe=/usr/sbin/ircd", []string{"known-bad-port info"}},
		{"a port-only line does not vouch for a threat port's owner", func() dossier.Listener { return row("tcp", "127.0.0.1", 6667, "/usr/sbin/ircd") },
			"tcp 6667", []string{"known-bad-port low"}},
		{"deleted system exe is medium", func() dossier.Listener {
			r := row("tcp", "127.0.0.1", 7000, "/usr/sbin/daemon")
			r.ExeDeleted = true
			return r
		}, "", []string{"deleted-exe medium", "known-bad-port info"}},
		{"deleted tmp exe", func() dossier.Listener {
			r := row("tcp", "127.0.0.1", 7001, "/dev/shm/x")
			r.ExeDeleted = true
			return r
		}, "", []string{"deleted-exe high", "exe-in-writable-dir high"}},
		{"shell", func() dossier.Listener { return row("tcp", "0.0.0.0", 7002, "/bin/dash") },
			"", []string{"shell-listener high"}},
		{"netcat", func() dossier.Listener { return row("tcp", "0.0.0.0", 7003, "/usr/bin/ncat") },
			"", []string{"shell-listener medium"}},
		{"python script in tmp", func() dossier.Listener {
			r := row("tcp", "127.0.0.1", 7004, "/usr/bin/python3.11")
			r.Process, r.Cmdline = "python3", []string{"python3", "/tmp/s.py"}
			return r
		}, "", []string{"shell-listener high"}},
		{"python script elsewhere", func() dossier.Listener {
			r := row("tcp", "127.0.0.1", 7005, "/usr/bin/python3.11")
			r.Process, r.Cmdline = "python3", []string{"python3", "/srv/s.py"}
			return r
		}, "", nil},
		{"postgres on every interface", func() dossier.Listener { return row("tcp", "0.0.0.0", 5432, "/usr/lib/postgresql/15/bin/postgres") },
			"", []string{"exposed-sensitive-port medium"}},
		{"postgres on loopback", func() dossier.Listener {
			return row("tcp", "127.0.0.1", 5432, "/usr/lib/postgresql/15/bin/postgres")
		},
			"", nil},
		{"privileged port, non-root socket", func() dossier.Listener {
			r := row("tcp", "0.0.0.0", 25, "/usr/sbin/smtpd")
			r.UID = 1000
			return r
		}, "", []string{"privileged-port-non-root low"}},
		{"owner unknown", func() dossier.Listener {
			return dossier.Listener{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("0.0.0.0"), Port: 7006, UID: 0, HostNetNS: true,
				OwnerUnknown: sockets.OwnerNotFound}
		}, "", []string{"owner-unknown medium"}},
		{"owner unknown when not root", func() dossier.Listener {
			return dossier.Listener{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("0.0.0.0"), Port: 7007, UID: 0, HostNetNS: true,
				OwnerUnknown: sockets.OwnerNotRoot}
		}, "", []string{"owner-unknown low"}},
		{"owner lookup skipped", func() dossier.Listener {
			return dossier.Listener{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("0.0.0.0"), Port: 7008, HostNetNS: true, OwnerUnknown: sockets.OwnerSkipped}
		}, "", nil},
		{"unexpected public", func() dossier.Listener { return row("tcp", "0.0.0.0", 7009, "/usr/bin/x") },
			"tcp 22", []string{"unexpected-listener medium"}},
		{"unexpected loopback", func() dossier.Listener { return row("tcp", "127.0.0.1", 7009, "/usr/bin/x") },
			"tcp 22", []string{"unexpected-listener low"}},
		{"explained", func() dossier.Listener { return row("tcp", "0.0.0.0", 7009, "/usr/bin/x") },
			"tcp 7009 exe=/usr/bin/x addr=any", nil},
		{"wrong scope is unexpected", func() dossier.Listener { return row("tcp", "0.0.0.0", 7009, "/usr/bin/x") },
			"tcp 7009 exe=/usr/bin/x addr=loopback", []string{"unexpected-listener medium"}},
		{"owner changed", func() dossier.Listener { return row("tcp", "0.0.0.0", 7009, "/tmp/evil") },
			"tcp 7009 exe=/usr/bin/x", []string{"exe-in-writable-dir high", "owner-changed high"}},
		{"owner changed by user", func() dossier.Listener { return row("tcp", "0.0.0.0", 7009, "/usr/bin/x") },
			"tcp 7009 exe=/usr/bin/x user=www-data", []string{"owner-changed high"}},
		{"rule without owner explains any owner", func() dossier.Listener { return row("tcp", "0.0.0.0", 7009, "/usr/bin/y") },
			"tcp 7000-7010", nil},
		{"ephemeral rule", func() dossier.Listener { return row("udp", "0.0.0.0", 40001, "/usr/sbin/chronyd") },
			"udp ephemeral exe=/usr/sbin/chronyd", nil},
		{"name glob", func() dossier.Listener { return row("tcp", "127.0.0.1", 7010, "/usr/bin/python3.11") },
			"tcp 7010 name=python3*", nil},
		{"netns other", func() dossier.Listener {
			r := row("tcp", "127.0.0.1", 7011, "/usr/bin/x")
			r.HostNetNS, r.NetNS = false, 99
			return r
		}, "tcp 7011 netns=host", []string{"unexpected-listener low"}},
		{"netns by inode", func() dossier.Listener {
			r := row("tcp", "127.0.0.1", 7011, "/usr/bin/x")
			r.HostNetNS, r.NetNS = false, 99
			return r
		}, "tcp 7011 netns=99", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt := Options{Registry: reg, Intel: db, EphemeralLow: 32768, EphemeralHigh: 60999}
			if tc.baseline != "" {
				opt.Baseline = mustParse(t, tc.baseline)
				opt.Scopes = []Scope{{Low: 7000, High: 7020}}
			}
			r := tc.row()
			rep := Run([]dossier.Listener{r}, opt)
			got := findingsFor(rep, r.Proto, r.Port, "")
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings %q, want %q", got, tc.want)
				for _, f := range rep.Findings {
					t.Logf("%s %s: %s", f.Rule, f.Severity, f.Reason)
				}
			}
			for _, f := range rep.Findings {
				if f.Reason == "" || f.Advice == "" {
					t.Errorf("%s has no reason or advice", f.Rule)
				}
			}
		})
	}
}

func TestUnexpectedSaysIANAStatus(t *testing.T) {
	reg, db := knowledge(t)
	// tcp/4 is unassigned in IANA's registry.
	r := row("tcp", "127.0.0.1", 4, "/usr/bin/x")
	rep := Run([]dossier.Listener{r}, Options{Registry: reg, Intel: db, Baseline: mustParse(t, "tcp 22 optional")})
	if len(rep.Findings) != 1 || rep.Findings[0].Rule != RuleUnexpected || !strings.Contains(rep.Findings[0].Reason, "unassigned") {
		t.Fatalf("%+v", rep.Findings)
	}
}

func TestMissingAndOptional(t *testing.T) {
	reg, db := knowledge(t)
	bl := mustParse(t, "tcp 7100 exe=/usr/bin/a\ntcp 7101 exe=/usr/bin/b optional\ntcp 7102 exe=/usr/bin/c\nudp 9999\ntcp 7103 netns=other\n")
	rows := []dossier.Listener{row("tcp", "0.0.0.0", 7102, "/usr/bin/other")}
	rep := Run(rows, Options{Registry: reg, Intel: db, Baseline: bl, Scopes: []Scope{{Low: 7000, High: 7200}}})
	var missing []int
	for _, f := range rep.Findings {
		if f.Rule == RuleMissing {
			if f.Listener != nil || f.Baseline == nil {
				t.Errorf("missing finding %+v", f)
			}
			missing = append(missing, f.Baseline.Line)
		}
	}
	// line 1 missing; line 2 optional; line 3 present with another owner
	// (owner-changed, not missing); line 4 out of scope; line 5 needs
	// --all-netns.
	if !slices.Equal(missing, []int{1}) || !rep.Has(RuleOwnerChanged) {
		t.Errorf("missing lines %v, owner changed %v", missing, rep.Has(RuleOwnerChanged))
	}
	rep = Run(rows, Options{Registry: reg, Intel: db, Baseline: bl, AllNetNS: true})
	missing = missing[:0]
	for _, f := range rep.Findings {
		if f.Rule == RuleMissing {
			missing = append(missing, f.Baseline.Line)
		}
	}
	if !slices.Equal(missing, []int{1, 4, 5}) {
		t.Errorf("without scope, with all namespaces: missing lines %v, want [1 4 5]", missing)
	}
}

func TestRestartIsNothing(t *testing.T) {
	reg, db := knowledge(t)
	bl := mustParse(t, "tcp 7200 exe=/usr/bin/svc user=root addr=any netns=host\n")
	for _, p := range []int{100, 4242, 99999} {
		r := row("tcp", "0.0.0.0", 7200, "/usr/bin/svc")
		r.PID = pid(p)
		rep := Run([]dossier.Listener{r}, Options{Registry: reg, Intel: db, Baseline: bl})
		if len(rep.Findings) != 0 || len(rep.Explained) != 1 || rep.Explained[0].Baseline.Line != 1 {
			t.Errorf("pid %d: findings %+v", p, rep.Findings)
		}
	}
}

func TestOneFindingPerSocket(t *testing.T) {
	reg, db := knowledge(t)
	v6only := row("tcp", "::", 2556, "/usr/bin/x")
	dual := row("tcp", "::", 2556, "/usr/bin/x")
	dual.DualStack, dual.PID = true, pid(101)
	rep := Run([]dossier.Listener{v6only, dual}, Options{Registry: reg, Intel: db})
	n := 0
	for _, f := range rep.Findings {
		if f.Rule == RuleKnownBad {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d known-bad findings for two sockets, want 2 (one each)", n)
	}
}

func TestSeverityNames(t *testing.T) {
	for _, s := range Severities {
		got, err := ParseSeverity(strings.ToUpper(s.String()))
		if err != nil || got != s {
			t.Errorf("ParseSeverity(%s) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("ParseSeverity(severe): no error")
	}
}

func BenchmarkRun5000(b *testing.B) {
	reg, db := knowledge(b)
	rows := make([]dossier.Listener, 5000)
	var rules strings.Builder
	for i := range rows {
		rows[i] = row("tcp", "127.0.0.1", 10000+i, fmt.Sprintf("/usr/lib/s%d/srv", i%50))
		fmt.Fprintf(&rules, "tcp %d exe=/usr/lib/s%d/srv\n", 10000+i, i%50)
	}
	bl := mustParse(b, rules.String())
	b.ReportAllocs()
	for b.Loop() {
		Run(rows, Options{Registry: reg, Intel: db, Baseline: bl})
	}
}

func TestWritableDir(t *testing.T) {
	for p, want := range map[string]string{
		"/tmp/x": "/tmp", "/tmp/": "/tmp", "/tmp": "", "/tmpx/y": "", "/var/tmp/a/b": "/var/tmp",
		"/dev/shm/s": "/dev/shm", "": "", "tmp/x": "", "/usr/bin/python3": "",
	} {
		if got := writableDir(p); got != want {
			t.Errorf("writableDir(%q) = %q, want %q", p, got, want)
		}
	}
	// It runs for every argument of every interpreter on every listener.
	cmd := []string{"python3", "/srv/app/holders.py", "-child", "-n", "100", "-conns", "0", "-timeout", "1200"}
	if n := testing.AllocsPerRun(100, func() { scriptInWritableDir(cmd) }); n != 0 {
		t.Errorf("scriptInWritableDir allocates %v times", n)
	}
}

// Flags's brief run finds the same rules with the same severities, in the
// same order, as a full run; only the sentences are left out.
func TestBriefRunSameFindings(t *testing.T) {
	reg, db := knowledge(t)
	bl := mustParse(t, "tcp 2556 exe=/tmp/x1/bagle\ntcp 80 exe=/usr/sbin/apache2\ntcp 9001\n")
	for _, opt := range []Options{{}, {Registry: reg, Intel: db}, {Registry: reg, Intel: db, Baseline: bl}} {
		full := Run(sampleRows(), opt)
		opt.brief = true
		brief := Run(sampleRows(), opt)
		if len(full.Findings) != len(brief.Findings) || len(full.Findings) == 0 {
			t.Fatalf("%d findings, brief %d", len(full.Findings), len(brief.Findings))
		}
		for i, f := range full.Findings {
			b := brief.Findings[i]
			if f.Rule != b.Rule || f.Severity != b.Severity || f.Word() != b.Word() || (f.Baseline == nil) != (b.Baseline == nil) ||
				f.Listener.Port != b.Listener.Port || f.Listener.Addr.String() != b.Listener.Addr.String() {
				t.Errorf("finding %d: %s %s %s:%d, brief %s %s %s:%d", i, f.Rule, f.Severity, f.Listener.Addr.String(), f.Listener.Port,
					b.Rule, b.Severity, b.Listener.Addr.String(), b.Listener.Port)
			}
			if f.Reason == "" || b.Reason != "" || b.Advice != "" {
				t.Errorf("finding %d: reason %q, brief reason %q advice %q", i, f.Reason, b.Reason, b.Advice)
			}
		}
	}
}

// Findings on one port are in address order, as sockets.List sorts them
// (9.0.0.1 before 10.0.0.1, IPv4 before IPv6), not in string order.
func TestFindingsInAddressOrder(t *testing.T) {
	var rows []dossier.Listener
	for _, a := range []string{"fd00::1", "10.0.0.1", "9.0.0.1", "::"} {
		r := row("tcp", a, 7006, "/tmp/x")
		rows = append(rows, r)
	}
	var got []string
	for _, f := range Run(rows, Options{}).Findings {
		got = append(got, f.Listener.Addr.String())
	}
	if want := "9.0.0.1 10.0.0.1 :: fd00::1"; strings.Join(got, " ") != want {
		t.Errorf("finding order %v, want %s", got, want)
	}
}

// flagsByReport is what Flags did before it judged row by row: a brief
// Run, its findings sorted, and each row's first finding at low or above.
func flagsByReport(rows []dossier.Listener) {
	rep := Run(rows, Options{brief: true})
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.Severity < Low || f.Listener == nil || f.Listener.Flag != "" {
			continue
		}
		f.Listener.Flag, f.Listener.FlagSeverity = f.Word(), f.Severity.String()
	}
}

// withThreats sets the threat fields of rows as dossier.Annotate does (the
// strongest threat on record for the port and protocol, and its signal).
func withThreats(rows []dossier.Listener, reg *registry.Index, db *intel.DB) []dossier.Listener {
	for i := range rows {
		r := &rows[i]
		ms := db.ForPort(r.Port)
		for _, m := range ms {
			if m.Entry.IsThreat() && (m.Proto == ports.ProtoNone || m.Proto == r.Proto) {
				r.Threat, r.ThreatConfidence, r.ThreatID, r.ThreatKind = m.Entry.Name, m.Entry.Confidence, m.Entry.ID, m.Entry.Kind
				rel := dossier.RelevanceOf(r.Port, r.Proto, ms, reg)
				r.ThreatSignal, r.ExpectedPrograms = rel.Signal, rel.Programs()
				break
			}
		}
	}
	return rows
}

// Flags, row by row, flags every row exactly as the sorted report it used
// to build did: the same word and severity, on rows with several findings
// (a threat port held from /tmp, a deleted executable there, a shell on an
// exposed port, a shell run from /tmp), two sockets at one place (SO_REUSEPORT) with different
// owners, a row flagged already, and rows with nothing to flag.
func TestFlagsAsReport(t *testing.T) {
	reg, db := knowledge(t)
	mk := func() []dossier.Listener {
		rows := sampleRows()
		a := row("tcp", "0.0.0.0", 6379, "/tmp/redis")
		b := row("tcp", "0.0.0.0", 6379, "/usr/bin/bash")
		b.Process = "bash"
		c := row("tcp", "0.0.0.0", 31337, "/dev/shm/x")
		c.ExeDeleted = true
		d := row("tcp", "127.0.0.1", 12345, "/usr/bin/nc")
		d.Process = "nc"
		e := row("udp", "0.0.0.0", 111, "/usr/sbin/rpcbind")
		e.Flag, e.FlagSeverity = "preset", "low"
		f := row("tcp", "0.0.0.0", 443, "/usr/sbin/nginx")
		f.UID = 33
		g := row("tcp", "127.0.0.1", 2222, "/tmp/bash") // two high findings: the rule id decides
		g.Process = "bash"
		rows = append(rows, a, b, c, d, e, f, g)
		return withThreats(rows, reg, db)
	}
	want, got := mk(), mk()
	flagsByReport(want)
	Flags(got)
	// Many rows: judged in two halves at once (run with -race), flagged
	// as the report flags them.
	var manyWant, manyGot []dossier.Listener
	for range 300 {
		manyWant, manyGot = append(manyWant, mk()...), append(manyGot, mk()...)
	}
	if len(manyGot) < flagsSplit {
		t.Fatalf("%d rows: fewer than flagsSplit", len(manyGot))
	}
	flagsByReport(manyWant)
	Flags(manyGot)
	want, got = append(want, manyWant...), append(got, manyGot...)
	flagged := 0
	for i := range want {
		w, g := &want[i], &got[i]
		if w.Flag != g.Flag || w.FlagSeverity != g.FlagSeverity {
			t.Errorf("%s %s:%d (%s): flag %q %q, want %q %q", w.Proto, w.Addr, w.Port, w.Exe, g.Flag, g.FlagSeverity, w.Flag, w.FlagSeverity)
		}
		if w.Flag != "" {
			flagged++
		}
	}
	if flagged < 8 || flagged == len(want) {
		t.Errorf("%d of %d rows flagged: the sample does not exercise Flags", flagged, len(want))
	}
}
