package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/porthole/porthole/internal/feedback"
	"github.com/porthole/porthole/internal/promtext"
	"github.com/porthole/porthole/internal/store"
	"github.com/porthole/porthole/internal/web"
	"github.com/porthole/porthole/internal/webfast"
	"github.com/porthole/porthole/internal/webguard"
)

// defaultServeAddr is loopback: the site shows this machine's listeners
// only to this machine unless told otherwise.
const defaultServeAddr = "127.0.0.1:8025"

type serveOptions struct {
	addr           string
	json           bool
	db             string
	rateLimit      int
	trustProxy     bool
	showLocal      bool
	adminTokenFile string
	baseURL        string
	tlsCert        string
	tlsKey         string
	metrics        string
	noFastPath     bool
}

var serveCmd = &cmdDef[serveOptions]{name: "serve", args: "[flags]",
	help: "Serve the port reference site and its JSON API. On a loopback address every port page also shows what listens on that port here, and then only requests for localhost, 127.0.0.1, [::1], the --addr host or the --base-url host are answered (others get 421), so a rebound DNS name cannot read this machine's data.",
	flags: func(fs *cmdFlags, o *serveOptions) func([]string) error {
		fs.StringVar(&o.addr, "addr", defaultServeAddr, "listen on `HOST:PORT`")
		fs.StringVar(&o.db, "db", "", "feedback store `DSN`: a SQLite path in an existing directory, or a postgres:// URL (default: porthole/feedback.db in the user data directory, which serve creates); opened once the address is bound")
		fs.IntVar(&o.rateLimit, "rate-limit", 10, "feedback posts per minute per client (0: no limit)")
		fs.BoolVar(&o.trustProxy, "trust-proxy", false, "take the client address from X-Forwarded-For (only behind a reverse proxy)")
		fs.BoolVar(&o.showLocal, "show-local", false, "show this machine's listeners even when not listening on loopback (the Host check applies then too)")
		fs.StringVar(&o.adminTokenFile, "admin-token-file", "", "enable /admin/feedback, the fleet API (/api/v1/fleet/) and the fleet pages (/fleet, with a login form that sets a session cookie; see docs/fleet.md) for the bearer token in `FILE` (mode 0600, at least 32 bytes; failed tries are throttled)")
		fs.StringVar(&o.baseURL, "base-url", "", "absolute `URL` of the site, for robots.txt and the sitemap (default: root-relative URLs, no Sitemap line); its host is also accepted by the Host check")
		fs.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with the certificate (chain) in PEM `FILE`; needs --tls-key")
		fs.StringVar(&o.tlsKey, "tls-key", "", "the private key of --tls-cert, PEM `FILE`")
		fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics (build, Go runtime, process; the fleet's with --admin-token-file) on `ADDR` (host:port), path /metrics: a listener of its own, not the site's")
		fs.BoolVar(&o.noFastPath, "no-fast-path", false, "answer every request with Go's net/http server; by default a front answers plain-HTTP GET and HEAD requests for cached port pages itself, with the same bytes, and hands every other request to net/http")
		fs.BoolVar(&o.json, "json", false, "print the address served as one JSON object on stdout once listening")
		return func(rest []string) error {
			if len(rest) > 0 {
				return usagef("serve takes no arguments, got %s", quoteArg(rest[0]))
			}
			if o.rateLimit < 0 {
				return usagef("--rate-limit %d: must be 0 (no limit) or more", o.rateLimit)
			}
			if err := checkAddr("--addr", o.addr); err != nil {
				return err
			}
			if o.metrics != "" {
				if err := checkAddr("--metrics", o.metrics); err != nil {
					return err
				}
			}
			if o.baseURL != "" {
				if webguard.HostOf(o.baseURL) == "" || !strings.HasPrefix(o.baseURL, "http://") && !strings.HasPrefix(o.baseURL, "https://") {
					return usagef("--base-url %s: want an absolute http:// or https:// URL such as https://ports.example", quoteArg(o.baseURL))
				}
			}
			return nil
		}
	},
}

func runServe(ctx context.Context, env *Env, o serveOptions) error {
	var err error
	host, _, _ := net.SplitHostPort(o.addr)
	local := isLoopbackHost(host)
	if o.showLocal && !local {
		fmt.Fprintf(env.Stderr, "porthole: warning: --show-local on %s: anyone who can reach this address sees this machine's processes, users and executables\n", o.addr)
		local = true
	}
	var adminToken string
	if o.adminTokenFile != "" {
		if adminToken, err = webguard.ReadTokenFile(o.adminTokenFile); err != nil {
			return usagef("--admin-token-file: %v", err)
		}
	}
	tlsConf, err := serveTLSConfig(o.tlsCert, o.tlsKey)
	if err != nil {
		return err
	}
	baseHost := webguard.HostOf(o.baseURL)
	if env.Getenv("GOGC") == "" && env.Getenv("GOMEMLIMIT") == "" {
		// A request allocates a few KB that die at once and little
		// survives (the page cache is bounded), so collecting less often
		// trims the latency tail under load; the limit keeps the heap,
		// and so the resident set, well under 64 MB.
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(48 << 20)
	}
	k, err := loadKnowledge(env)
	if err != nil {
		return err
	}
	var log *slog.Logger
	if o.json {
		log = slog.New(slog.NewJSONHandler(env.Stderr, nil))
	} else {
		log = slog.New(slog.NewTextHandler(env.Stderr, nil))
	}
	opt := web.Options{Registry: k.reg, Intel: k.intel, Now: env.Now, Local: local, Log: log,
		BaseURL: strings.TrimSuffix(o.baseURL, "/")}
	if lo, hi, err := env.Ephemeral(); err == nil {
		opt.EphemeralLow, opt.EphemeralHigh = lo, hi
	}
	// Bind first: a server that cannot start creates no database.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	rawLn := ln
	ln = webguard.Listener(ln)
	st, err := store.Open(ctx, o.db)
	if err != nil {
		return fmt.Errorf("opening the feedback store: %w", err)
	}
	defer st.Close()
	fb, err := feedback.New(st, env.Now, log, feedback.Options{
		RateLimit: o.rateLimit, TrustProxy: o.trustProxy, AdminToken: adminToken})
	if err != nil {
		return err
	}
	opt.Feedback = fb
	var fl *serveFleet
	if adminToken != "" {
		if fl, err = openFleet(ctx, env, o.db, adminToken, o.trustProxy, log); err != nil {
			return err
		}
		defer fl.close()
		opt.Fleet = fl.site
	}
	site := web.New(opt)
	h := site.Handler()
	var fleetMetrics func(context.Context) ([]promtext.Family, error)
	if fl != nil {
		h, fleetMetrics = fl.mount(h), fl.families
	}
	if o.metrics != "" {
		build := buildInfo(k.reg.Version())
		stop, err := serveMetrics(ctx, env, "serve", o.metrics, func(ctx context.Context) ([]promtext.Family, error) {
			fams := append(append([]promtext.Family{build}, promtext.GoRuntime()...), promtext.Process()...)
			if fleetMetrics == nil {
				return fams, nil
			}
			fleet, err := fleetMetrics(ctx)
			return append(fams, fleet...), err
		})
		if err != nil {
			return err
		}
		defer stop()
	}
	var hostCheck *webguard.HostCheck
	if local {
		// DNS rebinding: a foreign page whose name now resolves to this
		// address must not read this machine's listeners.
		hostCheck = webguard.NewHostCheck(allowedHosts(host, baseHost)...)
		h = hostCheck.Handler(h)
	}
	// The sitemap files are large, so writes get more time than webguard's
	// default.
	handler := webguard.Wrap(h, log)
	srv := webguard.NewServer(o.addr, handler, webguard.Timeouts{Write: 60 * time.Second}, log)
	// The fast front (plain HTTP only) owns the listener and hands net/http
	// every request it does not answer itself.
	var front *webfast.Front
	if tlsConf == nil && !o.noFastPath {
		cfg := webfast.Config{Handler: handler, Lookup: site.Cached, ReadHeader: srv.ReadHeaderTimeout,
			Write: srv.WriteTimeout, Idle: srv.IdleTimeout, Log: log}
		if hostCheck != nil {
			cfg.HostOK = hostCheck.Allowed
		}
		front = webfast.New(rawLn, cfg)
		ln = webguard.Listener(front.Listener())
	}
	scheme := "http"
	if tlsConf != nil {
		srv.TLSConfig, scheme = tlsConf, "https"
	}
	mode := "without"
	if local {
		mode = "with"
	}
	if o.json {
		ap := netip.MustParseAddrPort(ln.Addr().String())
		if err := writeJSON(env.Stdout, serveOut{URL: scheme + "://" + ln.Addr().String() + "/",
			Address: ap.Addr().Unmap().String(), Port: int(ap.Port()), LocalSection: local}); err != nil {
			ln.Close()
			return err
		}
	} else {
		fmt.Fprintf(env.Stderr, "porthole: serving %s://%s/ (%s the local section)\n", scheme, ln.Addr(), mode)
	}
	errc := make(chan error, 1)
	go func() {
		if tlsConf != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	fronterr := make(chan error, 1)
	if front != nil {
		go func() { fronterr <- front.Serve() }()
	}
	select {
	case err := <-errc:
		if front != nil {
			front.Close()
		}
		return err
	case err := <-fronterr:
		srv.Close()
		if err == nil {
			err = errors.New("the listener stopped")
		}
		return err
	case <-ctx.Done():
	}
	// SIGTERM or interrupt: finish the requests in flight, then return,
	// well within Run's StopGrace. The front first, so that what it hands
	// over meanwhile is net/http's to finish.
	sctx, cancel := context.WithTimeout(context.Background(), StopGrace/2)
	defer cancel()
	if front != nil {
		if err := front.Shutdown(sctx); err != nil {
			srv.Close()
			return fmt.Errorf("shutting down: %w", err)
		}
	}
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(env.Stderr, "porthole: stopped")
	return nil
}

// allowedHosts are the Host header values a site with the local section
// answers: this machine's loopback names, the --base-url host, the --addr
// host, and, when --addr is a wildcard (with --show-local), the addresses
// of this machine's interfaces. An IP literal cannot be rebound to another
// address, so accepting those adds no rebinding risk.
func allowedHosts(addrHost, baseHost string) []string {
	out := append([]string(nil), webguard.LoopbackHosts...)
	if baseHost != "" {
		out = append(out, baseHost)
	}
	if addrHost == "" || addrHost == "0.0.0.0" || addrHost == "::" {
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if p, err := netip.ParsePrefix(a.String()); err == nil {
					out = append(out, p.Addr().String())
				}
			}
		}
	} else {
		out = append(out, addrHost)
	}
	return out
}

// serveOut is `porthole serve --json`, printed once the socket listens.
type serveOut struct {
	URL          string `json:"url"`
	Address      string `json:"address"`
	Port         int    `json:"port"`
	LocalSection bool   `json:"local_section"`
}

// isLoopbackHost reports whether host names only this machine.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
