package cli

import (
	"bytes"
	"net/netip"
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

// audManyRows is a host where one program in /tmp holds 50 listeners (two
// addresses of tcp, scattered udp ports), netcat holds two, and three
// sockets have no owner porthole can name (a fourth for another reason).
func audManyRows(t *testing.T) []dossier.Listener {
	const hostNS = 4026531840
	mk := func(proto, addr string, port, pid int, exe, user string, uid int) sockets.Listener {
		p, _ := ports.ParseProto(proto)
		a := netip.MustParseAddr(addr)
		fam := 4
		if a.Is6() {
			fam = 6
		}
		l := sockets.Listener{
			Proto: p, Family: fam, Addr: a, Port: port, Inode: uint64(200000 + len(addr)*100000 + port), UID: uid,
			NetNS: hostNS, HostNetNS: true,
		}
		if pid == 0 {
			l.OwnerUnknown = sockets.OwnerNotFound
		} else {
			l.Owners = []process.Info{{PID: pid, Name: filepath.Base(exe), Exe: exe, Cmdline: []string{exe},
				UID: uid, User: user, NetNS: hostNS}}
		}
		return l
	}
	const miner = "/tmp/.X11-cache/miner"
	var ls []sockets.Listener
	for p := 47000; p < 47026; p++ {
		ls = append(ls, mk("tcp", "0.0.0.0", p, 4242, miner, "nobody", 65534))
	}
	for p := 47000; p < 47010; p++ {
		ls = append(ls, mk("tcp", "::", p, 4242, miner, "nobody", 65534))
	}
	for p := 47100; p < 47128; p += 2 {
		ls = append(ls, mk("udp", "0.0.0.0", p, 4242, miner, "nobody", 65534))
	}
	for _, p := range []int{4445, 4446} {
		l := mk("tcp", "0.0.0.0", p, 777, "/usr/bin/nc.openbsd", "u", 1000)
		l.Owners[0].Name = "nc"
		ls = append(ls, l)
	}
	for _, p := range []int{2024, 2025} {
		ls = append(ls, mk("tcp", "0.0.0.0", p, 0, "", "", 0))
	}
	ls = append(ls, mk("tcp", "127.0.0.1", 3999, 0, "", "", 0))
	other := mk("tcp", "127.0.0.1", 3998, 0, "", "", 0)
	other.OwnerUnknown = sockets.OwnerNotRoot
	ls = append(ls, other)
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	return dossier.Annotate(ls, registry.Embedded(), db)
}

// TestAuditGoldenGrouped: the text report says each thing once (one entry
// per process, rule and reason); JSON still lists a finding per listener,
// and the exit status depends on the findings only.
func TestAuditGoldenGrouped(t *testing.T) {
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	rows := audManyRows(t)
	rep := audit.Run(rows, audit.Options{Registry: registry.Embedded(), Intel: db, OS: "linux"})
	o := auditOptions{failOn: audit.Low}
	var out bytes.Buffer
	renderAudit(&text{w: &out}, rep, nil, o)
	audGoldenFile(t, "grouped.txt", out.String())

	n := 0
	for _, f := range rep.Findings {
		if f.Rule == audit.RuleExeWritableDir {
			n++
			if !strings.Contains(f.Reason, f.Listener.HostPort()) {
				t.Errorf("per-listener reason does not name its listener: %s", f.Reason)
			}
		}
	}
	if n != 50 {
		t.Errorf("%d exe-in-writable-dir findings, want one per listener (50)", n)
	}
	if c := strings.Count(out.String(), "exe-in-writable-dir"); c != 1 {
		t.Errorf("text names exe-in-writable-dir %d times, want once:\n%s", c, out.String())
	}
	if code := auditExit(rep, o.failOn); code != auditFindings {
		t.Errorf("exit bits %d, want %d", code, auditFindings)
	}
	// The JSON report keeps one finding per listener.
	var js bytes.Buffer
	if err := streamAuditJSON(&js, auditJSON(rep, nil, o, 1, time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(js.String(), `"rule": "exe-in-writable-dir"`); got != 50 {
		t.Errorf("JSON has %d exe-in-writable-dir findings, want 50", got)
	}
}
