//go:build !windows

package safefile

import (
	"os"
	"syscall"
)

// openNonblock opens path with O_NONBLOCK: open(2) of a FIFO then returns at once instead of waiting for a
// writer. For a regular file the flag changes nothing (reads of regular files never block on it).
func openNonblock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
