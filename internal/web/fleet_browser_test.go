package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestFleetBrowser logs in through the form in Chromium, under the strict
// CSP, and sees the fleet page; the session cookie is out of the page's
// scripts' reach (HttpOnly); the login page, the fleet pages and a port
// page with its fleet section pass axe-core in light and dark colours; the
// logout button ends the session.
func TestFleetBrowser(t *testing.T) {
	ctx := startBrowser(t, 2*time.Minute, chromedp.WindowSize(1280, 900))
	axe := needAxe(t)
	fs := newFleetSite(t)
	srv := cspServer(t, fs.site.Handler())
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	location := func() string {
		t.Helper()
		u, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(u, srv.URL)
	}
	do("opening /fleet", chromedp.Navigate(srv.URL+"/fleet"), chromedp.WaitVisible(chromedp.ID("token")))
	if got := location(); got != "/fleet/login" {
		t.Fatalf("/fleet without a session shows %s, want /fleet/login", got)
	}
	for _, scheme := range []string{"light", "dark"} {
		do("colours", colorScheme(scheme))
		checkAxe(t, ctx, axe, scheme+" /fleet/login", "color-contrast", "label")
	}
	// A wrong token first: the form comes back with the error.
	do("wrong token", chromedp.SendKeys(chromedp.ID("token"), "not-the-token"), chromedp.Click(chromedp.CSS("form.login button")),
		chromedp.WaitVisible(chromedp.CSS("p.note[role=alert]")))
	do("right token", chromedp.SendKeys(chromedp.ID("token"), fleetAdminToken),
		chromedp.Click(chromedp.CSS("form.login button")), chromedp.WaitVisible(chromedp.ID("hosts")))
	if got := location(); got != "/fleet" {
		t.Errorf("after logging in the browser shows %s, want /fleet", got)
	}
	if c, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.cookie")); err != nil || c != "" {
		t.Errorf("document.cookie = %q (%v); the session cookie must be HttpOnly", c, err)
	}
	hosts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#hosts tbody tr").length`))
	if err != nil || hosts != len(fs.fx.hosts) {
		t.Errorf("the fleet page lists %d hosts (%v), want %d", hosts, err, len(fs.fx.hosts))
	}
	for _, p := range []string{"/fleet", "/ko/fleet", "/fleet/hosts/web-1", "/ko/fleet/hosts/web-2", "/ports/2556", "/ko/ports/2556"} {
		do("opening "+p, chromedp.Navigate(srv.URL+p), chromedp.WaitReady(chromedp.CSS("footer.site")))
		if strings.Contains(p, "/ports/") {
			text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#fleet p")))
			if err != nil || !strings.Contains(text, "2556") {
				t.Errorf("%s: the fleet section says %q (%v)", p, text, err)
			}
		}
		for _, scheme := range []string{"light", "dark"} {
			do("colours", colorScheme(scheme))
			checkAxe(t, ctx, axe, scheme+" "+p, "color-contrast", "landmark-unique", "link-name")
		}
	}
	// A phone: the tables scroll inside their frames, and tap targets stay
	// at least 24 px.
	do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), colorScheme("light"))
	for _, p := range []string{"/fleet", "/ports/2556"} {
		do("opening "+p, chromedp.Navigate(srv.URL+p), chromedp.WaitReady(chromedp.CSS("footer.site")))
		checkAxe(t, ctx, axe, "phone "+p, "target-size")
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > innerWidth + 1`))
		if err != nil || wide {
			t.Errorf("phone %s: the page is wider than the screen (%v)", p, err)
		}
	}
	do("desktop", chromedp.EmulateViewport(1280, 900))
	do("logging out", chromedp.Navigate(srv.URL+"/fleet"), chromedp.WaitVisible(chromedp.CSS("form.logout button")),
		chromedp.Click(chromedp.CSS("form.logout button")), chromedp.WaitVisible(chromedp.ID("token")))
	do("back to /fleet", chromedp.Navigate(srv.URL+"/fleet"), chromedp.WaitVisible(chromedp.ID("token")))
	if got := location(); got != "/fleet/login" {
		t.Errorf("after logging out /fleet shows %s, want /fleet/login", got)
	}
}
