package feedback_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/porthole/porthole/internal/feedback"
	"github.com/porthole/porthole/internal/store"
)

// FuzzHandler sends arbitrary requests to the handler (backed by a real SQLite store) and checks that it never
// answers with a 5xx and never stores a record that breaks the rules.
func FuzzHandler(f *testing.F) {
	seeds := []struct{ method, path, ctype, body, origin string }{
		{"POST", feedback.APIPath, "application/json", `{"port":2556,"lang":"en","rating":"helpful","comment":"ok"}`, ""},
		{"POST", feedback.APIPath, "application/json", `{"port":2556,"lang":"en","rating":"helpful","rating":"x"}`, ""},
		{"POST", feedback.APIPath, "application/json; charset=utf-8", `{"port":1e99}`, ""},
		{"POST", feedback.APIPath, "application/json", "{\"comment\":\"\xff\"}", ""},
		{"POST", feedback.APIPath, "application/json", `{"port":2556,"lang":"ko","rating":"neutral","comment":"\u0000"}`, ""},
		{"POST", feedback.FormPath, "application/x-www-form-urlencoded", "port=2556&lang=ko&rating=neutral&comment=%E2%80%A8", ""},
		{"POST", feedback.FormPath, "application/x-www-form-urlencoded", "port=2556&port=1&lang=en&rating=helpful", ""},
		{"POST", feedback.FormPath, "application/x-www-form-urlencoded", "port=65535&lang=en&rating=helpful&website=x", ""},
		{"POST", feedback.FormPath, "application/x-www-form-urlencoded", "port=1&lang=en&rating=helpful", "https://evil.example"},
		{"GET", feedback.AdminPath, "", "", ""},
		{"PUT", feedback.APIPath, "text/plain", "x", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.ctype, s.body, s.origin)
	}
	e := newEnv(f, feedback.Options{AdminToken: tok32})
	f.Fuzz(func(t *testing.T, method, path, ctype, body, origin string) {
		// Requests the server itself would never parse are not the handler's concern.
		if !validMethod(method) || !strings.HasPrefix(path, "/") {
			t.Skip()
		}
		r, err := http.NewRequest(method, "http://example.com"+path, strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		r.RemoteAddr = "192.0.2.1:1234"
		r.Header.Set("Content-Type", ctype)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		r.Header.Set("Authorization", "Bearer "+tok32)
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s (%q, %q): status %d %q", method, path, ctype, body, w.Code, w.Body)
		}
		if w.Code == http.StatusCreated {
			recs, err := e.st.List(context.Background(), store.ListOptions{Limit: 1})
			if err != nil || len(recs) != 1 {
				t.Fatalf("201 but List = %v, %v", recs, err)
			}
			if err := recs[0].Validate(); err != nil || (recs[0].Lang != "en" && recs[0].Lang != "ko") {
				t.Fatalf("stored an invalid record %+v: %v", recs[0], err)
			}
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
