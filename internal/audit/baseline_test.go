package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/ports"
	"net/netip"
)

func mustParse(tb testing.TB, text string) *Baseline {
	tb.Helper()
	b, warns, err := Parse("b.conf", []byte(text))
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	if len(warns) > 0 {
		tb.Fatalf("unexpected warnings: %v", warns)
	}
	return b
}

func TestParseValid(t *testing.T) {
	b := mustParse(t, "\ufeff# header\n\n"+
		"tcp 22 exe=/usr/sbin/sshd user=root addr=any netns=host  # OpenSSH\r\n"+
		"udp ephemeral name=chronyd\n"+
		"any 8000-8100 name=python3* optional\n"+
		"tcp * exe=\"/opt/my app/bin/srv\" addr=10.0.0.0/8\n"+
		"tcp 5432 addr=[::1] unit=postgresql*.service\n"+
		"udp 53 addr=127.0.0.53 netns=4026531840 container=abc*\n")
	if len(b.Rules) != 6 {
		t.Fatalf("%d rules, want 6", len(b.Rules))
	}
	r := b.Rules[0]
	if r.Proto != ports.TCP || r.Low != 22 || r.High != 22 || r.Exe != "/usr/sbin/sshd" || r.User != "root" ||
		r.Addr != "any" || r.NetNS != "host" || r.Comment != "OpenSSH" || r.Line != 3 || r.File != "b.conf" {
		t.Errorf("rule 0 = %+v", r)
	}
	if r := b.Rules[1]; !r.Ephemeral || r.Proto != ports.UDP || r.Name != "chronyd" {
		t.Errorf("rule 1 = %+v", r)
	}
	if r := b.Rules[2]; r.Proto != ports.ProtoNone || r.Low != 8000 || r.High != 8100 || !r.Optional {
		t.Errorf("rule 2 = %+v", r)
	}
	if r := b.Rules[3]; !r.AnyPort || r.Exe != "/opt/my app/bin/srv" {
		t.Errorf("rule 3 = %+v", r)
	}
	if got := b.Rules[3].String(); got != `tcp * exe="/opt/my app/bin/srv" addr=10.0.0.0/8` {
		t.Errorf("String() = %s", got)
	}
	// Every rule's String parses back to the same rule.
	for _, r := range b.Rules {
		b2 := mustParse(t, r.String())
		if got := b2.Rules[0].String(); got != r.String() {
			t.Errorf("round trip: %s -> %s", r.String(), got)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
		line, col  int
		key, msg   string
	}{
		{"unknown key", "tcp 22 prot=tcp", 1, 8, "prot", "unknown key"},
		{"bad proto", "# c\nsctp 22", 2, 1, "proto", "not a protocol"},
		{"missing port", "tcp", 1, 4, "port", "missing"},
		{"port too big", "tcp 99999", 1, 5, "port", "larger than 65535"},
		{"port 65536", "udp 65536", 1, 5, "port", "larger than 65535"},
		{"negative", "tcp -1", 1, 5, "port", "range needs a number"},
		{"reversed", "tcp 22-10", 1, 5, "port", "runs backwards"},
		{"leading zero", "tcp 022", 1, 5, "port", "leading zero"},
		{"hex", "tcp 0x16", 1, 5, "port", "leading zero"},
		{"letters", "tcp abc", 1, 5, "port", "not a port number"},
		{"plus", "tcp +22", 1, 5, "port", "not a port number"},
		{"zero", "tcp 0", 1, 5, "port", "port 0"},
		{"bare word", "tcp 22 sshd", 1, 8, "", "not KEY=VALUE"},
		{"empty value", "tcp 22 exe=", 1, 12, "exe", "empty value"},
		{"twice", "tcp 22 user=a user=b", 1, 15, "user", "given twice"},
		{"relative exe", "tcp 22 exe=sshd", 1, 12, "exe", "not an absolute path"},
		{"bad glob", "tcp 22 name=[", 1, 13, "name", "glob"},
		{"bad addr", "tcp 22 addr=localhost", 1, 13, "addr", "not loopback"},
		{"bad prefix", "tcp 22 addr=10.0.0.0/99", 1, 13, "addr", "prefix"},
		{"bad netns", "tcp 22 netns=mine", 1, 14, "netns", "not host"},
		{"user glob", "tcp 22 user=r*", 1, 13, "user", "not a pattern"},
		{"quote", `tcp 22 exe="/a`, 1, 12, "", "quoted string"},
		{"optional twice", "tcp 22 optional optional", 1, 17, "optional", "given twice"},
		{"invalid utf8", "tcp 22 name=\xff", 1, 1, "", "UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse("b.conf", []byte(tc.text))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			if pe.Line != tc.line || pe.Col != tc.col || pe.Key != tc.key || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("got %d:%d key %q %q, want %d:%d key %q containing %q", pe.Line, pe.Col, pe.Key, pe.Msg, tc.line, tc.col, tc.key, tc.msg)
			}
			prefix := fmt.Sprintf("b.conf:%d:%d: ", tc.line, tc.col)
			if !strings.HasPrefix(pe.Error(), prefix) {
				t.Errorf("Error() = %q, want prefix %q", pe.Error(), prefix)
			}
			if tc.key != "" && !strings.Contains(pe.Error(), tc.key+":") {
				t.Errorf("Error() = %q does not name the key %q", pe.Error(), tc.key)
			}
		})
	}
}

