package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/process"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
)

// audRows is a constructed set of listeners covering every rule, annotated
// the way the command annotates live ones, for the golden reports.
func audRows(t *testing.T) []dossier.Listener {
	const hostNS = 4026531840
	mk := func(proto, addr string, port int, exe, user string, uid int) sockets.Listener {
		p, _ := ports.ParseProto(proto)
		a := netip.MustParseAddr(addr)
		fam := 4
		if a.Is6() {
			fam = 6
		}
		return sockets.Listener{
			Proto: p, Family: fam, Addr: a, Port: port, Inode: uint64(90000 + port), UID: uid,
			NetNS: hostNS, HostNetNS: true,
			Owners: []process.Info{{PID: 1000 + port%1000, Name: filepath.Base(exe), Exe: exe, Cmdline: []string{exe},
				UID: uid, User: user, NetNS: hostNS}},
		}
	}
	bagle := mk("tcp", "0.0.0.0", 2556, "/tmp/porthole-x/bagle", "root", 0)
	bagle6 := mk("tcp", "::1", 2556, "/tmp/porthole-x/bagle", "root", 0)
	deleted := mk("tcp", "127.0.0.1", 18025, "/var/tmp/agent", "root", 0)
	deleted.Owners[0].ExeDeleted = true
	sshd := mk("tcp", "0.0.0.0", 22, "/usr/sbin/sshd", "root", 0)
	changed := mk("tcp", "127.0.0.1", 8080, "/home/u/bin/devd", "u", 1000)
	hidden := mk("tcp", "0.0.0.0", 2024, "/x", "root", 0)
	hidden.Owners, hidden.OwnerUnknown = nil, sockets.OwnerNotFound
	redis := mk("tcp", "0.0.0.0", 6379, "/usr/bin/redis-server", "redis", 0)
	dual := mk("tcp", "::", 4, "/usr/local/bin/thing", "root", 0)
	dual.DualStack = true
	nsl := mk("tcp", "0.0.0.0", 31337, "/usr/bin/ctfd", "root", 0)
	nsl.NetNS, nsl.HostNetNS, nsl.Owners[0].NetNS = 4026532999, false, 4026532999
	udp := mk("udp", "0.0.0.0", 41000, "/usr/sbin/chronyd", "_chrony", 0)
	nc := mk("tcp", "0.0.0.0", 4445, "/usr/bin/nc.openbsd", "u", 1000)
	nc.Owners[0].Name = "nc"
	smtp := mk("tcp", "0.0.0.0", 25, "/usr/sbin/smtpd", "mail", 8)
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	return dossier.Annotate([]sockets.Listener{sshd, bagle, bagle6, deleted, changed, hidden, redis, dual, nsl, udp, nc, smtp},
		registry.Embedded(), db)
}

type audResult struct {
	code           int
	stdout, stderr string
}

func audRun(t *testing.T, args ...string) audResult {
	t.Helper()
	// The system's ephemeral range, not the fixed one.
	r := runEnv(strings.NewReader(""), func(e *Env) { e.Ephemeral = nil }, args...)
	return audResult{r.code, r.stdout, r.stderr}
}

func audJSON(t *testing.T, r audResult) auditReport {
	t.Helper()
	var rep auditReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("audit --json: %v (exit %d)\nstdout: %s\nstderr: %s", err, r.code, r.stdout, r.stderr)
	}
	return rep
}

const audGoldenBaseline = `# golden
tcp 22 exe=/usr/sbin/sshd user=root addr=any  # OpenSSH
tcp 8080 exe=/usr/bin/devd addr=loopback  # the dev server
udp ephemeral exe=/usr/sbin/chronyd
tcp 6379 exe=/usr/bin/redis-server  # cache, firewalled
tcp 5432 exe=/usr/lib/postgresql/*/bin/postgres  # database
tcp 9000-9100 optional
tcp 25 name=smtpd
`

func audGoldenFile(t *testing.T, name, got string) {
	t.Helper()
	golden(t, filepath.Join("audit", name), got)
}

