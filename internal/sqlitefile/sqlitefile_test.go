package sqlitefile

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCreate(t *testing.T) {
	dir := t.TempDir()
	if err := Create(filepath.Join(dir, "missing", "db.sqlite")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Create in a missing directory: %v, want an error saying it does not exist", err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Create(filepath.Join(file, "db.sqlite")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Create under a file: %v, want an error saying it is not a directory", err)
	}
	p := filepath.Join(dir, "db?x#y.sqlite") // URI syntax in the name stays part of the name
	if err := Create(p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestOpenPools(t *testing.T) {
	p := filepath.Join(t.TempDir(), "db?x#y.sqlite")
	if err := Create(p); err != nil {
		t.Fatal(err)
	}
	w, r, err := OpenPools("test", p, func(w *sql.DB) error {
		_, err := w.Exec(`CREATE TABLE t (v INTEGER)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer r.Close()
	if _, err := w.Exec(`INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := r.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Errorf("reader sees %d rows (%v), want 1", n, err)
	}
	if _, err := r.Exec(`INSERT INTO t VALUES (2)`); err == nil {
		t.Error("the read-only pool accepted a write")
	}
	var mode string
	if err := r.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q (%v), want wal", mode, err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("the database is not the file named: %v", err)
	}

	boom := errors.New("boom")
	if _, _, err := OpenPools("test", p, func(*sql.DB) error { return boom }); err != boom {
		t.Errorf("a failed migration returned %v, want it as it was", err)
	}
}