func TestParseDuplicatesWarn(t *testing.T) {
	b, warns, err := Parse("b.conf", []byte("tcp 22 exe=/usr/sbin/sshd\ntcp 80\ntcp 22  exe=/usr/sbin/sshd # again\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rules) != 2 || len(warns) != 1 || warns[0].Line != 3 || !strings.Contains(warns[0].String(), "duplicate of line 1") {
		t.Fatalf("rules %d, warnings %v", len(b.Rules), warns)
	}
}

func TestCheckPaths(t *testing.T) {
	b := mustParse(t, "tcp 22 exe=/nonexistent/sshd\ntcp 23 exe=/usr/*/x\ntcp 24 exe=/bin/sh\ntcp 25 exe=/nonexistent/sshd\n")
	warns := CheckPaths(b, func(p string) bool { return p == "/bin/sh" })
	if len(warns) != 2 || warns[0].Line != 1 || warns[1].Line != 4 || !strings.Contains(warns[0].Msg, "does not exist") {
		t.Fatalf("warnings %v", warns)
	}
}

func TestLoadLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxBaselineSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, _, err := Load(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Load(17 MiB) err = %v, want ErrTooLarge", err)
	}
	if _, _, err := Load(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) err = %v", err)
	}
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("tcp 22\n"), 0o644)
	if b, _, err := Load(ok); err != nil || len(b.Rules) != 1 || b.File != ok {
		t.Errorf("Load(ok) = %+v, %v", b, err)
	}
}

// bigBaseline makes n distinct single-port rules (plus a few ranges).
func bigBaseline(n int) []byte {
	var buf bytes.Buffer
	buf.WriteString("# generated\n")
	for i := 0; i < n; i++ {
		proto := "tcp"
		if i%2 == 1 {
			proto = "udp"
		}
		fmt.Fprintf(&buf, "%s %d exe=/usr/lib/svc%d/bin/server user=svc%d addr=loopback netns=host  # service %d\n",
			proto, 1+i%65535, i, i%97, i)
	}
	return buf.Bytes()
}

func TestParse100kRules(t *testing.T) {
	data := bigBaseline(100_000)
	if len(data) > MaxBaselineSize {
		t.Fatalf("100,000 rules take %d bytes, over the limit", len(data))
	}
	b, warns, err := Parse("big.conf", data)
	if err != nil || len(warns) != 0 || len(b.Rules) != 100_000 {
		t.Fatalf("rules %d warnings %d err %v", len(b.Rules), len(warns), err)
	}
	row := dossier.Listener{Proto: ports.UDP, Addr: netip.MustParseAddr("127.0.0.1"), Port: 1 + 99_999%65535, Exe: "/usr/lib/svc99999/bin/server", User: fmt.Sprintf("svc%d", 99_999%97), UID: 5, HostNetNS: true}
	if m := b.Lookup(&row, [2]int{}); m.Rule != 99_999 {
		t.Errorf("Lookup = %+v, want rule 99999", m)
	}
}

