package web

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/porthole/porthole/internal/feedback"
	"github.com/porthole/porthole/internal/store"
	"github.com/porthole/porthole/internal/store/sqlite"
)

// TestBrowser drives headless Chromium through the model page in both
// languages: sections, the search box from the keyboard, a copy button, and
// screenshots saved as artifacts ($PORTHOLE_ARTIFACTS, else a temporary
// directory). It skips when Chromium is missing, except under CI.
func TestBrowser(t *testing.T) {
	ctx := startBrowser(t, 40*time.Second, chromedp.WindowSize(1200, 900))
	// The real feedback handler on a throwaway database, so that both the
	// scripted JSON post and the no-script form post reach it.
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "feedback.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fb, err := feedback.New(st, time.Now, slog.New(slog.DiscardHandler), feedback.Options{})
	if err != nil {
		t.Fatal(err)
	}
	answers := func() []store.Feedback {
		t.Helper()
		var all []store.Feedback
		if err := st.Export(context.Background(), func(f store.Feedback) error { all = append(all, f); return nil }); err != nil {
			t.Fatal(err)
		}
		return all
	}
	h := testSite(t, Options{Feedback: fb}).Handler()
	srv := cspServer(t, h)
	artifacts := artifactsDir(t)

	str := func(a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	sectionsJS := `Array.from(document.querySelectorAll("main section[id]")).map(s => s.id).join(",")`
	wantSections := "what,threats,uses,check,context,neighbours,sources,feedback"
	noScript := func(off bool) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
			return chromedp.Void{}, err
		}
	}
	shot := func(name string, a chromedp.Action[[]byte]) {
		t.Helper()
		b, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		save(t, artifacts, name, b)
	}

	do("opening /ports/2556", chromedp.Navigate(srv.URL+"/ports/2556"), chromedp.WaitVisible(chromedp.ID("feedback")))
	if title := str(chromedp.Title()); !strings.HasPrefix(title, "Port 2556: nicetec-nmsvc") {
		t.Errorf("title %q", title)
	}
	if lang := str(chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "en" {
		t.Errorf("lang %q", lang)
	}
	if got := str(chromedp.Evaluate[string](sectionsJS)); got != wantSections {
		t.Errorf("sections %s, want %s", got, wantSections)
	}

	// The copy button: shown by the script (so the script ran under the
	// strict CSP), and it says so when clicked.
	copyBtn := chromedp.CSS(`button.copy[data-copy="cmd-linux"]`)
	do("copy button", chromedp.WaitVisible(copyBtn), chromedp.Click(copyBtn))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('button.copy[data-copy="cmd-linux"]').textContent === "Copied"`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Errorf("the copy button never said Copied: %v", err)
	}

	// The page at full length, light and then dark.
	shot("port-2556.en.png", chromedp.FullScreenshot(100))
	do("dark mode", colorScheme("dark"))
	shot("port-2556.en.dark.png", chromedp.FullScreenshot(100))
	do("light mode", colorScheme("light"))

	// Search from the keyboard: "/" focuses the box, Enter submits.
	do("pressing /", chromedp.KeyEvent("/"))
	if active := str(chromedp.Evaluate[string](`document.activeElement.id`)); active != "q" {
		t.Errorf("after '/', the focused element is %q, want the search box", active)
	}
	// CDP delivers the "/" keystroke's character even when the page cancels
	// the key (a real keyboard does not): take it back first.
	do("typing a search", chromedp.KeyEvent(kb.Backspace), chromedp.KeyEvent("nicetec"))
	if v := str(chromedp.Evaluate[string](`document.getElementById("q").value`)); v != "nicetec" {
		t.Errorf("the search box holds %q after typing", v)
	}
	do("submitting with Enter", chromedp.KeyEvent(kb.Enter))
	do("waiting for results", chromedp.WaitVisible(chromedp.CSS("ol.hits")))
	url := str(chromedp.Location())
	hits, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("ol.hits li").length`))
	if err != nil || !strings.Contains(url, "/search?q=nicetec") || hits == 0 {
		t.Errorf("search landed on %s with %d hits (%v)", url, hits, err)
	}
	// Focus the first result and follow it with Enter.
	do("following a result", chromedp.Focus(chromedp.CSS("ol.hits li a")), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("what")))
	if url := str(chromedp.Location()); !strings.Contains(url, "/ports/2556") {
		t.Errorf("the first result led to %s", url)
	}

	// No one has answered yet: no summary line.
	if n := str(chromedp.Evaluate[string](`String(document.querySelectorAll("#feedback p.summary").length)`)); n != "0" {
		t.Errorf("%s summary lines before any answer", n)
	}
	// The feedback form from the keyboard: a face with the space bar, a
	// comment, Enter on the button. The script posts it as JSON and thanks
	// in place of the form, without leaving the page.
	before := str(chromedp.Location())
	do("feedback form", chromedp.Focus(chromedp.ID("fb-helpful")), chromedp.KeyEvent(" "),
		chromedp.Focus(chromedp.ID("fb-comment")), chromedp.KeyEvent("clear and useful"),
		chromedp.Focus(chromedp.CSS("form.feedback button[type=submit]")), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#feedback p.thanks")))
	if thanks := str(chromedp.Text(chromedp.CSS("#feedback p.thanks"))); thanks != "Thank you: your answer was saved." {
		t.Errorf("inline thanks %q", thanks)
	}
	if after := str(chromedp.Location()); after != before {
		t.Errorf("the scripted answer navigated from %s to %s", before, after)
	}
	if n := str(chromedp.Evaluate[string](`String(document.querySelectorAll("form.feedback").length)`)); n != "0" {
		t.Errorf("the form is still on the page after the thanks (%s)", n)
	}
	if got := answers(); len(got) != 1 || got[0].Port != 2556 || got[0].Lang != "en" || got[0].Rating != "helpful" ||
		got[0].Comment != "clear and useful" {
		t.Errorf("stored %+v, want one helpful answer about 2556 in English", got)
	}
	// A later visit shows how people rated the page, from the summary API.
	do("reloading /ports/2556", chromedp.Navigate(srv.URL+"/ports/2556"),
		chromedp.WaitVisible(chromedp.CSS("#feedback p.summary")))
	if line := str(chromedp.Text(chromedp.CSS("#feedback p.summary"))); line != "1 of 1 people found this page helpful." {
		t.Errorf("summary line %q", line)
	}
	shot("port-2556.en.feedback.png", chromedp.Screenshot(chromedp.ID("feedback")))

	// Without script, the form posts and the server redirects back with thanks.
	do("disabling script", noScript(true), chromedp.Navigate(srv.URL+"/ports/2556"), chromedp.WaitVisible(chromedp.CSS(`label[for="fb-neutral"]`)),
		chromedp.Click(chromedp.CSS(`label[for="fb-neutral"]`)), chromedp.Click(chromedp.CSS("form.feedback button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#feedback p.thanks")))
	if u := str(chromedp.Location()); !strings.HasSuffix(u, "/ports/2556?thanks=1#feedback") {
		t.Errorf("the no-script post landed on %s", u)
	}
	if n := len(answers()); n != 2 {
		t.Errorf("%d answers stored after the no-script post, want 2", n)
	}
	do("enabling script", noScript(false))

	// Korean.
	do("opening /ko/ports/2556", chromedp.Navigate(srv.URL+"/ko/ports/2556"), chromedp.WaitVisible(chromedp.ID("feedback")))
	if title := str(chromedp.Title()); !strings.HasPrefix(title, "포트 2556: nicetec-nmsvc") {
		t.Errorf("Korean title %q", title)
	}
	if lang := str(chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "ko" {
		t.Errorf("Korean lang %q", lang)
	}
	if got := str(chromedp.Evaluate[string](sectionsJS)); got != wantSections {
		t.Errorf("Korean sections %s, want %s", got, wantSections)
	}
	// Korean: its own summary (no Korean answers yet) and the localized thanks.
	if n := str(chromedp.Evaluate[string](`String(document.querySelectorAll("#feedback p.summary").length)`)); n != "0" {
		t.Errorf("Korean page shows %s summary lines with no Korean answers", n)
	}
	do("Korean feedback", chromedp.Click(chromedp.CSS(`label[for="fb-unhelpful"]`)), chromedp.Click(chromedp.CSS("form.feedback button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#feedback p.thanks")))
	if thanks := str(chromedp.Text(chromedp.CSS("#feedback p.thanks"))); thanks != "고맙습니다. 답변을 저장했습니다." {
		t.Errorf("Korean inline thanks %q", thanks)
	}
	do("reloading /ko/ports/2556", chromedp.Navigate(srv.URL+"/ko/ports/2556"),
		chromedp.WaitVisible(chromedp.CSS("#feedback p.summary")))
	if line := str(chromedp.Text(chromedp.CSS("#feedback p.summary"))); line != "1명 중 0명이 이 페이지가 도움이 되었다고 답했습니다." {
		t.Errorf("Korean summary line %q", line)
	}
	shot("port-2556.ko.png", chromedp.FullScreenshot(100))

	// A phone: nothing may be wider than the screen.
	do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(srv.URL+"/ports/2556"), chromedp.WaitVisible(chromedp.ID("feedback")))
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || overflow {
		t.Errorf("the port page scrolls sideways on a 390 px wide phone (%v)", err)
	}
	shot("port-2556.phone.png", chromedp.CaptureScreenshot())
	do("home", chromedp.EmulateViewport(1200, 900), chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("ol.portmap")))
	shot("home.en.png", chromedp.FullScreenshot(100))
}

func save(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}
