package sockets

import (
	"cmp"
	"context"
	"slices"
	"sync/atomic"
)

// The guided step of a port query finds the holder of a socket among
// processes that share one cgroup (a host without systemd, a big session
// scope), reading few of them.
//
// It rests on how Linux numbers sockets: a socket's inode number comes from
// the counter that also numbers pipes, eventfds and other in-memory files
// (get_next_ino), handed out in increasing order in per-CPU runs of 1,024;
// and a process usually makes its sockets in a run, soon after it starts,
// at its lowest free descriptors. So the inode of a process's first socket
// (firstSocket: the lowest descriptor from 3 up, a readlink or three) says
// roughly when it made its sockets, and mostly grows with the PID; the
// holder of socket I is the process whose first socket is the nearest at or
// below I, and I is at most a few times its descriptor count above it
// ("plausible", below).
//
// Steps, for up to guideMaxInodes sockets: a binary search over the PIDs
// for the process whose first socket is just below each wanted inode; then
// every other process, outward from where the search ended, in parallel;
// a plausible process is read whole as soon as it is met, and the step
// stops when every wanted socket has a holder. When none of that finds
// them (the guess was wrong: PIDs wrapped, a process whose first socket is
// new, a socket handed to another process), the guideScans processes with
// the nearest first socket are read whole, and the caller goes on to the
// iterator or the walk with the rest. A process is named only when its
// descriptor table shows the socket, as in the full walk, so a wrong guess
// costs time, never a wrong owner.

const (
	// guideMaxInodes is the most sockets without an owner for which the
	// guided step runs.
	guideMaxInodes = 8
	// guideScans is the most processes the last part of the guided step
	// reads whole, nearest first.
	guideScans = 4
	// guideSearchProbes bounds the binary search, per socket.
	guideSearchProbes = 48
)

// sample is what firstSocket learned about one process.
type sample struct {
	ino   uint64
	nfd   int
	state uint8
}

const (
	sampleNot   = iota // not sampled yet
	sampleFound        // ino is its first socket
	sampleEmpty        // no descriptors at all
	sampleNone         // gone, denied, or no socket among the first descriptors
)

// guide runs the guided step for the sockets of s still without a holder,
// over every process but those in done (already read, sorted). It returns
// the processes it did not read whole, nearest first socket first, for a
// walk to go on with, or nil when it did not run (more than
// guideMaxInodes sockets to look for).
func (s *ownerScan) guide(ctx context.Context, procfd int, done []int) []int {
	if s.left.Load() > guideMaxInodes {
		return nil
	}
	pids := listPIDs(procfd) // increasing
	if len(done) > 0 {
		pids = slices.DeleteFunc(pids, func(p int) bool { _, ok := slices.BinarySearch(done, p); return ok })
	}
	if len(pids) == 0 {
		return []int{}
	}
	g := &guideRun{s: s, procfd: procfd, pids: pids, counted: fdCountWorks(procfd),
		samples: make([]sample, len(pids)), read: make([]atomic.Bool, len(pids)), buf: make([]byte, 16<<10)}
	for ino := range s.want {
		g.wanted = append(g.wanted, ino)
	}
	slices.Sort(g.wanted)

	// 1. A binary search per missing socket; plausible processes met on
	// the way are read at once.
	center := len(pids) - 1
	first := true
	for _, ino := range g.wanted {
		if s.left.Load() == 0 || ctx.Err() != nil {
			return g.rest()
		}
		if s.has(ino) {
			continue
		}
		at := g.search(ctx, ino)
		if first {
			center, first = at, false
		}
	}
	if s.left.Load() == 0 || ctx.Err() != nil {
		return g.rest()
	}

	// 2. Every other process, outward from where the first search ended,
	// reading plausible ones at once, until every socket has a holder.
	outward := append(make([]int, 0, len(pids)), center)
	for d := 1; len(outward) < len(pids); d++ {
		if center+d < len(pids) {
			outward = append(outward, center+d)
		}
		if center-d >= 0 {
			outward = append(outward, center-d)
		}
	}
	s.parallel(ctx, outward, func(i int, buf []byte) { g.visit(i, buf) })
	if s.left.Load() == 0 || ctx.Err() != nil {
		return g.rest()
	}

	// 3. Every process is sampled now. A process whose sockets were
	// numbered in two runs (it moved to another CPU while making them,
	// which then took numbers from another block) has its first socket
	// far below the wanted one but its last at or above it: read whole
	// the few whose first and last sockets enclose a wanted inode,
	// narrowest first, then the few whose first socket is nearest below.
	if g.counted {
		g.enclosing(ctx)
	}
	order := g.rest()
	for n := 0; n < guideScans && n < len(order) && s.left.Load() > 0 && ctx.Err() == nil; n++ {
		i, _ := slices.BinarySearch(pids, order[n])
		if g.samples[i].state != sampleFound {
			break // the rest have no known first socket
		}
		g.scan(i, g.buf)
	}
	return g.rest()
}

