//go:build !nopostgres

package fleetdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// migrationLock is the advisory lock key that serialises the fleet
// migrations of several serve replicas starting at once ("phfleet").
const migrationLock = 0x7068666c656574

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("fleet: cannot parse the PostgreSQL URL")
	}
	sdb := stdlib.OpenDB(*cfg)
	sdb.SetMaxOpenConns(16)
	db := &DB{w: sdb, r: sdb, postgres: true}
	if err := db.migrate(ctx, "postgres", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock))
		return err
	}); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("%w", err)
	}
	if err := db.prepare(ctx); err != nil {
		db.st.close()
		sdb.Close()
		return nil, err
	}
	return db, nil
}
