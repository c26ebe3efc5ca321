package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
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

// serverURL returns the test server's URL from PORTHOLE_TEST_POSTGRES (see scripts/postgres.sh). Without it the
// test is skipped locally, and fails under CI, where a skipped store would hide a broken implementation.
func serverURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("PORTHOLE_TEST_POSTGRES")
	if u == "" {
		testenv.Missing(t, "PORTHOLE_TEST_POSTGRES is not set; start a server with: eval \"$(scripts/postgres.sh)\"")
	}
	return u
}

// freshSchema creates an empty schema for one test and returns a URL whose search_path points at it, so tests
// run side by side in one database without seeing each other's tables.
func freshSchema(t *testing.T) string {
	t.Helper()
	base := serverURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to PORTHOLE_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func mustOpen(t *testing.T, u string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), u, postgres.WithClock(storetest.NewClock().Now))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	serverURL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return mustOpen(t, freshSchema(t)) })
}

func TestMigrationsIdempotentAndConcurrent(t *testing.T) {
	u := freshSchema(t)
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
	u := freshSchema(t)
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
