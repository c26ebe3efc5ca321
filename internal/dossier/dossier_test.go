package dossier

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
)

var now = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func sources(t testing.TB, db *intel.DB) Sources {
	t.Helper()
	return Sources{Registry: registry.Embedded(), Intel: db, Now: func() time.Time { return now },
		EphemeralLow: 32768, EphemeralHigh: 60999}
}

func defaultIntel(t testing.TB) *intel.DB {
	t.Helper()
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestTitles(t *testing.T) {
	src := sources(t, defaultIntel(t))
	tests := []struct {
		port int
		want string
	}{
		{2556, "Port 2556: nicetec-nmsvc — a registration with an empty record, once a worm's backdoor"},
		{22, "Port 22: ssh — The Secure Shell (SSH) Protocol"},
		{0, "Port 0: reserved by IANA"},
		{49151, "Port 49151: reserved by IANA"},
		// A high-confidence use is named in the title; a medium one (Windows'
		// first dynamic ports, a hobby exporter's default) is not.
		{10250, "Port 10250: unassigned at IANA, commonly used by Kubernetes kubelet API"},
		{51820, "Port 51820: dynamic range, never assigned by IANA, commonly used by WireGuard"},
		{49152, "Port 49152: dynamic range, never assigned by IANA"},
		{9415, "Port 9415: unassigned at IANA"},
	}
	for _, tc := range tests {
		d := Build(tc.port, src)
		if d.Title != tc.want {
			t.Errorf("title of %d = %q, want %q", tc.port, d.Title, tc.want)
		}
	}
	ko := Title(Build(2556, src), i18n.KO)
	if !strings.HasPrefix(ko, "포트 2556: nicetec-nmsvc") || !strings.Contains(ko, "웜") {
		t.Errorf("Korean title %q", ko)
	}
}

// TestVerdictRules exercises the rules with hand-made intel, so that they do
// not depend on what the data files say.
func TestVerdictRules(t *testing.T) {
	entry := func(id string, kind intel.Kind, conf intel.Confidence, port int, years intel.Years) intel.Entry {
		return intel.Entry{ID: id, Name: id, Kind: kind, Category: kind.Category(), Confidence: conf, Years: years,
			Ports: []intel.PortRef{{Proto: ports.TCP, Low: port, High: port}}, Description: "d",
			Sources: []intel.Source{{Title: "s", URL: "https://example.org/" + id}}}
	}
	db := intel.New([]intel.Entry{
		entry("old-worm", intel.Worm, intel.High, 2556, intel.Years{From: 2004, To: 2004}),
		entry("live-c2", intel.C2, intel.High, 22, intel.Years{From: 2020}),
		entry("weak", intel.Trojan, intel.Low, 2776, intel.Years{From: 1999, To: 1999}),
		entry("game", intel.GameServer, intel.High, 25565, intel.Years{From: 2011}),
	})
	src := sources(t, db)
	tests := []struct {
		port int
		want string
	}{
		{2556, "Port 2556: nicetec-nmsvc — a registration with an empty record, once a worm's backdoor"},
		{22, "Port 22: ssh — The Secure Shell (SSH) Protocol, also a command-and-control port"},
		// Low confidence never reaches the title.
		{2776, "Port 2776: ridgeway1 — a registration with an empty record"},
		{25565, "Port 25565: unassigned at IANA, commonly used by game"},
	}
	for _, tc := range tests {
		if got := Build(tc.port, src).Title; got != tc.want {
			t.Errorf("%d: %q, want %q", tc.port, got, tc.want)
		}
	}
}

func TestBuild2556(t *testing.T) {
	d := Build(2556, sources(t, defaultIntel(t)))
	if !d.Ghost || d.Status["tcp"] != "assigned" || d.Status["udp"] != "assigned" || d.Status["sctp"] != "unassigned" {
		t.Errorf("status %v ghost %v", d.Status, d.Ghost)
	}
	if d.Range != (Range{"registered", 1024, 49151, 48128}) {
		t.Errorf("range %+v", d.Range)
	}
	if d.Context.Assigned != 5656 || d.Context.Percent != 11.8 || d.Context.Position != 1533 {
		t.Errorf("context %+v", d.Context)
	}
	if d.Ephemeral == nil || d.Ephemeral.Inside {
		t.Errorf("ephemeral %+v", d.Ephemeral)
	}
	if len(d.Services) != 2 || d.Services[0].Name != "nicetec-nmsvc" {
		t.Errorf("services %+v", d.Services)
	}
	if d.Neighbours.Prev.Port != 2555 || d.Neighbours.Next.Name != "nicetec-mgmt" {
		t.Errorf("neighbours %+v %+v", d.Neighbours.Prev, d.Neighbours.Next)
	}
	// Every footnote number used is listed, and numbers run 1..n.
	for i, f := range d.Footnotes {
		if f.N != i+1 || !strings.HasPrefix(f.URL, "http") {
			t.Errorf("footnote %d: %+v", i, f)
		}
	}
	for _, th := range append(d.Threats, d.Uses...) {
		if len(th.Footnotes) != len(th.Sources) {
			t.Errorf("%s: %d footnotes for %d sources", th.ID, len(th.Footnotes), len(th.Sources))
		}
		for _, n := range th.Footnotes {
			if n < 1 || n > len(d.Footnotes) {
				t.Errorf("%s cites missing footnote %d", th.ID, n)
			}
		}
	}
	if d.Check.Linux != "ss -tulpn 'sport = :2556'" || d.Check.Windows != "netstat -ano | findstr :2556" {
		t.Errorf("check %+v", d.Check)
	}
}

func TestEveryPortBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds all 65,536 dossiers")
	}
	src := sources(t, defaultIntel(t))
	for p := 0; p <= ports.Max; p++ {
		d := Build(p, src)
		if d.Title == "" || len(d.Status) != 4 || d.Range.Size == 0 {
			t.Fatalf("port %d: %+v", p, d)
		}
		if d.Range.Name == "dynamic" && len(d.Services) != 0 {
			t.Fatalf("port %d: dynamic with registry rows", p)
		}
	}
}

