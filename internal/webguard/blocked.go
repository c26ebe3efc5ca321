package webguard

import (
	"net/netip"
	"time"
)

// Blocked reports, without spending anything, whether client (or all
// clients together) is out of attempts now, and how long until one is
// allowed. It suits credentials checked before the throttle is charged:
// many concurrent requests from one address with the right credentials (a
// fleet of agents behind one NAT) must not throttle each other, as holding a
// Begin reservation each would; a failed check then calls Begin to count it.
func (t *Throttle) Blocked(client netip.Addr) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.refillGlobal()
	if e, ok := t.buckets[clientPrefix(client)]; ok {
		b := e.Value.(*clientBucket)
		b.refill(now, t.rate, t.burst)
		if b.tokens < 1 {
			return true, b.wait(t.rate)
		}
	}
	if t.global.tokens < 1 {
		return true, t.global.wait(t.grate)
	}
	return false, 0
}
