package fleetdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// maxGroup bounds the reports one SQLite transaction commits together.
const maxGroup = 256

// A committer is SQLite's group commit. SQLite has one writer and makes
// each commit durable with an fsync of its log (synchronous=FULL); at
// hundreds of reports a second, one fsync each was most of a report's cost.
// Reports that arrive while a commit is under way wait, and the next
// transaction applies all of them and commits once. A report is answered
// only after the commit that holds it: what is acknowledged is as durable
// as before. A report whose work fails fails alone (the group is run again
// with a savepoint around each report); a failed commit fails the whole
// group.
type committer struct {
	db   *sql.DB
	jobs chan *job
	quit chan struct{}
	done chan struct{}
}

type job struct {
	ctx context.Context
	fn  func(context.Context, *sql.Tx) error
	err chan error
}

func newCommitter(db *sql.DB) *committer {
	c := &committer{db: db, jobs: make(chan *job), quit: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// stop waits for the group under way and ends the loop; later writes fail
// with ErrClosed.
func (c *committer) stop() {
	close(c.quit)
	<-c.done
}

// write runs fn in a write transaction: on SQLite inside a group commit, on
// PostgreSQL (whose connections commit in parallel) in a transaction of its
// own. fn may run again if the transaction has to be retried, and must not
// keep state between runs.
func (db *DB) write(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if db.commits == nil {
		return db.tx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
	}
	j := &job{ctx: ctx, fn: fn, err: make(chan error, 1)}
	select {
	case db.commits.jobs <- j:
	case <-db.commits.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, a report is answered when its group is over, whatever its context says: an answer that came
	// before the commit would be a guess.
	return <-j.err
}

func (c *committer) loop() {
	defer close(c.done)
	for {
		var first *job
		select {
		case first = <-c.jobs:
		case <-c.quit:
			return
		}
		group := []*job{first}
	more:
		for len(group) < maxGroup {
			select {
			case j := <-c.jobs:
				group = append(group, j)
			default:
				break more
			}
		}
		c.commit(group)
	}
}

// commit applies group in one transaction and answers each job. It first
// runs the jobs one after another in the transaction; if one fails (rare: an
// unknown or revoked token, a database error), it rolls everything back and
// runs the group again with a savepoint around each job, so that the failure
// stays with its own report.
func (c *committer) commit(group []*job) {
	if errs, failed := c.run(group, false); failed {
		errs, _ = c.run(group, true)
		c.answer(group, errs)
	} else {
		c.answer(group, errs)
	}
}

func (c *committer) answer(group []*job, errs []error) {
	for i, j := range group {
		j.err <- errs[i]
	}
}

// run applies group in one transaction, each job in a savepoint of its own
// when savepoints is set, and returns each job's outcome. Without
// savepoints, the first job that fails rolls the transaction back and run
// returns failed; the caller runs the group again with savepoints.
func (c *committer) run(group []*job, savepoints bool) (errs []error, failed bool) {
	// The statements run on a context no request can cancel: an interrupted statement in SQLite can roll back
	// the whole transaction, and with it the other reports of the group.
	ctx := context.Background()
	errs = make([]error, len(group))
	fail := func(err error) ([]error, bool) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs, false
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	for i, j := range group {
		if err := j.ctx.Err(); err != nil {
			errs[i] = err // the client gave up before its report was applied: nothing of it is stored
			continue
		}
		if !savepoints {
			if errs[i] = j.fn(ctx, tx); errs[i] != nil {
				return nil, true
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT report`); err != nil {
			return fail(fmt.Errorf("savepoint: %w", err))
		}
		if errs[i] = j.fn(ctx, tx); errs[i] != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO report`); err != nil {
				return fail(errors.Join(errs[i], fmt.Errorf("rolling back one report: %w", err)))
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE report`); err != nil {
			return fail(fmt.Errorf("release: %w", err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(fmt.Errorf("commit: %w", err))
	}
	return errs, false
}
