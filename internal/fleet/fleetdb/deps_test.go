package fleetdb_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The nopostgres build tag leaves pgx out of the fleet store too.
func TestDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, tc := range []struct {
		tags    []string
		present bool
	}{{nil, true}, {[]string{"-tags", "nopostgres"}, false}} {
		args := append(append([]string{"list", "-deps"}, tc.tags...), ".")
		cmd := exec.Command("go", args...)
		cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
		if got := strings.Contains(string(out), "github.com/jackc/pgx"); got != tc.present {
			t.Errorf("go %v: pgx present = %v, want %v", args, got, tc.present)
		}
	}
}
