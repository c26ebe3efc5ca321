// Package feedback is the HTTP side of the "Was this page helpful?" widget at the end of every port page: it
// accepts answers as JSON (from the page's script) or as a plain form post (without script), shows them to an
// administrator, summarises them for the page and exports them.
//
// Routes, relative to where the site mounts the handler:
//
//	POST /api/v1/feedback   JSON {"port":2556,"lang":"en","rating":"helpful","comment":"…"} → 201 {"id":N}
//	POST /feedback          form fields port, lang, rating, comment (and the honeypot "website", which people
//	                        leave empty) → 303 to the page with ?thanks=1#feedback; the comment's CRLF line
//	                        breaks are stored as LF, everything else byte for byte
//	GET  /admin/feedback    the answers, for the holder of the admin token; 404 when no token is configured
//
// Every answer is acknowledged only after the store has committed it. Input is checked against an allow-list
// (see Validate); cross-origin posts are refused by http.CrossOriginProtection; each client may post RateLimit
// times a minute. Client addresses are never stored or logged: logs carry a keyed hash instead.
package feedback

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/porthole/porthole/internal/store"
	"github.com/porthole/porthole/internal/webguard"
)

// Paths of the routes the handler serves.
const (
	APIPath   = "/api/v1/feedback"
	FormPath  = "/feedback"
	AdminPath = "/admin/feedback"
	// SummaryPath answers GET ?port=N&lang=xx with a page's Summary as JSON.
	SummaryPath = "/api/v1/feedback/summary"
)

// Size limits of a request body, in bytes before decoding; the comment's own limit, 1,000 characters, is checked
// after decoding (Validate). The byte limits are generous so that the character limit is the one people meet: a
// character can take 12 bytes on the wire, as a JSON surrogate pair (\ud83d\ude00) or as a percent-encoded
// four-byte UTF-8 sequence in a form (%F0%9F%98%80), and a Korean syllable 6 (\ud55c) or 9 (%ED%95%9C). 1,000 such
// characters and the other fields fit in 16 KiB.
const (
	MaxJSONBody = 16 << 10
	MaxFormBody = 16 << 10
)

// DefaultMaxClients bounds the rate limiter's memory.
const DefaultMaxClients = 10000

// Options configures New. The zero value disables rate limiting and the admin page.
type Options struct {
	// RateLimit is how many posts one client may make per minute (and in one burst); 0 disables the limit.
	RateLimit int
	// MaxClients is how many clients the rate limiter remembers; 0 means DefaultMaxClients.
	MaxClients int
	// TrustProxy makes the last X-Forwarded-For address the client's address. Set it only behind a reverse
	// proxy that appends that header; otherwise any client could pick its own rate-limit bucket.
	TrustProxy bool
	// AdminToken enables GET /admin/feedback for requests with "Authorization: Bearer <AdminToken>". It must be
	// at least webguard.MinTokenBytes (32) long. Failed attempts are throttled per client and over all clients
	// (webguard.Throttle with its defaults: 10 a minute per client, 100 a minute in all); a throttled client
	// gets 429 with Retry-After.
	AdminToken string
	// PageURL returns the path of a port's page, where a form post redirects; nil means DefaultPageURL.
	PageURL func(port int, lang string) string
	// Langs are the accepted page languages; nil means "en" and "ko".
	Langs []string
	// TrustedOrigins are extra origins ("https://ports.example") whose posts are accepted although they differ
	// from the request's Host — for a reverse proxy that rewrites Host, seen by browsers too old to send
	// Sec-Fetch-Site. Each must be scheme://host[:port] (New reports a malformed one).
	TrustedOrigins []string
}

// DefaultPageURL is /ports/N for English and /LANG/ports/N for other languages.
func DefaultPageURL(port int, lang string) string {
	if lang == "en" {
		return "/ports/" + strconv.Itoa(port)
	}
	return "/" + lang + "/ports/" + strconv.Itoa(port)
}

// Handler serves the feedback routes.
type Handler struct {
	st        store.Store
	now       func() time.Time
	log       *slog.Logger
	opts      Options
	limit     *limiter
	clients   *clientHasher
	adminAuth *webguard.BearerAuth
	next      http.Handler
}

