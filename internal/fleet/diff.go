package fleet

import "slices"

// Delta is what changed between two listener sets, each list sorted by Key.
type Delta struct {
	Added   []Listener // keys only in the new set
	Removed []Listener // keys only in the old set, with their old owner
	Changed []Listener // keys in both whose owner differs, with the new owner
}

// Empty reports whether nothing changed.
func (d Delta) Empty() bool { return len(d.Added)+len(d.Removed)+len(d.Changed) == 0 }

// Normalize returns ls sorted by Key with one listener per key. Several
// sockets can share a key (SO_REUSEPORT, or one socket per worker); the
// fleet keeps one, the one whose owner has the lowest known PID, so that the
// choice does not flap between snapshots. ls is not modified.
func Normalize(ls []Listener) []Listener {
	out := slices.Clone(ls)
	slices.SortStableFunc(out, func(a, b Listener) int {
		if c := a.Key.Compare(b.Key); c != 0 {
			return c
		}
		return comparePID(a.PID, b.PID)
	})
	return slices.CompactFunc(out, func(a, b Listener) bool { return a.Key == b.Key })
}

// comparePID orders known PIDs ascending, then unknown (0).
func comparePID(a, b int) int {
	switch {
	case a == b:
		return 0
	case a == 0:
		return 1
	case b == 0:
		return -1
	case a < b:
		return -1
	}
	return 1
}

// Diff returns what changed from prev to cur, after normalizing both. An
// owner change is any difference in PID, UID, user, process, executable or
// container: a restarted service (new PID) is a change worth knowing.
func Diff(prev, cur []Listener) Delta {
	p, c := Normalize(prev), Normalize(cur)
	var d Delta
	i, j := 0, 0
	for i < len(p) || j < len(c) {
		switch {
		case j == len(c) || i < len(p) && p[i].Key.Compare(c[j].Key) < 0:
			d.Removed = append(d.Removed, p[i])
			i++
		case i == len(p) || p[i].Key.Compare(c[j].Key) > 0:
			d.Added = append(d.Added, c[j])
			j++
		default:
			if p[i].Owner != c[j].Owner {
				d.Changed = append(d.Changed, c[j])
			}
			i++
			j++
		}
	}
	return d
}

// Apply returns the listener set that results from applying r to set: a
// full report replaces it, a delta removes, adds and updates, a heartbeat
// leaves it. The result is normalized; set is not modified. A delta that
// removes a key the set lacks, or adds one it has, is applied as far as it
// makes sense (the key ends absent or present with the reported owner).
func Apply(set []Listener, r Report) []Listener {
	switch r.Kind {
	case KindFull:
		return Normalize(r.Listeners)
	case KindDelta:
	default:
		return Normalize(set)
	}
	m := make(map[Key]Owner, len(set)+len(r.Added))
	for _, l := range set {
		m[l.Key] = l.Owner
	}
	for _, l := range r.Removed {
		delete(m, l.Key)
	}
	for _, l := range slices.Concat(r.Added, r.Changed) {
		m[l.Key] = l.Owner
	}
	out := make([]Listener, 0, len(m))
	for k, o := range m {
		out = append(out, Listener{Key: k, Owner: o})
	}
	Sort(out)
	return out
}
