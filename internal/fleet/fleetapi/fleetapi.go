// Package fleetapi is the HTTP side of the fleet inventory, mounted by
// `porthole serve` under /api/v1/fleet/:
//
//   - POST /api/v1/fleet/report: an agent's report, with its host's bearer
//     token. 200 with {"outcome": "applied" | "replay", …}; 409 with
//     {"outcome": "resync"} when the server needs the agent's full state; 400
//     for an invalid report (the message names the field), 401 without a
//     valid host token, 403 when the report is for another host than the
//     token's, 413 for a body over fleet.MaxReportBytes, 415 for a body that
//     is not JSON, 429 after too many failed tokens, 503 when the database
//     fails (the agent keeps the report and resends it).
//   - GET /api/v1/fleet/hosts and GET /api/v1/fleet/ports/{n}, with the admin
//     bearer token: the hosts (name, last_seen, stale, listeners, …) and the
//     listeners on port n across hosts. GET /api/v1/fleet/hosts/{name}: one
//     host's listeners (the same objects as ports/{n}). GET /api/v1/fleet/outliers: the
//     (protocol, port, executable) triples few hosts have, with those hosts.
//     GET /api/v1/fleet/findings[?host=NAME]: the hosts' audit findings.
//
// Failed tokens of either kind are throttled per client (webguard.Throttle).
package fleetapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/porthole/porthole/internal/fleet"
	"github.com/porthole/porthole/internal/fleet/fleetdb"
	"github.com/porthole/porthole/internal/webguard"
)

// Prefix is where the API lives.
const Prefix = "/api/v1/fleet/"

// Options configure New.
type Options struct {
	DB         *fleetdb.DB
	AdminToken string           // the bearer token of the read endpoints; at least webguard.MinTokenBytes
	Now        func() time.Time // the clock: when a report arrived, whether a host is stale
	Log        *slog.Logger
	TrustProxy bool               // take the client address from X-Forwarded-For (for the throttle)
	Throttle   *webguard.Throttle // nil: webguard's defaults, on Now
}

// Handler serves the fleet API.
type Handler struct {
	o       Options
	admin   *webguard.BearerAuth
	mux     *http.ServeMux
	metrics *metrics
	tokens  tokenCache
}

// tokenCache remembers which host a token (by its hash) belongs to, so that
// a report costs no token lookup of its own. It is only a hint: the
// transaction that applies the report checks that the hash is still the
// host's token (fleetdb.DB.ApplyAs), so a revoked or replaced token is
// refused as soon as the revocation commits, whichever process made it, and
// its entry is dropped then. Only hashes found in the database enter it, so
// it holds at most one entry per host; past maxCachedTokens it starts over.
type tokenCache struct {
	mu sync.RWMutex
	m  map[fleet.TokenHash]string
}

const maxCachedTokens = 1 << 18

func (c *tokenCache) get(h fleet.TokenHash) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	name, ok := c.m[h]
	return name, ok
}

func (c *tokenCache) put(h fleet.TokenHash, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedTokens {
		c.m = map[fleet.TokenHash]string{}
	}
	c.m[h] = name
}

func (c *tokenCache) drop(h fleet.TokenHash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, h)
}

