package webguard_test

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/safefile"
	"github.com/porthole/porthole/internal/testenv"
	"github.com/porthole/porthole/internal/webguard"
)

const goodToken = "0123456789abcdef0123456789abcdef-right"

// adminServer is a real server whose one page needs the bearer token.
func adminServer(t *testing.T, th *webguard.Throttle) string {
	t.Helper()
	auth, err := webguard.NewBearerAuth(goodToken, th)
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, wait := auth.Authenticate(r, webguard.ClientAddr(r, false))
		if res != webguard.Granted {
			webguard.Refuse(w, res, wait, "test")
			return
		}
		io.WriteString(w, "secret admin page")
	})
	srv := httptest.NewServer(webguard.Wrap(h, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// clientFrom is an HTTP client whose connections come from the loopback address src (all of 127/8 is this
// machine's on Linux).
func clientFrom(t *testing.T, src string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", "127.0.0.1:1") // probe whether src can be bound at all
	if c != nil {
		c.Close()
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" && strings.Contains(err.Error(), "assign requested address") {
		testenv.Missing(t, "cannot use %s as a client address here: %v", src, err)
	}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

func get(t *testing.T, c *http.Client, url, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestBruteForceThrottled(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	th := webguard.NewThrottle(webguard.ThrottleOptions{Now: clock.Now})
	url := adminServer(t, th)
	attacker, admin := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")

	counts := map[int]int{}
	for i := 0; i < 4000; i++ {
		resp := get(t, attacker, url, "guess-"+strconv.Itoa(i))
		counts[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests {
			ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil || ra < 1 {
				t.Fatalf("429 with Retry-After %q", resp.Header.Get("Retry-After"))
			}
			checkHeaders(t, resp.Header, false)
		}
	}
	if counts[401] != webguard.DefaultFailuresPerClient || counts[429] != 4000-webguard.DefaultFailuresPerClient {
		t.Errorf("4000 wrong tokens were answered %v, want %d × 401 and the rest 429", counts, webguard.DefaultFailuresPerClient)
	}
	// The attacker is locked out even with the right token; another client is not.
	if resp := get(t, attacker, url, goodToken); resp.StatusCode != 429 {
		t.Errorf("the throttled client with the right token: %d, want 429", resp.StatusCode)
	}
	if resp := get(t, admin, url, goodToken); resp.StatusCode != 200 {
		t.Errorf("another client with the right token: %d, want 200", resp.StatusCode)
	}
	if resp := get(t, admin, url, ""); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %d %q, want 401 with a challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// A minute later the attacker may try again, a few times.
	clock.Advance(time.Minute)
	if resp := get(t, attacker, url, goodToken); resp.StatusCode != 200 {
		t.Errorf("a minute later, the right token: %d, want 200", resp.StatusCode)
	}
	if resp := get(t, attacker, url, "wrong"); resp.StatusCode != 401 {
		t.Errorf("a minute later, a wrong token: %d, want 401", resp.StatusCode)
	}
}

// Many clients, each under its own limit, together hit the global one.
func TestGlobalThrottle(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	th := webguard.NewThrottle(webguard.ThrottleOptions{PerClient: 5, Global: 20, Now: clock.Now})
	url := adminServer(t, th)
	denied, throttled := 0, 0
	for i := 2; i < 12; i++ {
		c := clientFrom(t, "127.0.0."+strconv.Itoa(i))
		for j := 0; j < 3; j++ {
			switch get(t, c, url, "wrong").StatusCode {
			case 401:
				denied++
			case 429:
				throttled++
			}
		}
	}
	if denied != 20 || throttled != 10 {
		t.Errorf("30 wrong tokens from 10 clients: %d × 401, %d × 429; want 20 and 10", denied, throttled)
	}
}

// The per-client table stays bounded under a flood of distinct addresses.
func TestThrottleMemoryBounded(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	th := webguard.NewThrottle(webguard.ThrottleOptions{MaxClients: 100, Global: 1 << 30, Now: clock.Now})
	for i := 0; i < 10000; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		th.Begin(a)
	}
	if n := th.Clients(); n != 100 {
		t.Errorf("%d clients remembered, want 100", n)
	}
	// IPv6 clients count per /64.
	for i := 0; i < 50; i++ {
		th.Begin(netip.MustParseAddr("2001:db8::" + strconv.FormatInt(int64(i+1), 16)))
	}
	ok, _ := th.Begin(netip.MustParseAddr("2001:db8::ffff"))
	if ok {
		t.Error("51st failure from one IPv6 /64 allowed")
	}
}

func TestShortTokenRefused(t *testing.T) {
	if _, err := webguard.NewBearerAuth(strings.Repeat("x", 31), nil); !errors.Is(err, webguard.ErrShortToken) {
		t.Errorf("31-byte token: %v, want ErrShortToken", err)
	}
	if _, err := webguard.NewBearerAuth(strings.Repeat("x", 32), nil); err != nil {
		t.Errorf("32-byte token: %v", err)
	}
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", goodToken+"\n", 0o600)
	if tok, err := webguard.ReadTokenFile(good); err != nil || tok != goodToken {
		t.Errorf("good file: %q, %v", tok, err)
	}
	short := write("short", "hunter2\n", 0o600)
	if _, err := webguard.ReadTokenFile(short); !errors.Is(err, webguard.ErrShortToken) || !strings.Contains(err.Error(), "7 bytes") {
		t.Errorf("short token: %v", err)
	}
	empty := write("empty", "\n", 0o600)
	if _, err := webguard.ReadTokenFile(empty); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := webguard.ReadTokenFile(dir); !errors.Is(err, safefile.ErrNotRegular) {
		t.Errorf("directory: %v", err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		p := write("open-"+strconv.FormatUint(uint64(mode), 8), goodToken, mode)
		_, err := webguard.ReadTokenFile(p)
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+p) || !strings.Contains(err.Error(), "group or others") {
			t.Errorf("mode %04o: %v, want a refusal that says chmod 600", mode, err)
		}
	}
}
