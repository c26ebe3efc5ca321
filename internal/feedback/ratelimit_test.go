package feedback

import (
	"encoding/binary"
	"testing"
	"time"
)

func TestLimiterMemoryBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(10, 1000, func() time.Time { return now })
	for i := range 100000 {
		var k clientKey
		binary.BigEndian.PutUint64(k[:], uint64(i))
		if ok, _ := l.allow(k); !ok {
			t.Fatalf("new client %d refused", i)
		}
		if n := l.size(); n > 1000 {
			t.Fatalf("limiter holds %d buckets, more than its cap of 1000", n)
		}
	}
	// The most recent clients are still remembered.
	var last clientKey
	binary.BigEndian.PutUint64(last[:], 99999)
	for range 9 {
		l.allow(last)
	}
	if ok, wait := l.allow(last); ok || wait != 6*time.Second {
		t.Errorf("11th post of a remembered client = %v, %v; want refused, 6s", ok, wait)
	}
}

func TestLimiterRefill(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(60, 10, func() time.Time { return now })
	var k clientKey
	tests := []struct {
		advance time.Duration
		posts   int
		allowed int
	}{
		{0, 70, 60},                    // the burst
		{500 * time.Millisecond, 1, 0}, // half a token
		{500 * time.Millisecond, 2, 1}, // one token
		{time.Hour, 100, 60},           // capped at the burst
	}
	for i, tc := range tests {
		now = now.Add(tc.advance)
		got := 0
		for range tc.posts {
			if ok, _ := l.allow(k); ok {
				got++
			}
		}
		if got != tc.allowed {
			t.Errorf("step %d: %d allowed, want %d", i, got, tc.allowed)
		}
	}
}
