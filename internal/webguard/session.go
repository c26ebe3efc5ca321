package webguard

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Session defaults.
const (
	DefaultSessionTTL  = 12 * time.Hour
	DefaultMaxSessions = 1024
	// SessionCookie is the name of the session cookie.
	SessionCookie = "porthole_session"
	// sessionIDBytes is the randomness of a session id: 256 bits.
	sessionIDBytes = 32
)

// Sessions holds logged-in sessions in memory: for each one only the SHA-256
// of its random id and when it expires, so that a memory dump or a log line
// of the table leaks no usable cookie. A process restart logs everyone out.
// At most Max sessions are kept; a new one beyond that replaces the one that
// expires first. Safe for concurrent use.
type Sessions struct {
	mu  sync.Mutex
	m   map[[32]byte]time.Time
	ttl time.Duration
	max int
	now func() time.Time
}

// NewSessions returns an empty session table whose sessions last ttl (0:
// DefaultSessionTTL), keeping at most max of them (0: DefaultMaxSessions),
// on the clock now (nil: time.Now).
func NewSessions(ttl time.Duration, max int, now func() time.Time) *Sessions {
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	if max <= 0 {
		max = DefaultMaxSessions
	}
	if now == nil {
		now = time.Now
	}
	return &Sessions{m: map[[32]byte]time.Time{}, ttl: ttl, max: max, now: now}
}

// Create starts a session and returns its id (43 characters of unpadded
// base64url) and when it expires.
func (s *Sessions) Create() (string, time.Time) {
	b := make([]byte, sessionIDBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	id := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	exp := now.Add(s.ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	for len(s.m) >= s.max {
		var first [32]byte
		var at time.Time
		for k, t := range s.m {
			if at.IsZero() || t.Before(at) {
				first, at = k, t
			}
		}
		delete(s.m, first)
	}
	s.m[sha256.Sum256([]byte(id))] = exp
	return id, exp
}

// expire drops expired sessions; called with s.mu held.
func (s *Sessions) expire(now time.Time) {
	for k, t := range s.m {
		if !now.Before(t) {
			delete(s.m, k)
		}
	}
}

// Valid reports whether id names a live session. The lookup is by hash, so
// its time does not depend on how much of a guessed id is right.
func (s *Sessions) Valid(id string) bool {
	if len(id) != base64.RawURLEncoding.EncodedLen(sessionIDBytes) {
		return false
	}
	k := sha256.Sum256([]byte(id))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.m[k]
	if ok && !now.Before(exp) {
		delete(s.m, k)
		return false
	}
	return ok
}

// Delete ends the session id, if it exists.
func (s *Sessions) Delete(id string) {
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
}

// TTL is how long a session lasts.
func (s *Sessions) TTL() time.Duration { return s.ttl }

// Len is how many sessions are held, expired ones included until the next
// Create.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// FromRequest returns the session id of r's session cookie, if r carries a
// live one.
func (s *Sessions) FromRequest(r *http.Request) (string, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || !s.Valid(c.Value) {
		return "", false
	}
	return c.Value, true
}

// Cookie is the session cookie for id: HttpOnly, SameSite=Strict, Path=/,
// Secure when secure (the site is served over TLS), lasting maxAge. It sets
// Max-Age, not Expires: the browser counts from its own clock, which need
// not agree with the server's. With id "" it is the cookie that deletes the
// session cookie.
func Cookie(id string, maxAge time.Duration, secure bool) *http.Cookie {
	c := &http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(maxAge / time.Second)}
	if id == "" || c.MaxAge <= 0 {
		c.MaxAge = -1
	}
	return c
}

// SameOrigin reports whether a state-changing request (a form's POST) comes
// from the site's own pages: by Sec-Fetch-Site when the browser sends it
// ("same-origin"), else by Origin, which must be the request's own scheme
// and host. A request with neither is refused: every browser that runs
// the site's forms sends one of them.
func SameOrigin(r *http.Request, trustProxy bool) bool {
	if v := r.Header.Get("Sec-Fetch-Site"); v != "" {
		return v == "same-origin"
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	scheme := "http"
	if IsTLS(r, trustProxy) {
		scheme = "https"
	}
	return o == scheme+"://"+r.Host
}

// IsTLS reports whether r reached the site over TLS: directly, or with
// trustProxy through a proxy that says so in X-Forwarded-Proto.
func IsTLS(r *http.Request, trustProxy bool) bool {
	if r.TLS != nil {
		return true
	}
	return trustProxy && r.Header.Get("X-Forwarded-Proto") == "https"
}
