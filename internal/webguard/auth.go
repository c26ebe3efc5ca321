package webguard

import (
	"container/list"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/porthole/porthole/internal/safefile"
)

// MinTokenBytes is the shortest bearer token NewBearerAuth and ReadTokenFile accept: 32 bytes, 256 bits if
// random, which no number of guesses reaches.
const MinTokenBytes = 32

// Default limits of a Throttle.
const (
	DefaultFailuresPerClient = 10   // failed attempts a minute per client (and in one burst)
	DefaultFailuresGlobal    = 100  // failed attempts a minute over all clients
	DefaultMaxClients        = 4096 // clients a Throttle remembers
)

// ThrottleOptions configure NewThrottle; zero fields take the defaults above, and a nil Now is time.Now.
type ThrottleOptions struct {
	PerClient  int
	Global     int
	MaxClients int
	Now        func() time.Time
}

// Throttle limits failed authentication attempts per client and over all clients, with token buckets: a client
// may fail PerClient times at once and then PerClient times a minute, all clients together Global times a
// minute. A client is an IPv4 address or an IPv6 /64 (one host usually owns the whole prefix). Memory is
// bounded: at most MaxClients buckets are kept, the least recently seen dropped first, which only forgives that
// client's debt; the global bucket still counts its failures. Safe for concurrent use.
type Throttle struct {
	mu                sync.Mutex
	rate, burst       float64 // per client: tokens a second, bucket size
	grate, gburst     float64 // global
	max               int
	now               func() time.Time
	global            bucket
	buckets           map[netip.Prefix]*list.Element
	lru               list.List // of *clientBucket, most recently seen at the front
	globalInitialized bool
}

type bucket struct {
	tokens float64
	last   time.Time
}

type clientBucket struct {
	key netip.Prefix
	bucket
}

// NewThrottle returns a throttle with the given limits.
func NewThrottle(o ThrottleOptions) *Throttle {
	if o.PerClient <= 0 {
		o.PerClient = DefaultFailuresPerClient
	}
	if o.Global <= 0 {
		o.Global = DefaultFailuresGlobal
	}
	if o.MaxClients <= 0 {
		o.MaxClients = DefaultMaxClients
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Throttle{
		rate: float64(o.PerClient) / 60, burst: float64(o.PerClient),
		grate: float64(o.Global) / 60, gburst: float64(o.Global),
		max: o.MaxClients, now: o.Now, buckets: make(map[netip.Prefix]*list.Element),
	}
}

// clientPrefix is the bucket key of addr: the address itself for IPv4, its /64 for IPv6, and the zero prefix
// (one shared bucket) for a client without an IP address.
func clientPrefix(addr netip.Addr) netip.Prefix {
	if !addr.IsValid() {
		return netip.Prefix{}
	}
	addr = addr.Unmap()
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits)
	return p
}

func (b *bucket) refill(now time.Time, rate, burst float64) {
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(burst, b.tokens+elapsed*rate)
	}
	b.last = now
}

func (b *bucket) wait(rate float64) time.Duration {
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// client returns client's bucket, refilled, creating it (full) if needed. Called with t.mu held.
func (t *Throttle) client(key netip.Prefix, now time.Time) *clientBucket {
	if e, ok := t.buckets[key]; ok {
		t.lru.MoveToFront(e)
		b := e.Value.(*clientBucket)
		b.refill(now, t.rate, t.burst)
		return b
	}
	for len(t.buckets) >= t.max {
		oldest := t.lru.Back()
		delete(t.buckets, oldest.Value.(*clientBucket).key)
		t.lru.Remove(oldest)
	}
	b := &clientBucket{key: key, bucket: bucket{tokens: t.burst, last: now}}
	t.buckets[key] = t.lru.PushFront(b)
	return b
}

// refillGlobal refills the bucket all clients share (full on first use)
// and returns the time it refilled to. t.mu must be held.
func (t *Throttle) refillGlobal() time.Time {
	now := t.now()
	if !t.globalInitialized {
		t.global = bucket{tokens: t.gburst, last: now}
		t.globalInitialized = true
	}
	t.global.refill(now, t.grate, t.gburst)
	return now
}

// Begin reserves one failed attempt for client before its credentials are checked, so that concurrent attempts
// cannot overrun the limits. It returns false, and how long until an attempt will be allowed, when the client
// or all clients together are out of attempts; then the credentials must not be checked at all. A successful
// attempt gives its reservation back with Succeeded.
func (t *Throttle) Begin(client netip.Addr) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.refillGlobal()
	c := t.client(clientPrefix(client), now)
	if c.tokens < 1 {
		return false, c.wait(t.rate)
	}
	if t.global.tokens < 1 {
		return false, t.global.wait(t.grate)
	}
	c.tokens--
	t.global.tokens--
	return true, 0
}

// Succeeded returns the attempt Begin reserved for client: the right credentials cost nothing.
func (t *Throttle) Succeeded(client netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.global.tokens = math.Min(t.gburst, t.global.tokens+1)
	if e, ok := t.buckets[clientPrefix(client)]; ok {
		b := e.Value.(*clientBucket)
		b.tokens = math.Min(t.burst, b.tokens+1)
	}
}

// Clients is how many client buckets the throttle holds (at most MaxClients).
func (t *Throttle) Clients() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.buckets)
}

