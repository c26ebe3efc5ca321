//go:build unix

package registry

import (
	"os"
	"syscall"
)

// openNoBlock opens path for reading without blocking on a FIFO or a
// device; the caller checks that it is a regular file.
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