// BenchmarkParse100k measures loading a 100,000-rule baseline (target: well
// under a second).
func BenchmarkParse100k(b *testing.B) {
	data := bigBaseline(100_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Parse("big.conf", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup100k(b *testing.B) {
	bl, _, err := Parse("big.conf", bigBaseline(100_000))
	if err != nil {
		b.Fatal(err)
	}
	row := dossier.Listener{Proto: ports.TCP, Addr: netip.MustParseAddr("127.0.0.1"), Port: 4242, Exe: "/usr/bin/other", HostNetNS: true}
	b.ReportAllocs()
	for b.Loop() {
		bl.Lookup(&row, [2]int{32768, 60999})
	}
}

func TestWriteRoundTrip(t *testing.T) {
	rows := sampleRows()
	reg, db := knowledge(t)
	var buf bytes.Buffer
	if err := Write(&buf, rows, WriteOptions{Host: "box", Now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), EphemeralLow: 32768, EphemeralHigh: 60999, Registry: reg, Intel: db}); err != nil {
		t.Fatal(err)
	}
	b, warns, err := Parse("w.conf", buf.Bytes())
	if err != nil || len(warns) != 0 {
		t.Fatalf("written baseline does not parse: %v %v\n%s", err, warns, buf.String())
	}
	rep := Run(rows, Options{Baseline: b, EphemeralLow: 32768, EphemeralHigh: 60999})
	review := 0
	reasons := ReviewReasons(rows, Options{Registry: reg, Intel: db})
	reviewed := map[*dossier.Listener]bool{}
	for i := range rows {
		if reasons[i] != "" {
			review++
			reviewed[&rows[i]] = true
		}
	}
	for _, want := range []string{
		"# REVIEW: porthole audit finds known-bad-port critical (worm), exe-in-writable-dir high (tmp-exe)",
		"# REVIEW: owner unknown (owner not visible: no process in this PID namespace",
		"\n#tcp 2556 exe=/tmp/x1/bagle",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("no %q in:\n%s", want, buf.String())
		}
	}
	for _, f := range rep.Findings {
		if f.Rule == RuleMissing || f.Rule == RuleOwnerChanged ||
			(f.Rule == RuleUnexpected && !reviewed[f.Listener]) {
			t.Errorf("written baseline leaves %s: %s", f.Rule, f.Reason)
		}
		// What is written for review stays reported at its severity.
		if reviewed[f.Listener] && f.Severity >= High && f.Baseline != nil {
			t.Errorf("a line to review explains %s: %s", f.Rule, f.Reason)
		}
	}
	if len(rep.Explained) != len(rows)-review {
		t.Errorf("%d of %d rows explained, want all but the %d to review", len(rep.Explained), len(rows), review)
	}
	if strings.Contains(buf.String(), "pid") && strings.Contains(buf.String(), "pid 4") {
		t.Error("baseline mentions a PID")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"tcp 22 exe=/usr/sbin/sshd user=root addr=any netns=host # c",
		"udp ephemeral name=chronyd optional",
		"any 8000-8100 name=py* addr=10.0.0.0/8",
		`tcp * exe="/opt/a b/c" container=abc* unit=x.service`,
		"tcp 22 prot=1", "tcp 99999", "tcp 22-10", "\ufefftcp 1\r\n", `tcp 1 exe="\x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, _, err := Parse("f", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		// Every parsed rule renders to text that parses back to itself.
		for _, r := range b.Rules {
			b2, _, err := Parse("g", []byte(r.String()))
			if err != nil || len(b2.Rules) != 1 || b2.Rules[0].String() != r.String() {
				t.Fatalf("round trip of %q: %v", r.String(), err)
			}
		}
		row := dossier.Listener{Proto: ports.TCP, Addr: netip.MustParseAddr("127.0.0.1"), Port: 22, HostNetNS: true}
		b.Lookup(&row, [2]int{32768, 60999})
	})
}
