//go:build !windows

package safefile_test

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/porthole/porthole/internal/safefile"
)

// A FIFO with no writer: a plain open(2) would wait forever. The test would hang (and time out) if Open blocked.
func TestFIFORefusedWithoutBlocking(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := safefile.ReadFile(p, 100)
	if !errors.Is(err, safefile.ErrNotRegular) {
		t.Fatalf("FIFO: %v, want ErrNotRegular", err)
	}
	if want := p + " is a named pipe (FIFO), not a regular file"; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not say %q", err, want)
	}
}

func TestCharDeviceRefused(t *testing.T) {
	_, err := safefile.ReadFile("/dev/zero", 100)
	if !errors.Is(err, safefile.ErrNotRegular) || !strings.Contains(err.Error(), "character device") {
		t.Fatalf("/dev/zero: %v", err)
	}
}
