package webguard_test

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/testenv"
	"github.com/porthole/porthole/internal/webguard"
)

// rawGet sends a GET with exactly the given Host header line over a real connection (an http.Client would
// derive Host from the URL) and returns the response with its body read.
func rawGet(t *testing.T, addr, hostLine, path string) (*http.Response, string) {
	t.Helper()
	return testenv.RawHTTP(t, addr, "GET "+path+" HTTP/1.1\r\n"+hostLine+"Connection: close\r\n\r\n")
}

func TestCheckHostRefusesForeignNames(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	secret := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pid 4242 sshd") })
	h := webguard.Wrap(webguard.CheckHost(secret, append(webguard.LoopbackHosts, webguard.HostOf("https://Ports.Example:8443/"))...), log)
	addr := startServer(t, h)
	_, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		host string
		ok   bool
	}{
		{"localhost", true},
		{"localhost:" + port, true},
		{"LocalHost.:" + port, true},
		{"127.0.0.1", true},
		{"127.0.0.1:" + port, true},
		{"[::1]", true},
		{"[::1]:" + port, true},
		{"[0:0::1]:" + port, true},
		{"ports.example", true},
		{"ports.example:8443", true},
		{"attacker.example", false},
		{"attacker.example:" + port, false},
		{"localhost.attacker.example", false},
		{"127.0.0.1.nip.io:" + port, false},
		{"ports.example.attacker.example", false},
		{"[::ffff:127.0.0.2]", false},
		{"[fe80::1%25lo]", false},
		{"", false},
	}
	for _, tc := range tests {
		resp, body := rawGet(t, addr, "Host: "+tc.host+"\r\n", "/")
		if tc.ok {
			if resp.StatusCode != 200 || body != "pid 4242 sshd" {
				t.Errorf("Host %q: %d %q, want the page", tc.host, resp.StatusCode, body)
			}
			continue
		}
		if resp.StatusCode != http.StatusMisdirectedRequest || strings.Contains(body, "4242") {
			t.Errorf("Host %q: %d %q, want 421 without the page", tc.host, resp.StatusCode, body)
		}
		if tc.host != "" && strings.Contains(body, tc.host) {
			t.Errorf("Host %q reflected in the refusal: %q", tc.host, body)
		}
		checkHeaders(t, resp.Header, false)
	}
	// No Host header at all (HTTP/1.0).
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("no Host: %d, want 421", resp.StatusCode)
	}
}

func TestHostOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://ports.example":        "ports.example",
		"https://PORTS.example:8443/x": "ports.example",
		"http://[::1]:8025":            "::1",
		"http://user@ports.example/":   "ports.example",
		"ports.example":                "",
		"":                             "",
	} {
		if got := webguard.HostOf(in); got != want {
			t.Errorf("HostOf(%q) = %q, want %q", in, got, want)
		}
	}
}
