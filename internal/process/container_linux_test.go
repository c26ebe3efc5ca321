package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestContainerNameFromDockerConfig reads a real config.v2.json laid out
// as docker keeps it.
func TestContainerNameFromDockerConfig(t *testing.T) {
	root := t.TempDir()
	id := strings.Repeat("ab", 32)
	if err := os.MkdirAll(filepath.Join(root, id), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := `{"ID":"` + id + `","Name":"/web-frontend","State":{"Running":true}}`
	if err := os.WriteFile(filepath.Join(root, id, "config.v2.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	old := dockerRoot
	dockerRoot = root
	t.Cleanup(func() { dockerRoot = old })
	if got := containerName(id); got != "web-frontend" {
		t.Errorf("containerName = %q", got)
	}
	if got := containerName(strings.Repeat("cd", 32)); got != "" {
		t.Errorf("a container without config has name %q", got)
	}
}
