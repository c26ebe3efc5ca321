// Package testenv is the test support shared by porthole's packages: checks
// for what a test needs (root, a tool, Linux, network namespaces, BTF) that
// skip locally with a reason and fail when the environment variable CI is set;
// a buffer safe for concurrent use; golden files; and the helper-process
// protocol, in which a test binary re-executes itself to hold real sockets.
//
// It is imported only by _test.go files.
package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"
)

// CI reports whether the tests run under CI (the environment variable CI is
// set), where a missing requirement is a failure, not a skip.
func CI() bool { return os.Getenv("CI") != "" }

// Missing stops t because something it needs is missing: a skip with the
// reason locally, a failure when CI is set.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if CI() {
		t.Fatalf("%s (required when CI is set)", msg)
	}
	t.Skip(msg)
}

// NeedLinux stops t on any other system.
func NeedLinux(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		Missing(t, "needs Linux, have %s", runtime.GOOS)
	}
}

// NeedRoot stops t unless it runs as root (other users' sockets and
// processes, namespaces, BPF).
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root (euid %d)", os.Geteuid())
	}
}

// NeedTool stops t unless name is on PATH, and returns its path. pkg names
// the Debian package that has it, for the message ("" when it is the same).
func NeedTool(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if pkg == "" {
			pkg = name
		}
		Missing(t, "%s not found (Debian package %s; scripts/test.sh installs it)", name, pkg)
	}
	return path
}

// NeedNetNS stops t unless it can make network namespaces with unshare -n:
// Linux, root and util-linux's unshare.
func NeedNetNS(t testing.TB) {
	t.Helper()
	NeedLinux(t)
	NeedTool(t, "unshare", "util-linux")
	if os.Geteuid() != 0 {
		Missing(t, "needs root to create a network namespace (euid %d)", os.Geteuid())
	}
}

// HaveBTF reports whether the kernel publishes its BTF type information
// (/sys/kernel/btf/vmlinux), which porthole's BPF programs need.
func HaveBTF() bool {
	_, err := os.Stat("/sys/kernel/btf/vmlinux")
	return err == nil
}

// NeedBPF stops t when err (from loading a BPF program) is not nil. Without
// root or without BTF a load cannot succeed, so that is a skip even under CI;
// as root on a BTF kernel under CI the failure is porthole's and t fails.
func NeedBPF(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if CI() && os.Geteuid() == 0 && HaveBTF() {
		t.Fatalf("%s did not load as root on a BTF kernel: %v", what, err)
	}
	t.Skipf("%s unavailable (needs root and a BTF kernel): %v", what, err)
}

// SyncBuffer is a bytes.Buffer safe for one writer and readers in other
// goroutines: a child process's output, a logger under concurrent handlers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Bytes returns a copy of what was written so far.
func (s *SyncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FirstLines returns the first n lines of b, each with its newline (all of
// b when it has fewer): a download cut short, in the registry tests.
func FirstLines(b []byte, n int) []byte {
	i := 0
	for ; n > 0 && i < len(b); n-- {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return b
		}
		i += j + 1
	}
	return b[:i]
}
