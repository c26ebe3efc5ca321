package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/store"
	"github.com/porthole/porthole/internal/store/sqlite"
	"github.com/porthole/porthole/internal/store/storetest"

	_ "modernc.org/sqlite"
)

var _ store.Store = (*sqlite.Store)(nil)

func mustOpen(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.WithClock(storetest.NewClock().Now))
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "feedback.db"))
	})
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "feedback.db")
	s := mustOpen(t, path)
	id, err := s.Add(ctx, store.Feedback{Port: 2556, Lang: "en", Rating: store.Helpful, Created: storetest.Base})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for range 3 {
		s = mustOpen(t, path)
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != 1 {
			t.Errorf("SchemaVersion = %d, %v; want 1", v, err)
		}
		if _, err := s.Get(ctx, id); err != nil {
			t.Errorf("after reopening: %v", err)
		}
		if err := s.Check(ctx); err != nil {
			t.Error(err)
		}
		s.Close()
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	if err := db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("schema_migrations has %d rows, %v; want 1", rows, err)
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("database file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
		}
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feedback.db")
	mustOpen(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied) VALUES (99, '0099_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema = %v, want an error saying so", err)
	}
}

func TestOddPaths(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"with space.db", "query?x=1.db", "hash#frag.db", "percent%20.db", "한국어.db"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			s := mustOpen(t, path)
			defer s.Close()
			if _, err := s.Add(context.Background(), store.Feedback{Port: 1, Lang: "en", Rating: store.Helpful}); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("database not at the given path: %v", err)
			}
		})
	}
}

// TestCreatesNoDirectories: a path in a missing directory is refused, and
// nothing is created on the way (it used to create every missing directory
// up from the root).
func TestCreatesNoDirectories(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "missing", "dir", "feedback.db")
	s, err := sqlite.Open(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open in a missing directory succeeded")
	}
	if !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("error %q does not say what is wrong", err)
	}
	if _, err := os.Stat(filepath.Join(root, "missing")); !os.IsNotExist(err) {
		t.Errorf("Open created %s/missing (%v)", root, err)
	}
}

func TestRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	s := mustOpen(t, "rel.db")
	s.Close()
	if _, err := os.Stat("rel.db"); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesMemory(t *testing.T) {
	for _, p := range []string{":memory:", "", "file::memory:?cache=shared"} {
		if s, err := sqlite.Open(context.Background(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}
