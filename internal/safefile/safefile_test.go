package safefile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/safefile"
)

func TestReadFileRegular(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b")
	if err := os.WriteFile(p, []byte("tcp 22\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := safefile.ReadFile(p, 100)
	if err != nil || string(b) != "tcp 22\n" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	if _, err := safefile.ReadFile(p, 3); !errors.Is(err, safefile.ErrTooLarge) {
		t.Errorf("over the limit: %v, want ErrTooLarge", err)
	}
	if _, err := safefile.ReadFile(filepath.Join(t.TempDir(), "missing"), 100); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}

func TestDirectoryRefused(t *testing.T) {
	dir := t.TempDir()
	_, err := safefile.ReadFile(dir, 100)
	if !errors.Is(err, safefile.ErrNotRegular) || !strings.Contains(err.Error(), "is a directory, not a regular file") {
		t.Fatalf("directory: %v", err)
	}
}
