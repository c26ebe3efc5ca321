package webguard_test

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/porthole/porthole/internal/testenv"
	"github.com/porthole/porthole/internal/webguard"
)

func TestSessions(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 3, 18, 9, 30, 0, 0, time.UTC))
	s := webguard.NewSessions(time.Hour, 3, clock.Now)
	a, exp := s.Create()
	if len(a) != 43 || !exp.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("Create: %q expiring %v", a, exp)
	}
	b, _ := s.Create()
	if a == b || !s.Valid(a) || !s.Valid(b) {
		t.Fatalf("two sessions %q %q: valid %v %v", a, b, s.Valid(a), s.Valid(b))
	}
	for _, bad := range []string{"", a[:42], a + "x", b[:42] + "A", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		if bad != a && bad != b && s.Valid(bad) {
			t.Errorf("Valid(%q) = true", bad)
		}
	}
	s.Delete(a)
	if s.Valid(a) || !s.Valid(b) {
		t.Error("Delete ended the wrong session")
	}
	clock.Advance(time.Hour)
	if s.Valid(b) {
		t.Error("a session outlived its hour")
	}
	// At most three: a fourth replaces the one that expires first.
	clock.Advance(time.Minute)
	first, _ := s.Create()
	clock.Advance(time.Minute)
	var rest []string
	for range 3 {
		id, _ := s.Create()
		rest = append(rest, id)
	}
	if s.Len() != 3 || s.Valid(first) {
		t.Errorf("%d sessions, the oldest still valid: %v; want 3 and not", s.Len(), s.Valid(first))
	}
	for _, id := range rest {
		if !s.Valid(id) {
			t.Errorf("session %q was dropped", id)
		}
	}
}

func TestSessionCookie(t *testing.T) {
	c := webguard.Cookie("abc", 12*time.Hour, true)
	if c.String() != "porthole_session=abc; Path=/; Max-Age=43200; HttpOnly; Secure; SameSite=Strict" {
		t.Errorf("cookie %q", c.String())
	}
	if c := webguard.Cookie("", 0, false); c.String() != "porthole_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" {
		t.Errorf("clearing cookie %q", c.String())
	}
}

func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		tls, proxy bool
		header     []string
		want       bool
	}{
		{false, false, []string{"Sec-Fetch-Site", "same-origin"}, true},
		{false, false, []string{"Sec-Fetch-Site", "same-site"}, false},
		{false, false, []string{"Sec-Fetch-Site", "cross-site", "Origin", "http://example.test"}, false},
		{false, false, []string{"Sec-Fetch-Site", "none"}, false},
		{false, false, []string{"Origin", "http://example.test"}, true},
		{false, false, []string{"Origin", "http://example.test:80"}, false},
		{false, false, []string{"Origin", "https://example.test"}, false},
		{true, false, []string{"Origin", "https://example.test"}, true},
		{false, true, []string{"Origin", "https://example.test", "X-Forwarded-Proto", "https"}, true},
		{false, false, []string{"Origin", "https://example.test", "X-Forwarded-Proto", "https"}, false},
		{false, false, []string{"Origin", "null"}, false},
		{false, false, nil, false},
	} {
		r := httptest.NewRequest("POST", "http://example.test/fleet/login", nil)
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		for i := 0; i+1 < len(tc.header); i += 2 {
			r.Header.Set(tc.header[i], tc.header[i+1])
		}
		if got := webguard.SameOrigin(r, tc.proxy); got != tc.want {
			t.Errorf("TLS %v, proxy %v, %q: %v, want %v", tc.tls, tc.proxy, tc.header, got, tc.want)
		}
	}
}

// TestCheckSharesThrottle: a form's token is checked in constant time
// behind the same throttle as bearer tokens; an empty one costs nothing.
func TestCheckSharesThrottle(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 3, 18, 9, 30, 0, 0, time.UTC))
	th := webguard.NewThrottle(webguard.ThrottleOptions{PerClient: 2, Now: clock.Now})
	auth, err := webguard.NewBearerAuth(goodToken, th)
	if err != nil {
		t.Fatal(err)
	}
	client := netip.MustParseAddr("192.0.2.7")
	for range 5 {
		if res, _ := auth.Check("", client); res != webguard.Denied {
			t.Fatalf("empty token: %v", res)
		}
	}
	if res, _ := auth.Check(goodToken, client); res != webguard.Granted {
		t.Fatalf("right token: %v", res)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer wrong")
	auth.Authenticate(r, client)
	auth.Check(goodToken+"x", client)
	if res, wait := auth.Check(goodToken, client); res != webguard.Throttled || wait <= 0 {
		t.Errorf("right token after a failed bearer and a failed form: %v %v, want throttled", res, wait)
	}
}
