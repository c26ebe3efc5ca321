package cli

import "os"

// terminate ends a process; Windows has no SIGTERM, so this is
// TerminateProcess.
func terminate(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
