package cli

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/testenv"
)

// startServe runs `porthole serve` in process on a loopback port with args
// added and returns its host:port; the server stops at cleanup.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	srv := startMain(t, func() time.Time { return testNow },
		append([]string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "f.db")}, args...)...)
	return srv.wait(t, regexp.MustCompile(`serving http://(\S+)/`))[1]
}

// hostGet sends GET path to addr with exactly the Host header given.
func hostGet(t *testing.T, addr, host, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	extra := ""
	for i := 0; i+1 < len(hdr); i += 2 {
		extra += hdr[i] + ": " + hdr[i+1] + "\r\n"
	}
	return testenv.RawHTTP(t, addr, "GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\n"+extra+"Connection: close\r\n\r\n")
}

// DNS rebinding: a loopback server shows this machine's listeners only to
// requests for its own names.
func TestServeRefusesForeignHost(t *testing.T) {
	addr := startServe(t, "--base-url", "https://ports.example/")
	_, port, _ := net.SplitHostPort(addr)
	for _, path := range []string{"/local", "/ports/2556", "/api/v1/ports/2556", "/robots.txt"} {
		for _, host := range []string{"attacker.example", "attacker.example:" + port, "127.0.0.1.attacker.example"} {
			resp, body := hostGet(t, addr, host, path)
			if resp.StatusCode != http.StatusMisdirectedRequest {
				t.Errorf("Host %s %s: status %d, want 421", host, path, resp.StatusCode)
			}
			if strings.Contains(body, "here") || strings.Contains(body, "attacker") {
				t.Errorf("Host %s %s: the refusal shows data or the Host: %.200s", host, path, body)
			}
			if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") ||
				resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("Host %s %s: refusal without the security headers: %v", host, path, resp.Header)
			}
		}
		for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "ports.example"} {
			if resp, _ := hostGet(t, addr, host, path); resp.StatusCode != 200 {
				t.Errorf("Host %s %s: status %d, want 200", host, path, resp.StatusCode)
			}
		}
	}
}

func writeToken(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServeAdminTokenFileRules(t *testing.T) {
	good := "0123456789abcdef0123456789abcdef"
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := mkfifoIfPossible(fifo); err != nil {
		t.Logf("no FIFO case: %v", err)
		fifo = ""
	}
	cases := []struct {
		file, want string
	}{
		{writeToken(t, "short\n", 0o600), "at least 32"},
		{writeToken(t, good, 0o644), "chmod 600"},
		{writeToken(t, good, 0o640), "group or others"},
		{writeToken(t, "\n", 0o600), "is empty"},
		{filepath.Join(t.TempDir(), "missing"), "no such file"},
	}
	if fifo != "" {
		cases = append(cases, struct{ file, want string }{fifo, "named pipe (FIFO), not a regular file"})
	}
	for _, tc := range cases {
		r := run(t, "", "serve", "--addr", "127.0.0.1:0", "--admin-token-file", tc.file)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, want %d and %q in:\n%s", tc.file, r.code, ExitUsage, tc.want, r.stderr)
		}
	}
	// The good file: the admin page works, and wrong tokens get 429 after ten.
	addr := startServe(t, "--admin-token-file", writeToken(t, good+"\n", 0o600))
	if resp, _ := hostGet(t, addr, "localhost", "/admin/feedback", "Authorization", "Bearer "+good); resp.StatusCode != 200 {
		t.Fatalf("right token: %d", resp.StatusCode)
	}
	codes := map[int]int{}
	for i := 0; i < 50; i++ {
		resp, _ := hostGet(t, addr, "localhost", "/admin/feedback", "Authorization", "Bearer wrong")
		codes[resp.StatusCode]++
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if codes[401] != 10 || codes[429] != 40 {
		t.Errorf("50 wrong tokens: %v, want 10 × 401 and 40 × 429", codes)
	}
}

// A huge bad argument gives a one-line message that quotes only its start.
func TestLongArgumentCutInErrors(t *testing.T) {
	long := strings.Repeat("9", 100000)
	for _, args := range [][]string{{long}, {"info", long}, {"who", "tcp/" + long}, {"unknown-" + long},
		{"stats", long}, {"serve", "--addr", long}} {
		r := run(t, "", args...)
		if r.code != ExitUsage || len(r.stderr) > 400 || !strings.Contains(r.stderr, `…`) {
			t.Errorf("%.20s…: exit %d, %d bytes of stderr: %.300q", strings.Join(args, " "), r.code, len(r.stderr), r.stderr)
		}
	}
}
