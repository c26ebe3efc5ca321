// Package sqlite is the default feedback store: one SQLite file, through the pure-Go modernc.org/sqlite driver so
// that CGO_ENABLED=0 cross-builds keep working.
//
// The database runs in WAL mode with synchronous=FULL, so a record is on disk when Add returns. Writes go through
// one writer goroutine on a pool of one connection (SQLite has one writer at a time anyway, and queuing in Go is
// fairer than SQLite's busy handler under load). The writer commits the adds waiting at the same moment in one
// transaction, so concurrent posts share one fsync instead of paying one each ("group commit"); each Add still
// returns only after the commit that holds its record. Reads use their own small pool and are not blocked by the
// writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/porthole/porthole/internal/sqlitefile"
	"github.com/porthole/porthole/internal/store/record"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is a feedback store in one SQLite file.
type Store struct {
	w, r       *sql.DB
	now        func() time.Time
	adds       chan addRequest // unbuffered: a send succeeds only when the writer takes it
	closed     chan struct{}   // closed by Close: the writer stops, Add refuses
	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error
}

type addRequest struct {
	ctx  context.Context
	f    record.Feedback
	done chan addResult // buffered, so the writer never waits for the caller
}

type addResult struct {
	id  int64
	err error
}

// maxBatch bounds how many adds share one transaction.
const maxBatch = 256

// Option configures Open.
type Option func(*Store)

// WithClock sets the clock used for records added with a zero Created time.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// Open opens (creating if needed) the database file at path and applies pending migrations. The directory must
// exist: Open creates no directories (the caller creates the default one, mode 0700). A new file gets mode 0600,
// since comments are user data.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if path == ":memory:" || strings.HasPrefix(path, "file::memory:") {
		// The store opens the file twice (a writer and a reader pool); two in-memory databases would not be one.
		return nil, errors.New("sqlite: in-memory databases are not supported; use a file (in tests, under t.TempDir())")
	}
	if err := sqlitefile.Create(path); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s := &Store{now: time.Now, adds: make(chan addRequest), closed: make(chan struct{}), writerDone: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	var err error
	s.w, s.r, err = sqlitefile.OpenPools("sqlite", path, func(w *sql.DB) error {
		s.w = w
		return s.migrate(ctx)
	})
	if err != nil {
		return nil, err
	}
	go s.writer()
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	ms, err := record.ReadMigrations(migrationFS, "migrations")
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name    TEXT    NOT NULL,
		applied INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlite: creating schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := s.apply(ctx, m); err != nil {
			return err
		}
	}
	var newest int
	if err := s.w.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("sqlite: reading schema version: %w", err)
	}
	if newest > len(ms) {
		return fmt.Errorf("sqlite: database schema version %d is newer than this program knows (%d)", newest, len(ms))
	}
	return nil
}

// apply runs one migration in its own immediate transaction, unless it is already recorded; a second process
// migrating at the same time waits for the lock and then finds the version present.
func (s *Store) apply(ctx context.Context, m record.Migration) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("sqlite: recording migration %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
	}
	return nil
}

// SchemaVersion returns the newest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, s.wrap("schema version", err)
}

