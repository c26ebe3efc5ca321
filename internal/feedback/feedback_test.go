package feedback_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/feedback"
	"github.com/porthole/porthole/internal/store"
	"github.com/porthole/porthole/internal/store/sqlite"
	"github.com/porthole/porthole/internal/store/storetest"
	"github.com/porthole/porthole/internal/testenv"
)

type env struct {
	h     *feedback.Handler
	st    store.Store
	clock *testenv.Clock
	logs  *testenv.SyncBuffer
}

func newEnv(t testing.TB, opts feedback.Options) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "feedback.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := testenv.NewClock(storetest.Base)
	logs := &testenv.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	h, err := feedback.New(st, c.Now, log, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{h: h, st: st, clock: c, logs: logs}
}

type req struct {
	method, path, ctype, body string
	header                    map[string]string
	remote                    string
}

func (e *env) do(r req) *httptest.ResponseRecorder {
	if r.method == "" {
		r.method = http.MethodPost
	}
	hr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, hr)
	return w
}

func jsonPost(body string) req {
	return req{path: feedback.APIPath, ctype: "application/json", body: body}
}

func formPost(body string) req {
	return req{path: feedback.FormPath, ctype: "application/x-www-form-urlencoded", body: body}
}

func (e *env) count(t testing.TB) int {
	t.Helper()
	n := 0
	if err := e.st.Export(context.Background(), func(store.Feedback) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPostJSON(t *testing.T) {
	e := newEnv(t, feedback.Options{})
	tests := []struct {
		name string
		body string
		want store.Feedback
	}{
		{"helpful", `{"port": 2556, "lang": "en", "rating": "helpful", "comment": "thanks"}`,
			store.Feedback{Port: 2556, Lang: "en", Rating: "helpful", Comment: "thanks"}},
		{"no comment", `{"port":0,"lang":"ko","rating":"unhelpful"}`,
			store.Feedback{Port: 0, Lang: "ko", Rating: "unhelpful"}},
		{"fields in any order", `{"rating":"neutral","comment":"","lang":"en","port":65535}`,
			store.Feedback{Port: 65535, Lang: "en", Rating: "neutral"}},
		{"1000 runes", `{"port":22,"lang":"ko","rating":"helpful","comment":"` + strings.Repeat("가", 1000) + `"}`,
			store.Feedback{Port: 22, Lang: "ko", Rating: "helpful", Comment: strings.Repeat("가", 1000)}},
		{"escapes decoded", `{"port":22,"lang":"en","rating":"helpful","comment":"a\nb \u003cb\u003e \"q\""}`,
			store.Feedback{Port: 22, Lang: "en", Rating: "helpful", Comment: "a\nb <b> \"q\""}},
		{"charset param", `{"port":1,"lang":"en","rating":"helpful"}`,
			store.Feedback{Port: 1, Lang: "en", Rating: "helpful"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(time.Minute)
			r := jsonPost(tc.body)
			if tc.name == "charset param" {
				r.ctype = "application/json; charset=UTF-8"
			}
			w := e.do(r)
			if w.Code != http.StatusCreated {
				t.Fatalf("status %d, body %q; want 201", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			var resp struct{ ID int64 }
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.ID <= 0 {
				t.Fatalf("response %q: %v", w.Body, err)
			}
			got, err := e.st.Get(context.Background(), resp.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.ID, want.Created = resp.ID, e.clock.Now()
			if got != want {
				t.Errorf("stored %+v\nwant   %+v", got, want)
			}
		})
	}
}

func TestPostForm(t *testing.T) {
	tests := []struct {
		name     string
		opts     feedback.Options
		body     string
		location string
		stored   int
	}{
		{"english", feedback.Options{}, "port=2556&lang=en&rating=helpful&comment=nice", "/ports/2556?thanks=1#feedback", 1},
		{"korean", feedback.Options{}, "port=2556&lang=ko&rating=neutral&comment=" + url.QueryEscape("좋아요"), "/ko/ports/2556?thanks=1#feedback", 1},
		{"empty comment and honeypot", feedback.Options{}, "port=80&lang=en&rating=unhelpful&comment=&website=", "/ports/80?thanks=1#feedback", 1},
		{"honeypot filled: thanked, not stored", feedback.Options{}, "port=80&lang=en&rating=helpful&website=http%3A%2F%2Fspam", "/ports/80?thanks=1#feedback", 0},
		{"custom page URL", feedback.Options{PageURL: func(p int, l string) string { return fmt.Sprintf("/%s/p/%d?x=y", l, p) }},
			"port=7&lang=en&rating=helpful", "/en/p/7?thanks=1&x=y#feedback", 1},
		{"textarea line breaks count once", feedback.Options{}, "port=1&lang=en&rating=helpful&comment=" +
			url.QueryEscape(strings.Repeat("abcdefghi\r\n", 100)), "/ports/1?thanks=1#feedback", 1},
		{"1000 Korean characters fit", feedback.Options{}, "port=1&lang=ko&rating=helpful&comment=" + url.QueryEscape(strings.Repeat("한", 1000)), "/ko/ports/1?thanks=1#feedback", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			w := e.do(formPost(tc.body))
			if w.Code != http.StatusSeeOther {
				t.Fatalf("status %d, body %q; want 303", w.Code, w.Body)
			}
			if loc := w.Header().Get("Location"); loc != tc.location {
				t.Errorf("Location %q, want %q", loc, tc.location)
			}
			if n := e.count(t); n != tc.stored {
				t.Errorf("%d records stored, want %d", n, tc.stored)
			}
			e.st.Export(context.Background(), func(f store.Feedback) error {
				if strings.Contains(f.Comment, "\r") {
					t.Errorf("form comment stored with CR: %q", f.Comment)
				}
				return nil
			})
		})
	}
}

func TestRefused(t *testing.T) {
	const ok = `{"port":2556,"lang":"en","rating":"helpful"}`
	const okForm = "port=2556&lang=en&rating=helpful"
	tests := []struct {
		name   string
		r      req
		status int
	}{
		// Validation (allow-lists).
		{"rating unknown", jsonPost(`{"port":2556,"lang":"en","rating":"happy"}`), 400},
		{"rating number", jsonPost(`{"port":2556,"lang":"en","rating":1}`), 400},
		{"rating empty", jsonPost(`{"port":2556,"lang":"en","rating":""}`), 400},
		{"rating array", jsonPost(`{"port":2556,"lang":"en","rating":["helpful"]}`), 400},
		{"rating null", jsonPost(`{"port":2556,"lang":"en","rating":null}`), 400},
		{"rating missing", jsonPost(`{"port":2556,"lang":"en"}`), 400},
		{"rating case", jsonPost(`{"port":2556,"lang":"en","rating":"Helpful"}`), 400},
		{"rating injection", jsonPost(`{"port":2556,"lang":"en","rating":"helpful' OR '1'='1"}`), 400},
		{"port string", jsonPost(`{"port":"2556","lang":"en","rating":"helpful"}`), 400},
		{"port fraction", jsonPost(`{"port":2556.0,"lang":"en","rating":"helpful"}`), 400},
		{"port exponent", jsonPost(`{"port":2e3,"lang":"en","rating":"helpful"}`), 400},
		{"port negative", jsonPost(`{"port":-1,"lang":"en","rating":"helpful"}`), 400},
		{"port too high", jsonPost(`{"port":65536,"lang":"en","rating":"helpful"}`), 400},
		{"port huge", jsonPost(`{"port":99999999999999999999,"lang":"en","rating":"helpful"}`), 400},
		{"lang unknown", jsonPost(`{"port":2556,"lang":"fr","rating":"helpful"}`), 400},
		{"lang missing", jsonPost(`{"port":2556,"rating":"helpful"}`), 400},
		{"comment too long", jsonPost(`{"port":1,"lang":"en","rating":"helpful","comment":"` + strings.Repeat("a", 1001) + `"}`), 400},
		{"comment escape sequence", jsonPost(`{"port":1,"lang":"en","rating":"helpful","comment":"\u001b[2J"}`), 400},
		{"comment NUL", jsonPost(`{"port":1,"lang":"en","rating":"helpful","comment":"a\u0000b"}`), 400},
		{"comment number", jsonPost(`{"port":1,"lang":"en","rating":"helpful","comment":5}`), 400},
		// Structure.
		{"unknown field", jsonPost(`{"port":2556,"lang":"en","rating":"helpful","admin":true}`), 400},
		{"field in other case", jsonPost(`{"Port":2556,"lang":"en","rating":"helpful"}`), 400},
		{"duplicate key", jsonPost(`{"port":2556,"lang":"en","rating":"helpful","rating":"unhelpful"}`), 400},
		{"trailing object", jsonPost(ok + `{"port":1}`), 400},
		{"trailing garbage", jsonPost(ok + `x`), 400},
		{"array", jsonPost(`[` + ok + `]`), 400},
		{"truncated", jsonPost(ok[:20]), 400},
		{"empty body", jsonPost(``), 400},
		{"invalid UTF-8 JSON", jsonPost("{\"port\":1,\"lang\":\"en\",\"rating\":\"helpful\",\"comment\":\"\xff\xfe\"}"), 400},
		{"invalid UTF-8 form", formPost(okForm + "&comment=%ff%fe"), 400},
		{"repeated form field", formPost(okForm + "&rating=unhelpful"), 400},
		{"repeated port", formPost(okForm + "&port=22"), 400},
		{"unknown form field", formPost(okForm + "&id=7"), 400},
		{"semicolon separator", formPost("port=2556;lang=en;rating=helpful"), 400},
		{"form port sign", formPost("port=%2B22&lang=en&rating=helpful"), 400},
		{"form missing rating", formPost("port=22&lang=en"), 400},
		{"honeypot with a bad lang is no redirect", formPost("port=1&lang=%2F%2Fevil.example&rating=helpful&website=x"), 400},
		{"honeypot with a bad rating", formPost("port=1&lang=en&rating=x&website=x"), 400},
		{"bad percent escape", formPost(okForm + "&comment=%zz"), 400},
		// Size.
		{"JSON body over the limit", jsonPost(`{"port":1,"lang":"en","rating":"helpful","comment":"` + strings.Repeat(" ", feedback.MaxJSONBody) + `"}`), 413},
		{"form body over limit", formPost(okForm + "&comment=" + strings.Repeat("a", feedback.MaxFormBody)), 413},
		// Method and media type.
		{"GET", req{method: "GET", path: feedback.APIPath}, 405},
		{"PUT", req{method: "PUT", path: feedback.APIPath, ctype: "application/json", body: ok}, 405},
		{"DELETE", req{method: "DELETE", path: feedback.APIPath}, 405},
		{"GET form", req{method: "GET", path: feedback.FormPath + "?" + okForm}, 405},
		{"text/plain", req{path: feedback.APIPath, ctype: "text/plain", body: ok}, 415},
		{"multipart", req{path: feedback.FormPath, ctype: "multipart/form-data; boundary=x", body: "--x--"}, 415},
		{"no content type", req{path: feedback.APIPath, body: ok}, 415},
		{"form to JSON route", req{path: feedback.APIPath, ctype: "application/x-www-form-urlencoded", body: okForm}, 415},
		{"JSON to form route", req{path: feedback.FormPath, ctype: "application/json", body: ok}, 415},
		{"other charset", req{path: feedback.APIPath, ctype: "application/json; charset=latin1", body: ok}, 415},
		// Cross-origin.
		{"Sec-Fetch-Site cross-site", withHeader(jsonPost(ok), "Sec-Fetch-Site", "cross-site"), 403},
		{"Sec-Fetch-Site cross-site form", withHeader(formPost(okForm), "Sec-Fetch-Site", "cross-site"), 403},
		{"foreign Origin", withHeader(jsonPost(ok), "Origin", "https://evil.example"), 403},
		{"foreign Origin form", withHeader(formPost(okForm), "Origin", "https://evil.example"), 403},
		{"null Origin", withHeader(formPost(okForm), "Origin", "null"), 403},
		// Unknown routes and the admin page without a token.
		{"admin off", req{method: "GET", path: feedback.AdminPath}, 404},
		{"admin off with a token", withHeader(req{method: "GET", path: feedback.AdminPath}, "Authorization", "Bearer x"), 404},
		{"other path", req{method: "POST", path: "/api/v1/feedback/1", ctype: "application/json", body: ok}, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, feedback.Options{})
			w := e.do(tc.r)
			if w.Code != tc.status {
				t.Fatalf("status %d (body %q), want %d", w.Code, w.Body, tc.status)
			}
			if n := e.count(t); n != 0 {
				t.Errorf("%d records stored by a refused request", n)
			}
			if tc.status == 405 && w.Header().Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
			if body := w.Body.String(); strings.Contains(body, "sqlite") || strings.Contains(body, "goroutine") {
				t.Errorf("error body leaks internals: %q", body)
			}
		})
	}
}

func withHeader(r req, k, v string) req {
	h := map[string]string{k: v}
	for k2, v2 := range r.header {
		h[k2] = v2
	}
	r.header = h
	return r
}

func TestSameOriginAllowed(t *testing.T) {
	const ok = `{"port":2556,"lang":"en","rating":"helpful"}`
	tests := []struct {
		name string
		r    req
	}{
		{"no browser headers (curl)", jsonPost(ok)},
		{"Sec-Fetch-Site same-origin", withHeader(jsonPost(ok), "Sec-Fetch-Site", "same-origin")},
		{"Sec-Fetch-Site none", withHeader(jsonPost(ok), "Sec-Fetch-Site", "none")},
		{"Origin equals Host", withHeader(jsonPost(ok), "Origin", "http://example.com")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, feedback.Options{})
			if w := e.do(tc.r); w.Code != http.StatusCreated {
				t.Fatalf("status %d (%q), want 201", w.Code, w.Body)
			}
		})
	}
}

