package sockets

import (
	"runtime"
	"sync"

	"github.com/porthole/porthole/internal/process"
)

// lookupAll runs process.Lookup for each distinct pid in parallel and
// returns the ones that still exist.
func lookupAll(pids []int) map[int]process.Info {
	uniq := make([]int, 0, len(pids))
	seen := make(map[int]bool, len(pids))
	for _, p := range pids {
		if p > 0 && !seen[p] {
			seen[p] = true
			uniq = append(uniq, p)
		}
	}
	res := make([]process.Info, len(uniq))
	ok := make([]bool, len(uniq))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2*runtime.GOMAXPROCS(0))
	for i, p := range uniq {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			info, err := process.Lookup(p)
			res[i], ok[i] = info, err == nil
		}()
	}
	wg.Wait()
	out := make(map[int]process.Info, len(uniq))
	for i, p := range uniq {
		if ok[i] {
			out[p] = res[i]
		}
	}
	return out
}

// attachPIDs sets the owners of ls[i] from pids[i] (systems that report the
// PID with the socket: macOS, Windows). A PID that cannot be described is
// still reported with what is known (the PID itself), since the system
// vouched for it.
func attachPIDs(ls []Listener, pids [][]int, noOwners bool) {
	if noOwners {
		for i := range ls {
			ls[i].OwnerUnknown = OwnerSkipped
		}
		return
	}
	var all []int
	for _, ps := range pids {
		all = append(all, ps...)
	}
	infos := lookupAll(all)
	for i := range ls {
		for _, p := range pids[i] {
			info, ok := infos[p]
			if !ok {
				info = process.Info{PID: p, UID: -1}
			}
			ls[i].Owners = append(ls[i].Owners, info)
		}
		if len(ls[i].Owners) == 0 {
			ls[i].OwnerUnknown = OwnerNoPID
		} else if len(ls[i].Owners) > 1 {
			sortInfos(ls[i].Owners)
		}
	}
}
