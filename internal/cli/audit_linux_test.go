package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
	"github.com/porthole/porthole/internal/testenv"
)

// The audit scenarios start real listener processes: the test binary itself
// as testenv's socket helper (init runs before TestMain), sometimes copied
// under /tmp first. Items of a spec are "KIND:PORT" (port 0: any).
func init() { testenv.SocketHelperMain(audBind) }

// audBind binds testenv.Bind's kinds and hidden: a loopback listener whose
// only reference is an SCM_RIGHTS message in flight, so no process has it in
// /proc/PID/fd.
func audBind(kind string, port int) ([]io.Closer, int, error) {
	if kind != "hidden" {
		return testenv.Bind(kind, port)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return nil, 0, err
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return nil, 0, err
	}
	if err := unix.Listen(fd, 1); err != nil {
		return nil, 0, err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil, 0, err
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return nil, 0, err
	}
	if err := unix.Sendmsg(pair[0], []byte{0}, unix.UnixRights(fd), nil, 0); err != nil {
		return nil, 0, err
	}
	unix.Close(fd) // the socket lives on inside the unreceived message
	return []io.Closer{os.NewFile(uintptr(pair[0]), "pair0"), os.NewFile(uintptr(pair[1]), "pair1")}, sa.(*unix.SockaddrInet4).Port, nil
}

type audHelper struct {
	pid   int
	exe   string
	ports map[string][]int
	stop  func()
}

// audNeedRoot skips without root (or fails when CI is set: CI runs as root).
func audNeedRoot(t *testing.T) {
	t.Helper()
	testenv.NeedRoot(t)
}

// audStart starts the helper from exe ("" = this test binary) with spec;
// wrap prefixes the command (unshare -n).
func audStart(t *testing.T, exe, spec string, wrap ...string) *audHelper {
	t.Helper()
	h := testenv.StartSockets(t, exe, spec, wrap...)
	return &audHelper{pid: h.PID, exe: h.Exe, ports: h.Ports, stop: h.Stop}
}

// audTmpExe copies this test binary to a fresh directory under /tmp, named
// name, and returns its path.
func audTmpExe(t *testing.T, name string) string {
	return audCopyExe(t, "/tmp", name)
}

// audCleanExe copies this test binary to a directory only root can write
// (under /run), so that it does not look planted: the go tool builds test
// binaries under /tmp, which the audit rightly flags.
func audCleanExe(t *testing.T, name string) string {
	return audCopyExe(t, "/run", name)
}

