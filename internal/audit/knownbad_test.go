package audit

import (
	"slices"
	"testing"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
	"net/netip"
)

// tableIntel is a small intel set with one port of each kind, so that the
// rule table is tested apart from the shipped data (which other work
// edits): 2556 and 31337 have only threats (31337 also lies in a wide use
// range whose program is kube-proxy), 8080 has a low threat and a high,
// narrow use listing nginx and caddy, and 80 has a low threat and nothing
// but its IANA system-port name to outweigh it.
const tableIntel = `id: t-bagle
name: Test Bagle
kind: worm
ports: tcp/2556
confidence: high
description: test threat
source: test | https://example.org/t

id: t-elite
name: Test Elite
kind: backdoor
ports: tcp/31337
confidence: high
description: test threat
source: test | https://example.org/t

id: t-nodeport
name: Test NodePort range
kind: vendor-default
ports: any/30000-32767
confidence: medium
programs: kube-proxy
description: test use
source: test | https://example.org/t

id: t-c2-8080
name: Test C2 on 8080
kind: c2
ports: tcp/8080
confidence: low
description: test threat
source: test | https://example.org/t

id: t-http-alt
name: Test web server on 8080
kind: unofficial-service
ports: tcp/8080
confidence: high
programs: nginx; caddy
description: test use
source: test | https://example.org/t

id: t-worm-80
name: Test worm on 80
kind: worm
ports: tcp/80
confidence: low
description: test threat
source: test | https://example.org/t
`

