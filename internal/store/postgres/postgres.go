// Package postgres is the feedback store for installations that outgrow one SQLite file (several serve replicas
// sharing one database). It uses pgx v5 with a connection pool; every query uses placeholders.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/porthole/porthole/internal/store/record"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the advisory lock key that serialises migrations of several processes starting at once.
const migrationLock = 0x706f7274686f6c65 // "porthole"

// Store is a feedback store in a PostgreSQL database.
type Store struct {
	pool      *pgxpool.Pool
	now       func() time.Time
	closeOnce sync.Once
}

// Option configures Open.
type Option func(*Store)

// WithClock sets the clock used for records added with a zero Created time.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// Open connects to the database at url (postgres:// or postgresql://, any libpq parameters such as sslmode or
// search_path) and applies pending migrations.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included; say only what kind of error it is.
		return nil, errors.New("postgres: cannot parse the database URL")
	}
	s := &Store{now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	ms, err := record.ReadMigrations(migrationFS, "migrations")
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connecting: %w", err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrating: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		name    text        NOT NULL,
		applied timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("postgres: creating schema_migrations: %w", err)
	}
	var newest int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("postgres: reading schema version: %w", err)
	}
	if newest > len(ms) {
		return fmt.Errorf("postgres: database schema version %d is newer than this program knows (%d)", newest, len(ms))
	}
	// PostgreSQL has transactional DDL: all pending steps commit together or not at all.
	for _, m := range ms[newest:] {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return fmt.Errorf("postgres: recording migration %s: %w", m.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: migrating: %w", err)
	}
	return nil
}

// SchemaVersion returns the newest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, wrap("schema version", err)
}

// Add implements store.Store. The insert is its own transaction; Add returns after the commit.
func (s *Store) Add(ctx context.Context, f record.Feedback) (int64, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	if f.Created.IsZero() {
		f.Created = s.now()
	}
	f = f.Normalize()
	var id int64
	err := s.pool.QueryRow(ctx,
		`INSERT INTO feedback (port, lang, rating, comment, created) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		f.Port, f.Lang, f.Rating, f.Comment, f.Created).Scan(&id)
	if err != nil {
		return 0, wrap("add", err)
	}
	return id, nil
}

const columns = `id, port, lang, rating, comment, created`

func scan(row pgx.Row) (record.Feedback, error) {
	var f record.Feedback
	err := row.Scan(&f.ID, &f.Port, &f.Lang, &f.Rating, &f.Comment, &f.Created)
	f.Created = f.Created.UTC()
	return f, err
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, id int64) (record.Feedback, error) {
	f, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM feedback WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return record.Feedback{}, fmt.Errorf("%w: id %d", record.ErrNotFound, id)
	}
	return f, wrap("get", err)
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, o record.ListOptions) ([]record.Feedback, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM feedback
		WHERE (NOT $1 OR port = $2) AND ($3 = '' OR lang = $3) AND ($4 = 0 OR id < $4)
		ORDER BY id DESC LIMIT $5`,
		o.ByPort, o.Port, o.Lang, o.BeforeID, o.EffectiveLimit())
	if err != nil {
		return nil, wrap("list", err)
	}
	out := []record.Feedback{}
	for rows.Next() {
		f, err := scan(rows)
		if err != nil {
			rows.Close()
			return nil, wrap("list", err)
		}
		out = append(out, f)
	}
	return out, wrap("list", rows.Err())
}

// Summary implements store.Store.
func (s *Store) Summary(ctx context.Context, port int, lang string) (record.Counts, error) {
	var c record.Counts
	err := s.pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE rating = 'unhelpful'),
			count(*) FILTER (WHERE rating = 'neutral'),
			count(*) FILTER (WHERE rating = 'helpful')
		FROM feedback WHERE port = $1 AND ($2 = '' OR lang = $2)`, port, lang).
		Scan(&c.Unhelpful, &c.Neutral, &c.Helpful)
	return c, wrap("summary", err)
}

// Ports implements store.Store.
func (s *Store) Ports(ctx context.Context, limit int) ([]record.PortCounts, error) {
	rows, err := s.pool.Query(ctx, `SELECT port,
			count(*) FILTER (WHERE rating = 'unhelpful'),
			count(*) FILTER (WHERE rating = 'neutral'),
			count(*) FILTER (WHERE rating = 'helpful')
		FROM feedback GROUP BY port ORDER BY count(*) DESC, port LIMIT $1`,
		record.ListOptions{Limit: limit}.EffectiveLimit())
	if err != nil {
		return nil, wrap("ports", err)
	}
	out := []record.PortCounts{}
	for rows.Next() {
		var p record.PortCounts
		if err := rows.Scan(&p.Port, &p.Unhelpful, &p.Neutral, &p.Helpful); err != nil {
			rows.Close()
			return nil, wrap("ports", err)
		}
		out = append(out, p)
	}
	return out, wrap("ports", rows.Err())
}

// Export implements store.Store, reading in keyset pages so that no query stays open while fn runs.
func (s *Store) Export(ctx context.Context, fn func(record.Feedback) error) error {
	return record.Paginate(func(after int64, limit int) ([]record.Feedback, error) {
		rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM feedback WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
		if err != nil {
			return nil, wrap("export", err)
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (record.Feedback, error) { return scan(r) })
		return batch, wrap("export", err)
	}, fn)
}

// Close implements store.Store; it waits for connections in use to be released.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}

func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case err.Error() == "closed pool":
		return fmt.Errorf("postgres: %s: %w", op, record.ErrClosed)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}