// New returns the feedback handler. now is the clock that stamps answers; log receives one record per answer. It
// returns an error for a malformed trusted origin (such as one given on the command line) or an admin token shorter
// than webguard.MinTokenBytes.
func New(st store.Store, now func() time.Time, log *slog.Logger, opts Options) (*Handler, error) {
	if opts.PageURL == nil {
		opts.PageURL = DefaultPageURL
	}
	if opts.Langs == nil {
		opts.Langs = []string{"en", "ko"}
	}
	if opts.MaxClients <= 0 {
		opts.MaxClients = DefaultMaxClients
	}
	h := &Handler{st: st, now: now, log: log, opts: opts, clients: newClientHasher()}
	if opts.RateLimit > 0 {
		h.limit = newLimiter(opts.RateLimit, opts.MaxClients, now)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+APIPath, h.postJSON)
	mux.HandleFunc("POST "+FormPath, h.postForm)
	mux.HandleFunc("GET "+SummaryPath, h.getSummary)
	if opts.AdminToken != "" {
		auth, err := webguard.NewBearerAuth(opts.AdminToken, webguard.NewThrottle(webguard.ThrottleOptions{Now: now}))
		if err != nil {
			return nil, fmt.Errorf("feedback: admin token: %w", err)
		}
		h.adminAuth = auth
		mux.HandleFunc("GET "+AdminPath, h.admin)
	}
	// Anonymous posts carry no cookie to steal, but a foreign page could still make visitors' browsers vote;
	// CrossOriginProtection refuses non-safe requests that Sec-Fetch-Site or Origin mark as cross-origin.
	cop := http.NewCrossOriginProtection()
	for _, o := range opts.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("feedback: trusted origin: %w", err)
		}
	}
	h.next = cop.Handler(mux)
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.next.ServeHTTP(w, r) }

// Register routes the feedback paths of mux to h; any method reaches h, which answers 405 for the wrong ones.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, p := range []string{APIPath, FormPath, AdminPath, SummaryPath} {
		mux.Handle(p, h)
	}
}

// Input is one answer as a client sends it.
type Input struct {
	Port    int    `json:"port"`
	Lang    string `json:"lang"`
	Rating  string `json:"rating"`
	Comment string `json:"comment"`

	trap bool // the form's honeypot field was filled in: answer as if stored, store nothing
}

// requestError is a refusal with its status and a message safe to show the client (it never quotes input).
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func bad(msg string) error { return &requestError{http.StatusBadRequest, msg} }

// Validate checks in against the allow-lists: port 0–65535, a known language, one of the three ratings, and a
// comment of valid UTF-8, at most 1,000 characters, without control characters other than tab and line breaks.
func (h *Handler) Validate(in Input) error {
	if in.Port < 0 || in.Port > 65535 {
		return bad("port must be 0-65535")
	}
	known := false
	for _, l := range h.opts.Langs {
		known = known || in.Lang == l
	}
	if !known {
		return bad("unknown lang")
	}
	if in.Rating != store.Unhelpful && in.Rating != store.Neutral && in.Rating != store.Helpful {
		return bad(`rating must be "unhelpful", "neutral" or "helpful"`)
	}
	if !utf8.ValidString(in.Comment) {
		return bad("comment is not valid UTF-8")
	}
	if utf8.RuneCountInString(in.Comment) > 1000 {
		return bad("comment is longer than 1000 characters")
	}
	if store.ValidateComment(in.Comment) != nil {
		return bad("comment holds control characters")
	}
	return nil
}

func (h *Handler) postJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	id, err := h.accept(w, r, "application/json", MaxJSONBody, parseJSON)
	if err != nil {
		h.fail(w, r, err, writeJSONError)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]int64{"id": id})
}

