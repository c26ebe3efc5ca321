package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

//go:embed static
var staticFS embed.FS

// asset is an embedded file served under a name that carries its hash, so
// that it can be cached forever and a new build never serves a stale one.
type asset struct {
	name, url, ctype string
	body, gz         []byte // gz: nil when compression does not pay
}

// assetTable maps the hashed name ("app.3f2a….css") to the file, and url
// maps the plain name ("app.css") to its URL. It is built on first use, not
// at start-up: hashing the files costs every command (porthole info too)
// otherwise.
type assetTable struct {
	byHash map[string]*asset
	url    map[string]string
}

var (
	assetsOnce sync.Once
	assetsTab  assetTable
)

// assets returns the table of embedded assets, building it once.
func assets() *assetTable {
	assetsOnce.Do(func() { assetsTab = loadAssets() })
	return &assetsTab
}

// assetURL is the hashed URL of the embedded file name.
func assetURL(name string) string { return assets().url[name] }

func loadAssets() assetTable {
	t := assetTable{byHash: map[string]*asset{}, url: map[string]string{}}
	des, err := staticFS.ReadDir("static")
	if err != nil {
		panic(err)
	}
	for _, de := range des {
		b, err := staticFS.ReadFile("static/" + de.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(de.Name())
		hashed := strings.TrimSuffix(de.Name(), ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ctype := mime.TypeByExtension(ext)
		switch ext {
		case ".css":
			ctype = "text/css; charset=utf-8"
		case ".js":
			ctype = "text/javascript; charset=utf-8"
		case ".svg":
			ctype = "image/svg+xml"
		}
		a := &asset{name: de.Name(), url: "/static/" + hashed, ctype: ctype, body: b}
		if gz := gzipBytes(b); len(b) >= minGzip && len(gz) < len(b) {
			a.gz = gz
		}
		t.byHash[hashed] = a
		t.url[de.Name()] = a.url
	}
	return t
}

func serveStatic(w http.ResponseWriter, r *http.Request) {
	a, ok := assets().byHash[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	etag := `"` + strings.TrimSuffix(strings.TrimPrefix(path.Ext(strings.TrimSuffix(a.url, path.Ext(a.url))), "."), "") + `"`
	body := a.body
	if a.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header["Accept-Encoding"]) {
			body, etag = a.gz, "W/"+etag
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), strings.TrimPrefix(etag, "W/")) {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
