package cli

import (
	"slices"
	"testing"

	"github.com/porthole/porthole/internal/intel"
)

// For the ports it was loaded for, the intel who reads port by port says
// what the whole data says, in the same order.
func TestLoadIntelForMatchesDefault(t *testing.T) {
	all, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	ids := func(ms []intel.Match) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Entry.ID+"/"+m.Proto.String())
		}
		return out
	}
	for _, ps := range [][]int{{2556}, {80, 443}, {1025, 1030, 4444, 31337}, {0}, {65535}} {
		// intel's tests hold Lookup's fast path to ForPort; this checks
		// the DB assembled from its matches (shared entries once, order).
		k := &knowledge{}
		if err := k.loadIntelFor(ps); err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if got, want := ids(k.intel.ForPort(p)), ids(all.ForPort(p)); !slices.Equal(got, want) {
				t.Errorf("port %d: %v, whole intel %v", p, got, want)
			}
		}
	}
	k := &knowledge{}
	if err := k.loadIntelFor([]int{1, 2, 3, 4, 5}); err != nil || k.intel != all {
		t.Errorf("five ports: %v, want the whole intel", err)
	}
}