func (h *Handler) postForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var in Input
	_, err := h.accept(w, r, "application/x-www-form-urlencoded", MaxFormBody, func(b []byte) (Input, error) {
		var err error
		in, err = parseForm(b)
		return in, err
	})
	if err != nil {
		h.fail(w, r, err, writeTextError)
		return
	}
	u, perr := url.Parse(h.opts.PageURL(in.Port, in.Lang))
	if perr != nil {
		h.fail(w, r, perr, writeTextError)
		return
	}
	q := u.Query()
	q.Set("thanks", "1")
	u.RawQuery = q.Encode()
	u.Fragment = "feedback"
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// accept runs the checks common to both routes, in order of cost, and stores the answer.
func (h *Handler) accept(w http.ResponseWriter, r *http.Request, mediaType string, max int64,
	parse func([]byte) (Input, error)) (int64, error) {
	key := h.clients.key(r, h.opts.TrustProxy)
	if h.limit != nil {
		if ok, wait := h.limit.allow(key); !ok {
			secs := max64(1, int64((wait+time.Second-1)/time.Second))
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			return 0, &requestError{http.StatusTooManyRequests, "too many posts; try again later"}
		}
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != mediaType || (params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		return 0, &requestError{http.StatusUnsupportedMediaType, "Content-Type must be " + mediaType}
	}
	if r.ContentLength > max {
		return 0, &requestError{http.StatusRequestEntityTooLarge, "request body too large"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return 0, &requestError{http.StatusRequestEntityTooLarge, "request body too large"}
		}
		return 0, bad("could not read the request body")
	}
	if !utf8.Valid(body) {
		return 0, bad("request body is not valid UTF-8")
	}
	in, err := parse(body)
	if err != nil {
		return 0, err
	}
	if err := h.Validate(in); err != nil {
		return 0, err
	}
	if in.trap {
		h.log.Info("feedback dropped: honeypot filled", "client", key.String())
		return 0, nil // the bot is thanked like anyone else and learns nothing
	}
	f := store.Feedback{Port: in.Port, Lang: in.Lang, Rating: in.Rating, Comment: in.Comment, Created: h.now()}
	id, err := h.st.Add(r.Context(), f)
	if err != nil {
		return 0, err
	}
	// The comment is logged as one attribute: slog quotes it, so a line break in it cannot start a forged record.
	h.log.Info("feedback stored", "id", id, "port", f.Port, "lang", f.Lang, "rating", f.Rating,
		"comment", excerpt(f.Comment, 80), "client", key.String())
	return id, nil
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, write func(http.ResponseWriter, int, string)) {
	client := h.clients.key(r, h.opts.TrustProxy).String()
	var re *requestError
	switch {
	case errors.As(err, &re):
		h.log.Info("feedback refused", "status", re.status, "reason", re.msg, "path", r.URL.Path, "client", client)
		write(w, re.status, re.msg)
	case errors.Is(err, store.ErrInvalid):
		h.log.Info("feedback refused", "status", http.StatusBadRequest, "reason", "invalid", "client", client)
		write(w, http.StatusBadRequest, "invalid feedback")
	case errors.Is(err, context.Canceled):
		h.log.Info("feedback abandoned by the client", "client", client)
		write(w, http.StatusServiceUnavailable, "request cancelled")
	default:
		h.log.Error("storing feedback", "err", err, "client", client)
		write(w, http.StatusServiceUnavailable, "feedback cannot be saved right now; please try again later")
	}
}

// parseJSON decodes exactly one object with the known fields, each at most once and of the right JSON type, and
// nothing after it. encoding/json alone would accept duplicate keys (keeping the last), match keys regardless of
// case, and read "2556" into a string field, so the object is walked token by token.
func parseJSON(body []byte) (Input, error) {
	var in Input
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return in, bad("body must be a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return in, bad("malformed JSON")
		}
		key, _ := t.(string)
		if seen[key] {
			return in, bad("repeated field")
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return in, bad("malformed JSON")
		}
		switch key {
		case "port":
			n, err := parsePort(string(raw))
			if err != nil {
				return in, err
			}
			in.Port = n
		case "lang", "rating", "comment":
			var s string
			if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
				return in, bad(key + " must be a string")
			}
			switch key {
			case "lang":
				in.Lang = s
			case "rating":
				in.Rating = s
			default:
				in.Comment = s
			}
		default:
			return in, bad("unknown field")
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return in, bad("malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return in, bad("data after the JSON object")
	}
	for _, k := range []string{"port", "lang", "rating"} {
		if !seen[k] {
			return in, bad("missing field " + k)
		}
	}
	return in, nil
}

// parsePort accepts 1–5 decimal digits and nothing else: no sign, fraction, exponent or quotes.
func parsePort(s string) (int, error) {
	if len(s) == 0 || len(s) > 5 {
		return 0, bad("port must be an integer 0-65535")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, bad("port must be an integer 0-65535")
		}
	}
	n, _ := strconv.Atoi(s)
	if n > 65535 {
		return 0, bad("port must be an integer 0-65535")
	}
	return n, nil
}

// formField reports whether k is one of the form's fields.
func formField(k string) bool {
	switch k {
	case "port", "lang", "rating", "comment", "website":
		return true
	}
	return false
}

// parseForm reads a urlencoded body in which every field appears at most once (a repeated field is HTTP parameter
// pollution: different layers might read different copies) and no unknown field appears.
func parseForm(body []byte) (Input, error) {
	var in Input
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return in, bad("malformed form")
	}
	for k, v := range vals {
		if !formField(k) {
			return in, bad("unknown field")
		}
		if len(v) != 1 {
			return in, bad("repeated field")
		}
		if !utf8.ValidString(v[0]) {
			return in, bad("form is not valid UTF-8")
		}
	}
	for _, k := range []string{"port", "lang", "rating"} {
		if _, ok := vals[k]; !ok {
			return in, bad("missing field " + k)
		}
	}
	if in.Port, err = parsePort(vals.Get("port")); err != nil {
		return in, err
	}
	// Browsers submit a textarea's line breaks as CRLF but count each as one character against maxlength, so a
	// full 1,000-character comment with line breaks would exceed the limit; store them as LF.
	in.Lang, in.Rating = vals.Get("lang"), vals.Get("rating")
	in.Comment = strings.ReplaceAll(vals.Get("comment"), "\r\n", "\n")
	in.trap = vals.Get("website") != ""
	return in, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeTextError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, "Your feedback was not saved: "+msg+"\n")
}

func excerpt(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