// BearerAuth checks "Authorization: Bearer TOKEN" against one token, in constant time, behind a Throttle.
type BearerAuth struct {
	digest   [32]byte // SHA-256 of the token: the comparison takes the same time whatever the length guessed
	throttle *Throttle
}

// ErrShortToken is matched by the error NewBearerAuth and ReadTokenFile return for a token under MinTokenBytes.
var ErrShortToken = errors.New("token too short")

// NewBearerAuth returns a checker for token, throttled by th (nil: a NewThrottle with the defaults). It refuses a
// token shorter than MinTokenBytes.
func NewBearerAuth(token string, th *Throttle) (*BearerAuth, error) {
	if len(token) < MinTokenBytes {
		return nil, fmt.Errorf("%w: %d bytes; it must be at least %d (make one with: openssl rand -hex 32)",
			ErrShortToken, len(token), MinTokenBytes)
	}
	if th == nil {
		th = NewThrottle(ThrottleOptions{})
	}
	return &BearerAuth{digest: sha256.Sum256([]byte(token)), throttle: th}, nil
}

// Result of an authentication.
type Result int

const (
	Granted   Result = iota // the token is right
	Denied                  // no token, or a wrong one: answer 401
	Throttled               // too many failures: answer 429, without having looked at the token
)

// Authenticate checks r's bearer token for client (see ClientAddr). A request without an Authorization header
// guesses nothing and costs no attempt, but is still refused while its client is throttled. retryAfter is set
// when the result is Throttled.
func (a *BearerAuth) Authenticate(r *http.Request, client netip.Addr) (res Result, retryAfter time.Duration) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		// Nothing guessed, nothing spent; but a throttled client is told so, not asked for a token it could not
		// present anyway.
		if ok, wait := a.throttle.Begin(client); !ok {
			return Throttled, wait
		}
		a.throttle.Succeeded(client)
		return Denied, 0
	}
	ok, wait := a.throttle.Begin(client)
	if !ok {
		return Throttled, wait
	}
	const prefix = "Bearer "
	if len(auth) <= len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return Denied, 0
	}
	return a.check(auth[len(prefix):], client)
}

// Check checks a token typed into a form (the fleet site's login) for client, charged to the same throttle as
// Authenticate: an empty token guesses nothing and costs nothing, but is refused while the client is throttled.
func (a *BearerAuth) Check(token string, client netip.Addr) (res Result, retryAfter time.Duration) {
	ok, wait := a.throttle.Begin(client)
	if !ok {
		return Throttled, wait
	}
	if token == "" {
		a.throttle.Succeeded(client)
		return Denied, 0
	}
	return a.check(token, client)
}

// check compares token with a's in constant time, after Begin reserved an attempt for client.
func (a *BearerAuth) check(token string, client netip.Addr) (Result, time.Duration) {
	got := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(got[:], a.digest[:]) != 1 {
		return Denied, 0
	}
	a.throttle.Succeeded(client)
	return Granted, 0
}

// Refuse writes the answer to a Denied or Throttled result: 401 with a Bearer challenge for realm, or 429 with
// Retry-After in whole seconds (at least 1).
func Refuse(w http.ResponseWriter, res Result, retryAfter time.Duration, realm string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if res == Throttled {
		secs := int64((retryAfter + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte("too many failed attempts; try again later\n"))
		return
	}
	h.Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte("authorization required\n"))
}

// ClientAddr is the address of r's client: the connection's peer, or with trustProxy the last address of the
// last X-Forwarded-For header (the one the site's own proxy appended, which the client cannot forge). It is the
// zero Addr when neither is an IP address.
func ClientAddr(r *http.Request, trustProxy bool) netip.Addr {
	if trustProxy {
		if v := r.Header.Values("X-Forwarded-For"); len(v) > 0 {
			parts := strings.Split(v[len(v)-1], ",")
			if a, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return a.Unmap()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// maxTokenFile bounds a token file: a token is a line, not a document.
const maxTokenFile = 4 << 10

// ReadTokenFile reads a bearer token from the file at path: its content without surrounding white space. It
// refuses a file that is not regular (without blocking on a FIFO), one that group or others may read or write
// (the token would be everyone's on this machine), and a token shorter than MinTokenBytes. Every error says how
// to fix it.
func ReadTokenFile(path string) (string, error) {
	f, fi, err := safefile.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := checkPrivate(path, fi.Mode()); err != nil {
		return "", err
	}
	if fi.Size() > maxTokenFile {
		return "", fmt.Errorf("%s is %d bytes, not a token (one line of at least %d bytes)", path, fi.Size(), MinTokenBytes)
	}
	b := make([]byte, maxTokenFile+1)
	n, _ := io.ReadFull(f, b)
	token := strings.TrimSpace(string(b[:n]))
	if token == "" {
		return "", fmt.Errorf("%s is empty; write a token of at least %d bytes into it (openssl rand -hex 32 > %s)",
			path, MinTokenBytes, path)
	}
	if len(token) < MinTokenBytes {
		return "", fmt.Errorf("the token in %s is %w: %d bytes; it must be at least %d (openssl rand -hex 32 > %s)",
			path, ErrShortToken, len(token), MinTokenBytes, path)
	}
	return token, nil
}