func audCopyExe(t *testing.T, parent, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp(parent, "porthole-audit-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	dst := filepath.Join(dir, name)
	testenv.CopyExe(t, dst)
	return dst
}

// audPortBusy fails the test with a clear message when a fixed port the
// scenario needs is taken on this machine.
func audPortBusy(t *testing.T, port int) {
	t.Helper()
	for _, network := range []string{"tcp4", "tcp6"} {
		l, err := net.Listen(network, ":"+strconv.Itoa(port))
		if err != nil {
			t.Fatalf("scenario needs tcp port %d, which is busy here (%s: %v); free it and rerun", port, network, err)
		}
		l.Close()
	}
}

// audFind returns the findings of rule about port (and address, if given).
func audFind(rep auditReport, rule string, port int, addr string) []audit.Finding {
	var out []audit.Finding
	for _, f := range rep.Findings {
		if f.Rule == rule && f.Listener != nil && f.Listener.Port == port && (addr == "" || f.Listener.Addr.String() == addr) {
			out = append(out, f)
		}
	}
	return out
}

func audBaseline(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "baseline.conf")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Scenario 1: a program in a temp dir under /tmp listening on tcp
// 0.0.0.0:2556.
func TestAuditScenarioBagleInTmp(t *testing.T) {
	audNeedRoot(t)
	audPortBusy(t, 2556)
	exe := audTmpExe(t, "bagle")
	h := audStart(t, exe, "tcp4any:2556")
	r := audRun(t, "audit", "--json", "tcp/2556")
	rep := audJSON(t, r)
	kb := audFind(rep, audit.RuleKnownBad, 2556, "0.0.0.0")
	ww := audFind(rep, audit.RuleExeWritableDir, 2556, "0.0.0.0")
	if len(kb) != 1 || len(ww) != 1 {
		t.Fatalf("known-bad %d, writable-dir %d findings, want 1 each: %s", len(kb), len(ww), r.stdout)
	}
	l := kb[0].Listener
	if l.PID == nil || *l.PID != h.pid || l.UID != 0 || l.Exe != exe || l.Process != "bagle" {
		t.Errorf("listener pid %v uid %d exe %q process %q, want pid %d uid 0 exe %q", l.PID, l.UID, l.Exe, l.Process, h.pid, exe)
	}
	if !strings.Contains(kb[0].Reason, "Bagle") || kb[0].Severity != audit.Critical {
		t.Errorf("known-bad: %s %s", kb[0].Severity, kb[0].Reason)
	}
	if r.code&auditFindings == 0 || r.code > 7 {
		t.Errorf("exit %d, want bit 1", r.code)
	}
	// The text report says the same.
	txt := audRun(t, "audit", "tcp/2556")
	for _, want := range []string{"CRITICAL", "known-bad-port", "exe-in-writable-dir", exe, "pid " + strconv.Itoa(h.pid)} {
		if !strings.Contains(txt.stdout, want) {
			t.Errorf("text report lacks %q:\n%s", want, txt.stdout)
		}
	}
}

// Scenario 2: the same on 127.0.0.1 and on [::1]: loopback is not a pass.
func TestAuditScenarioBagleOnLoopback(t *testing.T) {
	audNeedRoot(t)
	audPortBusy(t, 2556)
	exe := audTmpExe(t, "bagle")
	audStart(t, exe, "tcp4:2556,tcp6:2556")
	r := audRun(t, "audit", "--json", "2556")
	rep := audJSON(t, r)
	for _, addr := range []string{"127.0.0.1", "::1"} {
		if n := len(audFind(rep, audit.RuleKnownBad, 2556, addr)); n != 1 {
			t.Errorf("%s: %d known-bad findings, want 1", addr, n)
		}
		if n := len(audFind(rep, audit.RuleExeWritableDir, 2556, addr)); n != 1 {
			t.Errorf("%s: %d writable-dir findings, want 1", addr, n)
		}
	}
	if r.code&auditFindings == 0 {
		t.Errorf("exit %d, want bit 1", r.code)
	}
}

// Scenario 3: the executable is deleted after start.
func TestAuditScenarioDeletedExe(t *testing.T) {
	audNeedRoot(t)
	exe := audTmpExe(t, "vanish")
	h := audStart(t, exe, "tcp4:0")
	if err := os.Remove(exe); err != nil {
		t.Fatal(err)
	}
	port := h.ports["tcp4"][0]
	rep := audJSON(t, audRun(t, "audit", "--json", "tcp/"+strconv.Itoa(port)))
	f := audFind(rep, audit.RuleDeletedExe, port, "")
	if len(f) != 1 {
		t.Fatalf("%d deleted-exe findings: %+v", len(f), rep.Findings)
	}
	if l := f[0].Listener; l.Exe != exe || !l.ExeDeleted || l.PID == nil || *l.PID != h.pid {
		t.Errorf("listener exe %q deleted %v pid %v, want %q true %d", l.Exe, l.ExeDeleted, l.PID, exe, h.pid)
	}
}

// unassignedPort finds a free tcp port that IANA leaves unassigned and
// intel does not mention.
func unassignedPort(t *testing.T) int {
	t.Helper()
	reg := registry.Embedded()
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	for p := 1024; p < 49152; p++ {
		if reg.StatusOf(p, ports.TCP) != registry.StatusUnassigned || len(db.ForPort(p)) > 0 {
			continue
		}
		l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	t.Fatal("no free unassigned port")
	return 0
}

// Scenario 4: a listener on an IANA-unassigned port, not in the baseline.
func TestAuditScenarioUnassignedUnexpected(t *testing.T) {
	audNeedRoot(t)
	port := unassignedPort(t)
	audStart(t, audCleanExe(t, "srv"), "tcp4:"+strconv.Itoa(port))
	bl := audBaseline(t, "tcp 22 exe=/usr/sbin/sshd optional\n")
	r := audRun(t, "audit", "--json", "--baseline", bl, "tcp/"+strconv.Itoa(port))
	rep := audJSON(t, r)
	f := audFind(rep, audit.RuleUnexpected, port, "127.0.0.1")
	if len(f) != 1 || f[0].Listener.Status != "unassigned" || !strings.Contains(f[0].Reason, "unassigned") {
		t.Fatalf("unexpected-listener findings %+v", f)
	}
	if r.code != auditFindings {
		t.Errorf("exit %d, want 1", r.code)
	}
}

// Scenario 6: 31337 in a network namespace the test creates while the host
// also listens on 31337.
func TestAuditScenarioNetNS31337(t *testing.T) {
	audNeedRoot(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatal("unshare (util-linux) is needed for the namespace scenario")
	}
	audPortBusy(t, 31337)
	host := audStart(t, "", "tcp4any:31337")
	inner := audStart(t, "", "tcp4any:31337", "unshare", "-n")
	rep := audJSON(t, audRun(t, "audit", "--json", "--all-netns", "tcp/31337"))
	f := audFind(rep, audit.RuleKnownBad, 31337, "0.0.0.0")
	if len(f) != 2 {
		t.Fatalf("%d known-bad findings on 31337, want 2 (host and namespace): %+v", len(f), rep.Findings)
	}
	a, b := f[0].Listener, f[1].Listener
	if a.NetNS == b.NetNS || a.HostNetNS == b.HostNetNS {
		t.Errorf("findings not told apart by namespace: %d/%v and %d/%v", a.NetNS, a.HostNetNS, b.NetNS, b.HostNetNS)
	}
	pids := map[int]bool{}
	for _, l := range []*struct{ pid *int }{{a.PID}, {b.PID}} {
		if l.pid != nil {
			pids[*l.pid] = true
		}
	}
	if !pids[host.pid] || !pids[inner.pid] {
		t.Errorf("pids %v, want host %d and namespace %d", pids, host.pid, inner.pid)
	}
	// Without --all-netns only the host's is there.
	rep = audJSON(t, audRun(t, "audit", "--json", "tcp/31337"))
	if f := audFind(rep, audit.RuleKnownBad, 31337, ""); len(f) != 1 || !f[0].Listener.HostNetNS {
		t.Errorf("without --all-netns: %+v", f)
	}
}

// Scenario 7: an unconnected UDP socket is reported; a connected UDP client
// and an outgoing TCP connection are not.
func TestAuditScenarioUDPAndClients(t *testing.T) {
	audNeedRoot(t)
	h := audStart(t, audCleanExe(t, "srv"), "udp4:0,udpconn:0,tcpconn:0")
	bl := audBaseline(t, "tcp 1 optional\n")
	udp, uconn, tconn := h.ports["udp4"][0], h.ports["udpconn"][0], h.ports["tcpconn"][0]
	rep := audJSON(t, audRun(t, "audit", "--json", "--baseline", bl,
		"udp/"+strconv.Itoa(udp), "udp/"+strconv.Itoa(uconn), "tcp/"+strconv.Itoa(tconn)))
	if f := audFind(rep, audit.RuleUnexpected, udp, ""); len(f) != 1 || f[0].Listener.Proto != ports.UDP {
		t.Errorf("udp listener: %+v", f)
	}
	for _, p := range []int{uconn, tconn} {
		for _, f := range rep.Findings {
			if f.Listener != nil && f.Listener.Port == p {
				t.Errorf("client socket on port %d reported: %+v", p, f)
			}
		}
	}
}

// Scenario 8: an IPv6-only and a dual-stack listener are reported once each.
func TestAuditScenarioIPv6OnlyAndDualStack(t *testing.T) {
	audNeedRoot(t)
	h := audStart(t, audCleanExe(t, "srv"), "tcp6any:0,tcpdual:0")
	bl := audBaseline(t, "tcp 1 optional\n")
	v6, dual := h.ports["tcp6any"][0], h.ports["tcpdual"][0]
	rep := audJSON(t, audRun(t, "audit", "--json", "--baseline", bl, "tcp/"+strconv.Itoa(v6), "tcp/"+strconv.Itoa(dual)))
	for _, tc := range []struct {
		port int
		dual bool
	}{{v6, false}, {dual, true}} {
		n := 0
		for _, f := range rep.Findings {
			if f.Listener != nil && f.Listener.Port == tc.port && f.Listener.Addr == netip.IPv6Unspecified() {
				n++
				if f.Listener.DualStack != tc.dual || f.Listener.Family != 6 {
					t.Errorf("port %d: dual %v family %d", tc.port, f.Listener.DualStack, f.Listener.Family)
				}
			}
		}
		if n != 1 {
			t.Errorf("port %d (dual %v): %d findings, want exactly 1", tc.port, tc.dual, n)
		}
	}
}

// Scenario 9: a listener matched by a baseline rule: no finding, exit 0,
// and -v names the rule.
func TestAuditScenarioBaselined(t *testing.T) {
	audNeedRoot(t)
	h := audStart(t, audCleanExe(t, "srv"), "tcp4:0")
	port := h.ports["tcp4"][0]
	bl := audBaseline(t, fmt.Sprintf("# test\ntcp %d exe=%s user=root addr=loopback  # the helper\n", port, h.exe))
	r := audRun(t, "audit", "-v", "--baseline", bl, "tcp/"+strconv.Itoa(port))
	if r.code != 0 || !strings.Contains(r.stdout, "No findings.") {
		t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if want := "rule " + bl + ":2"; !strings.Contains(r.stdout, want) {
		t.Errorf("verbose output does not name %q:\n%s", want, r.stdout)
	}
	rep := audJSON(t, audRun(t, "audit", "--json", "-v", "--baseline", bl, "tcp/"+strconv.Itoa(port)))
	if len(rep.Explained) != 1 || rep.Explained[0].Baseline.Line != 2 {
		t.Errorf("explained %+v", rep.Explained)
	}
}

// freeTCPPort returns a loopback tcp port that was free a moment ago.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Scenario 10: a baselined service restarted with a new PID: nothing.
func TestAuditScenarioRestartNewPID(t *testing.T) {
	audNeedRoot(t)
	exe := audCleanExe(t, "srv")
	// The kernel picks the port and the first helper holds it from then on, so no
	// other process can take it between choosing and binding (a port that was only
	// found free could be taken as a connection's source port by a parallel test).
	first := audStart(t, exe, "tcp4:0")
	port := first.ports["tcp4"][0]
	spec := "tcp4:" + strconv.Itoa(port)
	bl := filepath.Join(t.TempDir(), "written.conf")
	if r := audRun(t, "baseline", "-o", bl); r.code != 0 {
		t.Fatalf("baseline: exit %d: %s", r.code, r.stderr)
	}
	first.stop()
	second := audStart(t, exe, spec)
	if second.pid == first.pid {
		t.Fatal("same pid twice")
	}
	r := audRun(t, "audit", "--json", "--baseline", bl, "tcp/"+strconv.Itoa(port))
	rep := audJSON(t, r)
	if r.code != 0 || len(rep.Findings) != 0 {
		t.Errorf("after restart: exit %d, findings %+v", r.code, rep.Findings)
	}
}

// Scenario 11: a baselined port now owned by another program.
func TestAuditScenarioOwnerChanged(t *testing.T) {
	audNeedRoot(t)
	h := audStart(t, audCleanExe(t, "intruder"), "tcp4:0")
	port := h.ports["tcp4"][0]
	bl := audBaseline(t, fmt.Sprintf("tcp %d exe=/usr/sbin/expected-daemon addr=loopback\n", port))
	r := audRun(t, "audit", "--json", "--baseline", bl, "tcp/"+strconv.Itoa(port))
	rep := audJSON(t, r)
	f := audFind(rep, audit.RuleOwnerChanged, port, "")
	if len(f) != 1 || !strings.Contains(f[0].Reason, "/usr/sbin/expected-daemon") || !strings.Contains(f[0].Reason, h.exe) {
		t.Fatalf("owner-changed findings %+v", f)
	}
	if r.code&auditChanged == 0 || audFind(rep, audit.RuleUnexpected, port, "") != nil {
		t.Errorf("exit %d (want bit 4), findings %+v", r.code, rep.Findings)
	}
}

// Scenario 12: a baseline entry whose listener is gone, unless optional.
func TestAuditScenarioBaselineMissing(t *testing.T) {
	audNeedRoot(t)
	port := freeTCPPort(t)
	bl := audBaseline(t, fmt.Sprintf("tcp %d exe=/usr/sbin/gone-daemon\n", port))
	r := audRun(t, "audit", "--json", "--baseline", bl, "tcp/"+strconv.Itoa(port))
	rep := audJSON(t, r)
	if r.code != auditMissing || len(rep.Findings) != 1 || rep.Findings[0].Rule != audit.RuleMissing || rep.Findings[0].Listener != nil {
		t.Fatalf("exit %d findings %+v", r.code, rep.Findings)
	}
	opt := audBaseline(t, fmt.Sprintf("tcp %d exe=/usr/sbin/gone-daemon optional\n", port))
	if r := audRun(t, "audit", "--baseline", opt, "tcp/"+strconv.Itoa(port)); r.code != 0 {
		t.Errorf("optional rule: exit %d:\n%s", r.code, r.stdout)
	}
}

// Scenario 13: an owner that cannot be resolved. The helper makes a real
// listener, sends its only descriptor to itself over a socketpair without
// receiving it, and closes it: the socket stays open in the kernel, but no
// /proc/PID/fd links to it.
func TestAuditScenarioOwnerUnknown(t *testing.T) {
	audNeedRoot(t)
	h := audStart(t, "", "hidden:0")
	port := h.ports["hidden"][0]
	r := audRun(t, "audit", "--json", "tcp/"+strconv.Itoa(port))
	rep := audJSON(t, r)
	f := audFind(rep, audit.RuleOwnerUnknown, port, "127.0.0.1")
	if len(f) != 1 {
		t.Fatalf("owner-unknown findings %+v", rep.Findings)
	}
	reason := dossier.OwnerUnknownText(i18n.EN, f[0].Listener.OwnerUnknown)
	if f[0].Listener.PID != nil || f[0].Listener.OwnerUnknown == sockets.OwnerKnown || !strings.Contains(f[0].Reason, reason) ||
		!strings.Contains(r.stdout, `"owner_unknown_reason": "`+reason+`"`) {
		t.Errorf("listener pid %v reason %q; finding %q", f[0].Listener.PID, reason, f[0].Reason)
	}
	if !strings.Contains(r.stdout, `"pid": null`) {
		t.Error("JSON does not say pid null")
	}
}

// Scenario 14: a baselined program on a port intel lists as a threat port
// (tcp/6667, IRC bot channels) is lowered to info and stays visible.
func TestAuditScenarioIntelPortBaselined(t *testing.T) {
	audNeedRoot(t)
	audPortBusy(t, 6667)
	h := audStart(t, audCleanExe(t, "ircd"), "tcp4:6667")
	bl := audBaseline(t, fmt.Sprintf("tcp 6667 exe=%s addr=loopback  # our ircd\n", h.exe))
	r := audRun(t, "audit", "--json", "--baseline", bl, "tcp/6667")
	rep := audJSON(t, r)
	f := audFind(rep, audit.RuleKnownBad, 6667, "")
	if len(f) != 1 || f[0].Severity != audit.Info || f[0].Baseline == nil || f[0].Baseline.Line != 1 {
		t.Fatalf("known-bad findings %+v", f)
	}
	if r.code != 0 {
		t.Errorf("exit %d, want 0 (info is below the default --fail-on low)", r.code)
	}
	if r := audRun(t, "audit", "--fail-on", "info", "--baseline", bl, "tcp/6667"); r.code != auditFindings {
		t.Errorf("--fail-on info: exit %d, want 1", r.code)
	}
}

// audWatchMainEnv makes the re-executed test binary behave like
// cmd/porthole (Run: signals cancel Main's context) for the arguments after
// "--", so that the watch test can send it a real SIGTERM.
const audWatchMainEnv = "PORTHOLE_AUDIT_WATCH_MAIN"

func init() {
	if os.Getenv(audWatchMainEnv) == "1" {
		os.Exit(Run(testenv.Args()))
	}
}

// porthole watch as a process: JSON lines for a listener that comes and
// goes, metrics over HTTP, and a clean exit on SIGTERM.
func TestWatchCommandSignalsAndMetrics(t *testing.T) {
	audNeedRoot(t)
	cmd := testenv.Reexec(t, []string{audWatchMainEnv + "=1"}, "watch", "--json", "--no-initial", "--interval", "100ms", "--metrics", "127.0.0.1:0")
	var stdout, stderr testenv.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; stdout:\n%s\nstderr:\n%s", what, stdout.String(), stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var metricsURL string
	waitFor("the metrics address", func() bool {
		s := stderr.String()
		i := strings.Index(s, "metrics on ")
		if i < 0 {
			return false
		}
		// Under --json the note is a JSON line: {"message":"metrics on URL"}.
		metricsURL = strings.TrimRight(strings.Fields(s[i+len("metrics on "):])[0], `"}`)
		return true
	})
	waitFor("the first scan", func() bool {
		resp, err := http.Get(metricsURL)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "porthole_scans_total") && !strings.Contains(string(b), "porthole_scans_total 0")
	})
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	mine := func(typ string) bool {
		for _, line := range strings.Split(stdout.String(), "\n") {
			var e struct {
				Event    string `json:"event"`
				Listener struct {
					Port int `json:"port"`
				} `json:"listener"`
			}
			if json.Unmarshal([]byte(line), &e) == nil && e.Event == typ && e.Listener.Port == port {
				return true
			}
		}
		return false
	}
	waitFor("the added event", func() bool { return mine("added") })
	l.Close()
	waitFor("the removed event", func() bool { return mine("removed") })
	resp, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"porthole_listeners{proto=\"tcp\"}", "porthole_scan_duration_seconds_bucket", "porthole_events_total{event=\"added\"}"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("watch after SIGTERM: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop on SIGTERM")
	}
}

func TestWatchBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"watch", "--interval", "50ms"},
		{"watch", "--interval", "soon"},
		{"watch", "extra"},
		{"watch", "--full-every", "0"},
	} {
		if r := audRun(t, args...); r.code != ExitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, r.code, ExitUsage, r.stderr)
		}
	}
}

