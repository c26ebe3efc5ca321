package store_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/porthole/porthole/internal/store"
)

func TestIsPostgres(t *testing.T) {
	tests := []struct {
		dsn  string
		want bool
	}{
		{"postgres://u@127.0.0.1/db", true},
		{"postgresql://u@127.0.0.1/db", true},
		{"POSTGRES://u@127.0.0.1/db", true},
		{"/var/lib/porthole/feedback.db", false},
		{"feedback.db", false},
		{"postgres.db", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := store.IsPostgres(tc.dsn); got != tc.want {
			t.Errorf("IsPostgres(%q) = %v, want %v", tc.dsn, got, tc.want)
		}
	}
}

func TestOpenSQLitePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(context.Background(), store.Feedback{Port: 2556, Lang: "en", Rating: store.Helpful}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestOpenDefaultPathHonoursXDG(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_DATA_HOME applies on Linux and the BSDs")
	}
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", dir)
	want := filepath.Join(dir, "porthole", "feedback.db")
	if got, err := store.DefaultPath(); err != nil || got != want {
		t.Fatalf("DefaultPath = %q, %v; want %q", got, err, want)
	}
	s, err := store.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(want); err != nil {
		t.Fatal(err)
	}
	// The default directory is the one Open creates, for its owner only.
	if fi, err := os.Stat(filepath.Dir(want)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory: %v, %v; want mode 0700", fi, err)
	}
	t.Setenv("XDG_DATA_HOME", "relative/ignored")
	t.Setenv("HOME", dir)
	if got, _ := store.DefaultPath(); got != filepath.Join(dir, ".local", "share", "porthole", "feedback.db") {
		t.Errorf("with a relative XDG_DATA_HOME DefaultPath = %q, want under $HOME/.local/share", got)
	}
}

func TestOpenPostgresBadURL(t *testing.T) {
	if _, err := store.Open(context.Background(), "postgres://u:p@127.0.0.1:notaport/db"); err == nil {
		t.Fatal("Open of a bad postgres URL succeeded")
	}
}