func TestContentLengthLieRefusedWithoutReading(t *testing.T) {
	e := newEnv(t, feedback.Options{})
	r := httptest.NewRequest("POST", feedback.APIPath, strings.NewReader(`{}`))
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = 1e9
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", w.Code)
	}
}

func TestRateLimit(t *testing.T) {
	const ok = `{"port":2556,"lang":"en","rating":"helpful"}`
	from := func(remote, xff string) req {
		r := jsonPost(ok)
		r.remote = remote
		if xff != "" {
			r = withHeader(r, "X-Forwarded-For", xff)
		}
		return r
	}
	t.Run("limit then refill", func(t *testing.T) {
		e := newEnv(t, feedback.Options{RateLimit: 10})
		for i := range 10 {
			if w := e.do(from("192.0.2.1:1000", "")); w.Code != 201 {
				t.Fatalf("post %d: status %d", i+1, w.Code)
			}
		}
		w := e.do(from("192.0.2.1:1001", ""))
		if w.Code != http.StatusTooManyRequests {
			t.Fatalf("11th post: status %d, want 429", w.Code)
		}
		if ra := w.Header().Get("Retry-After"); ra != "6" {
			t.Errorf("Retry-After %q, want 6 (one post per 6 s at 10/min)", ra)
		}
		if w := e.do(from("192.0.2.2:1000", "")); w.Code != 201 {
			t.Errorf("another client: status %d, want 201", w.Code)
		}
		e.clock.Advance(6 * time.Second)
		if w := e.do(from("192.0.2.1:1000", "")); w.Code != 201 {
			t.Errorf("after 6 s: status %d, want 201", w.Code)
		}
		if w := e.do(from("192.0.2.1:1000", "")); w.Code != 429 {
			t.Errorf("right after: status %d, want 429", w.Code)
		}
		if n := e.count(t); n != 12 {
			t.Errorf("%d stored, want 12", n)
		}
	})
	t.Run("X-Forwarded-For ignored from an untrusted peer", func(t *testing.T) {
		e := newEnv(t, feedback.Options{RateLimit: 3})
		for i := range 3 {
			e.do(from("192.0.2.1:1000", fmt.Sprintf("203.0.113.%d", i)))
		}
		if w := e.do(from("192.0.2.1:1000", "198.51.100.7")); w.Code != 429 {
			t.Errorf("spoofed X-Forwarded-For: status %d, want 429", w.Code)
		}
	})
	t.Run("X-Forwarded-For used behind a trusted proxy", func(t *testing.T) {
		e := newEnv(t, feedback.Options{RateLimit: 3, TrustProxy: true})
		for i := range 3 {
			e.do(from("127.0.0.1:1000", "10.9.9.9, 203.0.113.1"))
			_ = i
		}
		if w := e.do(from("127.0.0.1:1000", "203.0.113.1")); w.Code != 429 {
			t.Errorf("same forwarded client: status %d, want 429", w.Code)
		}
		// The client controls everything before the proxy's own (last) entry.
		if w := e.do(from("127.0.0.1:1000", "198.51.100.1, 203.0.113.1")); w.Code != 429 {
			t.Errorf("client-chosen first entry: status %d, want 429", w.Code)
		}
		if w := e.do(from("127.0.0.1:1000", "203.0.113.2")); w.Code != 201 {
			t.Errorf("other forwarded client: status %d, want 201", w.Code)
		}
	})
	t.Run("IPv6 limited per /64", func(t *testing.T) {
		e := newEnv(t, feedback.Options{RateLimit: 2})
		e.do(from("[2001:db8::1]:1000", ""))
		e.do(from("[2001:db8::2]:1000", ""))
		if w := e.do(from("[2001:db8::ffff:3]:1000", "")); w.Code != 429 {
			t.Errorf("same /64: status %d, want 429", w.Code)
		}
		if w := e.do(from("[2001:db8:0:1::1]:1000", "")); w.Code != 201 {
			t.Errorf("other /64: status %d, want 201", w.Code)
		}
	})
	t.Run("refused requests count too", func(t *testing.T) {
		e := newEnv(t, feedback.Options{RateLimit: 2})
		e.do(jsonPost(`{"bad":1}`))
		e.do(jsonPost(`{"bad":1}`))
		if w := e.do(jsonPost(ok)); w.Code != 429 {
			t.Errorf("status %d, want 429", w.Code)
		}
	})
	t.Run("zero disables", func(t *testing.T) {
		e := newEnv(t, feedback.Options{RateLimit: 0})
		for i := range 200 {
			if w := e.do(jsonPost(ok)); w.Code != 201 {
				t.Fatalf("post %d: status %d", i+1, w.Code)
			}
		}
	})
}

