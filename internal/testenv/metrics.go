package testenv

import (
	"bytes"
	"os/exec"
	"testing"
)

// CheckPromtool runs `promtool check metrics` (Debian package prometheus)
// on a scrape in the Prometheus text format and fails t on any complaint,
// lint warnings included.
func CheckPromtool(t testing.TB, text []byte) {
	t.Helper()
	path := NeedTool(t, "promtool", "prometheus")
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// CheckOpenMetrics parses a scrape in the OpenMetrics 1.0 text format with
// the Python Prometheus client's parser (prometheus_client.openmetrics,
// Debian package python3-prometheus-client), which is strict: it refuses a
// missing "# EOF", a counter family named with its _total, two families of
// one name, a bad le or quantile, an info sample other than 1. It fails t
// on any error, and returns the families it read as "NAME TYPE SAMPLES"
// lines.
func CheckOpenMetrics(t testing.TB, text []byte) string {
	t.Helper()
	const script = `import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for f in text_string_to_metric_families(sys.stdin.read()):
    print(f.name, f.type, len(f.samples))
`
	py := ""
	// The system's python3 first when another (a pyenv shim) comes first
	// on PATH without the Debian package's module.
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(name); err == nil && exec.Command(p, "-c", "import prometheus_client.openmetrics.parser").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		Missing(t, "no python3 with prometheus_client (Debian package python3-prometheus-client; scripts/test.sh installs it)")
	}
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(text)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("the OpenMetrics parser refuses the scrape: %v\n%s\nscrape:\n%s", err, stderr.Bytes(), text)
	}
	return string(out)
}
