package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/testenv"
)

// The scenarios of "quiet on an ordinary host, loud on a rogue one": real
// listener processes (the test binary re-executed as the audit helper,
// copied where each scenario needs it), judged by the porthole commands.

// audSystemExe copies this test binary into a fresh directory under
// /usr/local/lib, a system directory, named name, and removes exactly that
// file and that directory afterwards.
func audSystemExe(t *testing.T, name string) string {
	t.Helper()
	const parent = "/usr/local/lib"
	if _, err := os.Stat(parent); err != nil {
		t.Fatalf("scenario needs the system directory %s: %v", parent, err)
	}
	dir, err := os.MkdirTemp(parent, "porthole-test-")
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, name)
	t.Cleanup(func() {
		os.Remove(dst)
		os.Remove(dir)
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.CopyExe(t, dst)
	return dst
}

// audShmExe copies this test binary to a fresh directory under /dev/shm.
// A /dev/shm mounted noexec (some containers) cannot run it: skip then,
// but fail in CI.
func audShmExe(t *testing.T, name string) string {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil || st.Flags&unix.ST_NOEXEC != 0 {
		testenv.Missing(t, "scenario needs an executable /dev/shm (statfs %v, flags %#x)", err, st.Flags)
	}
	return audCopyExe(t, "/dev/shm", name)
}

// audWorst returns the most severe finding about port, or nil.
func audWorst(rep auditReport, port int) *audit.Finding {
	var w *audit.Finding
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.Listener != nil && f.Listener.Port == port && (w == nil || f.Severity > w.Severity) {
			w = f
		}
	}
	return w
}

// audRows runs a command printing a JSON array of listener rows.
func audListRows(t *testing.T, args ...string) []dossier.ListenerRow {
	t.Helper()
	r := audRun(t, args...)
	var rows []dossier.ListenerRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("%q: %v (exit %d)\n%s%s", args, err, r.code, r.stdout, r.stderr)
	}
	return rows
}

// Noise scenario 1: a developer's programs, installed under a system
// directory, on loopback 80, 3000, 5000, 7000, 8080 and 9090: no finding
// above info, exit 0, and list and who flag none of them.
func TestAuditQuietDevHost(t *testing.T) {
	audNeedRoot(t)
	ps := []int{80, 3000, 5000, 7000, 8080, 9090}
	var spec, scope []string
	for _, p := range ps {
		audPortBusy(t, p)
		spec = append(spec, "tcp4:"+strconv.Itoa(p))
		scope = append(scope, "tcp/"+strconv.Itoa(p))
	}
	h := audStart(t, audSystemExe(t, "devserver"), strings.Join(spec, ","))
	r := audRun(t, append([]string{"audit", "--json"}, scope...)...)
	rep := audJSON(t, r)
	for _, p := range ps {
		if f := audWorst(rep, p); f != nil && f.Severity > audit.Info {
			t.Errorf("port %d: %s %s: %s", p, f.Rule, f.Severity, f.Reason)
		}
	}
	if r.code != 0 {
		t.Errorf("exit %d, want 0:\n%s", r.code, r.stdout)
	}
	txt := audRun(t, append([]string{"audit"}, scope...)...)
	if txt.code != 0 || !strings.Contains(txt.stdout, "No findings.") {
		t.Errorf("text: exit %d:\n%s", txt.code, txt.stdout)
	}
	// The history is still there for whoever asks.
	if v := audRun(t, append([]string{"audit", "-v"}, scope...)...); !strings.Contains(v.stdout, "INFO") || !strings.Contains(v.stdout, "known-bad-port") {
		t.Errorf("-v does not show the info findings:\n%s", v.stdout)
	}
	seen := 0
	for _, row := range audListRows(t, "list", "--json", "--tcp") {
		if row.PID != nil && *row.PID == h.pid {
			seen++
			if row.Flag != "" {
				t.Errorf("list flags %d: !%s (%s)", row.Port, row.Flag, row.FlagSeverity)
			}
		}
	}
	if seen != len(ps) {
		t.Errorf("list shows %d of the helper's %d listeners", seen, len(ps))
	}
	for _, row := range audListRows(t, "who", "--json", "tcp/80", "tcp/8080") {
		if row.Flag != "" {
			t.Errorf("who flags %d: !%s", row.Port, row.Flag)
		}
	}
	if w := audRun(t, "who", "tcp/8080"); strings.Contains(w.stdout, "!") {
		t.Errorf("who text flags 8080:\n%s", w.stdout)
	}
}

