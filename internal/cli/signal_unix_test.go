//go:build !windows

package cli

import "syscall"

// zeroSignal checks that a process exists without disturbing it.
var zeroSignal = syscall.Signal(0)