// enclosing reads the last socket of every process not read yet whose
// first socket is at or below a wanted inode still without a holder, and
// reads whole, narrowest span first, up to guideScans of those whose last
// socket is at or above it.
func (g *guideRun) enclosing(ctx context.Context) {
	var idx []int
	for i, sm := range g.samples {
		if sm.state == sampleFound && !g.read[i].Load() && g.missingFrom(sm.ino) != 0 {
			idx = append(idx, i)
		}
	}
	last := make([]uint64, len(g.pids))
	g.s.parallel(ctx, idx, func(i int, _ []byte) {
		if ino, ok := g.s.lastSocket(g.procfd, g.pids[i], g.samples[i].nfd); ok {
			last[i] = ino // each worker writes its own element
		}
	})
	var encl []int
	for _, i := range idx {
		if w := g.missingFrom(g.samples[i].ino); w != 0 && last[i] >= w {
			encl = append(encl, i)
		}
	}
	slices.SortFunc(encl, func(a, b int) int {
		return cmp.Compare(last[a]-g.samples[a].ino, last[b]-g.samples[b].ino)
	})
	for _, i := range encl[:min(len(encl), guideScans)] {
		if g.s.left.Load() == 0 || ctx.Err() != nil {
			return
		}
		g.scan(i, g.buf)
	}
}

// missingFrom is the smallest wanted inode at or above ino still without
// a holder, or 0.
func (g *guideRun) missingFrom(ino uint64) uint64 {
	j, _ := slices.BinarySearch(g.wanted, ino)
	for ; j < len(g.wanted); j++ {
		if !g.s.has(g.wanted[j]) {
			return g.wanted[j]
		}
	}
	return 0
}

// guideRun is the state of one guided step.
type guideRun struct {
	s       *ownerScan
	procfd  int
	pids    []int
	counted bool
	wanted  []uint64 // sorted
	samples []sample // by index in pids; each written by one goroutine
	read    []atomic.Bool
	buf     []byte // for the sequential parts
}

func (s *ownerScan) has(ino uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.found[ino]) > 0
}

// sampleAt samples pids[i] once.
func (g *guideRun) sampleAt(i int) sample {
	if g.samples[i].state != sampleNot {
		return g.samples[i]
	}
	sm := sample{state: sampleNone}
	if ino, nfd, ok, empty := g.s.firstSocket(g.procfd, g.pids[i], g.counted); ok {
		sm = sample{ino: ino, nfd: nfd, state: sampleFound}
	} else if empty {
		sm.state = sampleEmpty
	}
	g.samples[i] = sm
	return sm
}

// plausible reports whether a process whose first socket is sm could hold
// a wanted socket still without a holder: one at or above its first
// socket, within a few times its descriptor count (other processes' files
// take numbers from the same counter in between).
func (g *guideRun) plausible(sm sample) bool {
	if sm.state != sampleFound {
		return false
	}
	span := uint64(1024)
	if g.counted {
		span = 2*uint64(sm.nfd) + 64
	}
	j, _ := slices.BinarySearch(g.wanted, sm.ino)
	for ; j < len(g.wanted) && g.wanted[j]-sm.ino <= span; j++ {
		if !g.s.has(g.wanted[j]) {
			return true
		}
	}
	return false
}

// scan reads pids[i] whole, once.
func (g *guideRun) scan(i int, buf []byte) {
	if g.read[i].CompareAndSwap(false, true) {
		g.s.scanPID(g.procfd, g.pids[i], buf)
	}
}

// visit samples pids[i] and reads it whole when plausible.
func (g *guideRun) visit(i int, buf []byte) {
	if sm := g.sampleAt(i); g.plausible(sm) {
		g.scan(i, buf)
	}
}

// search is a binary search over the PIDs for the last process whose
// first socket is at or below ino, stepping over processes without one
// (searching outward from the middle); it reads plausible processes as it
// meets them and returns the index where it ended.
func (g *guideRun) search(ctx context.Context, ino uint64) int {
	lo, hi := 0, len(g.pids)
	probes := 0
	for lo < hi && !g.s.has(ino) {
		mid := lo + (hi-lo)/2
		j := -1
		for d := 0; j < 0; d++ {
			in := false
			for _, k := range [2]int{mid + d, mid - d - 1} {
				if k < lo || k >= hi || j >= 0 {
					continue
				}
				in = true
				if probes++; probes > guideSearchProbes || ctx.Err() != nil {
					return mid
				}
				if g.samples[k].state == sampleNot {
					g.visit(k, g.buf)
				}
				if g.samples[k].state == sampleFound {
					j = k
				}
			}
			if !in {
				return mid // no process with a socket left in [lo, hi)
			}
		}
		if g.samples[j].ino <= ino {
			lo = j + 1
		} else {
			hi = j
		}
	}
	return min(lo, len(g.pids)-1)
}

// rest returns the processes not read whole: those whose first socket is
// at or below a wanted inode, nearest first, then the others in PID order,
// newest first; processes with no descriptors are left out.
func (g *guideRun) rest() []int {
	if g.s.left.Load() == 0 {
		return []int{} // the caller needs no more
	}
	const unknown = ^uint64(0)
	type cand struct {
		pid  int
		dist uint64
	}
	cs := make([]cand, 0, len(g.pids))
	for i := len(g.pids) - 1; i >= 0; i-- {
		sm := g.samples[i]
		if g.read[i].Load() || sm.state == sampleEmpty {
			continue
		}
		d := unknown
		if sm.state == sampleFound {
			if j, _ := slices.BinarySearch(g.wanted, sm.ino); j < len(g.wanted) {
				d = g.wanted[j] - sm.ino
			}
		}
		cs = append(cs, cand{g.pids[i], d})
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(a.dist, b.dist) })
	out := make([]int, len(cs))
	for i, c := range cs {
		out[i] = c.pid
	}
	return out
}
