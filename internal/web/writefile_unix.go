//go:build unix

package web

import (
	"golang.org/x/sys/unix"
)

// writeFile writes an export file with three system calls: os.WriteFile
// also tries to register each file with the runtime's poller, which costs a
// fourth and shows in an export of 131,072 files. It does not follow a
// symbolic link at path: an export updated in place writes its own files
// only.
func writeFile(path string, b []byte) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return &pathError{Op: "open", Path: path, Err: err}
	}
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			unix.Close(fd)
			return &pathError{Op: "write", Path: path, Err: err}
		}
		b = b[n:]
	}
	if err := unix.Close(fd); err != nil {
		return &pathError{Op: "close", Path: path, Err: err}
	}
	return nil
}
