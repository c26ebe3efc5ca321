package sockets

import (
	"context"
	"maps"
	"slices"
	"testing"
)

// withProcRoot runs the owner walk over the fixture tree dir instead of /proc.
func withProcRoot(t *testing.T, dir string) {
	t.Helper()
	old := procRoot
	procRoot = dir
	t.Cleanup(func() { procRoot = old })
}

// The owner walk over a fixture procfs (node_exporter's pattern): no root and
// no live processes needed. testdata/proc holds pids 100 (sockets 1001 and
// 1002, a pipe, /dev/null), 200 (1001 too), 300 (no socket), 400 (no fd
// directory, as a process that has exited), 500 (an unwanted socket), and
// entries that are not processes (net, 12a, which holds 1002 and must not
// count).
func TestScanOwnersFixture(t *testing.T) {
	withProcRoot(t, "testdata/proc")
	want := func(inos ...uint64) map[uint64]struct{} {
		m := map[uint64]struct{}{}
		for _, i := range inos {
			m[i] = struct{}{}
		}
		return m
	}
	sorted := func(found map[uint64][]int) map[uint64][]int {
		out := map[uint64][]int{}
		for ino, ps := range found {
			out[ino] = slices.Sorted(slices.Values(ps))
		}
		return out
	}

	found, denied := scanOwners(context.Background(), want(1001, 1002, 4242), false, nil)
	if got, exp := sorted(found), map[uint64][]int{1001: {100, 200}, 1002: {100}}; !maps.EqualFunc(got, exp, slices.Equal) || denied != 0 {
		t.Errorf("every owner: %v (denied %d), want %v", got, denied, exp)
	}

	// A port query wants one owner each, and samples before it walks.
	found, _ = scanOwners(context.Background(), want(1002, 9999), true, map[uint32]bool{0: true})
	if len(found[1002]) != 1 || found[1002][0] != 100 || len(found[9999]) != 1 || found[9999][0] != 500 {
		t.Errorf("first owners: %v, want 1002 by 100 and 9999 by 500", found)
	}

	if found, _ := scanOwners(context.Background(), want(4242), true, nil); len(found) != 0 {
		t.Errorf("a socket nobody holds: %v", found)
	}
}

// Without a procfs the walk finds nobody and does not fail.
func TestScanOwnersNoProc(t *testing.T) {
	withProcRoot(t, t.TempDir()+"/missing")
	if found, denied := scanOwners(context.Background(), map[uint64]struct{}{1001: {}}, false, nil); len(found) != 0 || denied != 0 {
		t.Errorf("found %v, denied %d", found, denied)
	}
}
