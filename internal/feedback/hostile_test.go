package feedback_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/feedback"
	"github.com/porthole/porthole/internal/store"
)

// escapeAll writes s as a JSON string with every non-ASCII character as \u escapes (surrogate pairs beyond the
// BMP), the way some clients send text.
func escapeAll(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		}
	}
	b.WriteByte('"')
	return b.String()
}

// The comment limit is 1,000 characters after decoding, whatever the encoding on the wire.
func TestCommentLimitCountsCharacters(t *testing.T) {
	e := newEnv(t, feedback.Options{})
	for _, tc := range []struct {
		name string
		char string
	}{{"Korean", "한"}, {"emoji", "😃"}} {
		full := strings.Repeat(tc.char, 1000)
		body := `{"port":2556,"lang":"ko","rating":"helpful","comment":` + escapeAll(full) + `}`
		if w := e.do(jsonPost(body)); w.Code != 201 {
			t.Errorf("%s: 1,000 characters as \\u escapes (%d bytes): status %d %s", tc.name, len(body), w.Code, w.Body)
		}
		form := "port=2556&lang=ko&rating=helpful&comment=" + url.QueryEscape(full)
		if w := e.do(formPost(form)); w.Code != 303 {
			t.Errorf("%s: 1,000 characters percent-encoded (%d bytes): status %d %s", tc.name, len(form), w.Code, w.Body)
		}
		over := `{"port":2556,"lang":"ko","rating":"helpful","comment":` + escapeAll(full+tc.char) + `}`
		if w := e.do(jsonPost(over)); w.Code != 400 || !strings.Contains(w.Body.String(), "1000 characters") {
			t.Errorf("%s: 1,001 characters: status %d %s, want 400 naming the character limit", tc.name, w.Code, w.Body)
		}
	}
}

// Bidi overrides and lone carriage returns are shown, not obeyed, on the admin page.
func TestAdminShowsBidiAndCR(t *testing.T) {
	e := newEnv(t, feedback.Options{AdminToken: tok32})
	ctx := context.Background()
	for _, c := range []string{"invoice\u202egnp.exe", "first\roverwritten", "iso\u2067late\u2069d"} {
		if _, err := e.st.Add(ctx, store.Feedback{Port: 22, Lang: "en", Rating: store.Neutral, Comment: c, Created: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	w := e.do(withHeader(req{method: "GET", path: feedback.AdminPath}, "Authorization", "Bearer "+tok32))
	if w.Code != 200 {
		t.Fatalf("admin: %d", w.Code)
	}
	body := html.UnescapeString(w.Body.String())
	if strings.ContainsAny(body, "\r\u202e\u2067\u2069") {
		t.Errorf("admin page holds a raw CR or bidi control")
	}
	for _, want := range []string{"invoice[U+202E]gnp.exe", "first\noverwritten", "iso[U+2067]late[U+2069]d"} {
		if !strings.Contains(body, want) {
			t.Errorf("admin page lacks %q", want)
		}
	}
}

func TestDisplayComment(t *testing.T) {
	for in, want := range map[string]string{
		"plain":              "plain",
		"a\r\nb":             "a\nb",
		"a\rb\r":             "a\nb\n",
		"\u200e\u200f\u061c": "[U+200E][U+200F][U+061C]",
		"한국어\u202d":          "한국어[U+202D]",
	} {
		if got := feedback.DisplayComment(in); got != want {
			t.Errorf("DisplayComment(%q) = %q, want %q", in, got, want)
		}
	}
}