// Noise scenarios 2 and 3: a copy of a program in /tmp on 0.0.0.0:2556
// and 0.0.0.0:4444 is critical and high or more, list flags it in one
// word, and a baseline written meanwhile leaves both lines for review, so
// an audit against it still reports them.
func TestAuditRogueInTmpAndBaseline(t *testing.T) {
	audNeedRoot(t)
	audPortBusy(t, 2556)
	audPortBusy(t, 4444)
	exe := audTmpExe(t, "svc-update")
	h := audStart(t, exe, "tcp4any:2556,tcp4any:4444")
	r := audRun(t, "audit", "--json", "tcp/2556", "tcp/4444")
	rep := audJSON(t, r)
	if f := audFind(rep, audit.RuleKnownBad, 2556, "0.0.0.0"); len(f) != 1 || f[0].Severity != audit.Critical {
		t.Errorf("2556: known-bad-port %+v, want one critical", f)
	}
	if f := audWorst(rep, 4444); f == nil || f.Severity < audit.High {
		t.Errorf("4444: worst finding %+v, want high or more", f)
	}
	if r.code&auditFindings == 0 {
		t.Errorf("exit %d, want bit 1", r.code)
	}
	flags := map[int]string{}
	for _, row := range audListRows(t, "list", "--json", "--tcp") {
		if row.PID != nil && *row.PID == h.pid {
			flags[row.Port] = row.Flag + " " + row.FlagSeverity
		}
	}
	if flags[2556] != "worm critical" || !strings.HasSuffix(flags[4444], "critical") && !strings.HasSuffix(flags[4444], " high") {
		t.Errorf("list flags %v, want 2556 \"worm critical\" and 4444 high or more", flags)
	}

	// Scenario 3: baseline while the rogue runs.
	path := filepath.Join(t.TempDir(), "b.conf")
	if b := audRun(t, "baseline", "-o", path); b.code != 0 {
		t.Fatalf("baseline: exit %d: %s", b.code, b.stderr)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	for _, p := range []int{2556, 4444} {
		want := fmt.Sprintf("#tcp %d exe=%s", p, exe)
		found := false
		for i, l := range lines {
			if strings.HasPrefix(l, fmt.Sprintf("tcp %d exe=%s", p, exe)) {
				t.Errorf("baseline blesses the rogue on %d: %q", p, l)
			}
			if strings.HasPrefix(l, want) {
				found = true
				if i == 0 || !strings.HasPrefix(lines[i-1], "# REVIEW: ") || !strings.Contains(lines[i-1], "exe-in-writable-dir high") {
					t.Errorf("line for %d lacks a REVIEW note naming the finding: %q", p, lines[max(i-1, 0)])
				}
			}
		}
		if !found {
			t.Errorf("baseline has no commented line %q:\n%s", want, text)
		}
	}
	if !strings.Contains(string(text), "known-bad-port critical (worm)") {
		t.Errorf("no REVIEW note names known-bad-port on 2556:\n%s", text)
	}
	ar := audRun(t, "audit", "--json", "--baseline", path, "tcp/2556", "tcp/4444")
	arep := audJSON(t, ar)
	for _, p := range []int{2556, 4444} {
		if f := audWorst(arep, p); f == nil || f.Severity < audit.High || f.Baseline != nil {
			t.Errorf("audit --baseline: %d: worst %+v, want high or more and unexplained", p, f)
		}
		if len(audFind(arep, audit.RuleUnexpected, p, "")) != 1 {
			t.Errorf("audit --baseline: %d is not unexpected", p)
		}
	}
	if ar.code&auditFindings == 0 {
		t.Errorf("audit --baseline: exit %d, want bit 1", ar.code)
	}
}

// Noise scenario 4: a binary named nginx in a system directory on 8080 is
// nothing; the same binary copied to /dev/shm on 8080 is high.
func TestAuditNginxSystemVersusShm(t *testing.T) {
	audNeedRoot(t)
	audPortBusy(t, 8080)
	sys := audStart(t, audSystemExe(t, "nginx"), "tcp4any:8080")
	rep := audJSON(t, audRun(t, "audit", "--json", "tcp/8080"))
	if f := audWorst(rep, 8080); f != nil && f.Severity > audit.Info {
		t.Errorf("nginx from a system directory: %s %s: %s", f.Rule, f.Severity, f.Reason)
	}
	sys.stop()
	shm := audShmExe(t, "nginx")
	audStart(t, shm, "tcp4any:8080")
	r := audRun(t, "audit", "--json", "tcp/8080")
	rep = audJSON(t, r)
	f := audWorst(rep, 8080)
	if f == nil || f.Severity != audit.High || len(audFind(rep, audit.RuleExeWritableDir, 8080, "")) != 1 {
		t.Fatalf("nginx from /dev/shm: worst %+v, want exe-in-writable-dir high", f)
	}
	if f.Listener.Exe != shm {
		t.Errorf("exe %q, want %q", f.Listener.Exe, shm)
	}
	if kb := audFind(rep, audit.RuleKnownBad, 8080, ""); len(kb) > 0 && kb[0].Severity > audit.Info {
		t.Errorf("known-bad-port on a common port: %s (the owner's own rule carries it)", kb[0].Severity)
	}
	if r.code&auditFindings == 0 {
		t.Errorf("exit %d, want bit 1", r.code)
	}
}

// Noise scenario 5: a rogue listener in a named network namespace ("ip
// netns add"): the finding names the namespace.
func TestAuditNamedNetNS(t *testing.T) {
	audNeedRoot(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("ip (iproute2) is needed for the named namespace scenario")
	}
	name := fmt.Sprintf("porthole-test-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })
	h := audStart(t, audTmpExe(t, "bagle"), "tcp4any:2556", "ip", "netns", "exec", name)
	rep := audJSON(t, audRun(t, "audit", "--json", "--all-netns", "tcp/2556"))
	var f *audit.Finding
	for i := range rep.Findings {
		g := &rep.Findings[i]
		if g.Rule == audit.RuleKnownBad && g.Listener != nil && g.Listener.PID != nil && *g.Listener.PID == h.pid {
			f = g
		}
	}
	if f == nil {
		t.Fatalf("no known-bad-port finding for the helper in netns %s: %+v", name, rep.Findings)
	}
	if f.Listener.HostNetNS || f.Listener.NetNSName != name || !strings.Contains(f.Reason, "netns "+name) {
		t.Errorf("finding does not name netns %s: host %v name %q reason %q", name, f.Listener.HostNetNS, f.Listener.NetNSName, f.Reason)
	}
	if f.Severity != audit.Critical {
		t.Errorf("severity %s, want critical", f.Severity)
	}
	if txt := audRun(t, "audit", "--all-netns", "tcp/2556"); !strings.Contains(txt.stdout, "netns "+name) {
		t.Errorf("text report does not name netns %s:\n%s", name, txt.stdout)
	}
}
