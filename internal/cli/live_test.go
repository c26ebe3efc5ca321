package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/testenv"
)

// These tests open real sockets and start real processes. They need Linux
// (sock_diag or /proc/net); elsewhere, and without root for other users'
// processes, they skip locally, and fail when CI is set.

func needLinux(t *testing.T) {
	t.Helper()
	testenv.NeedLinux(t)
}

func listenTCP(t *testing.T, addr string) int {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func TestWhoFindsOwnListener(t *testing.T) {
	needLinux(t)
	port := listenTCP(t, "127.0.0.1:0")
	r := run(t, "", "who", "--json", strconv.Itoa(port))
	if r.code != 0 {
		t.Fatalf("who %d: exit %d: %s", port, r.code, r.stderr)
	}
	var rows []dossier.ListenerRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("got %d rows: %s", len(rows), r.stdout)
	}
	row := rows[0]
	if row.Proto != "tcp" || row.Family != 4 || row.Address != "127.0.0.1" || row.Port != port || !row.Loopback {
		t.Errorf("row %+v", row)
	}
	if row.PID == nil || *row.PID != os.Getpid() {
		t.Errorf("pid %v, want %d (reason %q)", row.PID, os.Getpid(), row.OwnerUnknownReason)
	}
	exe, _ := os.Executable()
	if row.Exe != exe || len(row.Cmdline) == 0 {
		t.Errorf("exe %q cmdline %q, want %q", row.Exe, row.Cmdline, exe)
	}
	// The JSON contract: every field present, pid a number.
	var raw []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"proto", "family", "address", "port", "pid", "owner_unknown_reason", "process", "uid", "user", "exe", "exe_deleted", "cmdline", "netns", "container", "dual_stack", "service", "threat"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("who --json lacks %q", k)
		}
	}

	text := run(t, "", "who", strconv.Itoa(port))
	if text.code != 0 || !strings.Contains(text.stdout, fmt.Sprintf("127.0.0.1:%d", port)) ||
		!strings.Contains(text.stdout, "pid "+strconv.Itoa(os.Getpid())) || !strings.Contains(text.stdout, "IANA ") {
		t.Errorf("who text:\n%s", text.stdout)
	}
	// Protocol filter: nothing on udp.
	if u := run(t, "", "who", "udp/"+strconv.Itoa(port)); u.code != ExitNotFound {
		t.Errorf("who udp/%d: exit %d", port, u.code)
	}
}

func TestWhoNothingListens(t *testing.T) {
	needLinux(t)
	// A port we held and released: nothing listens there now.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := run(t, "", "who", strconv.Itoa(port))
	if r.code != ExitNotFound || r.stdout != "" {
		t.Fatalf("exit %d stdout %q", r.code, r.stdout)
	}
	want := fmt.Sprintf("nothing listens on tcp or udp %d here", port)
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	if j := run(t, "", "who", "--json", strconv.Itoa(port)); j.code != ExitNotFound || strings.TrimSpace(j.stdout) != "[]" {
		t.Errorf("who --json on a free port: exit %d, %q", j.code, j.stdout)
	}
}

func TestListIncludesUDPAndV6(t *testing.T) {
	needLinux(t)
	tcpPort := listenTCP(t, "127.0.0.1:0")
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	udpPort := u.LocalAddr().(*net.UDPAddr).Port
	v6 := -1
	if l, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		defer l.Close()
		v6 = l.Addr().(*net.TCPAddr).Port
	}
	r := run(t, "", "list", "--json")
	if r.code != 0 {
		t.Fatalf("list: %d %s", r.code, r.stderr)
	}
	var rows []dossier.ListenerRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, row := range rows {
		if row.PID == nil || *row.PID != os.Getpid() {
			continue
		}
		found[fmt.Sprintf("%s/%d/%d", row.Proto, row.Family, row.Port)] = true
	}
	for _, k := range []string{fmt.Sprintf("tcp/4/%d", tcpPort), fmt.Sprintf("udp/4/%d", udpPort)} {
		if !found[k] {
			t.Errorf("list misses %s", k)
		}
	}
	if v6 > 0 && !found[fmt.Sprintf("tcp/6/%d", v6)] {
		t.Errorf("list misses tcp6 %d", v6)
	}
	if tcpOnly := run(t, "", "list", "--tcp", "--json"); strings.Contains(tcpOnly.stdout, `"proto": "udp"`) {
		t.Errorf("list --tcp shows udp")
	}
	if text := run(t, "", "list"); !strings.Contains(text.stdout, "PROTO") || !strings.Contains(text.stdout, strconv.Itoa(tcpPort)) {
		t.Errorf("list text:\n%s", text.stdout)
	}
}

