package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/fleet/fleetdb"
	"github.com/porthole/porthole/internal/ports"
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

// TestServeFleet: serve with --admin-token-file mounts the fleet API on the
// --db database; without it there is no fleet API.
func TestServeFleet(t *testing.T) {
	f := fleetSetup(t, "web-1")
	admin, tok := f.admin, f.tok
	addr := startServe(t, "--db", f.db, "--admin-token-file", f.adminFile)
	rep, _ := fleet.Encode(fleet.Report{Host: "web-1", Agent: "a1", Seq: 1, Kind: fleet.KindFull, Interval: 30 * time.Second,
		Listeners: []fleet.Listener{{Key: fleet.Key{Proto: ports.TCP, Addr: netip.MustParseAddr("0.0.0.0"), Port: 2556}, Owner: fleet.NoOwner}}})
	do := func(method, path, token string, body []byte) (int, string) {
		req, _ := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: no security headers", method, path)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do("POST", "/api/v1/fleet/report", tok, rep); code != 200 {
		t.Fatalf("report: %d %s", code, body)
	}
	if code, body := do("GET", "/api/v1/fleet/hosts", admin, nil); code != 200 || !strings.Contains(body, `"name":"web-1"`) || !strings.Contains(body, `"listeners":1`) {
		t.Errorf("hosts: %d %s", code, body)
	}
	if code, _ := do("GET", "/api/v1/fleet/hosts", tok, nil); code != 401 {
		t.Errorf("hosts with a host token: %d", code)
	}
	// The site is still there.
	if code, _ := do("GET", "/ports/2556", "", nil); code != 200 {
		t.Errorf("/ports/2556: %d", code)
	}

	plain := startServe(t, "--db", filepath.Join(f.dir, "plain.db"))
	resp, err := http.Get("http://" + plain + "/api/v1/fleet/hosts")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("fleet hosts of a serve without --admin-token-file: %d", resp.StatusCode)
	}
}

func TestAgentBadInput(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	tok, _ := fleet.NewToken(strings.NewReader(strings.Repeat("x", 64)))
	os.WriteFile(good, []byte(tok+"\n"), 0o600)
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte(tok), 0o644)
	os.Chmod(open, 0o644)
	notToken := filepath.Join(dir, "nottoken")
	os.WriteFile(notToken, []byte(strings.Repeat("z", 40)), 0o600)
	srv := "http://127.0.0.1:1"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--token-file", good}, "--server"},
		{[]string{"--server", srv}, "--token-file"},
		{[]string{"--server", "ftp://x", "--token-file", good}, "--server"},
		{[]string{"--server", "http://u:p@x", "--token-file", good}, "--server"},
		{[]string{"--server", "127.0.0.1:8025", "--token-file", good}, "--server"},
		{[]string{"--server", srv, "--token-file", good, "--interval", "0s"}, "--interval"},
		{[]string{"--server", srv, "--token-file", good, "--interval", "1500ms"}, "--interval"},
		{[]string{"--server", srv, "--token-file", good, "--interval", "48h"}, "--interval"},
		{[]string{"--server", srv, "--token-file", good, "--name", "a b"}, "--name"},
		{[]string{"--server", srv, "--token-file", filepath.Join(dir, "missing")}, "--token-file"},
		{[]string{"--server", srv, "--token-file", open}, "--token-file"},
		{[]string{"--server", srv, "--token-file", notToken}, "host token"},
		{[]string{"--server", srv, "--token-file", good, "extra"}, "no arguments"},
		{[]string{"--server", srv, "--token-file", good, "--group", "-x"}, "--group"},
	} {
		r := run(t, "", append([]string{"agent", "--name", "h"}, tc.args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("agent %q: exit %d, stderr %q; want 2 mentioning %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// fleetFiles are what a fleet test serves from, in a new directory: an
// inventory with a token for one host, and an admin token file.
type fleetFiles struct {
	dir, db          string
	admin, adminFile string // the admin token and the file holding it
	tok, tokFile     string // the host's token and the file holding it
}

func fleetSetup(t *testing.T, host string) fleetFiles {
	t.Helper()
	dir := t.TempDir()
	f := fleetFiles{dir: dir, db: filepath.Join(dir, "fleet.db"), admin: strings.Repeat("a", 40),
		adminFile: filepath.Join(dir, "admin"), tokFile: filepath.Join(dir, "token")}
	if err := os.WriteFile(f.adminFile, []byte(f.admin), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "fleet", "token", host, "--db", f.db)
	if r.code != 0 {
		t.Fatalf("fleet token: %s", r.stderr)
	}
	f.tok = strings.TrimSpace(r.stdout)
	if err := os.WriteFile(f.tokFile, []byte(f.tok), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}
