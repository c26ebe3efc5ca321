package web

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/porthole/porthole/internal/testenv"
)

// axePath finds axe-core's axe.min.js: $PORTHOLE_AXE, else the npm cache
// directory scripts/test.sh installs it into.
func axePath() string {
	if p := os.Getenv("PORTHOLE_AXE"); p != "" {
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "porthole-npm", "node_modules", "axe-core", "axe.min.js")
}

// needAxe reads axe-core, or skips (fails under CI) without it.
func needAxe(t *testing.T) []byte {
	t.Helper()
	axe, err := os.ReadFile(axePath())
	if err != nil {
		testenv.Missing(t, "axe-core not found; the accessibility test needs it (npm install axe-core, or set PORTHOLE_AXE to axe.min.js; scripts/test.sh installs it)")
	}
	return axe
}

type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// TestAccessibility runs axe-core in Chromium on the site's main pages,
// under the strict CSP, in light and dark colours and at desktop and phone
// widths: no violation of any rule axe runs by default, nor of
// target-size (WCAG 2.2: tap targets of at least 24 px). The script is
// injected through the DevTools protocol, which the page's CSP does not
// govern.
func TestAccessibility(t *testing.T) {
	ctx := startBrowser(t, 3*time.Minute, chromedp.WindowSize(1280, 900))
	axe := needAxe(t)
	srv := cspServer(t, testSite(t, Options{}).Handler())

	pages := []string{"/", "/ports/2556", "/ko/ports/2556", "/stats", "/search?q=ssh"}
	for _, view := range []struct {
		name  string
		setup chromedp.Action[chromedp.Void]
	}{
		{"desktop light", colorScheme("light")},
		{"desktop dark", colorScheme("dark")},
		{"phone light", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)},
		{"phone dark", colorScheme("dark")},
	} {
		if err := chromedp.Do(ctx, view.setup); err != nil {
			t.Fatalf("%s: %v", view.name, err)
		}
		for _, p := range pages {
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+p), chromedp.WaitReady(chromedp.CSS("footer.site"))); err != nil {
				t.Fatalf("%s %s: %v", view.name, p, err)
			}
			checkAxe(t, ctx, axe, view.name+" "+p, "target-size", "color-contrast", "landmark-unique", "link-name")
		}
	}
}

// checkAxe runs axe-core on the page ctx shows and reports each violation
// as an error under name; the rules named in applied must have looked at
// the page.
func checkAxe(t *testing.T, ctx context.Context, axe []byte, name string, applied ...string) {
	t.Helper()
	const run = `axe.run(document, {resultTypes: ["violations"], rules: {"target-size": {enabled: true}}}).then(r => JSON.stringify({
		Violations: r.violations.map(v => ({ID: v.id, Impact: v.impact || "", Help: v.help,
			Nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))})),
		Applied: r.passes.concat(r.incomplete).map(v => v.id)}))`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(axe)+"\n;true")); err != nil {
		t.Fatalf("injecting axe-core: %v", err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", name, err)
	}
	var res struct {
		Violations []axeViolation
		Applied    []string
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("axe's answer %q: %v", out, err)
	}
	for _, v := range res.Violations {
		t.Errorf("%s: %s (%s): %s\n\t%v", name, v.ID, v.Impact, v.Help, v.Nodes)
	}
	// The rules the caller is about did look at the page.
	for _, rule := range applied {
		if !slices.Contains(res.Applied, rule) {
			t.Errorf("%s: axe did not apply %s", name, rule)
		}
	}
}