// TestKnownBadTable covers every row of the known-bad-port rule table (see
// KnownBadSeverity and the README), through Run, with the findings of the
// owner's own rules beside it.
func TestKnownBadTable(t *testing.T) {
	entries, err := intel.Parse("table.txt", []byte(tableIntel))
	if err != nil {
		t.Fatal(err)
	}
	db := intel.New(entries)
	deleted := func(r dossier.Listener) dossier.Listener { r.ExeDeleted = true; return r }
	named := func(r dossier.Listener, name string) dossier.Listener { r.Process = name; return r }
	unknown := dossier.Listener{Proto: ports.TCP, Family: 4, Addr: netip.MustParseAddr("0.0.0.0"), Port: 2556, UID: 0, HostNetNS: true}
	tests := []struct {
		table string // the README row
		row   dossier.Listener
		want  []string
	}{
		// any port, usual occupant: nothing
		{"expected", row("tcp", "127.0.0.1", 8080, "/usr/sbin/nginx"), nil},
		{"expected", row("tcp", "0.0.0.0", 8080, "/usr/local/bin/caddy"), nil},
		{"expected (wide use range)", row("tcp", "0.0.0.0", 31337, "/usr/local/bin/kube-proxy"), nil},
		// common port, any other owner: info, and the owner's own rules
		{"common/system", row("tcp", "127.0.0.1", 8080, "/usr/local/libexec/devd"), []string{"known-bad-port info"}},
		{"common/elsewhere", row("tcp", "127.0.0.1", 8080, "/home/u/bin/devd"), []string{"known-bad-port info"}},
		{"common/iana system port", row("tcp", "0.0.0.0", 80, "/usr/sbin/httpd"), []string{"known-bad-port info"}},
		{"common/odd: tmp", row("tcp", "127.0.0.1", 8080, "/tmp/x/nginx"), []string{"exe-in-writable-dir high", "known-bad-port info"}},
		{"common/odd: dev shm", row("tcp", "0.0.0.0", 8080, "/dev/shm/nginx"), []string{"exe-in-writable-dir high", "known-bad-port info"}},
		{"common/odd: deleted", deleted(row("tcp", "127.0.0.1", 8080, "/home/u/devd")), []string{"deleted-exe high", "known-bad-port info"}},
		{"common/deleted system exe (upgrade)", deleted(row("tcp", "127.0.0.1", 8080, "/usr/sbin/nginx")), []string{"deleted-exe medium", "known-bad-port info"}},
		// distinctive port, odd owner: critical
		{"distinctive/odd: tmp", row("tcp", "0.0.0.0", 2556, "/tmp/x/bagle"), []string{"exe-in-writable-dir high", "known-bad-port critical"}},
		{"distinctive/odd: deleted", deleted(row("tcp", "0.0.0.0", 2556, "/home/u/x")), []string{"deleted-exe high", "known-bad-port critical"}},
		{"distinctive/odd: shell", named(row("tcp", "0.0.0.0", 31337, "/usr/bin/bash"), "bash"), []string{"known-bad-port critical", "shell-listener high"}},
		{"distinctive/odd: netcat", named(row("tcp", "0.0.0.0", 31337, "/usr/bin/nc.openbsd"), "nc"), []string{"known-bad-port critical", "shell-listener medium"}},
		// distinctive port, any other owner: by the threat's confidence
		{"distinctive/system", row("tcp", "127.0.0.1", 2556, "/usr/bin/x"), []string{"known-bad-port high"}},
		{"distinctive/system, another port's program", row("tcp", "127.0.0.1", 2556, "/usr/sbin/nginx"), []string{"known-bad-port high"}},
		{"distinctive/elsewhere", row("tcp", "127.0.0.1", 31337, "/home/u/ctf"), []string{"known-bad-port high"}},
		{"distinctive/unknown owner", unknown, []string{"known-bad-port high"}},
		// no threat on record: no known-bad-port
		{"no threat", row("tcp", "127.0.0.1", 2557, "/home/u/x"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.table, func(t *testing.T) {
			rep := Run([]dossier.Listener{tc.row}, Options{Registry: registry.Embedded(), Intel: db})
			got := findingsFor(rep, tc.row.Proto, tc.row.Port, "")
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s on %d: findings %q, want %q", tc.row.Exe, tc.row.Port, got, tc.want)
				for _, f := range rep.Findings {
					t.Logf("%s %s: %s", f.Rule, f.Severity, f.Reason)
				}
			}
			// The same judgement from the row's own annotation (list and
			// who run the audit without the intel DB).
			ann := tc.row
			rel := dossier.RelevanceOf(ann.Port, ann.Proto, db.ForPort(ann.Port), registry.Embedded())
			ann.ThreatSignal, ann.ExpectedPrograms = rel.Signal, rel.Programs()
			for _, m := range db.ForPort(ann.Port) {
				if m.Entry.IsThreat() {
					ann.Threat, ann.ThreatConfidence, ann.ThreatID = m.Entry.Name, m.Entry.Confidence, m.Entry.ID
					break
				}
			}
			if got2 := findingsFor(Run([]dossier.Listener{ann}, Options{}), ann.Proto, ann.Port, ""); !slices.Equal(got2, tc.want) {
				t.Errorf("from the row's annotation: %q, want %q", got2, tc.want)
			}
		})
	}
	// The table itself.
	for _, tc := range []struct {
		sig   dossier.Signal
		class OwnerClass
		conf  intel.Confidence
		want  Severity
		ok    bool
	}{
		{dossier.SignalDistinctive, OwnerExpected, "high", 0, false},
		{dossier.SignalCommon, OwnerExpected, "high", 0, false},
		{dossier.SignalCommon, OwnerSystem, "high", Info, true},
		{dossier.SignalCommon, OwnerElsewhere, "medium", Info, true},
		{dossier.SignalCommon, OwnerOdd, "high", Info, true},
		{dossier.SignalDistinctive, OwnerOdd, "low", Critical, true},
		{dossier.SignalDistinctive, OwnerSystem, "medium", Medium, true},
		{dossier.SignalDistinctive, OwnerElsewhere, "low", Low, true},
		{"", OwnerElsewhere, "high", High, true},
	} {
		got, ok := KnownBadSeverity(tc.sig, tc.class, tc.conf)
		if got != tc.want || ok != tc.ok {
			t.Errorf("KnownBadSeverity(%q, %s, %s) = %s %v, want %s %v", tc.sig, tc.class, tc.conf, got, ok, tc.want, tc.ok)
		}
	}
}