func TestHostileCommentsByteIdentical(t *testing.T) {
	e := newEnv(t, feedback.Options{})
	for _, c := range storetest.Hostile {
		body, _ := json.Marshal(map[string]any{"port": 2556, "lang": "en", "rating": "neutral", "comment": c})
		w := e.do(jsonPost(string(body)))
		if len(body) > feedback.MaxJSONBody {
			if w.Code != 413 {
				t.Errorf("%d-byte body: status %d, want 413", len(body), w.Code)
			}
			continue
		}
		if w.Code != 201 {
			t.Fatalf("comment %.40q: status %d %q", c, w.Code, w.Body)
		}
		var resp struct{ ID int64 }
		json.Unmarshal(w.Body.Bytes(), &resp)
		got, err := e.st.Get(context.Background(), resp.ID)
		if err != nil || got.Comment != c {
			t.Errorf("stored %.60q, %v; want %.60q", got.Comment, err, c)
		}
		// The same through the form.
		w = e.do(formPost(url.Values{"port": {"2556"}, "lang": {"ko"}, "rating": {"helpful"}, "comment": {c}}.Encode()))
		if w.Code != 303 {
			t.Fatalf("form comment %.40q: status %d", c, w.Code)
		}
	}
	if n := e.count(t); n == 0 {
		t.Fatal("nothing stored")
	}
}

