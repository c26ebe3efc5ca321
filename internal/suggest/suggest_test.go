package suggest_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/ports"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/suggest"
)

func data(t *testing.T) (*registry.Index, *intel.DB) {
	t.Helper()
	db, err := intel.Default()
	if err != nil {
		t.Fatal(err)
	}
	return registry.Embedded(), db
}

// TestCandidates checks every number of a range against the conditions,
// from the registry and intel themselves: the candidates are exactly the
// numbers that meet them.
func TestCandidates(t *testing.T) {
	reg, db := data(t)
	// Not the Linux range: intel notes cover all of that one already.
	o := suggest.Options{Low: 1024, High: 65535, EphemeralLow: 20000, EphemeralHigh: 24999}
	got := suggest.Candidates(reg, db, o)
	if len(got) == 0 {
		t.Fatal("no candidates in the registered and dynamic ranges")
	}
	var rejected struct{ ephemeral, assigned, intel int }
	for p := o.Low; p <= o.High; p++ {
		in := slices.Contains(got, p)
		switch {
		case p >= o.EphemeralLow && p <= o.EphemeralHigh:
			rejected.ephemeral++
			if in {
				t.Errorf("%d is in the ephemeral range", p)
			}
		case reg.StatusOf(p, ports.TCP) != registry.StatusUnassigned && !ports.Dynamic.Contains(p):
			rejected.assigned++
			if in {
				t.Errorf("%d is %s for tcp", p, reg.StatusOf(p, ports.TCP))
			}
		case len(db.ForPort(p)) > 0:
			rejected.intel++
			if in {
				t.Errorf("%d has intel entries", p)
			}
		}
	}
	// Each condition rules something out in real data.
	if rejected.ephemeral == 0 || rejected.assigned == 0 || rejected.intel == 0 {
		t.Errorf("a condition never applied: %+v", rejected)
	}
	if !slices.IsSorted(got) {
		t.Error("candidates out of order")
	}
	// An unknown ephemeral range leaves nothing out for it.
	all := suggest.Candidates(reg, db, suggest.Options{Low: o.Low, High: o.High})
	if len(all) <= len(got) {
		t.Errorf("%d candidates without the ephemeral range, %d with it", len(all), len(got))
	}
}

func TestUnassigned(t *testing.T) {
	reg, _ := data(t)
	if suggest.Unassigned(reg, 443) {
		t.Error("443 (https) counted as unassigned")
	}
	for p := 49152; p < 49162; p++ {
		if !suggest.Unassigned(reg, p) {
			t.Errorf("dynamic port %d not counted as unassigned", p)
		}
	}
}

func TestPick(t *testing.T) {
	cands := make([]int, 0, 100)
	for p := 20000; p < 20100; p++ {
		cands = append(cands, p)
	}
	orig := slices.Clone(cands)
	odd := func(p int) (bool, error) { return p%2 == 1, nil }
	a, err := suggest.Pick(cands, 42, 5, odd)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 5 {
		t.Fatalf("picked %v, want 5", a)
	}
	for _, p := range a {
		if p%2 != 1 || !slices.Contains(orig, p) {
			t.Errorf("picked %d: not free or not a candidate", p)
		}
	}
	if !slices.Equal(cands, orig) {
		t.Error("Pick reordered its argument")
	}
	// A seed repeats its pick; the shuffle comes before the check, so the
	// first free ports of the same order are picked when fewer are free.
	b, _ := suggest.Pick(cands, 42, 5, odd)
	if !slices.Equal(a, b) {
		t.Errorf("seed 42 picked %v, then %v", a, b)
	}
	c, _ := suggest.Pick(cands, 42, 5, func(p int) (bool, error) { return p%2 == 1 && p != a[0], nil })
	if !slices.Equal(c[:4], a[1:]) {
		t.Errorf("with %d taken, picked %v; want %v first", a[0], c, a[1:])
	}
	if d, _ := suggest.Pick(cands, 43, 5, odd); slices.Equal(a, d) {
		t.Errorf("seeds 42 and 43 picked the same %v", a)
	}
	// Fewer free than asked: all of them.
	few, _ := suggest.Pick(cands, 1, 5, func(p int) (bool, error) { return p == 20007, nil })
	if !slices.Equal(few, []int{20007}) {
		t.Errorf("picked %v, want [20007]", few)
	}
	// A check that cannot be tried stops the search.
	stop := errors.New("no sockets left")
	if _, err := suggest.Pick(cands, 1, 5, func(int) (bool, error) { return false, stop }); !errors.Is(err, stop) {
		t.Errorf("error %v, want %v", err, stop)
	}
}

// TestRefuse: every number of a range is either a candidate or counted
// under exactly one refusal, and the intel entry named first is one that
// names the most of them. The dynamic range outside Linux's ephemeral
// range has no candidate with the real intel: an operating system's port
// range covers it, and Refuse has to say so.
func TestRefuse(t *testing.T) {
	reg, db := data(t)
	for _, o := range []suggest.Options{
		{Low: 1024, High: 65535, EphemeralLow: 20000, EphemeralHigh: 24999},
		{Low: 49152, High: 65535, EphemeralLow: 32768, EphemeralHigh: 60999},
		{Low: 5000, High: 5001},
	} {
		r := suggest.Refuse(reg, db, o)
		c := len(suggest.Candidates(reg, db, o))
		if got := r.Ephemeral + r.Registry + r.Intel + c; got != o.High-o.Low+1 {
			t.Errorf("%+v: %+v and %d candidates add up to %d, not the range's %d numbers", o, r, c, got, o.High-o.Low+1)
		}
		sum := 0
		for i, name := range r.IntelOrder {
			sum += r.IntelBy[name]
			if i > 0 && r.IntelBy[name] > r.IntelBy[r.IntelOrder[i-1]] {
				t.Errorf("%+v: intel names out of order: %v %v", o, r.IntelOrder, r.IntelBy)
			}
		}
		if sum != r.Intel || len(r.IntelOrder) != len(r.IntelBy) {
			t.Errorf("%+v: intel names count %d of %d", o, sum, r.Intel)
		}
	}
	o := suggest.Options{Low: 61000, High: 65535, EphemeralLow: 32768, EphemeralHigh: 60999}
	if c := suggest.Candidates(reg, db, o); len(c) > 0 {
		t.Skipf("61000-65535 has candidates now (%d): the case below does not arise", len(c))
	}
	r := suggest.Refuse(reg, db, o)
	if r.Intel != o.High-o.Low+1 || len(r.IntelOrder) == 0 {
		t.Fatalf("61000-65535: %+v; want every number refused for intel, with the entry named", r)
	}
	top := r.IntelOrder[0]
	for p := o.Low; p <= o.High; p += 500 {
		named := false
		for _, m := range db.ForPort(p) {
			named = named || m.Entry.Name == top
		}
		if !named {
			t.Errorf("%s is named first for 61000-65535 but does not cover %d", top, p)
		}
	}
}
