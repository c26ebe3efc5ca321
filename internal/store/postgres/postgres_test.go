package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/porthole/porthole/internal/store"
	"github.com/porthole/porthole/internal/store/postgres"
	"github.com/porthole/porthole/internal/store/storetest"
	"github.com/porthole/porthole/internal/testenv"
)

var _ store.Store = (*postgres.Store)(nil)

func mustOpen(t *testing.T, u string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), u, postgres.WithClock(storetest.NewClock().Now))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	testenv.Postgres(t) // stops here without a server, not in each subtest
	storetest.Run(t, func(t *testing.T) store.Store { return mustOpen(t, testenv.Postgres(t)) })
}

func TestMigrationsIdempotentAndConcurrent(t *testing.T) {
	u := testenv.Postgres(t)
	ctx := context.Background()
	// Several replicas starting at once all succeed and the schema is migrated once.
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, 5)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(ctx, u) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open #%d: %v", i, err)
		}
		v, err := stores[i].SchemaVersion(ctx)
		if err != nil || v != 1 {
			t.Errorf("SchemaVersion = %d, %v; want 1", v, err)
		}
		stores[i].Close()
	}
	s := mustOpen(t, u)
	defer s.Close()
	var n int
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations rows = %d, %v; want 1", n, err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	u := testenv.Postgres(t)
	ctx := context.Background()
	mustOpen(t, u).Close()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (99, 'future')`); err != nil {
		t.Fatal(err)
	}
	if s, err := postgres.Open(ctx, u); err == nil {
		s.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
}

func TestBadURLDoesNotLeakPassword(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://user:s3cret@127.0.0.1:notaport/db")
	if err == nil {
		t.Fatal("Open of a bad URL succeeded")
	}
	if got := err.Error(); strings.Contains(got, "s3cret") {
		t.Errorf("error %q quotes the password", got)
	}
}
