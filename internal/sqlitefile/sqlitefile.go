// Package sqlitefile opens a SQLite database file the way porthole's stores
// (feedback, fleet inventory) do: a file path in an existing directory, a new
// file readable by its owner only, WAL with synchronous=FULL, and
// connections through the pure-Go modernc.org/sqlite driver so that
// CGO_ENABLED=0 cross-builds keep working.
package sqlitefile

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// BusyTimeout is how long a connection waits for a lock held by another
// connection or process.
const BusyTimeout = 10 * time.Second

// Create checks that path's directory exists (Create makes no directories:
// the caller makes the default one, mode 0700) and creates the file, mode
// 0600, if it is missing; SQLite gives its -wal and -shm files the same
// mode. The caller names itself in the error.
func Create(path string) error {
	dir := filepath.Dir(path)
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("directory %s does not exist; create it first, or give a path in an existing directory", dir)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// OpenPools opens the database file at path as a store uses it: a writer
// pool of one connection (SQLite has one writer at a time anyway, and Go's
// pool queues more fairly than its busy handler), on which migrate runs
// first, then a read-only pool of four. name starts the errors of opening;
// migrate's errors are returned as they are. On error nothing stays open.
func OpenPools(name, path string, migrate func(w *sql.DB) error) (w, r *sql.DB, err error) {
	if w, err = open(path, false); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	w.SetMaxOpenConns(1)
	if err := migrate(w); err != nil {
		w.Close()
		return nil, nil, err
	}
	if r, err = open(path, true); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	r.SetMaxOpenConns(4)
	return w, r, nil
}

// open opens the database file at path: WAL, synchronous=FULL (a write is
// on disk when its commit returns), foreign keys on, BusyTimeout. A
// read-only pool runs with query_only; a writer takes the write lock when a
// transaction starts, not on its first write, so that two writers never
// deadlock upgrading read locks.
func open(path string, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		q.Set("_txlock", "immediate")
	}
	// The file: URI form with an escaped path keeps "?" or "#" in a file
	// name from being read as parameters.
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	if !strings.HasPrefix(u.Path, "/") {
		u.Opaque = (&url.URL{Path: u.Path}).EscapedPath()
	}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db.SetConnMaxIdleTime(time.Minute)
	return db, nil
}