func TestJSONNeverNullArrays(t *testing.T) {
	b, err := json.Marshal(Build(49152, sources(t, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"services":[]`, `"threats":[]`, `"uses":[]`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON lacks %s", k)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	src := sources(b, defaultIntel(b))
	b.ReportAllocs()
	for b.Loop() {
		Build(2556, src)
	}
}

// TestRegistrySentence renders the registry facts under intel entries from
// the embedded registry: the names come from its rows, never from intel.
func TestRegistrySentence(t *testing.T) {
	x := registry.Embedded()
	entry := func(refs ...intel.PortRef) intel.Match {
		return intel.Match{Entry: &intel.Entry{ID: "e", Ports: refs}}
	}
	tcp := func(p int) intel.PortRef { return intel.PortRef{Proto: ports.TCP, Low: p, High: p} }
	anyp := func(p int) intel.PortRef { return intel.PortRef{Proto: ports.ProtoNone, Low: p, High: p} }
	for _, tc := range []struct {
		port   int
		m      intel.Match
		en, ko string
	}{
		{3389, entry(tcp(3389)), "IANA registers 3389/tcp to ms-wbt-server.", "IANA는 3389/tcp를 ms-wbt-server에 등록해 두었습니다."},
		{2556, entry(anyp(2556)), "IANA registers 2556/tcp and 2556/udp to nicetec-nmsvc.",
			"IANA는 2556/tcp와 2556/udp를 nicetec-nmsvc에 등록해 두었습니다."},
		{31337, entry(tcp(31337)), "IANA has registered 31337/tcp to eldim since 2021-05-14.",
			"IANA는 2021-05-14부터 31337/tcp를 eldim에 등록해 두었습니다."},
		{4751, entry(tcp(4751)), "IANA has registered 4751/tcp to spocp since 2005-08.", "IANA는 2005-08부터 4751/tcp를 spocp에 등록해 두었습니다."},
		{12345, entry(intel.PortRef{Proto: ports.TCP, Low: 12340, High: 12350}), "IANA registers 12345/tcp to italk.", "IANA는 12345/tcp를 italk에 등록해 두었습니다."},
		{25565, entry(tcp(25565)), "IANA has not assigned 25565/tcp.", "IANA는 25565/tcp를 할당하지 않았습니다."},
		{0, entry(tcp(0)), "IANA reserves 0/tcp.", "IANA는 0/tcp를 예약해 두었습니다."},
		{54321, entry(anyp(54321)), "IANA never assigns 54321/tcp and 54321/udp: the dynamic range is left to local use.",
			"IANA는 동적 범위에 있는 54321/tcp와 54321/udp를 할당하지 않습니다."},
	} {
		regs := registrations(x, tc.port, tc.m)
		if got := RegistrySentence(i18n.EN, regs); got != tc.en {
			t.Errorf("%d en: %q, want %q", tc.port, got, tc.en)
		}
		if got := RegistrySentence(i18n.KO, regs); got != tc.ko {
			t.Errorf("%d ko: %q, want %q", tc.port, got, tc.ko)
		}
	}
}

func TestLegitTextsAndYears(t *testing.T) {
	regs := []Registration{{Port: 4444, Protocol: "tcp", Status: "assigned", Names: []string{"krb524"}}}
	list := []Intel{
		{Registry: regs, Legit: "Metasploit's default.", LegitKO: "Metasploit의 기본값입니다."},
		{Registry: regs},
		{Registry: regs[:0], Legit: "note"},
	}
	en := LegitTexts(i18n.EN, list)
	if en[0].Registry != "IANA registers 4444/tcp to krb524." || en[0].Note != "Metasploit's default." || en[0].NoteEn ||
		en[1].Registry != "" || !en[1].Empty() || en[2].Registry != "" || en[2].Note != "note" {
		t.Errorf("en: %+v", en)
	}
	ko := LegitTexts(i18n.KO, list)
	if ko[0].Note != "Metasploit의 기본값입니다." || ko[0].NoteEn || ko[2].Note != "note" || !ko[2].NoteEn {
		t.Errorf("ko: %+v", ko)
	}
	for _, tc := range []struct {
		lang     i18n.Lang
		in, want string
	}{
		{i18n.EN, "2004", "years 2004"}, {i18n.EN, "2019-", "seen since 2019"},
		{i18n.KO, "2003-2005", "2003-2005년"}, {i18n.KO, "2021-", "2021년부터"},
	} {
		if got := YearsText(tc.lang, tc.in); got != tc.want {
			t.Errorf("YearsText(%s, %q) = %q, want %q", tc.lang, tc.in, got, tc.want)
		}
	}
}

// TestKoreanNames checks that Korean output uses an entry's name-ko where
// English output keeps its name: in the title, the intel list and the
// expected occupants.
func TestKoreanNames(t *testing.T) {
	e := intel.Entry{ID: "dev-use", Name: "Dev server", NameKO: "개발 서버", Kind: intel.DevServer, Category: intel.Use,
		Confidence: intel.High, Ports: []intel.PortRef{{Proto: ports.TCP, Low: 49200, High: 49200}}, Description: "d",
		Sources: []intel.Source{{Title: "s", URL: "https://example.org/dev"}}}
	plain := e
	plain.ID, plain.Name, plain.NameKO, plain.Ports = "plain", "Plainly", "", []intel.PortRef{{Proto: ports.TCP, Low: 49201, High: 49201}}
	src := sources(t, intel.New([]intel.Entry{e, plain}))
	d := Build(49200, src)
	if en, ko := Title(d, i18n.EN), Title(d, i18n.KO); !strings.Contains(en, "Dev server") || strings.Contains(en, "개발") ||
		!strings.Contains(ko, "개발 서버") || strings.Contains(ko, "Dev server") {
		t.Errorf("titles: en %q, ko %q", en, ko)
	}
	if len(d.Uses) != 1 || d.Uses[0].NameIn(i18n.EN) != "Dev server" || d.Uses[0].NameIn(i18n.KO) != "개발 서버" {
		t.Errorf("uses %+v", d.Uses)
	}
	rel := RelevanceOf(49200, ports.TCP, src.Intel.ForPort(49200), src.Registry)
	if len(rel.Expected) != 1 || rel.Expected[0].NameIn(i18n.KO) != "개발 서버" || rel.Expected[0].NameIn(i18n.EN) != "Dev server" {
		t.Errorf("expected %+v", rel.Expected)
	}
	if ko := Title(Build(49201, src), i18n.KO); !strings.Contains(ko, "Plainly") {
		t.Errorf("a name without name-ko should stay as written in Korean: %q", ko)
	}
}

// TestScanNoteIsNoOccupant checks that a scan note (what a scan's report on
// a port means where nothing usually listens) is listed with the port's uses
// but never counts as its occupant: it does not outweigh a threat, is not an
// expected occupant and is not a listener's use.
func TestScanNoteIsNoOccupant(t *testing.T) {
	note := intel.Entry{ID: "note", Name: "Port probed over UDP", Kind: intel.ScanNote, Category: intel.ScanNote.Category(),
		Confidence: intel.High, Ports: []intel.PortRef{{Proto: ports.UDP, Low: 40001, High: 40001}}, Description: "d",
		Sources: []intel.Source{{Title: "s", URL: "https://example.org/note"}}}
	threat := note
	threat.ID, threat.Name, threat.Kind, threat.Category, threat.Confidence = "bad", "Bad tool", intel.Exploit, intel.Threat, intel.Medium
	threat.Ports = []intel.PortRef{{Proto: ports.ProtoNone, Low: 40001, High: 40001}}
	use := note
	use.ID, use.Name, use.Kind, use.Category = "real", "Real service", intel.Vendor, intel.Use
	use.Ports = []intel.PortRef{{Proto: ports.TCP, Low: 40001, High: 40001}}
	src := sources(t, intel.New([]intel.Entry{note, threat, use}))

	if !use.IsOccupant() || note.IsOccupant() || threat.IsOccupant() {
		t.Fatalf("IsOccupant: use %v, note %v, threat %v", use.IsOccupant(), note.IsOccupant(), threat.IsOccupant())
	}
	if d := Build(40001, src); len(d.Uses) != 2 {
		t.Errorf("the note and the use should both be listed with the port's uses: %+v", d.Uses)
	}
	rel := RelevanceOf(40001, ports.UDP, src.Intel.ForPort(40001), src.Registry)
	if len(rel.Expected) != 0 || rel.Signal != SignalDistinctive {
		t.Errorf("udp: expected %+v, signal %q; want no occupant and a distinctive signal", rel.Expected, rel.Signal)
	}
	// For any protocol the real service is the only occupant; it makes
	// tcp common but not udp, where the note names nobody, so the port's
	// signal is per protocol.
	rel = RelevanceOf(40001, ports.ProtoNone, src.Intel.ForPort(40001), src.Registry)
	if len(rel.Expected) != 1 || rel.Expected[0].ID != "real" || rel.Signal != SignalDistinctive || rel.Basis != BasisPerProtocol {
		t.Errorf("any: expected %+v, signal %q (%s); want only the real service, distinctive per protocol", rel.Expected, rel.Signal, rel.Basis)
	}
	if _, _, got, _ := annotate(40001, ports.UDP, src.Registry, src.Intel, false); got != "" {
		t.Errorf("a listener's use on udp/40001 = %q, want none (the note names no occupant)", got)
	}
	if _, _, got, _ := annotate(40001, ports.TCP, src.Registry, src.Intel, false); got != "Real service" {
		t.Errorf("a listener's use on tcp/40001 = %q, want the real service", got)
	}
}

// "Usually" names only the most confident occupants: a low-confidence
// tunnel on record beside a high-confidence server is not what usually
// listens there, although it ties with the threat's confidence.
func TestUsuallyNamesTheMostConfidentUses(t *testing.T) {
	base := intel.Entry{Confidence: intel.High, Ports: []intel.PortRef{{Proto: ports.TCP, Low: 40002, High: 40002}},
		Description: "d", Sources: []intel.Source{{Title: "s", URL: "https://example.org/e"}}}
	server, tunnel, threat := base, base, base
	server.ID, server.Name, server.Kind, server.Category = "server", "Common server", intel.Vendor, intel.Use
	tunnel.ID, tunnel.Name, tunnel.Kind, tunnel.Category, tunnel.Confidence = "tunnel", "Odd tunnel", intel.Tunnel, intel.Use, intel.Low
	threat.ID, threat.Name, threat.Kind, threat.Category, threat.Confidence = "bad", "Bad tool", intel.Exploit, intel.Threat, intel.Low
	src := sources(t, intel.New([]intel.Entry{server, tunnel, threat}))
	rel := RelevanceOf(40002, ports.TCP, src.Intel.ForPort(40002), src.Registry)
	if rel.Signal != SignalCommon || len(rel.Expected) != 2 {
		t.Fatalf("signal %q, expected %+v; want common with both uses as occupants", rel.Signal, rel.Expected)
	}
	got := strings.Join(rel.Sentences(i18n.EN), " ")
	if !strings.Contains(got, "usually Common server,") || strings.Contains(got, "Odd tunnel") {
		t.Errorf("sentences %q: want only the high-confidence server named as usual", got)
	}
}

// A use entry on one protocol does not outweigh a threat on another: on
// 4444 Metasploit is on record for tcp and krb524d's use entry is about
// udp, and audit judges a tcp listener there as distinctive. info must not
// call the whole port a weak signal; it says what each protocol is.
func TestRelevanceSplitsByProtocol(t *testing.T) {
	base := intel.Entry{Confidence: intel.High, Description: "d", Sources: []intel.Source{{Title: "s", URL: "https://example.org/e"}}}
	threat, use := base, base
	threat.ID, threat.Name, threat.Kind, threat.Category = "bad", "Bad tool", intel.Exploit, intel.Threat
	threat.Ports = []intel.PortRef{{Proto: ports.TCP, Low: 40003, High: 40003}}
	use.ID, use.Name, use.Kind, use.Category = "udpd", "UDP daemon", intel.Vendor, intel.Use
	use.Ports = []intel.PortRef{{Proto: ports.UDP, Low: 40003, High: 40003}}
	use.Programs = []string{"udpd"}
	src := sources(t, intel.New([]intel.Entry{threat, use}))
	m := src.Intel.ForPort(40003)
	if tcp := RelevanceOf(40003, ports.TCP, m, src.Registry); tcp.Signal != SignalDistinctive {
		t.Fatalf("tcp signal %q, want distinctive", tcp.Signal)
	}
	rel := RelevanceOf(40003, ports.ProtoNone, m, src.Registry)
	if rel.Signal != SignalDistinctive || rel.Basis != BasisPerProtocol {
		t.Errorf("any: signal %q basis %q, want distinctive per-protocol", rel.Signal, rel.Basis)
	}
	got := strings.Join(rel.Sentences(i18n.EN), " ")
	if !strings.Contains(got, "Strong signal on tcp: no ordinary use of tcp/40003") || strings.Contains(got, "Weak signal") {
		t.Errorf("sentences %q: want tcp named as a strong signal, and no weak signal", got)
	}
	// The udp program is not named beside the tcp signal as if it
	// usually listened on the port as a whole.
	if strings.Contains(got, "udpd") {
		t.Errorf("sentences %q name the udp program beside the tcp signal", got)
	}
	if ko := strings.Join(rel.Sentences(i18n.KO), " "); !strings.Contains(ko, "tcp/40003") {
		t.Errorf("Korean sentences %q do not name tcp/40003", ko)
	}
}

// Every port of the real intel: what info says of the port agrees with
// what audit weighs on each protocol. When a protocol with a threat gets
// another signal than the port as a whole, the port is per-protocol and
// info names that protocol's signal.
func TestRelevanceAgreesWithEachProtocol(t *testing.T) {
	db := defaultIntel(t)
	x := registry.Embedded()
	split := 0
	for p := 0; p <= ports.Max; p++ {
		m := db.ForPort(p)
		if len(m) == 0 {
			continue
		}
		rel := RelevanceOf(p, ports.ProtoNone, m, x)
		text := strings.Join(rel.Sentences(i18n.EN), " ")
		for _, proto := range ports.Protos {
			pr := RelevanceOf(p, proto, m, x)
			if pr.Signal == "" {
				continue
			}
			if rel.Basis == BasisPerProtocol {
				want := map[Signal]string{SignalCommon: "Weak", SignalDistinctive: "Strong"}[pr.Signal] + " signal on " + proto.String()
				if !strings.Contains(text, want) {
					t.Errorf("port %d: %s is %s, but info says %q", p, proto, pr.Signal, text)
				}
			} else if pr.Signal != rel.Signal {
				t.Errorf("port %d: %s is %s, but the port as a whole is %s (%s)", p, proto, pr.Signal, rel.Signal, rel.Basis)
			}
		}
		if rel.Basis == BasisPerProtocol {
			split++
		}
	}
	if split == 0 {
		t.Log("no port of the intel has protocols with different signals")
	}
}