func TestAuditGolden(t *testing.T) {
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	bl, warns, err := audit.Parse("golden.conf", []byte(audGoldenBaseline))
	if err != nil || len(warns) > 0 {
		t.Fatal(err, warns)
	}
	rep := audit.Run(audRows(t), audit.Options{
		Registry: registry.Embedded(), Intel: db, Baseline: bl, EphemeralLow: 32768, EphemeralHigh: 60999, AllNetNS: true,
	})
	o := auditOptions{failOn: audit.Low, verbose: true}
	var out bytes.Buffer
	tx := &text{w: &out}
	renderAudit(tx, rep, bl, o)
	audGoldenFile(t, "report.txt", out.String())

	code := auditExit(rep, o.failOn)
	if code != auditFindings|auditMissing|auditChanged {
		t.Errorf("exit bits %d, want 7", code)
	}
	out.Reset()
	r := auditJSON(rep, bl, o, code, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	if err := streamAuditJSON(&out, r); err != nil {
		t.Fatal(err)
	}
	audGoldenFile(t, "report.json", out.String())
	// The streamed form is byte for byte what the one-shot encoder writes,
	// with and without the explained list and with no findings.
	for _, v := range []auditReport{r, func() auditReport { r.Explained = nil; return r }(), func() auditReport { r.Findings = []audit.Finding{}; return r }()} {
		var a, b bytes.Buffer
		if err := writeJSON(&a, v); err != nil {
			t.Fatal(err)
		}
		if err := streamAuditJSON(&b, v); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Errorf("streamed JSON differs from writeJSON:\n%s", firstDiff(a.String(), b.String()))
		}
	}
}

// Scenario 15: bad baseline files, bad port specs, bad flags, and a
// 100,000-rule baseline.
func TestAuditBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown key", []string{"--baseline", write("a.conf", "# x\ntcp 22 prot=tcp\n")}, auditBadBase, "a.conf:2:8: prot: unknown key"},
		{"bad proto", []string{"--baseline", write("b.conf", "sctp 22\n")}, auditBadBase, "b.conf:1:1: proto:"},
		{"port too big", []string{"--baseline", write("c.conf", "tcp 22\ntcp 99999\n")}, auditBadBase, "c.conf:2:5: port: 99999 is larger than 65535"},
		{"bad addr", []string{"--baseline", write("d.conf", "tcp 22 addr=everywhere\n")}, auditBadBase, "d.conf:1:13: addr:"},
		{"missing file", []string{"--baseline", filepath.Join(dir, "nope.conf")}, auditIO, "reading baseline"},
		{"bad port spec", []string{"99999"}, auditUsage, `bad port "99999"`},
		{"reversed range", []string{"22-10"}, auditUsage, "runs backwards"},
		{"sctp", []string{"sctp/22"}, auditUsage, "tcp and udp listeners only"},
		{"bad fail-on", []string{"--fail-on", "severe"}, auditUsage, "unknown severity"},
		{"unknown flag", []string{"--bogus"}, auditUsage, "bogus"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := audRun(t, append([]string{"audit"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tc.code, tc.msg)
			}
			if r.stdout != "" {
				t.Errorf("printed a report on error: %q", r.stdout)
			}
		})
	}
	big := filepath.Join(dir, "big.conf")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(audit.MaxBaselineSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if r := audRun(t, "audit", "--baseline", big); r.code != auditBadBase || !strings.Contains(r.stderr, "too large") {
		t.Errorf("17 MiB baseline: exit %d %q", r.code, r.stderr)
	}
	// Duplicates and paths missing on this host warn but do not fail.
	warn := write("w.conf", "tcp 1 exe=/nonexistent/porthole-test optional\ntcp 1 exe=/nonexistent/porthole-test optional\n")
	r := audRun(t, "audit", "--baseline", warn, "tcp/1")
	if !strings.Contains(r.stderr, "w.conf:2: duplicate of line 1") || !strings.Contains(r.stderr, "does not exist on this host") {
		t.Errorf("warnings: %q", r.stderr)
	}
	if r.code >= 8 {
		t.Errorf("warnings made it fail: exit %d %s", r.code, r.stderr)
	}
}

// A 100,000-rule baseline loads and an audit with it runs; the time is
// measured by BenchmarkParse100k and scripts/bench-audit.sh, not asserted.
func TestAuditHugeBaseline(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 100_000; i++ {
		fmt.Fprintf(&b, "tcp %d exe=/usr/lib/s%d/bin/srv addr=loopback optional\n", 1+i%65535, i)
	}
	p := filepath.Join(t.TempDir(), "huge.conf")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := audRun(t, "audit", "--json", "--baseline", p, "tcp/1")
	if r.code >= 8 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rep := audJSON(t, r)
	if rep.BaselineRules == nil || *rep.BaselineRules != 100_000 {
		t.Errorf("baseline_rules %v", rep.BaselineRules)
	}
	t.Logf("audit with 100,000 rules: %v", time.Since(start))
}
