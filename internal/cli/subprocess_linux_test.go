package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/testenv"
)

// needTools stops t (a skip locally, a failure under CI) when it is not
// root or a tool is missing.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	testenv.NeedRoot(t)
	debian := map[string]string{"ip": "iproute2", "unshare": "util-linux", "setpriv": "util-linux"}
	for _, tool := range tools {
		testenv.NeedTool(t, tool, debian[tool])
	}
}

// selfCopy copies this test binary where any user can run it, and returns
// its path; run with PORTHOLE_TEST_MAIN=1 it is porthole.
func selfCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "porthole")
	testenv.CopyExe(t, p)
	return p
}

// TestSuggestStopsOnBindErrors runs suggest as an unprivileged user in a
// fresh network namespace whose unprivileged port floor (59999) is above
// the range searched: each bind fails with EACCES, which says nothing about whether a
// port is busy. suggest must say why and stop (exit 3), not report that
// every port is taken.
func TestSuggestStopsOnBindErrors(t *testing.T) {
	needTools(t, "unshare", "setpriv", "ip")
	bin := selfCopy(t)
	script := `ip link set lo up && echo "60000 60999" > /proc/sys/net/ipv4/ip_local_port_range && echo 59999 > /proc/sys/net/ipv4/ip_unprivileged_port_start && ` +
		`exec setpriv --reuid=65534 --regid=65534 --clear-groups "$0" suggest --range 20000-20100`
	cmd := exec.Command("unshare", "--net", "sh", "-c", script, bin)
	cmd.Env = append(os.Environ(), "PORTHOLE_TEST_MAIN=1", "PORTHOLE_CACHE_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	code := cmd.ProcessState.ExitCode()
	if err != nil && code == -1 {
		t.Fatalf("%v: %s", err, out)
	}
	if code != ExitFailure || !strings.Contains(string(out), "permission denied") || !strings.Contains(string(out), "suggest stopped") {
		t.Errorf("exit %d, output %q; want exit 3 naming the permission error", code, out)
	}
}
