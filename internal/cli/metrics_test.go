package cli

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/promtext"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/testenv"
)

// TestMetricsEndpoints runs `serve --metrics` and `watch --metrics` and
// scrapes each twice: the Prometheus text format (promtool check metrics)
// and OpenMetrics when asked (the Python client's strict parser). Both carry
// porthole_build_info with what `porthole version` reports.
func TestMetricsEndpoints(t *testing.T) {
	reg, err := registry.Default(testGetenv)
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(strings.Repeat("k", 40)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := readBuild()
	wantInfo := `porthole_build_info{version="` + b.Version + `",revision="` + b.Revision + `",registry_version="` + reg.Version() + `"} 1` + "\n"
	for _, c := range []struct {
		cmd  string
		args []string
		own  string // a family of the command's own
	}{
		{"serve", []string{"serve", "--addr", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "feedback.db")}, "go_goroutines"},
		// With the fleet API (--admin-token-file), its families too.
		{"serve-fleet", []string{"serve", "--addr", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "fleet.db"),
			"--admin-token-file", tokenFile}, "porthole_fleet_reports_total"},
		{"watch", []string{"watch", "--no-initial", "--interval", "100ms", "--metrics", "127.0.0.1:0"}, "porthole_scans_total"},
	} {
		t.Run(c.cmd, func(t *testing.T) {
			p := startMain(t, time.Now, c.args...)
			defer func() {
				if code := p.stop(t); code != 0 {
					t.Errorf("%s exited %d: %s", c.cmd, code, p.stderr.String())
				}
			}()
			url := p.wait(t, regexp.MustCompile(`metrics on (http://\S+/metrics)`))[1]
			scrape := func(accept string) (string, string) {
				t.Helper()
				req, _ := http.NewRequest("GET", url, nil)
				if accept != "" {
					req.Header.Set("Accept", accept)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != 200 {
					t.Fatalf("GET %s: status %d: %s", url, resp.StatusCode, body)
				}
				return resp.Header.Get("Content-Type"), string(body)
			}

			ctype, text := scrape("")
			if ctype != promtext.ContentType {
				t.Errorf("Content-Type %q, want %q", ctype, promtext.ContentType)
			}
			for _, want := range []string{"# TYPE porthole_build_info gauge\n" + wantInfo, "\n# TYPE " + c.own + " "} {
				if !strings.Contains(text, want) {
					t.Errorf("text scrape lacks %q:\n%s", want, text)
				}
			}
			testenv.CheckPromtool(t, []byte(text))

			// Prometheus 2.x's Accept header.
			ctype, om := scrape("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
			if ctype != promtext.OpenMetricsType {
				t.Errorf("OpenMetrics Content-Type %q, want %q", ctype, promtext.OpenMetricsType)
			}
			if !strings.Contains(om, "# TYPE porthole_build info\n"+wantInfo) || !strings.HasSuffix(om, "\n# EOF\n") {
				t.Errorf("OpenMetrics scrape lacks build info or # EOF:\n%s", om)
			}
			fams := testenv.CheckOpenMetrics(t, []byte(om))
			if !strings.Contains(fams, "porthole_build info 1\n") {
				t.Errorf("the OpenMetrics parser read no porthole_build info family:\n%s", fams)
			}
		})
	}
}
