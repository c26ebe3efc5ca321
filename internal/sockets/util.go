package sockets

import (
	"cmp"
	"slices"

	"github.com/porthole/porthole/internal/process"
)

func sortInfos(ps []process.Info) {
	slices.SortFunc(ps, func(a, b process.Info) int { return cmp.Compare(a.PID, b.PID) })
}
