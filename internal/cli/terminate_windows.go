package cli

import "os"

// Windows has no SIGTERM: both kinds of ending are TerminateProcess, and
// --force changes nothing there.
const (
	softSignalName = "TerminateProcess"
	hardSignalName = "TerminateProcess"
)

// terminate ends a process.
func terminate(pid int, _ bool) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil // gone already
	}
	return p.Kill()
}