// New returns the API's handler.
func New(o Options) (*Handler, error) {
	if o.DB == nil {
		return nil, errors.New("fleetapi: no database")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Throttle == nil {
		o.Throttle = webguard.NewThrottle(webguard.ThrottleOptions{Now: o.Now})
	}
	admin, err := webguard.NewBearerAuth(o.AdminToken, o.Throttle)
	if err != nil {
		return nil, fmt.Errorf("fleet admin token: %w", err)
	}
	h := &Handler{o: o, admin: admin, mux: http.NewServeMux(), metrics: newMetrics()}
	h.mux.HandleFunc(Prefix+"report", only("POST", h.timed(h.report)))
	h.mux.HandleFunc(Prefix+"hosts", only("GET", h.adminOnly(h.hosts)))
	h.mux.HandleFunc(Prefix+"hosts/{name}", only("GET", h.adminOnly(h.host)))
	h.mux.HandleFunc(Prefix+"ports/{n}", only("GET", h.adminOnly(h.port)))
	h.mux.HandleFunc(Prefix+"outliers", only("GET", h.adminOnly(h.outliers)))
	h.mux.HandleFunc(Prefix+"findings", only("GET", h.adminOnly(h.findings)))
	h.mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such fleet endpoint")
	})
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// only answers 405 to a request with another method than m (GET also
// allows HEAD).
func only(m string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != m && !(m == "GET" && r.Method == "HEAD") {
			w.Header().Set("Allow", m)
			writeError(w, http.StatusMethodNotAllowed, "use "+m)
			return
		}
		next(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer"}`)
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// hostAuth returns the host whose token r carries and the token's hash, or
// writes the refusal.
// The token is checked before the throttle is charged, and only a failure
// is charged: the agents of a fleet behind one address (NAT, a proxy)
// report at once with the right tokens and must not throttle each other. A
// client out of attempts is refused before its token is looked at.
func (h *Handler) hostAuth(w http.ResponseWriter, r *http.Request) (string, fleet.TokenHash, bool) {
	client := webguard.ClientAddr(r, h.o.TrustProxy)
	if blocked, wait := h.o.Throttle.Blocked(client); blocked {
		webguard.Refuse(w, webguard.Throttled, wait, "porthole fleet")
		return "", fleet.TokenHash{}, false
	}
	tok, present := bearer(r)
	if !present {
		// Nothing guessed, nothing spent.
		webguard.Refuse(w, webguard.Denied, 0, "porthole fleet")
		return "", fleet.TokenHash{}, false
	}
	if !fleet.ValidToken(tok) {
		h.deny(w, client)
		return "", fleet.TokenHash{}, false
	}
	hash := fleet.HashToken(tok)
	name, ok := h.lookup(w, r, hash)
	return name, hash, ok
}

// lookup returns the host of the token hashing to hash, from the cache or
// the database, or writes the refusal.
func (h *Handler) lookup(w http.ResponseWriter, r *http.Request, hash fleet.TokenHash) (string, bool) {
	if name, ok := h.tokens.get(hash); ok {
		return name, true
	}
	name, err := h.o.DB.HostByToken(r.Context(), hash)
	switch {
	case errors.Is(err, fleetdb.ErrUnknownHost):
		h.unknownToken(w, r)
		return "", false
	case err != nil:
		h.failed(w, "token lookup", err)
		return "", false
	}
	h.tokens.put(hash, name)
	return name, true
}

func (h *Handler) unknownToken(w http.ResponseWriter, r *http.Request) {
	client := webguard.ClientAddr(r, h.o.TrustProxy)
	h.o.Log.Warn("fleet report with an unknown token", "client", client.String())
	h.deny(w, client)
}

// deny refuses a failed token and charges the client's throttle.
func (h *Handler) deny(w http.ResponseWriter, client netip.Addr) {
	if ok, wait := h.o.Throttle.Begin(client); !ok {
		webguard.Refuse(w, webguard.Throttled, wait, "porthole fleet")
		return
	}
	webguard.Refuse(w, webguard.Denied, 0, "porthole fleet")
}

// bearer returns the token of r's "Authorization: Bearer TOKEN" header, and
// whether r has an Authorization header at all.
func bearer(r *http.Request) (string, bool) {
	auth := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(auth) > len(prefix) && strings.EqualFold(auth[:len(prefix)], prefix) {
		return auth[len(prefix):], true
	}
	return "", auth != ""
}

func unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	writeError(w, http.StatusServiceUnavailable, "the inventory is unavailable; keep the report and resend it")
}

// failed logs an inventory error as "fleet <what>" with args, and answers
// that the inventory is unavailable.
func (h *Handler) failed(w http.ResponseWriter, what string, err error, args ...any) {
	h.o.Log.Error("fleet "+what, append(args, "err", err)...)
	unavailable(w)
}

// staleHosts says of every host whether it is stale now.
func (h *Handler) staleHosts(r *http.Request) (map[string]bool, error) {
	hs, err := h.o.DB.Hosts(r.Context())
	if err != nil {
		return nil, err
	}
	now := h.o.Now()
	stale := make(map[string]bool, len(hs))
	for _, x := range hs {
		stale[x.Name] = x.Stale(now)
	}
	return stale, nil
}

// reportAnswer is the body of a report's answer.
type reportAnswer struct {
	Outcome string `json:"outcome"`
	Seq     uint64 `json:"seq"`
	Gap     bool   `json:"gap"`
	Changes int    `json:"changes"`
}

// outcomeWriter remembers the outcome of a report's answer for the metrics.
type outcomeWriter struct {
	http.ResponseWriter
	outcome string
}

func (o *outcomeWriter) WriteHeader(code int) {
	if o.outcome == "" {
		switch code {
		case http.StatusUnauthorized, http.StatusTooManyRequests:
			o.outcome = "unauthorized"
		case http.StatusForbidden:
			o.outcome = "forbidden"
		case http.StatusRequestEntityTooLarge:
			o.outcome = "too_large"
		case http.StatusBadRequest, http.StatusUnsupportedMediaType:
			o.outcome = "invalid"
		case http.StatusConflict:
			o.outcome = "resync"
		default:
			if code >= 500 {
				o.outcome = "error"
			}
		}
	}
	o.ResponseWriter.WriteHeader(code)
}

func (h *Handler) timed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now() // the real clock: a duration, not a date
		ow := &outcomeWriter{ResponseWriter: w}
		next(ow, r)
		if ow.outcome == "" {
			ow.outcome = "error"
		}
		h.metrics.observe(ow.outcome, time.Since(start))
	}
}

