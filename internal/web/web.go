// Package web is porthole's reference site: a page for every port in English
// and Korean, range listings, search, statistics, a JSON API and the static
// export of all of it. Every page renders a dossier.Dossier (the view model
// the CLI renders as text), every sentence comes from the i18n catalogs, and
// every asset is embedded. Pages carry no inline script or style, so a strict
// Content-Security-Policy works.
//
// Routes (Korean under /ko with the same paths):
//
//	GET /                      home: search, ranges, notable ports, the port map
//	GET /ports/{n}             one port
//	GET /ports/{a}-{b}         a range, 256 ports a page
//	GET /search?q=             search results
//	GET /stats                 registry figures per range and protocol
//	GET /local                 this machine's listeners (local mode only)
//	GET /fleet, /fleet/hosts/{name}, GET and POST /fleet/login, POST /fleet/logout
//	                           the fleet inventory, behind a login (Options.Fleet only)
//	GET /api/v1/ports/{n}      the dossier as JSON (porthole info --json)
//	GET /api/v1/search?q=      search hits as JSON (porthole search --json)
//	GET /healthz, /robots.txt, /sitemap.xml, /sitemaps/{lang}-{k}.xml
//	GET /static/{name}.{hash}.{ext}
package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/dossier"
	"github.com/porthole/porthole/internal/i18n"
	"github.com/porthole/porthole/internal/intel"
	"github.com/porthole/porthole/internal/registry"
	"github.com/porthole/porthole/internal/sockets"
)

// AllPorts, as the low end of a range passed to Options.Listeners, asks for
// the listeners on every port (the /local page).
const AllPorts = -1

// Options configure a Site. Registry is required.
type Options struct {
	Registry *registry.Index
	Intel    *intel.DB
	// Now is the clock (threats become historical with time); nil is
	// time.Now.
	Now func() time.Time
	// EphemeralLow and EphemeralHigh are this machine's ephemeral port
	// range, shown in local mode; zero when unknown.
	EphemeralLow, EphemeralHigh int
	// Local adds the "On this machine" section to port pages and the /local
	// listing. Only for a site that this machine's owner alone can reach.
	Local bool
	// Listeners lists what listens on ports low..high here, or on every
	// port when low is AllPorts (port 0 means port 0); nil uses
	// sockets.List. Only used with Local.
	Listeners func(ctx context.Context, low, high int) ([]sockets.Listener, error)
	// Static renders pages for a static export: no search or feedback forms
	// (there is no server to post to) and no local section.
	Static bool
	// Feedback serves POST /feedback and the other feedback routes; nil
	// leaves the form in place but nothing to receive it.
	Feedback http.Handler
	// BaseURL is the site's absolute URL for the sitemap and robots.txt,
	// without a trailing slash; "" derives it from each request.
	BaseURL string
	// CacheBytes bounds the cache of rendered pages; 0 means 16 MiB, and a
	// negative value disables the cache.
	CacheBytes int
	// Log receives request errors; nil discards them.
	Log *slog.Logger
	// Fleet enables the fleet pages and, for a logged-in admin, the port
	// pages' "In your fleet" section; nil (or Static) leaves them out.
	Fleet *FleetOptions
}

// Site is the web site. Its methods are safe for concurrent use.
type Site struct {
	opt                   Options
	now                   func() time.Time
	tmpl                  *templates
	cache                 *pageCache
	local                 *localCache
	stats                 registry.Stats
	cells                 []cell
	density               map[string][]int
	stripRects            map[string]string
	threatPorts, usePorts []int
	fleet                 *siteFleet
}

