package fleetdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// BusyTimeout is how long a SQLite connection waits for a lock another
// connection or process holds.
const BusyTimeout = 10 * time.Second

// Open opens the inventory named by dsn, as the feedback store does: a
// postgres:// or postgresql:// URL is PostgreSQL; anything else is the path
// of a SQLite file (created if missing, mode 0600, in a directory that must
// exist); "" is store.DefaultPath, the file that also holds the site's
// feedback. Pending migrations are applied.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if store.IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	if dsn == "" {
		p, err := store.DefaultPath()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, fmt.Errorf("creating the data directory (use --db): %w", err)
		}
		dsn = p
	}
	return openSQLite(ctx, dsn)
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, errors.New("fleet: give the SQLite database as a file path")
	}
	switch fi, err := os.Stat(filepath.Dir(path)); {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("fleet: directory %s does not exist; create it first, or give a path in an existing directory", filepath.Dir(path))
	case err != nil:
		return nil, fmt.Errorf("fleet: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("fleet: %s is not a directory", filepath.Dir(path))
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	f.Close()
	db := &DB{}
	if db.w, err = openSQLiteDB(path, false); err != nil {
		return nil, err
	}
	// One writer: SQLite has one at a time anyway, and Go's pool queues more fairly than the busy handler.
	db.w.SetMaxOpenConns(1)
	if err := db.migrate(ctx, "sqlite", func(*sql.Tx) error { return nil }); err != nil {
		db.w.Close()
		return nil, err
	}
	if err := db.prepare(ctx); err != nil {
		db.st.close()
		db.w.Close()
		return nil, err
	}
	if db.r, err = openSQLiteDB(path, true); err != nil {
		db.st.close()
		db.w.Close()
		return nil, err
	}
	db.r.SetMaxOpenConns(4)
	db.commits = newCommitter(db.w)
	return db, nil
}

func openSQLiteDB(path string, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)") // an acknowledged report survives a crash
	q.Add("_pragma", "foreign_keys(ON)")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	if !strings.HasPrefix(u.Path, "/") {
		u.Opaque = (&url.URL{Path: u.Path}).EscapedPath()
	}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("fleet: opening %s: %w", path, err)
	}
	db.SetConnMaxIdleTime(time.Minute)
	return db, nil
}
