package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/testenv"
)

// treeSitterModules finds the node_modules directory holding web-tree-sitter
// and tree-sitter-powershell: $PORTHOLE_TREE_SITTER, else the npm cache
// directory scripts/test.sh installs them into.
func treeSitterModules() string {
	if p := os.Getenv("PORTHOLE_TREE_SITTER"); p != "" {
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "porthole-npm-ts", "node_modules")
}

// TestPowerShellCompletionParses parses `porthole completion powershell`
// with a real PowerShell parser: tree-sitter's PowerShell grammar
// (testdata/pwsh-parse.cjs). PowerShell itself (pwsh) is not in Debian and
// cannot be installed here, so the script is not run; the grammar checks
// its syntax (brackets, strings, hashtables, script blocks), not what
// Register-ArgumentCompleter does with it. A copy with its last closing
// brace cut off must fail, so that the check is known to bite.
func TestPowerShellCompletionParses(t *testing.T) {
	node := testenv.NeedTool(t, "node", "nodejs")
	modules := treeSitterModules()
	for _, f := range []string{"web-tree-sitter/tree-sitter.cjs", "tree-sitter-powershell/tree-sitter-powershell.wasm"} {
		if _, err := os.Stat(filepath.Join(modules, f)); err != nil {
			testenv.Missing(t, "%s not found (npm install web-tree-sitter tree-sitter-powershell; or set PORTHOLE_TREE_SITTER to their node_modules)", filepath.Join(modules, f))
		}
	}
	res := run(t, "", "completion", "powershell")
	if res.code != ExitOK {
		t.Fatalf("completion powershell: exit %d: %s", res.code, res.stderr)
	}
	dir := t.TempDir()
	parse := func(name, script string) (string, error) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		// --liftoff-only: V8's optimising compiler spends tens of CPU
		// seconds on the grammar's parse table, and the process waits for
		// it at exit; the baseline compiler parses in well under a second.
		out, err := exec.Command(node, "--liftoff-only", filepath.Join("testdata", "pwsh-parse.cjs"), modules, path).CombinedOutput()
		return string(out), err
	}
	out, err := parse("porthole.ps1", res.stdout)
	if err != nil {
		t.Errorf("the PowerShell completion does not parse: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "program: ") {
		t.Errorf("parser output: %s", out)
	}
	t.Logf("tree-sitter-powershell: %s", strings.TrimSpace(out))

	cut := strings.TrimRight(res.stdout, "\n")
	if !strings.HasSuffix(cut, "}") {
		t.Fatalf("the script does not end in }: %q", cut[max(0, len(cut)-40):])
	}
	if out, err := parse("cut.ps1", cut[:len(cut)-1]); err == nil {
		t.Errorf("a script without its last } parsed:\n%s", out)
	}
}
