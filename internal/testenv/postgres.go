package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Postgres makes an empty schema, dropped when t ends, in the PostgreSQL
// server named by PORTHOLE_TEST_POSTGRES (scripts/postgres.sh starts one and
// prints the variable), and returns a URL of that server whose search_path is
// the new schema, so that tests run side by side in one database without
// seeing each other's tables. Without the variable t stops (see Missing): a
// skipped PostgreSQL test under CI would hide a broken implementation.
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv("PORTHOLE_TEST_POSTGRES")
	if base == "" {
		Missing(t, "PORTHOLE_TEST_POSTGRES is not set; start a server with: eval \"$(scripts/postgres.sh)\"")
	}
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
		t.Fatalf("PORTHOLE_TEST_POSTGRES: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("PORTHOLE_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
