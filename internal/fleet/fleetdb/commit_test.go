package fleetdb

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

// TestGroupCommit: reports committed together in one SQLite transaction
// stay separate: the one that fails after writing is rolled back to its
// savepoint, the one whose client has gone is not applied, and the others
// are committed and told so.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "fleet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.commits == nil {
		t.Fatal("SQLite without group commit")
	}
	insert := func(name string) func(context.Context, *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO fleet_hosts (name, created) VALUES (?, 0)`, name)
			return err
		}
	}
	boom := errors.New("boom")
	gone, cancel := context.WithCancel(ctx)
	cancel()
	group := []*job{
		{ctx: ctx, fn: insert("one")},
		{ctx: ctx, fn: func(ctx context.Context, tx *sql.Tx) error {
			if err := insert("half")(ctx, tx); err != nil {
				return err
			}
			return boom
		}},
		{ctx: ctx, fn: insert("one")}, // a constraint the database enforces: name is unique
		{ctx: gone, fn: insert("gone")},
		{ctx: ctx, fn: insert("two")},
	}
	for _, j := range group {
		j.err = make(chan error, 1)
	}
	db.commits.commit(group)
	want := []error{nil, boom, errors.New("unique"), context.Canceled, nil}
	for i, j := range group {
		err := <-j.err
		switch {
		case want[i] == nil && err != nil, want[i] != nil && err == nil:
			t.Errorf("job %d: %v, want %v", i, err, want[i])
		case errors.Is(want[i], boom) && !errors.Is(err, boom), errors.Is(want[i], context.Canceled) && !errors.Is(err, context.Canceled):
			t.Errorf("job %d: %v, want %v", i, err, want[i])
		}
	}
	hs, err := db.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range hs {
		names = append(names, h.Name)
	}
	if len(names) != 2 || names[0] != "one" || names[1] != "two" {
		t.Errorf("hosts after the group: %q, want [one two]", names)
	}
	// Through write, concurrently: every write is answered, and after Close a write fails cleanly.
	errs := make(chan error, 50)
	for i := range 50 {
		go func() { errs <- db.write(ctx, insert("h"+string(rune('a'+i%26))+string(rune('a'+i/26)))) }()
	}
	for range 50 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	db.Close()
	if err := db.write(ctx, insert("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
}
