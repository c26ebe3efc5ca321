package store_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The nopostgres build tag must leave pgx out entirely, of the feedback store and of the fleet inventory, and the
// default build must not need cgo.
func TestDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	// go test puts its own GOROOT/bin first in PATH, so "go" is the toolchain running this test.
	gobin := "go"
	tests := []struct {
		name    string
		args    []string
		present bool
	}{
		{"default build has pgx", nil, true},
		{"nopostgres build has no pgx", []string{"-tags", "nopostgres"}, false},
	}
	for _, pkg := range []struct{ name, path string }{{"store", "."}, {"fleetdb", "github.com/porthole/porthole/internal/fleet/fleetdb"}} {
		for _, tc := range tests {
			t.Run(pkg.name+": "+tc.name, func(t *testing.T) {
				args := append([]string{"list", "-deps"}, tc.args...)
				cmd := exec.Command(gobin, append(args, pkg.path)...)
				cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("go list: %v\n%s", err, out)
				}
				if got := strings.Contains(string(out), "github.com/jackc/pgx"); got != tc.present {
					t.Errorf("pgx in dependencies = %v, want %v", got, tc.present)
				}
				if !strings.Contains(string(out), "modernc.org/sqlite") {
					t.Error("SQLite driver missing")
				}
			})
		}
	}
}
