package intel_test

import (
	"testing"

	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
)

// TestCoverage recounts the figures port by port with ForPort and checks
// Coverage against them.
func TestCoverage(t *testing.T) {
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	c := db.Coverage()
	if c.Entries != len(db.Entries()) || c.Entries == 0 {
		t.Fatalf("%d entries counted, %d in the data", c.Entries, len(db.Entries()))
	}
	kinds := 0
	for _, n := range c.ByKind {
		kinds += n
	}
	if kinds != c.Entries {
		t.Errorf("kinds add up to %d, not %d entries", kinds, c.Entries)
	}
	for _, w := range c.WideRanges {
		if w.Size <= intel.WideRange || w.High-w.Low+1 != w.Size {
			t.Errorf("wide range %+v", w)
		}
	}
	threat, use, documented := map[string]int{}, map[string]int{}, 0
	for p := 0; p <= ports.Max; p++ {
		var th, us bool
		for _, m := range db.ForPort(p) {
			e := m.Entry
			if e.IsNote() {
				continue
			}
			narrow := false
			for _, r := range e.Ports {
				if r.Low <= p && p <= r.High && r.High-r.Low+1 <= intel.WideRange {
					narrow = true
				}
			}
			if !narrow {
				continue
			}
			if e.IsThreat() {
				th = true
			} else {
				us = true
			}
		}
		if th || us {
			documented++
		}
		for _, x := range []struct {
			on bool
			m  map[string]int
		}{{th, threat}, {us, use}} {
			if x.on {
				x.m[ports.RangeOf(p).Name]++
				x.m["total"]++
			}
		}
	}
	if documented != c.DocumentedPorts {
		t.Errorf("documented ports: %d, recounted %d", c.DocumentedPorts, documented)
	}
	for name, m := range map[string][2]map[string]int{"threat": {c.ThreatPorts, threat}, "use": {c.UsePorts, use}} {
		for k, v := range m[1] {
			if m[0][k] != v {
				t.Errorf("%s ports in %s: %d, recounted %d", name, k, m[0][k], v)
			}
		}
		if len(m[0]) != len(m[1]) {
			t.Errorf("%s ports: %v, recounted %v", name, m[0], m[1])
		}
	}
}