// New builds a site: it parses the templates and computes the figures the
// home and stats pages share.
func New(opt Options) *Site {
	s := &Site{opt: opt, now: opt.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if opt.Log == nil {
		s.opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Static {
		s.opt.Local = false
	}
	if !opt.Static {
		s.fleet = newSiteFleet(opt.Fleet, s.now)
	}
	s.tmpl = parseTemplates()
	size := opt.CacheBytes
	if size == 0 {
		size = 16 << 20
	}
	s.cache = newPageCache(size)
	if s.opt.Local {
		ls := opt.Listeners
		if ls == nil {
			ls = func(ctx context.Context, low, high int) ([]sockets.Listener, error) {
				q := sockets.Query{}
				if low != AllPorts {
					q.Ports = sockets.Ports(low, high)
				}
				return sockets.List(ctx, q)
			}
		}
		s.local = newLocalCache(ls, s.now)
	}
	s.stats = opt.Registry.Stats()
	if opt.Intel != nil {
		s.threatPorts = opt.Intel.Ports(intel.Threat)
		s.usePorts = opt.Intel.Ports(intel.Use)
	}
	s.cells = portMap(opt.Registry)
	s.density = rangeDensity(opt.Registry)
	s.stripRects = stripRects(s.density)
	return s
}

func (s *Site) sources() dossier.Sources {
	src := dossier.Sources{Registry: s.opt.Registry, Intel: s.opt.Intel, Now: s.now}
	if s.opt.Local {
		src.EphemeralLow, src.EphemeralHigh = s.opt.EphemeralLow, s.opt.EphemeralHigh
	}
	return src
}

// prefix is the path prefix of a language: "" for English, "/ko" for Korean.
func prefix(l i18n.Lang) string {
	if l == i18n.EN {
		return ""
	}
	return "/" + string(l)
}

// Handler returns the site's routes.
func (s *Site) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, l := range i18n.Langs {
		p := prefix(l)
		mux.HandleFunc("GET "+p+"/ports/{n}", s.lang(l, s.servePort))
		mux.HandleFunc("GET "+p+"/search", s.lang(l, s.serveSearch))
		mux.HandleFunc("GET "+p+"/stats", s.lang(l, s.serveStats))
		mux.HandleFunc("GET "+p+"/local", s.lang(l, s.serveLocal))
		if s.fleet != nil {
			s.fleetRoutes(mux, l)
		}
		if l != i18n.EN {
			mux.HandleFunc("GET "+p+"/{$}", s.lang(l, s.serveHome))
			mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
			})
			mux.HandleFunc("GET "+p+"/", s.lang(l, s.serveNotFound))
		}
	}
	mux.HandleFunc("GET /{$}", s.serveRoot)
	mux.HandleFunc("GET /", s.lang(i18n.EN, s.serveNotFound))
	mux.HandleFunc("GET /api/v1/ports/{n}", s.serveAPIPort)
	mux.HandleFunc("GET /api/v1/search", s.serveAPISearch)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /robots.txt", s.serveRobots)
	mux.HandleFunc("GET /sitemap.xml", s.serveSitemapIndex)
	mux.HandleFunc("GET /sitemaps/{name}", s.serveSitemap)
	mux.HandleFunc("GET /static/{name}", serveStatic)
	if s.opt.Feedback != nil {
		mux.Handle("POST /feedback", s.opt.Feedback)
		mux.Handle("POST /api/v1/feedback", s.opt.Feedback)
		mux.Handle("GET /api/v1/feedback/summary", s.opt.Feedback)
		mux.Handle("GET /admin/feedback", s.opt.Feedback)
	}
	return mux
}

func (s *Site) lang(l i18n.Lang, h func(http.ResponseWriter, *http.Request, i18n.Lang)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { h(w, r, l) }
}

// serveRoot is the English home page, or a redirect to another language's
// home when the browser prefers it. Only / redirects: a link to any other
// page shows that page.
func (s *Site) serveRoot(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept-Language")
	if l := preferredLang(r.Header.Get("Accept-Language")); l != i18n.EN {
		http.Redirect(w, r, prefix(l)+"/", http.StatusFound)
		return
	}
	s.serveHome(w, r, i18n.EN)
}

// preferredLang picks the supported language with the highest q value in an
// Accept-Language header; ties go to the earlier entry, no match to English.
func preferredLang(h string) i18n.Lang {
	best, bestQ := i18n.EN, -1.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		l := i18n.Lang(base)
		if !i18n.Supported(l) || q <= 0 {
			continue
		}
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

// etagOf is a strong validator of a body.
func etagOf(b []byte) string {
	h := sha256.Sum256(b)
	return `"` + hex.EncodeToString(h[:12]) + `"`
}

// writeBody sends body with its validator, answering 304 when the client
// already has it.
func writeBody(w http.ResponseWriter, r *http.Request, status int, ctype, cacheControl string, e *entry) {
	h := w.Header()
	h["Content-Type"] = headerValue(ctype)
	if cacheControl != "" {
		h["Cache-Control"] = headerValue(cacheControl)
	}
	e.headers()
	// A cached entry was compressed on its way in; any other is compressed
	// for this response only.
	e.compress()
	body, hdrLen, hdrETag := e.body, e.hdrLen, e.hdrETag
	if e.gz != nil {
		if v := h["Vary"]; v == nil {
			h["Vary"] = varyEncoding
		} else {
			h["Vary"] = append(v, "Accept-Encoding")
		}
		if acceptsGzip(r.Header["Accept-Encoding"]) {
			body, hdrLen, hdrETag = e.gz, e.hdrGzLen, e.hdrGzETag
			h["Content-Encoding"] = gzipValue
		}
	}
	if status == http.StatusOK && e.etag != "" {
		h["Etag"] = hdrETag
		if IfNoneMatch(r.Header["If-None-Match"], e.etag) {
			delete(h, "Content-Encoding")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h["Content-Length"] = hdrLen
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// headerValues are the constant header values, allocated once (static data, no start-up work).
var headerValues = [...][]string{{htmlType}, {jsonType}, {pageCC}, {localCacheControl}, {"no-cache"}}

// Shared header values: with len == cap, an append elsewhere copies.
var (
	gzipValue    = []string{"gzip"}
	varyEncoding = []string{"Accept-Encoding"}
)

func headerValue(v string) []string {
	for _, hv := range headerValues {
		if hv[0] == v {
			return hv
		}
	}
	return []string{v}
}

// IfNoneMatch reports whether If-None-Match header lines name etag (a
// strong validator) or "*", so that the answer is 304 Not Modified.
func IfNoneMatch(lines []string, etag string) bool {
	switch len(lines) {
	case 0:
		return false
	case 1:
		return etagMatch(lines[0], etag)
	}
	return etagMatch(strings.Join(lines, ","), etag)
}

// etagMatch implements the weak comparison of If-None-Match.
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
