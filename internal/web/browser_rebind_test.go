package web

import (
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/porthole/porthole/internal/webguard"
)

// TestBrowserDNSRebinding is the attack with a real browser: Chromium is
// told (--host-resolver-rules) that rebind.attacker.example is 127.0.0.1,
// as a rebinding DNS server would, and opens /local on the loopback server
// under that name. The site, wrapped as `porthole serve` wraps it on
// loopback, must refuse it; the same page under localhost is the control.
func TestBrowserDNSRebinding(t *testing.T) {
	ctx := startBrowser(t, 40*time.Second, chromedp.Flag("host-resolver-rules", "MAP rebind.attacker.example 127.0.0.1"))
	site := testSite(t, Options{Local: true, Listeners: fakeListeners})
	h := webguard.Wrap(webguard.CheckHost(site.Handler(), webguard.LoopbackHosts...), slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	bodyText := func(url string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
			t.Fatalf("opening %s: %v", url, err)
		}
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// The control: under its own name the page shows the listener.
	if got := bodyText("http://localhost:" + port + "/local"); !strings.Contains(got, "bagle-test") {
		t.Fatalf("http://localhost:%s/local does not show the listener:\n%.500s", port, got)
	}
	// The attack: the same server, the same path, a foreign name.
	for _, path := range []string{"/local", "/ports/2556", "/api/v1/ports/2556"} {
		got := bodyText("http://rebind.attacker.example:" + port + path)
		if strings.Contains(got, "bagle-test") || strings.Contains(got, "4242") {
			t.Errorf("under a rebound name, %s shows this machine's listener:\n%.500s", path, got)
		}
		if !strings.Contains(got, "421 Misdirected Request") {
			t.Errorf("under a rebound name, %s is not refused with 421:\n%.500s", path, got)
		}
	}
}