// porthole baseline writes a file audit accepts, with the test's own
// listener in it, and --json gives the same rules.
func TestBaselineCommand(t *testing.T) {
	audNeedRoot(t)
	h := audStart(t, audCleanExe(t, "srv"), "tcp4:0")
	port := h.ports["tcp4"][0]
	path := filepath.Join(t.TempDir(), "b.conf")
	if r := audRun(t, "baseline", "-o", path); r.code != 0 || !strings.Contains(r.stderr, "wrote") {
		t.Fatalf("baseline -o: exit %d %s", r.code, r.stderr)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("tcp %d exe=%s user=root addr=loopback netns=host", port, h.exe)
	if !strings.Contains(string(text), want) || strings.Contains(string(text), fmt.Sprintf("pid %d", h.pid)) {
		t.Errorf("baseline lacks %q (or names a pid):\n%s", want, text)
	}
	r := audRun(t, "baseline", "--json")
	var rules []audit.Rule
	if err := json.Unmarshal([]byte(r.stdout), &rules); err != nil || r.code != 0 {
		t.Fatalf("baseline --json: exit %d, %v", r.code, err)
	}
	found := false
	for _, rl := range rules {
		found = found || (rl.Low == port && rl.Exe == h.exe)
	}
	if !found {
		t.Errorf("--json lacks the helper's rule")
	}
	if r := audRun(t, "baseline", "--json", "-o", path); r.code != ExitUsage {
		t.Errorf("--json -o: exit %d", r.code)
	}
	if r := audRun(t, "audit", "--baseline", path, "tcp/"+strconv.Itoa(port)); r.code != 0 {
		t.Errorf("audit against the written baseline: exit %d\n%s", r.code, r.stdout)
	}
}