// startHelper starts a process (testenv's socket helper) that listens on a
// loopback TCP port, and returns it and the port.
func startHelper(t *testing.T) (*exec.Cmd, int) {
	t.Helper()
	h := testenv.StartSockets(t, "", "tcp4")
	return h.Cmd, h.Ports["tcp4"][0]
}

func TestWhoKill(t *testing.T) {
	needLinux(t)
	cmd, port := startHelper(t)
	// Declining keeps the process, and the port is still held: exit 3.
	r := run(t, "n\n", "who", "--kill", strconv.Itoa(port))
	if r.code != ExitFailure || !strings.Contains(r.stderr, "declined") {
		t.Fatalf("declined kill: exit %d, stderr %q", r.code, r.stderr)
	}
	if err := cmd.Process.Signal(zeroSignal); err != nil {
		t.Fatalf("helper died after a declined kill: %v", err)
	}
	r = run(t, "", "who", "--kill", "--yes", strconv.Itoa(port))
	if r.code != 0 || !strings.Contains(r.stdout, "sent SIGTERM to pid "+strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("kill --yes: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("helper still running 30 s after SIGTERM")
	}
	if r := run(t, "", "who", "--yes", "22"); r.code != ExitUsage {
		t.Errorf("--yes without --kill: exit %d", r.code)
	}
}

func TestSuggest(t *testing.T) {
	needLinux(t)
	r := run(t, "", "suggest", "--json", "--count", "5", "--seed", "42")
	if r.code != 0 {
		t.Fatalf("suggest: %d %s", r.code, r.stderr)
	}
	var out struct {
		Candidates  int
		Suggestions []suggestion
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Suggestions) != 5 || out.Candidates < 1000 {
		t.Fatalf("suggest: %+v", out)
	}
	k, err := loadKnowledge(&Env{Getenv: testGetenv})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out.Suggestions {
		if s.Port < 1024 || s.Port > 49151 || (s.Port >= 32768 && s.Port <= 60999) {
			t.Errorf("port %d outside registered range or inside the ephemeral range", s.Port)
		}
		if d := dossier.Build(s.Port, dossier.Sources{Registry: k.reg, Intel: k.intel}); d.Status["tcp"] != "unassigned" ||
			d.Status["udp"] != "unassigned" || len(d.Threats)+len(d.Uses) > 0 {
			t.Errorf("port %d: status %v, %d threats, %d uses", s.Port, d.Status, len(d.Threats), len(d.Uses))
		}
		if len(s.Reasons) < 3 {
			t.Errorf("port %d has reasons %q", s.Port, s.Reasons)
		}
	}
	// The same seed on the same machine state picks the same ports.
	again := run(t, "", "suggest", "--json", "--count", "5", "--seed", "42")
	if again.stdout != r.stdout {
		t.Errorf("seeded suggest is not repeatable")
	}
	// 5000-5001 are assigned at IANA (and 5000 has common uses): no pick.
	if r := run(t, "", "suggest", "--range", "5000-5001"); r.code != ExitNotFound || !strings.Contains(r.stderr, "no port in 5000-5001") {
		t.Errorf("assigned range: exit %d %s", r.code, r.stderr)
	}
}

// TestInfoOnThisMachine: info names the listener on the port (this test
// process), with the audit's finding for a port that intel marks as a
// threat; --offline leaves the section out and sets "local" to null; a port
// where nothing listens says so and has "local": [].
func TestInfoOnThisMachine(t *testing.T) {
	needLinux(t)
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	// A free port that a high-confidence threat entry names for tcp.
	port := 0
	for _, e := range db.Entries() {
		if !e.IsThreat() || e.Confidence != intel.High {
			continue
		}
		for _, r := range e.Ports {
			if r.Low != r.High || r.Low < 1024 || r.Proto == ports.UDP {
				continue
			}
			if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(r.Low)); err == nil {
				t.Cleanup(func() { l.Close() })
				port = r.Low
			}
			break
		}
		if port != 0 {
			break
		}
	}
	if port == 0 {
		t.Fatal("no threat port could be bound on 127.0.0.1")
	}
	p := strconv.Itoa(port)
	r := run(t, "", "info", p)
	if r.code != 0 {
		t.Fatalf("info %s: exit %d: %s", p, r.code, r.stderr)
	}
	exe, _ := os.Executable()
	for _, want := range []string{"On this machine", "address     tcp 127.0.0.1:" + p, "process     pid " + strconv.Itoa(os.Getpid()),
		"executable  " + exe, "known-bad-port"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("info %s lacks %q:\n%s", p, want, r.stdout)
		}
	}
	if ko := run(t, "", "info", "--lang", "ko", p); !strings.Contains(ko.stdout, "이 컴퓨터에서는") || !strings.Contains(ko.stdout, "프로세스") {
		t.Errorf("info --lang ko %s lacks the Korean section:\n%s", p, ko.stdout)
	}
	var got []struct {
		Port  int
		Local []struct {
			Address  string
			PID      *int
			Findings []struct{ Rule, Severity string }
		}
	}
	j := run(t, "", "info", "--json", p)
	if err := json.Unmarshal([]byte(j.stdout), &got); err != nil || len(got) != 1 {
		t.Fatalf("info --json: %v\n%s", err, j.stdout)
	}
	if l := got[0].Local; len(l) != 1 || l[0].PID == nil || *l[0].PID != os.Getpid() || len(l[0].Findings) == 0 || l[0].Findings[0].Rule != "known-bad-port" {
		t.Errorf("info --json local: %+v", l)
	}
	off := run(t, "", "info", "--offline", p)
	if strings.Contains(off.stdout, "On this machine") {
		t.Errorf("info --offline has the section")
	}
	if oj := run(t, "", "info", "--offline", "--json", p); !strings.Contains(oj.stdout, `"local": null`) {
		t.Errorf("info --offline --json: local is not null")
	}
	// A port nothing listens on: one we held and released.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	if r := run(t, "", "info", free); !strings.Contains(r.stdout, "Nothing listens on tcp or udp "+free+" here.") {
		t.Errorf("info %s:\n%s", free, r.stdout)
	}
	if r := run(t, "", "info", "--json", free); !strings.Contains(r.stdout, `"local": []`) {
		t.Errorf("info --json %s: local is not []", free)
	}
}

