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
// A process that moves to another CPU while making its sockets takes
// numbers from that CPU's block, which may lie below or far above the
// first one's: its sockets are then numbered in several runs (most of the
// Go holders of the listener benchmark have two to six), and its first
// socket says little about the later ones. So the guided step also reads
// a few descriptors spread over a process's table (spread, closeness): the
// holder is the process with a sample nearest the wanted inode.
//
// Steps, for up to guideMaxInodes sockets: a binary search over the PIDs for
// the process whose first socket is just below each wanted inode; then the
// guideSpreadMost processes nearest in PID to where the search ended, their
// first sockets and then their spread samples; then every other process,
// outward from there, in parallel. A plausible process is read whole as soon
// as it is met, and the step stops when every wanted socket has a holder.
// When none of that finds them (the guess was wrong: PIDs wrapped, a socket
// handed to another process, a short run between two samples), the spread
// samples of the guideSpreadMost processes whose first socket is nearest,
// then the last sockets of the others, then the guideScans processes with
// the nearest first socket below, are read, and the caller goes on to the
// iterator or the walk with the rest. A process is named only when its
// descriptor table shows the socket (a sample that is a wanted socket is
// such a sight), as in the full walk, so a wrong guess costs time, never a
// wrong owner.

const (
	// guideMaxInodes is the most sockets without an owner for which the
	// guided step runs.
	guideMaxInodes = 8
	// guideScans is the most processes the last part of the guided step
	// reads whole, nearest first.
	guideScans = 4
	// guideSearchProbes bounds the binary search, per socket.
	guideSearchProbes = 48
	// guideSpread is how many sockets spread over its table, besides its
	// first and last, spread samples per process, for guideSpreadMost
	// processes at a time. 16 covered the holder of 99.5 % of the sockets
	// that needed it in the Go harness (ranked by first socket nearest).
	guideSpread     = 8
	guideSpreadMost = 16
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

	// 2. The guideSpreadMost processes nearest in PID to where the first
	// search ended, then every other process, outward from there, reading
	// plausible ones at once; after the first group, and after all, the
	// spread samples of those nearest a wanted socket (spread), until every
	// socket has a holder.
	outward := append(make([]int, 0, len(pids)), center)
	for d := 1; len(outward) < len(pids); d++ {
		if center+d < len(pids) {
			outward = append(outward, center+d)
		}
		if center-d >= 0 {
			outward = append(outward, center-d)
		}
	}
	g.inos = make([][]uint64, len(pids))
	near := outward[:min(len(outward), guideSpreadMost)]
	s.parallel(ctx, near, func(i int, buf []byte) { g.visit(i, buf) })
	if s.left.Load() == 0 || ctx.Err() != nil {
		return g.rest()
	}
	if g.counted {
		g.spread(ctx, near)
	}
	if s.left.Load() == 0 || ctx.Err() != nil {
		return g.rest()
	}
	s.parallel(ctx, outward[len(near):], func(i int, buf []byte) { g.visit(i, buf) })
	if s.left.Load() == 0 || ctx.Err() != nil {
		return g.rest()
	}

	// 3. Every process is sampled now: the spread samples of the
	// guideSpreadMost whose first socket is nearest a wanted one, then
	// the last socket of the others whose first socket is below one
	// (enclosing), then the few whose first socket is nearest below.
	if g.counted {
		g.spread(ctx, g.nearest(guideSpreadMost))
		if s.left.Load() > 0 && ctx.Err() == nil {
			g.enclosing(ctx)
		}
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

// spread samples more of the tables of the processes pids[i] for i in
// idx not read yet: guideSpread sockets spread over each table and the
// last one (spreadSockets, in parallel). A process whose sockets were
// numbered in several runs (it moved between CPUs while making them, and
// each CPU hands out numbers from a block of its own) has a sample in most
// of its runs, so the holder of a wanted socket is one whose samples come
// near it, even when its first socket is far above or below. For each
// wanted inode still without a holder, it reads whole, up to guideScans,
// the processes sampled so far whose samples come nearest it (closeness).
func (g *guideRun) spread(ctx context.Context, idx []int) {
	idx = slices.DeleteFunc(slices.Clone(idx), func(i int) bool {
		return g.samples[i].state != sampleFound || g.read[i].Load() || g.inos[i] != nil
	})
	g.s.parallel(ctx, idx, func(i int, _ []byte) {
		got := g.s.spreadSockets(g.procfd, g.pids[i], g.samples[i].nfd, guideSpread+1,
			append(make([]uint64, 0, guideSpread+2), g.samples[i].ino))
		slices.Sort(got)
		g.inos[i] = got // each worker writes its own element
	})
	g.spreadDone = append(g.spreadDone, idx...)
	type cand struct {
		i int
		d uint64
	}
	var cs []cand
	for _, w := range g.wanted {
		if g.s.left.Load() == 0 || ctx.Err() != nil {
			return
		}
		if g.s.has(w) {
			continue
		}
		cs = cs[:0]
		for _, i := range g.spreadDone {
			if d, ok := closeness(g.inos[i], w, g.span(g.samples[i])); ok && !g.read[i].Load() {
				cs = append(cs, cand{i, d})
			}
		}
		slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(a.d, b.d) })
		for k := 0; k < len(cs) && k < guideScans && !g.s.has(w); k++ {
			g.scan(cs[k].i, g.buf)
		}
	}
}