// Check runs SQLite's integrity check and returns an error unless the database is intact.
func (s *Store) Check(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return s.wrap("integrity check", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return s.wrap("integrity check", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return s.wrap("integrity check", err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("sqlite: integrity check: %s", strings.Join(msgs, "; "))
	}
	return nil
}

// Add implements store.Store. It hands the record to the writer and returns after the transaction holding it has
// committed (and, with synchronous=FULL, the WAL has been fsynced).
func (s *Store) Add(ctx context.Context, f record.Feedback) (int64, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	if f.Created.IsZero() {
		f.Created = s.now()
	}
	req := addRequest{ctx: ctx, f: f.Normalize(), done: make(chan addResult, 1)}
	select {
	case s.adds <- req:
	case <-s.closed:
		return 0, fmt.Errorf("sqlite: add: %w", record.ErrClosed)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	// Once taken, the request is answered whatever happens to ctx: the caller must learn whether it committed.
	res := <-req.done
	return res.id, res.err
}

// writer serialises every insert: it takes one waiting add, gathers the others already waiting, and commits them
// together.
func (s *Store) writer() {
	defer close(s.writerDone)
	for {
		var first addRequest
		select {
		case first = <-s.adds:
		case <-s.closed:
			return
		}
		batch := []addRequest{first}
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-s.adds:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		s.commit(batch)
	}
}

func (s *Store) commit(batch []addRequest) {
	results := make([]addResult, len(batch))
	err := func() error {
		// Not a caller's context: the transaction serves every caller in the batch.
		ctx := context.Background()
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		stmt, err := tx.PrepareContext(ctx,
			`INSERT INTO feedback (port, lang, rating, comment, created) VALUES (?, ?, ?, ?, ?) RETURNING id`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, r := range batch {
			if err := r.ctx.Err(); err != nil {
				results[i].err = err // the caller gave up before its turn: do not store it
				continue
			}
			f := r.f
			// A failed statement is rolled back alone; the rest of the batch goes on.
			results[i].err = stmt.QueryRowContext(ctx, f.Port, f.Lang, f.Rating, f.Comment, f.Created.UnixMicro()).
				Scan(&results[i].id)
		}
		return tx.Commit()
	}()
	for i, r := range batch {
		res := results[i]
		switch {
		case res.err != nil:
			res.id = 0
			if r.ctx.Err() == nil || !errors.Is(res.err, r.ctx.Err()) {
				res.err = s.wrap("add", res.err)
			}
		case err != nil:
			res = addResult{err: s.wrap("add", err)}
		}
		r.done <- res
	}
}

const columns = `id, port, lang, rating, comment, created`

type scanner interface{ Scan(...any) error }

func scan(row scanner) (record.Feedback, error) {
	var f record.Feedback
	var created int64
	err := row.Scan(&f.ID, &f.Port, &f.Lang, &f.Rating, &f.Comment, &created)
	f.Created = time.UnixMicro(created).UTC()
	return f, err
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, id int64) (record.Feedback, error) {
	f, err := scan(s.r.QueryRowContext(ctx, `SELECT `+columns+` FROM feedback WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return record.Feedback{}, fmt.Errorf("%w: id %d", record.ErrNotFound, id)
	}
	return f, s.wrap("get", err)
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, o record.ListOptions) ([]record.Feedback, error) {
	// The filters are fixed SQL with placeholders; an unused filter is switched off by its own parameter.
	rows, err := s.r.QueryContext(ctx, `SELECT `+columns+` FROM feedback
		WHERE (? = 0 OR port = ?) AND (? = '' OR lang = ?) AND (? = 0 OR id < ?)
		ORDER BY id DESC LIMIT ?`,
		o.ByPort, o.Port, o.Lang, o.Lang, o.BeforeID, o.BeforeID, o.EffectiveLimit())
	if err != nil {
		return nil, s.wrap("list", err)
	}
	defer rows.Close()
	out := []record.Feedback{}
	for rows.Next() {
		f, err := scan(rows)
		if err != nil {
			return nil, s.wrap("list", err)
		}
		out = append(out, f)
	}
	return out, s.wrap("list", rows.Err())
}

// Summary implements store.Store.
func (s *Store) Summary(ctx context.Context, port int, lang string) (record.Counts, error) {
	var c record.Counts
	err := s.r.QueryRowContext(ctx, `SELECT
			coalesce(sum(rating = 'unhelpful'), 0), coalesce(sum(rating = 'neutral'), 0), coalesce(sum(rating = 'helpful'), 0)
		FROM feedback WHERE port = ? AND (? = '' OR lang = ?)`, port, lang, lang).
		Scan(&c.Unhelpful, &c.Neutral, &c.Helpful)
	return c, s.wrap("summary", err)
}

// Ports implements store.Store.
func (s *Store) Ports(ctx context.Context, limit int) ([]record.PortCounts, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT port,
			sum(rating = 'unhelpful'), sum(rating = 'neutral'), sum(rating = 'helpful')
		FROM feedback GROUP BY port ORDER BY count(*) DESC, port LIMIT ?`,
		record.ListOptions{Limit: limit}.EffectiveLimit())
	if err != nil {
		return nil, s.wrap("ports", err)
	}
	defer rows.Close()
	out := []record.PortCounts{}
	for rows.Next() {
		var p record.PortCounts
		if err := rows.Scan(&p.Port, &p.Unhelpful, &p.Neutral, &p.Helpful); err != nil {
			return nil, s.wrap("ports", err)
		}
		out = append(out, p)
	}
	return out, s.wrap("ports", rows.Err())
}

// Export implements store.Store. It reads in pages, so no read transaction stays open while fn runs and a slow
// consumer never holds back WAL checkpoints.
func (s *Store) Export(ctx context.Context, fn func(record.Feedback) error) error {
	return record.Paginate(func(after int64, limit int) ([]record.Feedback, error) {
		rows, err := s.r.QueryContext(ctx,
			`SELECT `+columns+` FROM feedback WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
		if err != nil {
			return nil, s.wrap("export", err)
		}
		defer rows.Close()
		batch := make([]record.Feedback, 0, limit)
		for rows.Next() {
			f, err := scan(rows)
			if err != nil {
				return nil, s.wrap("export", err)
			}
			batch = append(batch, f)
		}
		return batch, s.wrap("export", rows.Err())
	}, fn)
}

// Close implements store.Store: it checkpoints the WAL into the main file (through the writer's close) and
// releases both pools.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		<-s.writerDone
		rerr := s.r.Close()
		werr := s.w.Close()
		s.closeErr = errors.Join(rerr, werr)
	})
	return s.closeErr
}

func (s *Store) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrConnDone), err.Error() == "sql: database is closed":
		return fmt.Errorf("sqlite: %s: %w", op, record.ErrClosed)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}
