package webguard_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/testenv"
	"github.com/porthole/porthole/internal/webguard"
)

// The answers net/http writes before any handler runs get the security headers through Listener; "OPTIONS *"
// reaches Wrap.
func TestServerWrittenErrorsCarryHeaders(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page") })
	s := webguard.NewServer("", webguard.Wrap(page, log), webguard.Timeouts{}, log)
	go s.Serve(webguard.Listener(ln))
	t.Cleanup(func() { s.Close() })
	tests := []struct {
		name, req string
		status    int
	}{
		{"431", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 64<<10) + "\r\n\r\n", 431},
		{"400 malformed", "GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n", 400},
		{"400 no Host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"505", "GET / HTTP/2.7\r\nHost: x\r\n\r\n", 505},
		{"501 transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
		{"417 expectation", "GET / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n", 417},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200},
		{"ordinary page", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := testenv.RawHTTP(t, ln.Addr().String(), tc.req)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			checkHeaders(t, resp.Header, false)
		})
	}
}