// nearest returns the indexes of up to n sampled processes not read yet
// whose first socket is nearest (either side) a wanted inode still
// without a holder, nearest first.
func (g *guideRun) nearest(n int) []int {
	var missing []uint64
	for _, w := range g.wanted {
		if !g.s.has(w) {
			missing = append(missing, w)
		}
	}
	type cand struct {
		i int
		d uint64
	}
	var cs []cand
	for i, sm := range g.samples {
		if sm.state != sampleFound || g.read[i].Load() || len(missing) == 0 {
			continue
		}
		d, _ := closeness(missing, sm.ino, 0)
		cs = append(cs, cand{i, d})
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(a.d, b.d) })
	out := make([]int, min(n, len(cs)))
	for k := range out {
		out[k] = cs[k].i
	}
	return out
}

// closeness ranks a process as the holder of socket w by the inodes of
// its sampled sockets (sorted): the distance from w to the nearest of
// them, if that is within span; ok is false otherwise. The holder's
// sockets were numbered in runs, most with a sample in them, so its
// nearest sample is usually a few numbers away; another process's is
// further, unless it made sockets just before or after the holder did.
func closeness(inos []uint64, w, span uint64) (d uint64, ok bool) {
	j, _ := slices.BinarySearch(inos, w)
	d = ^uint64(0)
	if j < len(inos) {
		d = inos[j] - w
	}
	if j > 0 {
		d = min(d, w-inos[j-1])
	}
	return d, d <= span
}

// enclosing reads the last socket of every process not read or spread
// yet whose first socket is at or below a wanted inode still without a
// holder, and reads whole, narrowest span first, up to guideScans of
// those whose last socket is at or above it: a long-running process that
// made a socket long after its first (a listener opened on reload), with
// many processes' sockets numbered in between.
func (g *guideRun) enclosing(ctx context.Context) {
	var idx []int
	for i, sm := range g.samples {
		if sm.state == sampleFound && !g.read[i].Load() && g.inos[i] == nil && g.missingFrom(sm.ino) != 0 {
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
	// inos are the spread samples of pids[i], sorted, for the processes
	// in spreadDone (spread); each written by one goroutine.
	inos       [][]uint64
	spreadDone []int
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
	span := g.span(sm)
	j, _ := slices.BinarySearch(g.wanted, sm.ino)
	for ; j < len(g.wanted) && g.wanted[j]-sm.ino <= span; j++ {
		if !g.s.has(g.wanted[j]) {
			return true
		}
	}
	return false
}

// span is how far above its first socket a process's sockets are
// expected: a few times its descriptor count (other processes' files take
// numbers from the same counter in between), or 1,024 when the count is
// unknown.
func (g *guideRun) span(sm sample) uint64 {
	if g.counted {
		return 2*uint64(sm.nfd) + 64
	}
	return 1024
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
