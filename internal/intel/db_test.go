package intel

import (
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/ports"
)

func mustDefault(tb testing.TB) *DB {
	tb.Helper()
	db, err := Default()
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// TestEmbeddedData is the gate for the shipped data files.
func TestEmbeddedData(t *testing.T) {
	db := mustDefault(t)
	es := db.Entries()
	if len(es) < 150 {
		t.Errorf("%d entries, want at least 150", len(es))
	}
	ko := 0
	for i := range es {
		e := &es[i]
		if err := e.Validate(); err != nil {
			t.Error(err)
		}
		if len(e.Sources) == 0 || len(e.Ports) == 0 {
			t.Errorf("%s:%d %s: no source or no port", e.File, e.Line, e.ID)
		}
		if e.DescriptionKO != "" {
			ko++
		}
		if e.Kind.Category() != e.Category && e.Category != Threat {
			// Overrides only ever escalate a dual-use kind to threat.
			t.Errorf("%s: category %q overrides kind %q the wrong way", e.ID, e.Category, e.Kind)
		}
	}
	if ko != len(es) {
		t.Errorf("%d of %d entries have a description-ko; every entry needs one", ko, len(es))
	}
}

func TestBagle2556(t *testing.T) {
	db := mustDefault(t)
	ms := db.ForPort(2556)
	if len(ms) == 0 {
		t.Fatal("no entry for 2556")
	}
	e := ms[0].Entry
	if e.ID != "bagle-backdoor-2556" || ms[0].Proto != ports.TCP || e.Kind != Worm || e.Category != Threat {
		t.Errorf("first match for 2556: %s %v %s %s", e.ID, ms[0].Proto, e.Kind, e.Category)
	}
	if !slices.Contains(e.Aliases, "W32.Beagle.S@mm (Symantec)") {
		t.Errorf("aliases %q lack the Symantec name", e.Aliases)
	}
	if e.Years.String() != "2004" || e.Legit == "" || e.DescriptionKO == "" {
		t.Errorf("years %q legit %q ko %q", e.Years, e.Legit, e.DescriptionKO)
	}
	var symantec, sans bool
	for _, s := range e.Sources {
		symantec = symantec || strings.Contains(s.URL, "2004-031810-4223-99")
		sans = sans || strings.Contains(s.URL, "isc.sans.edu")
	}
	if !symantec || !sans {
		t.Errorf("sources %v: want the Symantec write-up and SANS ISC", e.Sources)
	}
}

// TestMthchtCovered checks that every port of the mthcht list (MIT) that the
// data restates is covered by some entry citing a source.
func TestMthchtCovered(t *testing.T) {
	db := mustDefault(t)
	b, err := os.ReadFile("testdata/mthcht-ports.txt")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p, err := strconv.Atoi(line)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if len(db.ForPort(p)) == 0 {
			t.Errorf("mthcht port %d has no entry", p)
		}
	}
	if n != 228 { // 229 rows; 4433 appears twice
		t.Errorf("read %d mthcht ports, want 228", n)
	}
}

// TestKoreanWhereRequired: the ports the product brief names must have a
// Korean description on at least one of their entries.
func TestKoreanWhereRequired(t *testing.T) {
	db := mustDefault(t)
	for _, p := range []int{2556, 2745, 4751, 31337, 12345, 27374, 3389, 4444, 25565, 8080, 3000, 5432} {
		ok := false
		for _, m := range db.ForPort(p) {
			ok = ok || m.Entry.DescriptionKO != ""
		}
		if !ok {
			t.Errorf("port %d: no entry with description-ko", p)
		}
	}
}

func TestForPortOrder(t *testing.T) {
	db := mustDefault(t)
	for _, p := range []int{80, 1080, 3000, 4444, 5000, 8080, 31337, 3389} {
		ms := db.ForPort(p)
		if len(ms) == 0 {
			t.Errorf("port %d: no entries", p)
			continue
		}
		for i := 1; i < len(ms); i++ {
			a, b := ms[i-1].Entry, ms[i].Entry
			if !a.IsThreat() && b.IsThreat() {
				t.Errorf("port %d: use %s before threat %s", p, a.ID, b.ID)
			}
			if a.IsThreat() == b.IsThreat() && a.Confidence.Rank() < b.Confidence.Rank() {
				t.Errorf("port %d: %s (%s) before %s (%s)", p, a.ID, a.Confidence, b.ID, b.Confidence)
			}
		}
	}
	for _, p := range []int{-1, 65536, 1 << 20} {
		if ms := db.ForPort(p); len(ms) != 0 {
			t.Errorf("ForPort(%d) = %d matches", p, len(ms))
		}
	}
	// Low-confidence history on a web port: present, but marked low.
	for _, m := range db.ForPort(80) {
		if m.Entry.ID == "code-red-worm" && m.Entry.Confidence != Low {
			t.Errorf("code red on 80 should be low confidence")
		}
	}
}