// TestPortMapBrowser looks at the home page's map in Chromium, light and
// dark, at desktop and phone widths: every cell is at least 24 px each way
// (a finger's target), neighbouring shades differ in luminance by a
// contrast ratio of at least 1.4, the arrow keys move one tab stop through
// the cells, and screenshots are saved ($PORTHOLE_ARTIFACTS, else a
// temporary directory) for a person to look at.
func TestPortMapBrowser(t *testing.T) {
	ctx := startBrowser(t, 2*time.Minute, chromedp.WindowSize(1280, 900))
	artifacts := artifactsDir(t)
	srv := cspServer(t, testSite(t, Options{}).Handler())
	// The smallest cell, and the contrast ratios of neighbouring shades
	// (none, 1–63, …, 192–256 assigned) as the page paints them.
	const measure = `(() => {
		const cells = Array.from(document.querySelectorAll(".map-cells a"));
		let w = 1e9, hh = 1e9;
		for (const a of cells) { const r = a.getBoundingClientRect(); w = Math.min(w, r.width); hh = Math.min(hh, r.height); }
		const lum = c => { const v = c.match(/[0-9.]+/g).slice(0, 3).map(x => { x = x / 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
			return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
		const shade = k => { const a = document.querySelector(".map-cells a.m-a" + k); return lum(getComputedStyle(a).backgroundColor); };
		const ratios = [];
		for (let k = 0; k < 4; k++) { const x = shade(k), y = shade(k + 1); ratios.push((Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05)); }
		return JSON.stringify({Cells: cells.length, W: w, H: hh, Ratios: ratios,
			Stops: cells.filter(a => a.tabIndex === 0).length, Overflow: document.documentElement.scrollWidth > innerWidth + 1});
	})()`
	for _, v := range []struct {
		name   string
		mobile bool
		scheme string
	}{{"desktop.light", false, "light"}, {"desktop.dark", false, "dark"}, {"phone.light", true, "light"}, {"phone.dark", true, "dark"}} {
		vp := chromedp.EmulateViewport(1280, 900)
		if v.mobile {
			vp = chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)
		}
		if err := chromedp.Do(ctx, vp, colorScheme(v.scheme), chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("ol.portmap"))); err != nil {
			t.Fatal(err)
		}
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](measure))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Cells, Stops int
			W, H         float64
			Ratios       []float64
			Overflow     bool
		}
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatal(err)
		}
		if m.Cells != 256 || m.W < 24 || m.H < 24 {
			t.Errorf("%s: %d cells, the smallest %.1f × %.1f px (want 256, at least 24 × 24)", v.name, m.Cells, m.W, m.H)
		}
		for k, r := range m.Ratios {
			if r < 1.4 {
				t.Errorf("%s: shades %d and %d differ by a contrast ratio of %.2f, want at least 1.4", v.name, k, k+1, r)
			}
		}
		if m.Stops != 1 || m.Overflow {
			t.Errorf("%s: %d of the cells are tab stops (want 1); page wider than the screen: %v", v.name, m.Stops, m.Overflow)
		}
		b, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("section[aria-labelledby=map-h]")))
		if err != nil {
			t.Fatal(err)
		}
		save(t, artifacts, "map."+v.name+".png", b)
		// The keyboard: the first cell, then right, then down a drawn line.
		perLine := 16
		if v.mobile {
			perLine = 8
		}
		if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS(".map-cells a")), chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowDown)); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll(".map-cells a")).indexOf(document.activeElement)`))
		if err != nil || got != 1+perLine {
			t.Errorf("%s: right then down from the first cell lands on cell %d, want %d (%v)", v.name, got, 1+perLine, err)
		}
	}
}

// TestStatsLayout: at 1280 px the statistics tables fit without scrolling
// and every range name stays on one line, in both languages; on a
// 390 px phone the chart's text is drawn at least 11 px tall.
func TestStatsLayout(t *testing.T) {
	ctx := startBrowser(t, time.Minute, chromedp.WindowSize(1280, 900))
	srv := httptest.NewServer(testSite(t, Options{}).Handler())
	defer srv.Close()
	const wide = `JSON.stringify({
		Scrolls: Array.from(document.querySelectorAll(".table-wrap")).filter(w => w.scrollWidth > w.clientWidth + 1).length,
		Wrapped: Array.from(document.querySelectorAll("table.num tbody th[scope=row]")).filter(th => {
			const r = document.createRange(); r.selectNodeContents(th.firstChild); return r.getClientRects().length !== 1;
		}).map(th => th.firstChild.textContent)})`
	for _, p := range []string{"/stats", "/ko/stats"} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.URL+p), chromedp.WaitVisible(chromedp.CSS("table.num"))); err != nil {
			t.Fatal(err)
		}
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](wide))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Scrolls int
			Wrapped []string
		}
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatal(err)
		}
		if m.Scrolls != 0 || len(m.Wrapped) != 0 {
			t.Errorf("%s at 1280 px: %d tables scroll sideways; names on more than one line: %q", p, m.Scrolls, m.Wrapped)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
			chromedp.Navigate(srv.URL+p), chromedp.WaitVisible(chromedp.CSS("svg.chart"))); err != nil {
			t.Fatal(err)
		}
		px, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`Math.min(...Array.from(document.querySelectorAll("svg.chart text")).map(e => e.getBoundingClientRect().height))`))
		if err != nil || px < 11 {
			t.Errorf("%s on a phone: the chart's smallest text is %.1f px tall, want at least 11 (%v)", p, px, err)
		}
	}
}
