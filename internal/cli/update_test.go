package cli

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/testenv"
)

// updNow is the fixed clock of the update tests.
var updNow = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

type updRun struct {
	stdout, stderr string
	code           int
}

// updEnv points the cache directory at a fresh directory for the test and
// makes Default read it; the returned function runs porthole in process.
func updEnv(t *testing.T) (dir string, run func(args ...string) updRun) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "cache")
	t.Setenv("PORTHOLE_CACHE_DIR", dir)
	registry.ResetDefault()
	t.Cleanup(registry.ResetDefault)
	return dir, func(args ...string) updRun {
		return updRun(runEnv(strings.NewReader(""), func(e *Env) { e.Now = func() time.Time { return updNow } }, args...))
	}
}

func embeddedCSV(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../registry/data/service-names-port-numbers.csv")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// changedCSV is the embedded CSV with 4480/tcp porthole-test added,
// 2556/udp removed and 2556/tcp given a reference, dated 2026-03-10.
func changedCSV(t *testing.T) []byte {
	t.Helper()
	s := string(embeddedCSV(t))
	for _, r := range []struct{ old, new string }{
		{"nicetec-nmsvc,2556,udp,nicetec-nmsvc,,,,,,,,\n", ""},
		{"nicetec-nmsvc,2556,tcp,nicetec-nmsvc,,,,,,,,\n", "nicetec-nmsvc,2556,tcp,nicetec-nmsvc,,,,2026-03-10,[RFC9999],,,\n"},
		{",4461-4483,,Unassigned,,,,,,,,\n", ",4461-4483,,Unassigned,,,,,,,,\n" +
			"porthole-test,4480,tcp,Porthole test service,[Test_Person],[Test_Person],2026-03-10,,[RFC9999],,,\n"},
	} {
		if strings.Count(s, r.old) != 1 {
			t.Fatalf("embedded CSV lacks %q", r.old)
		}
		s = strings.Replace(s, r.old, r.new, 1)
	}
	return []byte(s)
}

func serveCSV(t *testing.T, b []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// updGolden compares got with testdata/name; -update rewrites it.
func updGolden(t *testing.T, name, got string) { t.Helper(); golden(t, name, got) }

func TestUpdateInstallsAndReports(t *testing.T) {
	dir, run := updEnv(t)
	csv := changedCSV(t)
	srv := serveCSV(t, csv)
	clean := func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(s, srv.URL, "$URL"), dir, "$CACHE")
	}

	// --dry-run fetches, checks and compares, and writes nothing.
	r := run("update", "--dry-run", "--url", srv.URL)
	if r.code != ExitOK {
		t.Fatalf("dry run: exit %d, stderr %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "1 added, 1 removed, 1 changed") || !strings.HasSuffix(r.stdout, "dry run: nothing installed\n") {
		t.Errorf("dry run output:\n%s", r.stdout)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("dry run touched the cache directory: %v", err)
	}

	r = run("update", "--url", srv.URL)
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	updGolden(t, "update-changes.golden", clean(r.stdout))
	if want := "downloaded " + fmtThousands(len(csv)) + " bytes\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	if got, err := os.ReadFile(filepath.Join(dir, registry.CacheCSV)); err != nil || !bytes.Equal(got, csv) {
		t.Fatalf("the CSV beside the registry is not the download (%v)", err)
	}

	// The installed copy is the one in use.
	r = run("info", "22")
	if r.code != ExitOK || !strings.Contains(r.stdout, "ssh") {
		t.Fatalf("info 22 after update: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run("info", "tcp/4480")
	if r.code != ExitOK || !strings.Contains(r.stdout, "porthole-test") {
		t.Fatalf("info tcp/4480 does not show the added row: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run("version")
	if !strings.Contains(r.stdout, "IANA registry 2026-03-10: "+srv.URL+", fetched 2026-03-10 09:30 UTC") {
		t.Errorf("version after update:\n%s", r.stdout)
	}

	// The same file again: nothing to do, nothing written.
	before, err := os.ReadFile(filepath.Join(dir, registry.CacheFile))
	if err != nil {
		t.Fatal(err)
	}
	r = run("update", "--url", srv.URL)
	if r.code != ExitOK {
		t.Fatalf("second update: exit %d, stderr %s", r.code, r.stderr)
	}
	updGolden(t, "update-uptodate.golden", clean(r.stdout))
	if after, _ := os.ReadFile(filepath.Join(dir, registry.CacheFile)); !bytes.Equal(before, after) {
		t.Error("an up-to-date update rewrote registry.bin")
	}
}

func fmtThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func TestUpdateJSON(t *testing.T) {
	dir, run := updEnv(t)
	srv := serveCSV(t, changedCSV(t))
	r := run("update", "--json", "--url", srv.URL)
	if r.code != ExitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var out struct {
		From, To                string
		Added, Removed, Changed int
		AddedRows               []struct {
			Name, Proto, Kind string
			Low, High         *int
		} `json:"added_rows"`
		ChangedRows []struct {
			Name   string
			Fields []struct{ Field, Old, New string }
		} `json:"changed_rows"`
		Installed bool
		DryRun    bool `json:"dry_run"`
		Path      string
		URL       string
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if out.From != registry.Embedded().Version() || out.To != "2026-03-10" || out.Added != 1 || out.Removed != 1 || out.Changed != 1 ||
		!out.Installed || out.DryRun || out.Path != filepath.Join(dir, registry.CacheFile) || out.URL != srv.URL {
		t.Fatalf("unexpected JSON:\n%s", r.stdout)
	}
	if a := out.AddedRows[0]; a.Name != "porthole-test" || a.Low == nil || *a.Low != 4480 || *a.High != 4480 || a.Proto != "tcp" || a.Kind != "assigned" {
		t.Errorf("added row %+v", a)
	}
	if c := out.ChangedRows[0]; c.Name != "nicetec-nmsvc" || len(c.Fields) != 2 || c.Fields[1].New != "[RFC9999]" {
		t.Errorf("changed row %+v", c)
	}
}

// TestUpdateFailuresKeepRegistry runs update against servers that fail in
// every way the issue lists. Each must exit 3, say why, and leave the
// installed registry byte for byte as it was, and in use.
func TestUpdateFailuresKeepRegistry(t *testing.T) {
	good := embeddedCSV(t)
	lines := func(n int) []byte { return testenv.FirstLines(good, n) }
	cutMid := lines(5000)
	cutMid = cutMid[:len(cutMid)-10]
	// 85% of the rows: enough to pass as a registry on its own, too few
	// next to the one installed.
	mostRows := lines(bytes.Count(good, []byte("\n")) * 85 / 100)
	withCSV := func(b []byte, length int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/csv")
			if length >= 0 {
				w.Header().Set("Content-Length", strconv.Itoa(length))
			}
			w.Write(b)
		}
	}
	tests := []struct {
		name string
		h    http.HandlerFunc // nil: a stalled connection
		want string
	}{
		{"truncated (Content-Length larger than the body)", withCSV(good[:len(good)/3], len(good)), "cut short"},
		{"cut mid-record", withCSV(cutMid, -1), "record has"},
		{"html page with status 200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body><h1>Maintenance</h1></body></html>"))
		}, "the server sent an HTML page, not the registry CSV"},
		{"404", http.NotFound, "404 Not Found"},
		{"500", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "oops", http.StatusInternalServerError)
		}, "500 Internal Server Error"},
		{"stalled connection", nil, "took longer than 300ms"},
		{"too small", withCSV(lines(300), -1), "not the whole registry"},
		{"far fewer rows than installed", withCSV(mostRows, -1), "fewer than 90%"},
		{"wrong header", withCSV(bytes.Replace(good, []byte("Transport Protocol"), []byte("Protocol"), 1), -1), "line 1"},
	}

	dir, run := updEnv(t)
	csv := changedCSV(t)
	blob, _, err := registry.Prepare(mustParseCSV(t, csv), "installed by the test")
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.Install(dir, blob, csv); err != nil {
		t.Fatal(err)
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *httptest.Server
			if tt.h == nil {
				release := make(chan struct{})
				srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", strconv.Itoa(len(good)))
					w.Write(good[:20000])
					w.(http.Flusher).Flush()
					<-release
				}))
				t.Cleanup(srv.Close)
				t.Cleanup(func() { close(release) }) // runs first
			} else {
				srv = httptest.NewServer(tt.h)
				t.Cleanup(srv.Close)
			}
			args := []string{"update", "--url", srv.URL + "/assignments/ports.csv"}
			if tt.h == nil {
				// Only the stalled server meets the deadline; the others
				// keep the default, so a slow machine cannot turn their
				// failure into a timeout.
				args = append(args, "--timeout", "300ms")
			}
			r := run(args...)
			if r.code != ExitFailure {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", r.code, ExitFailure, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "registry unchanged") ||
				!strings.Contains(r.stderr, srv.URL+"/assignments/ports.csv") {
				t.Errorf("stderr does not say %q, the URL, and that nothing changed:\n%s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout:\n%s", r.stdout)
			}
			for name, want := range map[string][]byte{registry.CacheFile: blob, registry.CacheCSV: csv} {
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%s changed (%v)", name, err)
				}
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 2 {
				t.Errorf("left behind in the cache directory: %v", ents)
			}
			registry.ResetDefault()
			x, err := registry.Default(os.Getenv)
			if err != nil || x.Source() != "installed by the test" {
				t.Fatalf("Default: %q, %v", x.Source(), err)
			}
			if r := run("info", "22"); r.code != ExitOK || !strings.Contains(r.stdout, "ssh") {
				t.Fatalf("info 22: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

func mustParseCSV(t *testing.T, b []byte) []registry.Row {
	t.Helper()
	rows, err := registry.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// installCopy installs the embedded CSV's rows in the cache dated version.
func installCopy(t *testing.T, dir, version string) []byte {
	t.Helper()
	blob, err := registry.Compile(mustParseCSV(t, embeddedCSV(t)), version, "a copy dated "+version)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.Install(dir, blob, nil); err != nil {
		t.Fatal(err)
	}
	return blob
}

func TestUpdateRefusesOlderUnlessForced(t *testing.T) {
	dir, run := updEnv(t)
	blob := installCopy(t, dir, "2026-03-05")
	srv := serveCSV(t, embeddedCSV(t)) // 2026-02-25
	r := run("update", "--url", srv.URL)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "older than the 2026-03-05 one in use (--force installs it anyway; --reset goes back to the built-in registry)") {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, registry.CacheFile)); !bytes.Equal(got, blob) {
		t.Fatal("registry.bin changed")
	}
	r = run("update", "--force", "--url", srv.URL)
	if r.code != ExitOK || !strings.Contains(r.stdout, "note: --force: installing the registry of 2026-02-25 over the newer 2026-03-05 one") ||
		!strings.Contains(r.stdout, "installed "+filepath.Join(dir, registry.CacheFile)) {
		t.Fatalf("--force: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	registry.ResetDefault()
	if x, err := registry.Default(os.Getenv); err != nil || x.Version() != "2026-02-25" || !strings.HasPrefix(x.Source(), srv.URL) {
		t.Fatalf("Default after --force: %s %q %v", x.Version(), x.Source(), err)
	}
	// The same registry again: nothing to install, unless forced.
	if r := run("update", "--url", srv.URL); r.code != ExitOK || !strings.Contains(r.stdout, "nothing to install") {
		t.Fatalf("same again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run("update", "--force", "--url", srv.URL); r.code != ExitOK || !strings.Contains(r.stdout, "installed") {
		t.Fatalf("same again, forced: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestUpdateFutureDates is issue #12's pin: a CSV dated 2099 made every later
// update "older". Such a CSV is now refused; a cache pinned by an earlier
// porthole is replaced by the next real update, with a note.
func TestUpdateFutureDates(t *testing.T) {
	dir, run := updEnv(t)
	future := strings.Replace(string(embeddedCSV(t)), "nicetec-nmsvc,2556,tcp,nicetec-nmsvc,,,,,,,,\n",
		"nicetec-nmsvc,2556,tcp,nicetec-nmsvc,,,,2099-01-01,,,,\n", 1)
	srv := serveCSV(t, []byte(future))
	r := run("update", "--url", srv.URL)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "row nicetec-nmsvc 2556/tcp has Modification Date 2099-01-01, after today (2026-03-10)") ||
		!strings.Contains(r.stderr, "registry unchanged") {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, registry.CacheFile)); err == nil {
		t.Fatal("installed a future-dated registry")
	}
	// --force does not let a future date in either.
	if r := run("update", "--force", "--url", srv.URL); r.code != ExitFailure {
		t.Fatalf("--force: exit %d", r.code)
	}
	installCopy(t, dir, "2099-01-01") // as an earlier porthole would have
	good := serveCSV(t, changedCSV(t))
	r = run("update", "--url", good.URL)
	if r.code != ExitOK || !strings.Contains(r.stdout, "note: the registry in use is dated 2099-01-01, in the future") ||
		!strings.Contains(r.stdout, "installed") {
		t.Fatalf("unpinning: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	registry.ResetDefault()
	if x, _ := registry.Default(os.Getenv); x.Version() != "2026-03-10" {
		t.Fatalf("in use: %s", x.Version())
	}
}

// TestUpdateFile reads the registry from real files, checked exactly like
// a download.
func TestUpdateFile(t *testing.T) {
	dir, run := updEnv(t)
	tmp := t.TempDir()
	path := filepath.Join(tmp, "ports.csv")
	if err := os.WriteFile(path, changedCSV(t), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run("update", "--file", path)
	if r.code != ExitOK || r.stderr != "" || !strings.Contains(r.stdout, "1 added, 1 removed, 1 changed") ||
		!strings.Contains(r.stdout, "from file "+path+", read 2026-03-10 09:30 UTC") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, registry.CacheCSV)); !bytes.Equal(got, changedCSV(t)) {
		t.Error("the CSV kept in the cache is not the file's")
	}
	r = run("update", "--json", "--dry-run", "--file", path)
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out["file"] != path || out["url"] != nil || out["installed"] != false {
		t.Fatalf("--json: %v %v", out, err)
	}
	bad := []struct{ name, content, want string }{
		{"page.csv", "<!DOCTYPE html><html>nope</html>\n", "is an HTML page"},
		{"short.csv", string(embeddedCSV(t)[:500000]), "not a sound registry CSV"},
		{"wide.csv", string(embeddedCSV(t)) + "wide,0-65535,tcp,x,,,,,,,,\n", "spans 65536 ports, more than the cap"},
	}
	for _, b := range bad {
		p := filepath.Join(tmp, b.name)
		if err := os.WriteFile(p, []byte(b.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := run("update", "--file", p); r.code != ExitFailure || !strings.Contains(r.stderr, b.want) || !strings.Contains(r.stderr, p) {
			t.Errorf("%s: exit %d, stderr %s", b.name, r.code, r.stderr)
		}
	}
	if r := run("update", "--file", tmp); r.code != ExitFailure || !strings.Contains(r.stderr, "not a regular file") {
		t.Errorf("a directory: exit %d, stderr %s", r.code, r.stderr)
	}
}

// TestUpdateReset removes the two files update wrote, by name, and nothing
// else in the cache directory.
func TestUpdateReset(t *testing.T) {
	dir, run := updEnv(t)
	if r := run("update", "--reset"); r.code != ExitOK || !strings.Contains(r.stdout, "nothing removed") ||
		!strings.Contains(r.stdout, "the built-in registry (2026-02-25, 14,500 rows) is in use") {
		t.Fatalf("empty: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	srv := serveCSV(t, changedCSV(t))
	if r := run("update", "--url", srv.URL); r.code != ExitOK {
		t.Fatalf("update: %s", r.stderr)
	}
	mine := filepath.Join(dir, "my-notes.txt")
	if err := os.WriteFile(mine, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run("update", "--reset", "--json")
	var out struct {
		Reset    bool
		Removed  []string
		Registry string `json:"registry_version"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != ExitOK || !out.Reset || out.Registry != "2026-02-25" ||
		len(out.Removed) != 2 || out.Removed[0] != filepath.Join(dir, registry.CacheFile) || out.Removed[1] != filepath.Join(dir, registry.CacheCSV) {
		t.Fatalf("exit %d, %+v %v\n%s", r.code, out, err, r.stderr)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("--reset removed another file: %v", err)
	}
	registry.ResetDefault()
	if x, err := registry.Default(os.Getenv); err != nil || x.Source() != registry.EmbeddedSource {
		t.Fatalf("after reset: %q %v", x.Source(), err)
	}
	for _, args := range [][]string{{"update", "--reset", "--force"}, {"update", "--reset", "--url", srv.URL},
		{"update", "--reset", "--file", mine}, {"update", "--reset", "--dry-run"}} {
		if r := run(args...); r.code != ExitUsage {
			t.Errorf("%q: exit %d", args, r.code)
		}
	}
}

func TestPlainHTTPWarning(t *testing.T) {
	for raw, want := range map[string]bool{
		"http://www.iana.org/x.csv": true, "http://192.0.2.7/x.csv": true, "http://[2001:db8::1]:8080/x": true,
		"https://www.iana.org/x.csv": false, "http://127.0.0.1:8080/x": false, "http://localhost/x": false,
		"http://[::1]/x": false, "http://[::ffff:127.0.0.1]/x": false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := plainHTTP(u); got != want {
			t.Errorf("plainHTTP(%s) = %v", raw, got)
		}
	}
}

// TestRegistryEscapes: a CSV whose fields carry terminal escape sequences
// (clear the screen, set the title, a C1 CSI) is installed, and nothing of
// them reaches the terminal raw from update, info, search or stats.
func TestRegistryEscapes(t *testing.T) {
	_, run := updEnv(t)
	evil := strings.Replace(string(changedCSV(t)),
		"porthole-test,4480,tcp,Porthole test service,[Test_Person],[Test_Person],2026-03-10,,[RFC9999],,,\n",
		"porthole-test\x1b[2J,4480,tcp,\"Evil \x1b]0;pwned\x07 service\u009b31m\",[Test\x1b[5m_Person],[Test_Person],2026-03-10,,[RFC9999],,,\"note \x1b[8m hidden\"\n", 1)
	if evil == string(changedCSV(t)) {
		t.Fatal("the row to poison is missing")
	}
	srv := serveCSV(t, []byte(evil))
	outputs := []updRun{run("update", "--url", srv.URL)}
	registry.ResetDefault()
	outputs = append(outputs, run("info", "4480"), run("info", "4470-4490"), run("search", "porthole-test"), run("search", "Evil"), run("stats"))
	for i, r := range outputs {
		if r.code != ExitOK {
			t.Fatalf("command %d: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
		}
		for _, bad := range []string{"\x1b", "\x07", "\u009b"} {
			if strings.Contains(r.stdout+r.stderr, bad) {
				t.Errorf("command %d prints %q raw:\n%s", i, bad, r.stdout)
			}
		}
	}
	if !strings.Contains(outputs[1].stdout, `porthole-test\x1b[2J`) || !strings.Contains(outputs[1].stdout, `Evil \x1b]0;pwned\x07 service\u009b31m`) {
		t.Errorf("info does not show the escaped text:\n%s", outputs[1].stdout)
	}
	// JSON keeps the data as it is; the encoder escapes it.
	if r := run("info", "--json", "4480"); !strings.Contains(r.stdout, `porthole-test\u001b[2J`) {
		t.Errorf("info --json:\n%s", r.stdout)
	}
}

func TestUpdateRepairsDamagedCache(t *testing.T) {
	dir, run := updEnv(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, registry.CacheFile), []byte("PHREG2\ngarbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := serveCSV(t, embeddedCSV(t))
	r := run("update", "--url", srv.URL)
	if r.code != ExitOK || !strings.Contains(r.stdout, "already up to date") || !strings.Contains(r.stdout, "replaced the damaged") ||
		!strings.Contains(r.stderr, "warning") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	registry.ResetDefault()
	if x, err := registry.Default(os.Getenv); err != nil || !strings.HasPrefix(x.Source(), srv.URL) {
		t.Fatalf("Default: %q %v", x.Source(), err)
	}
}

func TestUpdateBadArguments(t *testing.T) {
	_, run := updEnv(t)
	for _, args := range [][]string{
		{"update", "extra"},
		{"update", "--timeout", "0s"},
		{"update", "--timeout", "soon"},
		{"update", "--url", "ftp://example.org/ports.csv"},
		{"update", "--url", "not a url"},
		{"update", "--bogus"},
	} {
		if r := run(args...); r.code != ExitUsage || !strings.Contains(r.stderr, "porthole help") {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	if r := run("update", "--help"); r.code != ExitOK || !strings.Contains(r.stdout, "-dry-run") {
		t.Errorf("--help: exit %d\n%s", r.code, r.stdout)
	}
}

// TestDamagedCacheInfo is the case: five bytes changed after the
// magic of the cached registry made `info 80` say "unassigned" silently.
// Now info answers from the built-in registry, exactly as without a cache,
// with one warning naming the file.
func TestDamagedCacheInfo(t *testing.T) {
	dir, run := updEnv(t)
	clean := run("info", "--json", "80")
	if clean.code != ExitOK || clean.stderr != "" {
		t.Fatalf("without a cache: exit %d, stderr %q", clean.code, clean.stderr)
	}
	blob, err := registry.Compile(mustParseCSV(t, embeddedCSV(t)), "2026-03-01", "a test copy")
	if err != nil {
		t.Fatal(err)
	}
	copy(blob[7+4:], "\x00\x00\x00\x00\x00")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, registry.CacheFile)
	if err := os.WriteFile(path, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	registry.ResetDefault()
	for _, args := range [][]string{{"info", "--json", "80"}, {"stats"}} {
		registry.ResetDefault()
		r := run(args...)
		// Under --json the warning is a JSON line on stderr.
		warn := "porthole: warning: "
		if wantsJSON(args) {
			warn = `{"warning":"`
		}
		if r.code != ExitOK || strings.Count(r.stderr, "\n") != 1 ||
			!strings.HasPrefix(r.stderr, warn+path+": compiled registry is damaged: checksum mismatch") {
			t.Fatalf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
		if args[0] == "info" && r.stdout != clean.stdout {
			t.Errorf("info 80 with a damaged cache differs from the built-in answer:\n%s", r.stdout)
		}
	}
}
