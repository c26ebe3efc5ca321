//go:build !windows

package cli

import "syscall"

// terminate asks a process to end (SIGTERM).
func terminate(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }
