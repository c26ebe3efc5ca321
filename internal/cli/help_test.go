package cli

import (
	"strings"
	"testing"
	"time"
)

// runBounded is run with a deadline: a help path that does not end fails
// the test instead of hanging it.
func runBounded(t *testing.T, args ...string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- run(t, "", args...) }()
	select {
	case r := <-done:
		return r
	case <-time.After(30 * time.Second):
		t.Fatalf("porthole %s did not end within 30 s", strings.Join(args, " "))
	}
	return result{}
}

// TestHelpPathsEnd: every way of asking for help ends with the right text.
// "help help" used to recurse until the stack limit.
func TestHelpPathsEnd(t *testing.T) {
	overview := [][]string{
		{"help"}, {"--help"}, {"-h"}, {"help", "help"}, {"--help", "--help"}, {"help", "help", "help"},
		{"-h", "-h"}, {"help", "--help"}, {"--help", "help", "-help"},
	}
	for _, args := range overview {
		r := runBounded(t, args...)
		if r.code != ExitOK || !strings.Contains(r.stdout, "Commands:") {
			t.Errorf("porthole %s: exit %d, stdout %.60q, stderr %q", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
	for _, c := range commands() {
		want := "Usage: porthole " + c.name
		for _, args := range [][]string{
			{c.name, "--help"}, {c.name, "--help", "--help"}, {c.name, "-h", "-h"}, {"help", c.name},
			{"help", "help", c.name}, {"--help", "--help", c.name}, {"help", c.name, "--help"},
		} {
			r := runBounded(t, args...)
			if r.code != ExitOK || !strings.HasPrefix(r.stdout, want) {
				t.Errorf("porthole %s: exit %d, stdout %.60q, stderr %q", strings.Join(args, " "), r.code, r.stdout, r.stderr)
			}
		}
	}
}