func (h *Handler) report(w http.ResponseWriter, r *http.Request) {
	host, hash, ok := h.hostAuth(w, r)
	if !ok {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "send the report as application/json")
			return
		}
	}
	if r.ContentLength > fleet.MaxReportBytes {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("a report is at most %d bytes", fleet.MaxReportBytes))
		return
	}
	rep, err := decode(w, r)
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, fleet.ErrTooLarge), errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("a report is at most %d bytes", fleet.MaxReportBytes))
		return
	case errors.Is(err, fleet.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "reading the report: "+err.Error())
		return
	}
	if rep.Host != host {
		// The cache may remember a token revoked since: ask the database before saying whose it is.
		h.tokens.drop(hash)
		if host, ok = h.lookup(w, r, hash); !ok {
			return
		}
	}
	if rep.Host != host {
		h.o.Log.Warn("fleet report for another host", "token_host", host, "report_host", rep.Host)
		writeError(w, http.StatusForbidden, fmt.Sprintf("this token belongs to host %s, not %s", host, rep.Host))
		return
	}
	res, err := h.o.DB.ApplyAs(r.Context(), hash, rep, h.o.Now())
	switch {
	case errors.Is(err, fleetdb.ErrUnknownHost):
		// Revoked or replaced since it was cached (or the host was deleted).
		h.tokens.drop(hash)
		h.unknownToken(w, r)
		return
	case err != nil:
		h.failed(w, "report", err, "host", host)
		return
	}
	ans := reportAnswer{Outcome: res.Outcome.String(), Seq: rep.Seq, Gap: res.Gap, Changes: res.Changes}
	if ow, ok := w.(*outcomeWriter); ok {
		ow.outcome = ans.Outcome
	}
	status := http.StatusOK
	if res.Outcome == fleetdb.Resync {
		status = http.StatusConflict
	}
	writeJSON(w, status, ans)
}

// bodies recycles the buffers reports are read into; a body over
// pooledBody is read into a buffer of its own and not kept.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const pooledBody = 64 << 10

