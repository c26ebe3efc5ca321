// Package internal_test holds checks that span porthole's packages.
package internal_test

import (
	"errors"
	"go/build"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/porthole/porthole"

// layers is porthole's import order, lowest first. A package may import a
// package of a lower layer, or one of its own subpackages (store opens
// store/sqlite), and nothing else of this module. A new package needs a line
// here; the README's Development section describes the layers.
var layers = [][]string{
	// Leaves: types and formats that know nothing of porthole's other packages.
	{"internal/ports", "internal/i18n", "internal/safefile", "internal/sqlitefile", "internal/promtext", "internal/jsonw", "internal/store/record", "internal/testenv",
		"internal/web/internal/tmplrt", "internal/web/internal/tmplgen"},
	// Knowledge and the operating system: the registry, intel, processes, the stores, HTTP hardening.
	{"internal/registry", "internal/intel", "internal/process", "internal/store", "internal/store/sqlite", "internal/store/postgres", "internal/webguard",
		"internal/fleet"},
	// What is here, what matches, what users said.
	{"internal/sockets", "internal/search", "internal/suggest", "internal/feedback", "internal/store/storetest", "internal/fleet/fleetdb"},
	// One port's facts in one value.
	{"internal/dossier"},
	// Judging listeners.
	{"internal/audit"},
	// The fleet: its HTTP API and the agent.
	{"internal/fleet/fleetapi", "internal/fleet/agent"},
	// Long-running outputs.
	{"internal/web", "internal/watch"},
	// serve's fast front for cached pages, in front of the site's handler.
	{"internal/webfast"},
	// Commands and flags.
	{"internal/cli"},
	// Programs.
	{"cmd/porthole", "bench/feedbackload", "bench/fleetload", "bench/listeners", "bench/listeners/alt", "bench/listeners/probe", "scripts/coverage"},
}

// testOnly packages are imported by _test.go files only.
var testOnly = []string{"internal/testenv", "internal/store/storetest", "internal/web/internal/tmplgen"}

// TestLayers fails when a package imports one of a higher or the same layer,
// or when a package has no layer, for every system porthole builds for.
func TestLayers(t *testing.T) {
	rank := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			rank[p] = i
		}
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		ctx := build.Default
		ctx.GOOS, ctx.CgoEnabled = goos, false
		for rel, pkg := range packages(t, &ctx, root) {
			seen[rel] = true
			r, ok := rank[rel]
			if !ok {
				t.Errorf("%s has no layer: add it to layers in internal/layers_test.go (and to the README)", rel)
				continue
			}
			for _, imp := range pkg.Imports {
				dep, ok := strings.CutPrefix(imp, module+"/")
				if !ok || strings.HasPrefix(dep, rel+"/") {
					continue
				}
				if slices.Contains(testOnly, dep) && !slices.Contains(testOnly, rel) {
					t.Errorf("%s (%s): imports %s, which only tests may import", rel, goos, dep)
				}
				if dr, ok := rank[dep]; ok && dr >= r {
					t.Errorf("%s (%s, layer %d) imports %s (layer %d): a package may import only lower layers", rel, goos, r, dep, dr)
				}
			}
		}
	}
	for p := range rank {
		if !seen[p] {
			t.Errorf("layers lists %s, which is not a package (any more)", p)
		}
	}
}

// packages returns the module's packages under root as ctx builds them,
// keyed by their path relative to the module.
func packages(t *testing.T, ctx *build.Context, root string) map[string]*build.Package {
	t.Helper()
	out := map[string]*build.Package{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if p != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		pkg, err := ctx.ImportDir(p, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if len(pkg.GoFiles) > 0 {
			out[path.Clean(filepath.ToSlash(rel))] = pkg
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The check itself must see what it checks: cli imports web, and go/build
// finds porthole's packages from this directory.
func TestLayersSeePackages(t *testing.T) {
	root, _ := filepath.Abs("..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found above internal/: %v", err)
	}
	ctx := build.Default
	pkgs := packages(t, &ctx, root)
	cli, ok := pkgs["internal/cli"]
	if !ok || !slices.Contains(cli.Imports, module+"/internal/web") {
		t.Fatalf("go/build did not see internal/cli importing internal/web: %v", cli)
	}
}
