package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/testenv"
)

// checkWidth fails for every line of out wider than cols, apart from lines
// holding a URL (which cannot be broken).
func checkWidth(t *testing.T, label, out string, cols int) {
	t.Helper()
	for i, l := range strings.Split(out, "\n") {
		if displayWidth(l) > cols && !strings.Contains(l, "://") {
			t.Errorf("%s line %d is %d columns (> %d): %q", label, i+1, displayWidth(l), cols, l)
		}
	}
}

func TestHelpFitsWidth(t *testing.T) {
	checkWidth(t, "help", run(t, "", "help").stdout, width)
	for _, c := range commands() {
		r := run(t, "", "help", c.name)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: porthole "+c.name) {
			t.Errorf("help %s: exit %d: %s", c.name, r.code, r.stderr)
		}
		checkWidth(t, "help "+c.name, r.stdout, width)
	}
}

// longListener runs this test binary from a deep directory with long names
// as the socket helper (testenv.StartSockets), listening on a loopback
// port, and returns the port and the exe path.
func longListener(t *testing.T) (port, exe string) {
	t.Helper()
	bin := selfCopy(t)
	dir := filepath.Dir(bin)
	for i := 0; i < 4; i++ {
		dir = filepath.Join(dir, "a-rather-long-directory-name-for-width-tests-"+strings.Repeat("x", i+3))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe = filepath.Join(dir, "a-listener-with-a-long-executable-name")
	if err := os.Rename(bin, exe); err != nil {
		t.Fatal(err)
	}
	for d := dir; d != filepath.Dir(bin); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	h := testenv.StartSockets(t, exe, "tcp4")
	return strconv.Itoa(h.Ports["tcp4"][0]), exe
}

// TestListAndWhoFitWidth: list and who keep to 80 columns with a long
// owner path and command line (--wide prints them whole), and so do who's
// rows with an unknown owner, seen as an unprivileged user.
func TestListAndWhoFitWidth(t *testing.T) {
	needTools(t, "setpriv")
	port, exe := longListener(t)
	r := run(t, "", "who", "tcp/"+port)
	if r.code != 0 {
		t.Fatalf("who: %d %s", r.code, r.stderr)
	}
	checkWidth(t, "who", r.stdout, width)
	if !strings.Contains(strings.ReplaceAll(r.stdout, "\n", ""), filepath.Base(exe)) {
		t.Errorf("who lost the executable's name:\n%s", r.stdout)
	}
	if w := run(t, "", "who", "--wide", "tcp/"+port); !strings.Contains(w.stdout, exe) {
		t.Errorf("who --wide does not print the whole path %s:\n%s", exe, w.stdout)
	}
	r = run(t, "", "list", "--tcp")
	checkWidth(t, "list", r.stdout, width)
	for _, args := range [][]string{{"audit", "tcp/" + port}, {"search", "--limit", "0", "ssh"}, {"search", "trojan"}} {
		checkWidth(t, strings.Join(args, " "), run(t, "", args...).stdout, width)
	}

	// As nobody, the root-owned listener has no visible owner; the reason
	// is long and must wrap.
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", selfCopy(t), "who", "tcp/"+port)
	cmd.Env = append(os.Environ(), "PORTHOLE_TEST_MAIN=1", "PORTHOLE_CACHE_DIR="+t.TempDir())
	out, _ := cmd.Output()
	if !strings.Contains(string(out), "pid unknown") {
		t.Fatalf("who as nobody shows an owner:\n%s", out)
	}
	checkWidth(t, "who as nobody", string(out), width)
}

// TestColumnsOverride: a narrower terminal narrows the tables.
func TestColumnsOverride(t *testing.T) {
	var out strings.Builder
	env := &Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }, Columns: 50}
	if code := Main(t.Context(), []string{"search", "ssh"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	checkWidth(t, "search at 50", out.String(), 50)
}
