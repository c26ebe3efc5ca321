package webguard

import (
	"net/netip"
	"testing"
	"time"
)

func TestBlocked(t *testing.T) {
	now := time.Date(2026, 3, 18, 9, 30, 0, 0, time.UTC)
	th := NewThrottle(ThrottleOptions{PerClient: 2, Global: 100, Now: func() time.Time { return now }})
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for range 5 {
		if blocked, _ := th.Blocked(a); blocked {
			t.Fatal("Blocked spends attempts")
		}
	}
	th.Begin(a)
	th.Begin(a)
	if blocked, wait := th.Blocked(a); !blocked || wait <= 0 {
		t.Errorf("after two failures: blocked %v, wait %v", blocked, wait)
	}
	if blocked, _ := th.Blocked(b); blocked {
		t.Error("another client is blocked")
	}
	now = now.Add(time.Minute)
	if blocked, _ := th.Blocked(a); blocked {
		t.Error("still blocked a minute later")
	}
}
