package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestGzip asks a real server for each kind of response with and without
// gzip, through a client that does not decompress on its own: a client
// that accepts gzip gets the compressed page with its true Content-Length,
// Vary: Accept-Encoding and a weak validator, and it decompresses to the
// very bytes a client without gzip gets; a client that does not accept it
// (no header, q=0, another coding only) never gets it; HEAD sends the
// headers alone; both validators revalidate.
func TestGzip(t *testing.T) {
	srv := httptest.NewServer(testSite(t, Options{}).Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, b
	}
	css := assetURL("app.css")
	for _, path := range []string{"/ports/2556", "/ko/ports/2556", "/", "/ko/", "/stats", "/ports/0-1023", "/search?q=ssh", "/nope",
		"/api/v1/ports/2556", "/api/v1/search?q=ssh", css} {
		plain, body := do("GET", path)
		if plain.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: compressed for a client that did not ask", path)
		}
		if cl := plain.Header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
			t.Errorf("%s: Content-Length %s for %d bytes", path, cl, len(body))
		}
		for _, ae := range []string{"gzip", "gzip, deflate, br, zstd", "br;q=1.0, gzip;q=0.8, *;q=0.1", "*"} {
			res, gz := do("GET", path, "Accept-Encoding", ae)
			if res.StatusCode != plain.StatusCode {
				t.Errorf("%s (%s): status %d, plain %d", path, ae, res.StatusCode, plain.StatusCode)
			}
			if res.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("%s: not compressed for Accept-Encoding %q", path, ae)
			}
			if cl := res.Header.Get("Content-Length"); cl != strconv.Itoa(len(gz)) {
				t.Errorf("%s: Content-Length %s for %d compressed bytes", path, cl, len(gz))
			}
			if !hasVary(res.Header, "Accept-Encoding") || !hasVary(plain.Header, "Accept-Encoding") {
				t.Errorf("%s: Vary %q / %q lacks Accept-Encoding", path, res.Header.Values("Vary"), plain.Header.Values("Vary"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(gz))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			un, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(un, body) {
				t.Errorf("%s: the compressed body does not decompress to the page (%v)", path, err)
			}
			if len(gz)*2 > len(body) {
				t.Errorf("%s: %d bytes compress only to %d", path, len(body), len(gz))
			}
			if et, pet := res.Header.Get("ETag"), plain.Header.Get("ETag"); pet != "" && et != "W/"+pet {
				t.Errorf("%s: compressed ETag %q, plain %q", path, et, pet)
			}
		}
		for _, ae := range []string{"gzip;q=0", "br", "identity", "gzip;q=0, *", "*;q=0", "deflate, gzip;q=0.0"} {
			if res, b := do("GET", path, "Accept-Encoding", ae); res.Header.Get("Content-Encoding") != "" || !bytes.Equal(b, body) {
				t.Errorf("%s: compressed for Accept-Encoding %q", path, ae)
			}
		}
		head, hb := do("HEAD", path, "Accept-Encoding", "gzip")
		_, gz := do("GET", path, "Accept-Encoding", "gzip")
		if len(hb) != 0 || head.Header.Get("Content-Length") != strconv.Itoa(len(gz)) || head.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: HEAD sent %d bytes, Content-Length %s (GET sends %d)", path, len(hb), head.Header.Get("Content-Length"), len(gz))
		}
		if et := plain.Header.Get("ETag"); et != "" {
			for _, inm := range []string{et, "W/" + et} {
				if res, b := do("GET", path, "Accept-Encoding", "gzip", "If-None-Match", inm); res.StatusCode != http.StatusNotModified || len(b) != 0 {
					t.Errorf("%s: If-None-Match %s: status %d", path, inm, res.StatusCode)
				}
			}
		}
	}
	// Tiny responses are not worth it.
	if res, _ := do("GET", "/healthz", "Accept-Encoding", "gzip"); res.Header.Get("Content-Encoding") != "" {
		t.Errorf("/healthz compressed")
	}
}

func hasVary(h http.Header, v string) bool {
	for _, line := range h.Values("Vary") {
		for _, f := range strings.Split(line, ",") {
			if strings.EqualFold(strings.TrimSpace(f), v) {
				return true
			}
		}
	}
	return false
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "x-gzip": true, "deflate, gzip": true, "gzip;q=0": false, "gzip; q=0.001": true,
		"*": true, "*;q=0": false, "gzip;q=0, *": false, "*, gzip;q=0": false, "br": false, "identity": false,
		"gzip;q=abc": false, "gzip;level=1;q=0.5": true, " gzip ; q=1 ": true, "gzipx": false,
		// The weight's name is case-insensitive (RFC 9110, 12.4.2).
		"gzip;Q=0": false, "*;Q=0": false, "GZIP; Q=0.5": true,
	} {
		if got := acceptsGzip([]string{h}); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
	if acceptsGzip(nil) {
		t.Errorf("no header accepted gzip")
	}
	if !acceptsGzip([]string{"br", "gzip"}) {
		t.Errorf("gzip on a second header line ignored")
	}
}

// FuzzAcceptsGzip: any header parses without panic, and a header that
// names no gzip and no "*" never gets gzip.
func FuzzAcceptsGzip(f *testing.F) {
	for _, s := range []string{"gzip", "gzip;q=0", "*;q=0.5, br", "x-gzip;q=1e3", ";;,,q="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := acceptsGzip([]string{h})
		if got && !strings.Contains(strings.ToLower(h), "gzip") && !strings.Contains(h, "*") {
			t.Errorf("acceptsGzip(%q) = true", h)
		}
	})
}
