package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServe runs `porthole serve` on a loopback port: the site behind the
// security headers, the API object equal to `porthole info --json`, the
// feedback form stored and acknowledged, and a graceful stop on
// cancellation (what SIGTERM does in cmd/porthole).
func TestServe(t *testing.T) {
	srv := startMain(t, func() time.Time { return testNow }, "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "feedback.db"))
	base := srv.wait(t, regexp.MustCompile(`serving (http://\S+)/ \(with the local section\)`))[1]
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := get("/ports/2556")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("/ports/2556: status %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	if !strings.Contains(body, `id="here"`) {
		t.Errorf("a loopback server's page lacks the local section")
	}

	_, api := get("/api/v1/ports/2556")
	info := run(t, "", "info", "2556", "--json", "--offline")
	var arr []json.RawMessage
	if err := json.Unmarshal([]byte(info.stdout), &arr); err != nil || len(arr) != 1 {
		t.Fatalf("info --json: %v", err)
	}
	var a, b any
	_ = json.Unmarshal([]byte(api), &a)
	_ = json.Unmarshal(arr[0], &b)
	if m, ok := b.(map[string]any); !ok || m["local"] != nil {
		t.Errorf("info --offline --json: local is %v, want null", m["local"])
	} else {
		delete(m, "local") // this machine's listeners: the CLI's, not the public API's
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("/api/v1/ports/2556 differs from porthole info 2556 --json:\napi:  %.400s\ninfo: %.400s", ja, jb)
	}

	form := url.Values{"port": {"2556"}, "lang": {"ko"}, "rating": {"helpful"}, "comment": {"좋아요"}, "website": {""}}
	pr, err := client.PostForm(base+"/feedback", form)
	if err != nil {
		t.Fatal(err)
	}
	pr.Body.Close()
	if loc := pr.Header.Get("Location"); pr.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/ko/ports/2556?thanks=1") {
		t.Fatalf("feedback post: status %d, Location %q", pr.StatusCode, loc)
	}
	if _, body := get("/ko/ports/2556?thanks=1"); !strings.Contains(body, "답변을 저장했습니다") {
		t.Errorf("the page after a post lacks the thank-you note")
	}

	if code := srv.stop(t); code != 0 || !strings.Contains(srv.stderr.String(), "porthole: stopped") {
		t.Errorf("serve exited %d: %s", code, srv.stderr.String())
	}
}

func TestServeFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "extra"},
		{"serve", "--addr", "nohostport"},
		{"serve", "--rate-limit", "-1"},
	} {
		if r := run(t, "", args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, r.code, ExitUsage, r.stderr)
		}
	}
}

func TestExportCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	r := run(t, "", "export", dir, "--lang", "ko", "--range", "2556-2557")
	if r.code != 0 || !strings.Contains(r.stdout, "wrote") {
		t.Fatalf("export: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{{"export"}, {"export", dir, "--lang", "fr"}, {"export", dir, "--range", "http"}} {
		if r := run(t, "", args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, r.code, ExitUsage)
		}
	}
}

// TestExportNeverDeletes is the reproduction: export into a
// directory holding a file of the user's, onto a file, and into ".".
func TestExportNeverDeletes(t *testing.T) {
	root := t.TempDir()
	d := filepath.Join(root, "d")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(d, "notes.txt")
	file := filepath.Join(root, "file")
	for _, p := range []string{notes, file} {
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, target := range []string{d, file} {
		r := run(t, "", "export", target, "--lang", "en", "--range", "1-1")
		if r.code != ExitUsage || !strings.Contains(r.stderr, "nothing was written") || !strings.Contains(r.stderr, "give a new") {
			t.Errorf("export %s: exit %d, stderr %q", target, r.code, r.stderr)
		}
	}
	for _, p := range []string{notes, file} {
		if b, err := os.ReadFile(p); err != nil || string(b) != "x\n" {
			t.Errorf("%s: %q, %v; want it untouched", p, b, err)
		}
	}
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(empty)
	r := run(t, "", "export", ".", "--lang", "en", "--range", "1-1")
	if r.code != 0 || !strings.Contains(r.stdout, "in place") {
		t.Fatalf("export .: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(empty, ".porthole-export")); err != nil {
		t.Errorf("no marker: %v", err)
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.8.9.1": true, "::1": true, "localhost": true, "LOCALHOST": true,
		"": false, "0.0.0.0": false, "::": false, "192.168.1.10": false, "example.com": false,
	} {
		if got := isLoopbackHost(host); got != want {
			t.Errorf("isLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestServeCreatesNothingOnFailure: --db in a missing directory creates no
// directory, and a failed bind creates no database.
func TestServeCreatesNothingOnFailure(t *testing.T) {
	root := t.TempDir()
	// Bounded: a serve that does start (as it used to here) is stopped,
	// and the test fails on its exit status.
	serve := func(args ...string) result {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var out, errb bytes.Buffer
		env := &Env{Stdout: &out, Stderr: &errb, Getenv: testGetenv,
			Now: func() time.Time { return testNow }, Ephemeral: func() (int, int, error) { return 32768, 60999, nil }}
		code := Main(ctx, append([]string{"serve"}, args...), env)
		return result{out.String(), errb.String(), code}
	}
	r := serve("--addr", "127.0.0.1:0", "--db", filepath.Join(root, "missing", "dir", "x.db"))
	if r.code != ExitFailure || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("--db in a missing directory: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "missing")); !os.IsNotExist(err) {
		t.Errorf("serve created %s/missing (%v)", root, err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	db := filepath.Join(root, "x.db")
	r = serve("--addr", busy.Addr().String(), "--db", db)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "address already in use") {
		t.Errorf("busy address: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a serve that could not bind created %s (%v)", db, err)
	}
}
