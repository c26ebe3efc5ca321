package search

import (
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
)

func TestFind(t *testing.T) {
	x := registry.Embedded()
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q, first, match string
		port            int
	}{
		{"ssh", "ssh", "name", 22},
		{"SSH", "ssh", "name", 22},
		{"nicetec-nmsvc", "nicetec-nmsvc", "name", 2556},
		{"2556", "nicetec-nmsvc", "port", 2556},
		{"tcp/80", "http", "port", 80},
	} {
		hits := Find(x, db, tc.q)
		if len(hits) == 0 {
			t.Errorf("%q: no hits", tc.q)
			continue
		}
		// The strongest hits come first; a name's row without a port (an
		// SRV-only registration) ties with its rows with ports.
		found := false
		for _, h := range hits[:min(3, len(hits))] {
			if h.Name == tc.first && h.Match == tc.match && h.Port == tc.port {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: top hits %v lack %s (%s, port %d)", tc.q, hits[:min(3, len(hits))], tc.first, tc.match, tc.port)
		}
	}
	if hits := Find(x, db, "bagle"); len(hits) == 0 || hits[0].Source != "intel" {
		t.Errorf("bagle: want an intel hit first, got %v", hits)
	}
	if hits := Find(x, db, "   "); hits != nil {
		t.Errorf("blank query: %d hits", len(hits))
	}
	if hits := Find(x, nil, "bagle"); len(hits) != 0 && hits[0].Source == "intel" {
		t.Errorf("intel hit without intel")
	}
	if Label(-1, -1) != "-" || Label(80, 80) != "80" || Label(6000, 6063) != "6000-6063" {
		t.Errorf("Label")
	}
}

// Intel entries are found by their names, any vendor's alias, and words of
// their English or Korean descriptions and legitimate-use notes. (This was
// intel.DB.Search, which Find replaced.)
func TestFindIntel(t *testing.T) {
	x := registry.Embedded()
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	name := map[string]string{}
	for _, e := range db.Entries() {
		name[e.ID] = e.Name
	}
	for _, tc := range []struct{ q, id string }{
		{"beagle", "bagle-backdoor-2556"},
		{"W32.BEAGLE.S@MM", "bagle-backdoor-2556"},
		{"netbus", "netbus"},
		{"minecraft", "minecraft-java"},
		{"마인크래프트", "minecraft-java"},
		{"PE_Bagle.Q", "bagle-backdoor-2556"}, // an alias from another vendor
		{"포트 정보 사이트", "bagle-backdoor-2556"},  // legit-ko
		{"kubelet", "kubelet"},
	} {
		want, ok := name[tc.id]
		if !ok {
			t.Fatalf("no intel entry %s", tc.id)
		}
		found := false
		for _, h := range Find(x, db, tc.q) {
			found = found || (h.Source == "intel" && h.Name == want)
		}
		if !found {
			t.Errorf("Find(%q) misses intel entry %s (%s)", tc.q, tc.id, want)
		}
	}
	if hits := Find(x, db, "  "); hits != nil {
		t.Errorf("Find(blank) = %d hits", len(hits))
	}
}

// An intel entry that lists a port for tcp and for udp (RDP: tcp/3389 and
// udp/3389) is one port in its hit: "3389", not "3389 3389", and one span.
func TestIntelHitSaysEachPortOnce(t *testing.T) {
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	twice := 0
	for _, h := range Find(registry.Embedded(), db, "remote") {
		if h.Source != "intel" {
			continue
		}
		seen := map[[2]int]bool{}
		for _, sp := range h.Spans {
			if seen[sp] {
				t.Errorf("%s: span %v twice in %v (label %q)", h.Name, sp, h.Spans, h.Ports)
			}
			seen[sp] = true
		}
		if len(strings.Fields(h.Ports)) != len(h.Spans) {
			t.Errorf("%s: label %q for %d spans", h.Name, h.Ports, len(h.Spans))
		}
		if len(h.Protocols) > 1 {
			twice++
		}
	}
	if twice == 0 {
		t.Error("no intel hit for \"remote\" is on two protocols: the test checks nothing")
	}
}

// For a port query, an intel hit's label starts with the spans that match,
// so that the search table, which cuts long labels, shows the port asked
// for; the spans themselves keep the entry's order.
func TestPortQueryLabelLeadsWithTheMatch(t *testing.T) {
	reg, db := registry.Embedded(), mustIntel(t)
	moved := 0
	for _, h := range Find(reg, db, "8080") {
		if h.Source != "intel" {
			continue
		}
		first := strings.Fields(h.Ports)[0]
		spec, err := ports.ParseSpec(first)
		if err != nil || spec.Low > 8080 || spec.High < 8080 {
			t.Errorf("%s: label %q does not start with a span holding 8080", h.Name, h.Ports)
		}
		if h.Spans[0][0] > 8080 || h.Spans[0][1] < 8080 {
			moved++
		}
	}
	if moved == 0 {
		t.Log("no intel hit for 8080 lists another port first: the reordering was not exercised")
	}
}

func mustIntel(t *testing.T) *intel.DB {
	t.Helper()
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	return db
}
