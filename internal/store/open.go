package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/porthole/porthole/internal/store/sqlite"
)

// Open opens the store named by dsn: a postgres:// or postgresql:// URL opens PostgreSQL; anything else is the path
// of a SQLite file (created if missing, in a directory that must exist); "" means DefaultPath, whose porthole
// directory (mode 0700) is the only directory Open ever creates.
func Open(ctx context.Context, dsn string) (Store, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	if dsn == "" {
		p, err := DefaultPath()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, fmt.Errorf("creating the data directory (use --db): %w", err)
		}
		dsn = p
	}
	return sqlite.Open(ctx, dsn)
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	l := strings.ToLower(dsn)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// DefaultPath is where the SQLite feedback database lives when no --db is given: porthole/feedback.db in the user's
// data directory — $XDG_DATA_HOME or ~/.local/share on Linux and the BSDs, the user's Application Support folder
// on macOS, %LocalAppData% on Windows.
func DefaultPath() (string, error) {
	dir, err := dataDir()
	if err != nil {
		return "", fmt.Errorf("finding the data directory (use --db): %w", err)
	}
	return filepath.Join(dir, "porthole", "feedback.db"), nil
}

func dataDir() (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return d, nil
		}
		return os.UserConfigDir()
	case "darwin", "ios", "plan9":
		return os.UserConfigDir()
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	if home == "" {
		return "", errors.New("no home directory")
	}
	return filepath.Join(home, ".local", "share"), nil
}
