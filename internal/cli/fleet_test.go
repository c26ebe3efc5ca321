package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/fleet/fleetdb"
)

func TestFleetTokenAndRevoke(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "fleet.db")
	r := run(t, "", "fleet", "token", "web-1", "--db", db)
	if r.code != ExitOK {
		t.Fatalf("fleet token: %d %s", r.code, r.stderr)
	}
	tok := strings.TrimSuffix(r.stdout, "\n")
	if strings.Contains(tok, "\n") || !fleet.ValidToken(tok) {
		t.Fatalf("stdout %q is not one token line", r.stdout)
	}
	if !strings.Contains(r.stderr, "created") {
		t.Errorf("stderr %q does not say the host was created", r.stderr)
	}
	// The database holds the hash, never the token.
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), tok) || strings.Contains(string(raw), tok[len(fleet.TokenPrefix):]) {
		t.Error("the database file holds the token itself")
	}
	r2 := run(t, "", "fleet", "token", "--db", db, "web-1")
	if r2.code != ExitOK || r2.stdout == r.stdout || !strings.Contains(r2.stderr, "no longer works") {
		t.Fatalf("second token: %d %q %q", r2.code, r2.stdout, r2.stderr)
	}
	st, err := fleetdb.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.HostByToken(ctx, fleet.HashToken(tok)); err == nil {
		t.Error("the first token still works")
	}
	if name, err := st.HostByToken(ctx, fleet.HashToken(strings.TrimSpace(r2.stdout))); err != nil || name != "web-1" {
		t.Errorf("the new token: %q, %v", name, err)
	}
	st.Close()

	if r := run(t, "", "fleet", "revoke", "web-1", "--db", db); r.code != ExitOK || r.stdout != "" {
		t.Fatalf("revoke: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run(t, "", "fleet", "revoke", "web-2", "--db", db); r.code != ExitNotFound || !strings.Contains(r.stderr, "web-2") {
		t.Errorf("revoke of an unknown host: %d %q", r.code, r.stderr)
	}
	missing := filepath.Join(t.TempDir(), "none.db")
	if r := run(t, "", "fleet", "revoke", "web-1", "--db", missing); r.code != ExitNotFound {
		t.Errorf("revoke without a database: %d %q", r.code, r.stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Error("revoke created a database")
	}
}

func TestFleetBadInput(t *testing.T) {
	db := filepath.Join(t.TempDir(), "fleet.db")
	for _, args := range [][]string{
		{"fleet"},
		{"fleet", "tokens", "x"},
		{"fleet", "token"},
		{"fleet", "token", "a", "b"},
		{"fleet", "token", "a b"},
		{"fleet", "token", "../etc"},
		{"fleet", "token", "-x"},
		{"fleet", "token", strings.Repeat("h", 64)},
		{"fleet", "token", "é"},
		{"fleet", "revoke", "a;b"},
		{"fleet", "token", "h", "--nope"},
	} {
		r := run(t, "", append(args, "--db", db)...)
		if r.code != ExitUsage || r.stdout != "" || r.stderr == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 with a message", args, r.code, r.stdout, r.stderr)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Error("bad input created a database")
	}
	if r := run(t, "", "fleet", "--help"); r.code != ExitOK || !strings.Contains(r.stdout, "fleet token NAME") {
		t.Errorf("fleet --help: %d %q", r.code, r.stdout)
	}
}