// decode reads and decodes r's report, reading the body into a buffer sized
// by Content-Length when there is one.
func decode(w http.ResponseWriter, r *http.Request) (fleet.Report, error) {
	buf := bodies.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= pooledBody {
			bodies.Put(buf)
		}
	}()
	if n := r.ContentLength; n > 0 && n <= fleet.MaxReportBytes {
		buf.Grow(int(n) + 1) // + 1: ReadFrom then sees EOF without growing
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, fleet.MaxReportBytes+1)); err != nil {
		return fleet.Report{}, err
	}
	return fleet.DecodeBytes(buf.Bytes())
}

func (h *Handler) adminOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		res, wait := h.admin.Authenticate(r, webguard.ClientAddr(r, h.o.TrustProxy))
		if res != webguard.Granted {
			webguard.Refuse(w, res, wait, "porthole fleet admin")
			return
		}
		next(w, r)
	}
}

// hostJSON is one host of GET /api/v1/fleet/hosts. last_seen is null until
// the first report.
type hostJSON struct {
	Name      string     `json:"name"`
	Created   time.Time  `json:"created"`
	LastSeen  *time.Time `json:"last_seen"`
	Stale     bool       `json:"stale"`
	Listeners int        `json:"listeners"`
	Interval  int64      `json:"interval"` // seconds; 0 until the first report
	LastSeq   uint64     `json:"last_seq"`
	Agent     string     `json:"agent"`
	Boot      string     `json:"boot"`
	Group     string     `json:"group"` // "" when the agent named none
	Reports   int64      `json:"reports"`
	Gaps      int64      `json:"gaps"`
	Revoked   bool       `json:"revoked"`
}