func TestPorts(t *testing.T) {
	db := mustDefault(t)
	threats, uses := db.Ports(Threat), db.Ports(Use)
	if !slices.IsSorted(threats) || !slices.IsSorted(uses) {
		t.Error("Ports not sorted")
	}
	if !slices.Contains(threats, 2556) || slices.Contains(threats, 25565) {
		t.Error("threat ports wrong around 2556/25565")
	}
	if !slices.Contains(uses, 25565) || !slices.Contains(uses, 30000) {
		t.Error("use ports lack 25565 or the NodePort range")
	}
	if len(db.Ports("nonsense")) != 0 {
		t.Error("unknown category has ports")
	}
}

// BenchmarkColdLookup measures what a cold `porthole info 2556` pays for
// intel: parse and validate every embedded file, then look one port up.
func BenchmarkColdLookup(b *testing.B) {
	b.ReportAllocs()
	year := maxYear()
	for b.Loop() {
		db, err := load(year)
		if err != nil {
			b.Fatal(err)
		}
		if len(db.ForPort(2556)) == 0 {
			b.Fatal("no match")
		}
	}
}

// TestLookupMatchesForPort: the fast path must give exactly what the full
// parse gives, for every port some entry covers and for a spread of others.
func TestLookupMatchesForPort(t *testing.T) {
	db := mustDefault(t)
	check := map[int]bool{-1: true, 0: true, 65535: true, 65536: true}
	for _, p := range db.Ports(Threat) {
		check[p] = true
	}
	for _, p := range db.Ports(Use) {
		check[p] = true
	}
	for p := 0; p <= ports.Max; p += 97 {
		check[p] = true
	}
	if testing.Short() {
		check = map[int]bool{2556: true, 80: true, 31337: true, 27015: true, 1: true}
	}
	for p := range check {
		fast, err := scan(p, maxYear())
		if err != nil {
			t.Fatal(err)
		}
		full := db.ForPort(p)
		if len(fast) != len(full) {
			t.Errorf("port %d: fast %d matches, full %d", p, len(fast), len(full))
			continue
		}
		for i := range fast {
			a, b := fast[i], full[i]
			if a.Proto != b.Proto || !reflect.DeepEqual(*a.Entry, *b.Entry) {
				t.Errorf("port %d match %d: fast %s %v (%s:%d), full %s %v (%s:%d)", p, i,
					a.Entry.ID, a.Proto, a.Entry.File, a.Entry.Line, b.Entry.ID, b.Proto, b.Entry.File, b.Entry.Line)
			}
		}
	}
	got, err := Lookup(2556) // Default has run: uses the loaded DB
	if err != nil || len(got) == 0 || got[0].Entry.ID != "bagle-backdoor-2556" {
		t.Errorf("Lookup(2556) = %v, %v", got, err)
	}
}

func TestScanReportsBrokenStanza(t *testing.T) {
	saved := threatsClassic
	defer func() { threatsClassic = saved }()
	threatsClassic = stanza + "\n" + strings.Replace(stanza, "id: test-entry", "id: broken", 1) + "kind: virus\n"
	_, err := scan(2556, maxYear())
	if err == nil || !strings.Contains(err.Error(), "data/threats-classic.txt:18: kind: repeated") {
		t.Errorf("scan of a broken stanza: %v", err)
	}
	if _, err := scan(80, maxYear()); err != nil {
		t.Errorf("scan of an uncovered port should skip the broken stanza: %v", err)
	}
}

// BenchmarkColdLookupFast measures Lookup's fast path, what a cold
// `porthole info 2556` pays when it calls intel.Lookup.
func BenchmarkColdLookupFast(b *testing.B) {
	b.ReportAllocs()
	year := maxYear()
	for b.Loop() {
		ms, err := scan(2556, year)
		if err != nil || len(ms) == 0 {
			b.Fatal(err, len(ms))
		}
	}
}

// BenchmarkForPort measures a lookup on an already loaded DB.
func BenchmarkForPort(b *testing.B) {
	db := mustDefault(b)
	b.ReportAllocs()
	for b.Loop() {
		db.ForPort(8080)
	}
}

func TestNotice(t *testing.T) {
	if n := Notice(); !strings.Contains(n, "MIT License") || !strings.Contains(n, "@mthcht") {
		t.Errorf("notice lacks the MIT text: %.80q", n)
	}
}

// TestForPortIndex checks the port index against a scan of every entry, for
// every port of the embedded data (the index must neither drop nor repeat a
// match, and the order stays the documented one).
func TestForPortIndex(t *testing.T) {
	db, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for port := 0; port <= ports.Max; port++ {
		got := db.ForPort(port)
		var want []string
		for i := range db.entries {
			if _, ok := db.entries[i].Covers(port); ok {
				want = append(want, db.entries[i].ID)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("port %d: %d matches from the index, %d from a scan (%v)", port, len(got), len(want), want)
		}
		seen := map[string]bool{}
		for _, m := range got {
			if seen[m.Entry.ID] {
				t.Fatalf("port %d: %s twice", port, m.Entry.ID)
			}
			seen[m.Entry.ID] = true
		}
		for _, id := range want {
			if !seen[id] {
				t.Fatalf("port %d: the index misses %s", port, id)
			}
		}
	}
	if db.ForPort(-1) != nil || db.ForPort(ports.Max+1) != nil {
		t.Error("ForPort outside 0-65535 found matches")
	}
}