// who prints a port's title line under its first listener only when the
// title says more than the listener's "IANA name" note: a bare "Port N:
// name" repeats it, a title with a threat does not. The ports are chosen
// from the data (an assigned port whose title is its bare name, and one
// whose title names a threat), among those free here.
func TestWhoTitleOnlyWhenItAddsSomething(t *testing.T) {
	needLinux(t)
	k, err := loadKnowledge(&Env{Getenv: testGetenv})
	if err != nil {
		t.Fatal(err)
	}
	src := dossier.Sources{Registry: k.reg, Intel: k.intel}
	var plain, threat int
	for p := 1024; p < 32768 && (plain == 0 || threat == 0); p++ {
		d := dossier.Build(p, src)
		v := d.Verdict
		switch {
		case plain == 0 && v.Registry == "assigned" && v.Summary == "" && v.Threat == "" && v.Use == "" && len(d.Threats)+len(d.Uses) == 0:
			if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
				t.Cleanup(func() { l.Close() })
				plain = p
			}
		case threat == 0 && v.Threat != "":
			if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
				t.Cleanup(func() { l.Close() })
				threat = p
			}
		}
	}
	if plain == 0 || threat == 0 {
		t.Fatalf("no free port found: plain %d, threat %d", plain, threat)
	}
	for _, tc := range []struct {
		port int
		want bool
	}{{plain, false}, {threat, true}} {
		r := run(t, "", "who", "--wide", "tcp/"+strconv.Itoa(tc.port))
		if r.code != 0 {
			t.Fatalf("who %d: code %d %s", tc.port, r.code, r.stderr)
		}
		title := dossier.Title(dossier.Build(tc.port, src), "en")
		if got := strings.Contains(r.stdout, title); got != tc.want {
			t.Errorf("who %d: title %q shown %v, want %v:\n%s", tc.port, title, got, tc.want, r.stdout)
		}
	}
}