func (h *Handler) hosts(w http.ResponseWriter, r *http.Request) {
	hs, err := h.o.DB.Hosts(r.Context())
	if err != nil {
		h.failed(w, "hosts", err)
		return
	}
	now := h.o.Now()
	out := make([]hostJSON, len(hs))
	for i, x := range hs {
		out[i] = hostJSON{Name: x.Name, Created: x.Created, Stale: x.Stale(now), Listeners: x.Listeners,
			Interval: int64(x.Interval / time.Second), LastSeq: x.LastSeq, Agent: x.Agent, Boot: x.Boot, Group: x.Group,
			Reports: x.Reports, Gaps: x.Gaps, Revoked: x.Revoked}
		if !x.LastSeen.IsZero() {
			seen := x.LastSeen
			out[i].LastSeen = &seen
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// ListenerJSON is one listener of GET /api/v1/fleet/ports/{n}: the fields
// of `porthole list --json` that a fleet report carries, under the same
// names, plus host, stale and since. Unknown values are null.
type ListenerJSON struct {
	Host      string    `json:"host"`
	Stale     bool      `json:"stale"`
	Proto     string    `json:"proto"`
	Family    int       `json:"family"`
	Address   string    `json:"address"`
	Port      int       `json:"port"`
	PID       *int      `json:"pid"`
	Process   *string   `json:"process"`
	UID       *int      `json:"uid"`
	User      *string   `json:"user"`
	Exe       *string   `json:"exe"`
	NetNSName *string   `json:"netns_name"`
	HostNetNS bool      `json:"host_netns"`
	Container *string   `json:"container"`
	Loopback  bool      `json:"loopback"`
	Since     time.Time `json:"since"`
}

func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (h *Handler) port(w http.ResponseWriter, r *http.Request) {
	s := r.PathValue("n")
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 || strconv.Itoa(n) != s {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("port %q: want a number from 0 to 65535", s))
		return
	}
	ls, err := h.o.DB.Port(r.Context(), n)
	if err != nil {
		h.failed(w, "port", err)
		return
	}
	h.writeListeners(w, r, ls)
}

// writeListeners answers with listeners, each marked stale when its host is.
func (h *Handler) writeListeners(w http.ResponseWriter, r *http.Request, ls []fleetdb.HostListener) {
	stale, err := h.staleHosts(r)
	if err != nil {
		h.failed(w, "hosts", err)
		return
	}
	out := make([]ListenerJSON, len(ls))
	for i, l := range ls {
		out[i] = listenerJSON(l, stale[l.Host])
	}
	writeJSON(w, http.StatusOK, out)
}

func listenerJSON(l fleetdb.HostListener, stale bool) ListenerJSON {
	family := 4
	if l.Addr.Is6() {
		family = 6
	}
	j := ListenerJSON{Host: l.Host, Stale: stale, Proto: l.Proto.String(), Family: family, Address: l.Addr.String(),
		Port: int(l.Port), Process: str(l.Process), User: str(l.User), Exe: str(l.Exe), NetNSName: str(l.NetNS),
		HostNetNS: l.NetNS == "", Container: str(l.Container), Loopback: l.Addr.IsLoopback(), Since: l.Since}
	if l.PID > 0 {
		pid := l.PID
		j.PID = &pid
	}
	if l.UID >= 0 {
		uid := l.UID
		j.UID = &uid
	}
	return j
}

func (h *Handler) host(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if fleet.ValidName(name) != nil {
		writeError(w, http.StatusBadRequest, "not a host name")
		return
	}
	ls, err := h.o.DB.HostListeners(r.Context(), name)
	switch {
	case errors.Is(err, fleetdb.ErrUnknownHost):
		writeError(w, http.StatusNotFound, "no such host")
		return
	case err != nil:
		h.failed(w, "host", err)
		return
	}
	h.writeListeners(w, r, ls)
}

// outlierJSON is one entry of GET /api/v1/fleet/outliers.
type outlierJSON struct {
	Group string   `json:"group"` // "" for the hosts that named no group
	Proto string   `json:"proto"`
	Port  int      `json:"port"`
	Exe   *string  `json:"exe"`
	Hosts []string `json:"hosts"`
	Of    int      `json:"of"` // hosts compared
}

func (h *Handler) outliers(w http.ResponseWriter, r *http.Request) {
	list, err := h.o.DB.Outliers(r.Context())
	if err != nil {
		h.failed(w, "outliers", err)
		return
	}
	out := make([]outlierJSON, len(list))
	for i, o := range list {
		out[i] = outlierJSON{Group: o.Group, Proto: o.Proto.String(), Port: int(o.Port), Exe: str(o.Exe), Hosts: o.Hosts, Of: o.Of}
	}
	writeJSON(w, http.StatusOK, out)
}

// findingJSON is one entry of GET /api/v1/fleet/findings: an audit finding
// of a host; the listener fields are null for a finding about no listener.
type findingJSON struct {
	Host      string    `json:"host"`
	Rule      string    `json:"rule"`
	Severity  string    `json:"severity"`
	Proto     *string   `json:"proto"`
	Address   *string   `json:"address"`
	Port      *int      `json:"port"`
	NetNSName *string   `json:"netns_name"`
	Reason    string    `json:"reason"`
	Since     time.Time `json:"since"`
}

func (h *Handler) findings(w http.ResponseWriter, r *http.Request) {
	host := r.URL.Query().Get("host")
	if host != "" && fleet.ValidName(host) != nil {
		writeError(w, http.StatusBadRequest, "host: not a host name")
		return
	}
	fs, err := h.o.DB.Findings(r.Context(), host)
	if err != nil {
		h.failed(w, "findings", err)
		return
	}
	out := make([]findingJSON, len(fs))
	for i, f := range fs {
		j := findingJSON{Host: f.Host, Rule: f.Rule, Severity: f.Severity, NetNSName: str(f.NetNS), Reason: f.Reason, Since: f.Since}
		if f.Proto != 0 {
			port := int(f.Port)
			j.Proto, j.Address, j.Port = str(f.Proto.String()), str(f.Addr.String()), &port
		}
		out[i] = j
	}
	writeJSON(w, http.StatusOK, out)
}
