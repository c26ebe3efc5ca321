package feedback

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// limiter is a token bucket per client key: each client may post burst times at once and then perMinute times a
// minute. Memory is bounded: at most max buckets are kept, and the least recently seen is dropped to make room.
// Dropping a bucket only forgives that client's debt, so a flood of distinct addresses cannot grow memory.
type limiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	max     int
	now     func() time.Time
	buckets map[clientKey]*list.Element
	lru     list.List // of *bucket, most recently seen at the front
}

type bucket struct {
	key    clientKey
	tokens float64
	last   time.Time
}

func newLimiter(perMinute, maxClients int, now func() time.Time) *limiter {
	return &limiter{
		rate:    float64(perMinute) / 60,
		burst:   float64(perMinute),
		max:     maxClients,
		now:     now,
		buckets: make(map[clientKey]*list.Element),
	}
}

// allow takes a token for key. When none is left it returns false and how long until one will be.
func (l *limiter) allow(key clientKey) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var b *bucket
	if e, ok := l.buckets[key]; ok {
		l.lru.MoveToFront(e)
		b = e.Value.(*bucket)
		if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
			b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		}
		b.last = now
	} else {
		for len(l.buckets) >= l.max {
			oldest := l.lru.Back()
			delete(l.buckets, oldest.Value.(*bucket).key)
			l.lru.Remove(oldest)
		}
		b = &bucket{key: key, tokens: l.burst, last: now}
		l.buckets[key] = l.lru.PushFront(b)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
