//go:build !windows

package cli

import (
	"errors"
	"syscall"
)

// signalNames are what --kill reports sending.
const (
	softSignalName = "SIGTERM"
	hardSignalName = "SIGKILL"
)

// terminate asks a process to end (SIGTERM), or with hard ends it
// (SIGKILL). A process that is already gone is not an error.
func terminate(pid int, hard bool) error {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
