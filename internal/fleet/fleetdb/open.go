package fleetdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/porthole/porthole/internal/sqlitefile"
	"github.com/porthole/porthole/internal/store"
)

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
	if err := sqlitefile.Create(path); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	db := &DB{}
	var err error
	db.w, db.r, err = sqlitefile.OpenPools("fleet", path, func(w *sql.DB) error {
		db.w = w
		return db.migrate(ctx, "sqlite", func(*sql.Tx) error { return nil })
	})
	if err != nil {
		return nil, err
	}
	if err := db.prepare(ctx); err != nil {
		db.st.close()
		db.w.Close()
		db.r.Close()
		return nil, err
	}
	db.commits = newCommitter(db.w)
	return db, nil
}
