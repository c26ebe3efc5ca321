package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildFrom(t *testing.T) {
	vcs := func(main string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/porthole/porthole", Version: main}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	yes, no := true, false
	rev := "0123456789abcdef0123456789abcdef01234567"
	for _, c := range []struct {
		name              string
		bi                *debug.BuildInfo
		version, revision string
		want              buildVersion
	}{
		{"no build info", nil, "", "", buildVersion{Version: "dev"}},
		{"go install @v1.2.3", vcs("v1.2.3"), "", "", buildVersion{Version: "v1.2.3"}},
		{"go build in a clean checkout",
			vcs("v0.0.0-20261125120000-0123456789ab", "vcs", "git", "vcs.revision", rev, "vcs.time", "2026-11-25T12:00:00Z", "vcs.modified", "false"), "", "",
			buildVersion{Version: "v0.0.0-20261125120000-0123456789ab", Revision: rev, Time: "2026-11-25T12:00:00Z", Modified: &no}},
		{"go build of a modified tree, old toolchain",
			vcs("(devel)", "vcs.revision", rev, "vcs.modified", "true"), "", "",
			buildVersion{Version: "dev", Revision: rev, Modified: &yes}},
		{"stamped version keeps the VCS facts",
			vcs("(devel)", "vcs.revision", rev, "vcs.modified", "false"), "v2.0.0", "",
			buildVersion{Version: "v2.0.0", Revision: rev, Modified: &no}},
		{"stamped revision drops the tree's state",
			vcs("", "vcs.revision", rev, "vcs.time", "2026-11-25T12:00:00Z", "vcs.modified", "true"), "v2.0.0", "feedface",
			buildVersion{Version: "v2.0.0", Revision: "feedface"}},
	} {
		got := buildFrom(c.bi, c.version, c.revision)
		if got.Version != c.want.Version || got.Revision != c.want.Revision || got.Time != c.want.Time ||
			(got.Modified == nil) != (c.want.Modified == nil) || got.Modified != nil && *got.Modified != *c.want.Modified {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestVersionOfRealBuild builds porthole with the go command in a git
// repository and asks the binary its version: with no -ldflags the revision
// and the dirty flag are git's; -X Version= overrides only the version. The
// repository is a copy of this source tree committed afresh, so that the
// code under test is the code here (committed or not), clean and dirty are
// both known, and the go command stamps it (it does not in a `git
// worktree`, whose .git is a file).
func TestVersionOfRealBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary three times; skipped with -short")
	}
	gobin := needTool(t, "go")
	git := needTool(t, "git")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	for _, dir := range []string{"cmd", "internal"} {
		if err := os.CopyFS(filepath.Join(src, dir), os.DirFS(filepath.Join(root, dir))); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(git, args...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid",
			"GIT_AUTHOR_DATE=2026-11-25T12:00:00Z", "GIT_COMMITTER_DATE=2026-11-25T12:00:00Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	gitIn("init", "--quiet")
	gitIn("add", "-A")
	gitIn("commit", "--quiet", "--no-gpg-sign", "-m", "the tree under test")
	head := gitIn("rev-parse", "HEAD")

	version := func(ldflags string) versionJSON {
		t.Helper()
		bin := filepath.Join(tmp, "porthole")
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		// -buildvcs=true: stamping is the default, but GOFLAGS may turn it
		// off; -trimpath lets the clone reuse the build cache.
		args := []string{"build", "-buildvcs=true", "-trimpath", "-o", bin}
		if ldflags != "" {
			args = append(args, "-ldflags", ldflags)
		}
		build := exec.Command(gobin, append(args, "./cmd/porthole")...)
		build.Dir = src
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		out, err := exec.Command(bin, "version", "--json").Output()
		if err != nil {
			t.Fatalf("porthole version --json: %v", err)
		}
		var v versionJSON
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return v
	}
	check := func(what string, v versionJSON, dirty bool) {
		t.Helper()
		if v.Revision == nil || *v.Revision != head {
			t.Errorf("%s: revision = %v, want HEAD %s", what, v.Revision, head)
		}
		if v.Modified == nil || *v.Modified != dirty {
			t.Errorf("%s: modified = %v, want %v", what, v.Modified, dirty)
		}
		if v.RevisionTime == nil || *v.RevisionTime != "2026-11-25T12:00:00Z" {
			t.Errorf("%s: revision time = %v, want the commit's", what, v.RevisionTime)
		}
		if v.Go != runtime.Version() {
			t.Errorf("%s: go = %q, want %q", what, v.Go, runtime.Version())
		}
	}

	clean := version("")
	check("clean tree", clean, false)
	if !strings.Contains(clean.Version, head[:12]) || strings.HasSuffix(clean.Version, "+dirty") {
		t.Errorf("clean tree: version = %q, want the go command's pseudo-version naming %s", clean.Version, head[:12])
	}

	if err := os.WriteFile(filepath.Join(src, "untracked.txt"), []byte("a change\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirty := version("")
	check("modified tree", dirty, true)
	if !strings.HasSuffix(dirty.Version, "+dirty") {
		t.Errorf("modified tree: version = %q, want a +dirty pseudo-version", dirty.Version)
	}

	stamped := version("-X github.com/porthole/porthole/internal/cli.Version=v9.8.7-test")
	if stamped.Version != "v9.8.7-test" {
		t.Errorf("stamped version = %q", stamped.Version)
	}
	check("stamped build", stamped, true)
}

func TestVersionText(t *testing.T) {
	r := run(t, "", "version")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	b := readBuild()
	if !strings.HasPrefix(lines[0], "porthole "+b.Version+" ("+runtime.Version()+")") {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.HasPrefix(lines[len(lines)-1], "IANA registry ") {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
}