func TestLogsCannotBeForgedAndHoldNoAddresses(t *testing.T) {
	forged := "nice page\ntime=2026-01-01T00:00:00Z level=ERROR msg=\"admin login\" user=root\r\nsecond"
	for _, name := range []string{"text", "json"} {
		t.Run(name, func(t *testing.T) {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "f.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var buf testenv.SyncBuffer
			var hd slog.Handler = slog.NewTextHandler(&buf, nil)
			if name == "json" {
				hd = slog.NewJSONHandler(&buf, nil)
			}
			h, err := feedback.New(st, testenv.NewClock(storetest.Base).Now, slog.New(hd), feedback.Options{RateLimit: 1})
			if err != nil {
				t.Fatal(err)
			}
			post := func(body string) {
				r := httptest.NewRequest("POST", feedback.APIPath, strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				r.RemoteAddr = "198.51.100.23:4242"
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
			b, _ := json.Marshal(map[string]any{"port": 2556, "lang": "en", "rating": "helpful", "comment": forged})
			post(string(b))
			post(string(b)) // refused by the rate limit: a second record
			out := buf.String()
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("%d log lines, want 2 (one per request):\n%s", len(lines), out)
			}
			for _, l := range lines {
				if strings.Contains(l, "\r") {
					t.Errorf("raw carriage return in log line %q", l)
				}
			}
			if strings.Contains(out, "198.51.100.23") {
				t.Errorf("log holds the client address:\n%s", out)
			}
			err = st.Export(context.Background(), func(f store.Feedback) error {
				if strings.Contains(fmt.Sprintf("%+v", f), "198.51.100") {
					t.Errorf("stored record holds the client address: %+v", f)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAdmin(t *testing.T) {
	const token = "s3cret-token-for-tests-0123456789abcdef"
	e := newEnv(t, feedback.Options{AdminToken: token})
	payloads := []string{
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		`</textarea><svg onload=alert(1)>`,
		"javascript:alert(1)",
		"line\u2028sep",
	}
	for _, p := range payloads {
		b, _ := json.Marshal(map[string]any{"port": 2556, "lang": "en", "rating": "unhelpful", "comment": p})
		if w := e.do(jsonPost(string(b))); w.Code != 201 {
			t.Fatalf("post: %d", w.Code)
		}
	}
	e.do(jsonPost(`{"port":22,"lang":"ko","rating":"helpful"}`))
	get := func(auth, query string) *httptest.ResponseRecorder {
		r := req{method: "GET", path: feedback.AdminPath + query}
		if auth != "" {
			r = withHeader(r, "Authorization", auth)
		}
		return e.do(r)
	}
	tests := []struct {
		name, auth string
		status     int
	}{
		{"no header", "", 401},
		{"wrong token", "Bearer nope", 401},
		{"token prefix", "Bearer " + token[:5], 401},
		{"token plus suffix", "Bearer " + token + "x", 401},
		{"basic scheme", "Basic " + token, 401},
		{"empty bearer", "Bearer ", 401},
		{"right token", "Bearer " + token, 200},
		{"scheme is case-insensitive", "bearer " + token, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := get(tc.auth, "")
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if tc.status == 401 && strings.Contains(w.Body.String(), "2556") {
				t.Error("401 body shows data")
			}
		})
	}
	w := get("Bearer "+token, "")
	body := w.Body.String()
	if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, raw := range []string{"<script>alert", "<img src=x", "<svg", "</textarea>"} {
		if strings.Contains(body, raw) {
			t.Errorf("admin page holds raw payload %q", raw)
		}
	}
	for _, escaped := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"} {
		if !strings.Contains(body, escaped) {
			t.Errorf("admin page lacks escaped form %q", escaped)
		}
	}
	if !strings.Contains(body, `<td><a href="?port=2556">2556</a></td><td>5</td><td>0</td><td>0</td><td>5</td>`) {
		t.Errorf("admin page lacks the per-port counts:\n%s", body)
	}
	// The faces are the site's (internal/web's feedback form): 😐 for
	// neutral, not 🤨, which reads as scepticism.
	if !strings.Contains(body, "<th>😔 unhelpful</th><th>😐 neutral</th><th>😃 helpful</th>") || strings.Contains(body, "🤨") {
		t.Errorf("admin page's rating headers are not the site's faces:\n%s", body)
	}
	if w := get("Bearer "+token, "?port=22"); w.Code != 200 || strings.Contains(w.Body.String(), "&lt;script") {
		t.Errorf("filtered by port: status %d, body shows other ports", w.Code)
	}
	if w := get("Bearer "+token, "?port=abc"); w.Code != 400 {
		t.Errorf("bad port filter: status %d, want 400", w.Code)
	}
	if w := e.do(withHeader(req{method: "POST", path: feedback.AdminPath, ctype: "application/json", body: "{}"}, "Authorization", "Bearer "+token)); w.Code != 405 {
		t.Errorf("POST to admin: status %d, want 405", w.Code)
	}
}

// No user data may reach the page as trusted markup.
func TestNoTemplateHTMLConversions(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"template.HTML(", "template.JS(", "template.URL(", "template.HTMLAttr("} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s converts to %s", f, bad)
			}
		}
	}
}

func TestSummarize(t *testing.T) {
	e := newEnv(t, feedback.Options{})
	for i := range 20 {
		rating := []string{"helpful", "helpful", "helpful", "neutral", "unhelpful"}[i%5]
		lang := []string{"en", "ko"}[i%2]
		e.do(jsonPost(fmt.Sprintf(`{"port":2556,"lang":%q,"rating":%q}`, lang, rating)))
	}
	tests := []struct {
		port int
		lang string
		want feedback.Summary
	}{
		{2556, "", feedback.Summary{Port: 2556, Unhelpful: 4, Neutral: 4, Helpful: 12, Total: 20, HelpfulPercent: 60}},
		{2556, "en", feedback.Summary{Port: 2556, Lang: "en", Unhelpful: 2, Neutral: 2, Helpful: 6, Total: 10, HelpfulPercent: 60}},
		{9, "en", feedback.Summary{Port: 9, Lang: "en"}},
	}
	for _, tc := range tests {
		got, err := feedback.Summarize(context.Background(), e.st, tc.port, tc.lang)
		if err != nil || got != tc.want {
			t.Errorf("Summarize(%d, %q) = %+v, %v; want %+v", tc.port, tc.lang, got, err, tc.want)
		}
	}
}

// tok32 is an admin token of the shortest accepted length.
const tok32 = "0123456789abcdef0123456789abcdef"

func TestRegister(t *testing.T) {
	e := newEnv(t, feedback.Options{AdminToken: tok32})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ports/{port}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	e.h.Register(mux)
	tests := []struct {
		r      req
		status int
	}{
		{jsonPost(`{"port":2556,"lang":"en","rating":"helpful"}`), 201},
		{formPost("port=2556&lang=en&rating=helpful"), 303},
		{withHeader(req{method: "GET", path: feedback.AdminPath}, "Authorization", "Bearer "+tok32), 200},
		{req{method: "GET", path: feedback.APIPath}, 405},
		{req{method: "GET", path: "/ports/2556"}, 299},
	}
	for _, tc := range tests {
		if tc.r.method == "" {
			tc.r.method = http.MethodPost
		}
		hr := httptest.NewRequest(tc.r.method, tc.r.path, strings.NewReader(tc.r.body))
		if tc.r.ctype != "" {
			hr.Header.Set("Content-Type", tc.r.ctype)
		}
		for k, v := range tc.r.header {
			hr.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, hr)
		if w.Code != tc.status {
			t.Errorf("%s %s through the site mux: status %d, want %d", tc.r.method, tc.r.path, w.Code, tc.status)
		}
	}
}

func TestTrustedOrigins(t *testing.T) {
	e := newEnv(t, feedback.Options{TrustedOrigins: []string{"https://ports.example"}})
	const ok = `{"port":2556,"lang":"en","rating":"helpful"}`
	if w := e.do(withHeader(jsonPost(ok), "Origin", "https://ports.example")); w.Code != 201 {
		t.Errorf("trusted origin: status %d, want 201", w.Code)
	}
	if w := e.do(withHeader(jsonPost(ok), "Origin", "https://evil.example")); w.Code != 403 {
		t.Errorf("other origin: status %d, want 403", w.Code)
	}
	if _, err := feedback.New(e.st, e.clock.Now, slog.Default(), feedback.Options{TrustedOrigins: []string{"not a url/path"}}); err == nil {
		t.Error("New accepted a malformed origin")
	}
}

func TestSummaryHandler(t *testing.T) {
	e := newEnv(t, feedback.Options{})
	for _, rating := range []string{"helpful", "helpful", "unhelpful"} {
		if w := e.do(jsonPost(`{"port":2556,"lang":"en","rating":"` + rating + `"}`)); w.Code != 201 {
			t.Fatalf("seeding: status %d", w.Code)
		}
	}
	get := func(q string) req { return req{method: "GET", path: feedback.SummaryPath + q} }
	tests := []struct {
		name   string
		r      req
		status int
		want   string // JSON body when status is 200
	}{
		{"good", get("?port=2556&lang=en"), 200,
			`{"port":2556,"lang":"en","unhelpful":1,"neutral":0,"helpful":2,"total":3,"helpful_percent":66}`},
		{"other language", get("?port=2556&lang=ko"), 200,
			`{"port":2556,"lang":"ko","unhelpful":0,"neutral":0,"helpful":0,"total":0,"helpful_percent":0}`},
		{"port 0", get("?port=0&lang=en"), 200,
			`{"port":0,"lang":"en","unhelpful":0,"neutral":0,"helpful":0,"total":0,"helpful_percent":0}`},
		{"port too big", get("?port=65536&lang=en"), 400, ""},
		{"port negative", get("?port=-1&lang=en"), 400, ""},
		{"port not a number", get("?port=ssh&lang=en"), 400, ""},
		{"port missing", get("?lang=en"), 400, ""},
		{"port repeated", get("?port=1&port=2&lang=en"), 400, ""},
		{"bad lang", get("?port=22&lang=fr"), 400, ""},
		{"empty lang", get("?port=22&lang="), 400, ""},
		{"lang missing", get("?port=22"), 400, ""},
		{"POST", req{method: "POST", path: feedback.SummaryPath + "?port=22&lang=en"}, 405, ""},
		{"DELETE", req{method: "DELETE", path: feedback.SummaryPath + "?port=22&lang=en"}, 405, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(tc.r)
			if w.Code != tc.status {
				t.Fatalf("status %d (body %q), want %d", w.Code, w.Body, tc.status)
			}
			if tc.status == 405 {
				return
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.status == 200 {
				if got := strings.TrimSpace(w.Body.String()); got != tc.want {
					t.Errorf("body %s, want %s", got, tc.want)
				}
			}
		})
	}
}
