// Package safefile opens files that a user named on the command line without trusting what they name. A path
// can name a FIFO (open(2) blocks until a writer comes, forever if none does), a device (reads never end), a
// directory or a socket; Open refuses all of them without blocking, so a command never hangs on its input.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is matched (errors.Is) by the error Open returns for anything but a regular file.
var ErrNotRegular = errors.New("not a regular file")

// NotRegularError names the path and what it is instead of a regular file.
type NotRegularError struct {
	Path string
	Kind string // "a named pipe (FIFO)", "a directory", ...
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file; porthole reads only regular files", e.Path, e.Kind)
}

// Is makes errors.Is(err, ErrNotRegular) true.
func (e *NotRegularError) Is(target error) bool { return target == ErrNotRegular }

// kind describes a non-regular file mode.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "a special file"
}

// Open opens path for reading without blocking, even when path names a FIFO, and returns the file with what
// fstat(2) says of it (not stat(2): the file checked is the file opened, so a path swapped in between cannot
// slip through). Anything but a regular file is closed and refused with a *NotRegularError.
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := openNonblock(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, &NotRegularError{Path: path, Kind: kind(fi.Mode())}
	}
	return f, fi, nil
}

// ErrTooLarge is matched by the error ReadFile returns for a file over its limit.
var ErrTooLarge = errors.New("file too large")

// ReadFile reads the regular file at path, refusing non-regular files (see Open) and files over max bytes
// (without reading them whole; a file that grows while read is cut off at max+1 bytes and refused too).
func ReadFile(path string, max int64) ([]byte, error) {
	f, fi, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > max {
		return nil, fmt.Errorf("%s: %w (%d bytes; the limit is %d)", path, ErrTooLarge, fi.Size(), max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w (the limit is %d bytes)", path, ErrTooLarge, max)
	}
	return b, nil
}
