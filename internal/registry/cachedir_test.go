package registry

import (
	"path/filepath"
	"testing"
)

// The cache directory comes from the environment the caller passes, not the
// process's: a command run with its own environment (porthole's cli.Env)
// reads and writes where that environment says.
func TestCacheDirFromCallersEnvironment(t *testing.T) {
	t.Setenv(CacheDirEnv, filepath.Join(t.TempDir(), "process"))
	mine := filepath.Join(t.TempDir(), "caller")
	getenv := func(k string) string {
		if k == CacheDirEnv {
			return mine
		}
		return ""
	}
	if d, err := CacheDir(getenv); err != nil || d != mine {
		t.Fatalf("CacheDir = %q, %v; want %q", d, err, mine)
	}
	if d, err := CacheDir(nil); err == nil && filepath.Base(d) != "porthole" {
		t.Fatalf("CacheDir(nil) = %q, want porthole in the user cache directory", d)
	}

	// Default follows the directory: an installed copy in the caller's
	// directory is read, and another directory gets its own answer.
	t.Cleanup(ResetDefault)
	blob, _, err := Prepare(mustParse(t, modifiedCSV(t)), "caller's copy")
	if err != nil {
		t.Fatal(err)
	}
	if err := Install(mine, blob, nil); err != nil {
		t.Fatal(err)
	}
	if x, err := Default(getenv); err != nil || x.Source() != "caller's copy" {
		t.Fatalf("Default(caller) source %q, %v", x.Source(), err)
	}
	other := func(string) string { return filepath.Join(t.TempDir(), "empty") }
	if x, err := Default(other); err != nil || x.Source() != EmbeddedSource {
		t.Fatalf("Default(other) source %q, %v", x.Source(), err)
	}
	if x, _ := Default(getenv); x.Source() != "caller's copy" {
		t.Fatalf("Default(caller) again: source %q", x.Source())
	}
}
