package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/audit"
	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/sockets"
	"github.com/porthole/porthole/internal/testenv"
)

// benchRows is n listeners shaped like the listener benchmark's holders
// (scripts/bench-listeners.sh): one Python process per 100 sockets on
// loopback, every tenth dual-stack, every hundredth ownerless.
func benchRows(n int) []dossier.Listener {
	rows := make([]dossier.Listener, n)
	for i := range rows {
		pid := 40000 + i/100
		l := dossier.Listener{
			Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("127.0.0.1"), Port: 20000 + i, PID: &pid,
			Process: "python3", UID: 1000, User: "bench", Exe: "/usr/bin/python3.11",
			Cmdline: []string{"python3", "bench/listeners/hold.py", strconv.Itoa(i / 100)},
			NetNS:   4026531840, HostNetNS: true, Unit: "session-3.scope", Inode: uint64(900000 + i),
			Status: "unassigned", Expected: nil,
		}
		if i%10 == 0 {
			l.Family, l.Addr, l.DualStack = 6, netip.IPv6Unspecified(), true
		}
		if i%7 == 0 {
			l.Service, l.Status = "dec-notes", "assigned"
		}
		if i%100 == 99 {
			l.PID, l.Process, l.User, l.Exe, l.Cmdline, l.UID = nil, "", "", "", nil, -1
			l.OwnerUnknown = sockets.OwnerNotFound
		}
		rows[i] = l
	}
	return rows
}

// BenchmarkListJSON10k is `list --json`'s encoding of 10,000 listeners.
func BenchmarkListJSON10k(b *testing.B) {
	rows := benchRows(10000)
	b.ReportAllocs()
	for b.Loop() {
		if err := writeJSONArray(io.Discard, rows); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWriteJSONArrayLayout: the rows list and who write, straight from
// their AppendJSON, are byte for byte what encoding/json's indenting
// encoder (writeJSON) makes of the same rows' MarshalJSON, hostile strings
// included, and an empty listing is [].
func TestWriteJSONArrayLayout(t *testing.T) {
	rows := benchRows(300)
	for i, s := range []string{"<a&b>", "tab\there \"q\" \\", "bad \xff utf-8", "sep\u2028", "한국어", "\x00\x1f"} {
		r := &rows[i*7]
		r.Process, r.Exe, r.User, r.Unit = s, "/opt/"+s, s, s
		r.Cmdline = []string{s, "--flag=" + s}
		r.PIDs = []int{1, 2, 3}
		r.Expected, r.ExpectedPrograms = []string{s}, []string{s, s}
		r.Threat, r.ThreatID, r.Flag, r.FlagSeverity = s, s, "tmp-exe", "high"
	}
	for _, rs := range [][]dossier.Listener{rows, rows[:1], {}} {
		var a, b bytes.Buffer
		if err := writeJSON(&a, rs); err != nil {
			t.Fatal(err)
		}
		if err := writeJSONArray(&b, rs); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Errorf("%d rows: writeJSONArray differs from writeJSON:\n%s", len(rs), firstDiff(a.String(), b.String()))
		}
	}
}

// TestJSONLeavesHTMLAlone runs a real listener whose executable is named
// <a&b>: who, list and audit --json spell the name and the path as they
// are everywhere they appear (in the listener row and in an audit reason
// alike), never as \u003ca\u0026b\u003e.
func TestJSONLeavesHTMLAlone(t *testing.T) {
	needLinux(t)
	exe := filepath.Join(t.TempDir(), "<a&b>")
	testenv.CopyExe(t, exe)
	h := testenv.StartSockets(t, exe, "tcp4")
	port := strconv.Itoa(h.Ports["tcp4"][0])
	for _, args := range [][]string{{"who", "--json", port}, {"list", "--json", "--tcp"}, {"audit", "--json", "-v", "tcp/" + port}, {"info", "--json", "tcp/" + port}} {
		r := run(t, "", args...)
		if r.stdout == "" || !json.Valid([]byte(r.stdout)) {
			t.Fatalf("%s: exit %d, invalid JSON: %.200q %s", args, r.code, r.stdout, r.stderr)
		}
		for _, want := range []string{`"process": "<a&b>"`, `"exe": "` + exe + `"`} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: no %s in the output", args, want)
			}
		}
		for _, bad := range []string{`\u003c`, `\u003e`, `\u0026`} {
			if strings.Contains(r.stdout, bad) {
				t.Errorf("%s: %s in the output", args, bad)
			}
		}
		if args[0] == "audit" && strings.Count(r.stdout, "<a&b>") < 3 {
			t.Errorf("audit: <a&b> named in the listener only, not in a reason:\n%s", r.stdout)
		}
	}
}

// BenchmarkAuditJSON10k is `audit --json`'s encoding of a report with one
// finding about each of 10,000 listeners.
func BenchmarkAuditJSON10k(b *testing.B) {
	rows := benchRows(10000)
	r := auditReport{Generated: "2026-12-02T00:00:00Z", Listeners: len(rows), FailOn: "low", Counts: map[string]int{"low": len(rows)}}
	for i := range rows {
		r.Findings = append(r.Findings, audit.Finding{Rule: "tmp-exe", Severity: audit.Low, Listener: &rows[i],
			Reason: "the program runs from " + rows[i].Exe, Advice: "check it"})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := streamAuditJSON(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBaselineJSONLeavesHTMLAlone: a baseline line's exe, name and comment
// with <, > and & are written as they are, as baseline --json and audit's
// baseline_rule write them.
func TestBaselineJSONLeavesHTMLAlone(t *testing.T) {
	b, _, err := audit.Parse("b.conf", []byte("tcp 8080 exe=/opt/<a&b>/run name=<a&b>  # R&D <team>\n"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := writeJSON(&out, b.Rules); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"exe": "/opt/<a&b>/run"`, `"name": "<a&b>"`, `"comment": "R&D <team>"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %s in\n%s", want, out.String())
		}
	}
}
