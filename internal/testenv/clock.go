package testenv

import (
	"sync"
	"time"
)

// Clock is the tests' one fake clock (tests fake nothing else): it moves
// when the test calls Advance, and by Tick after every Now when Tick is
// set. It is safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	t    time.Time
	Tick time.Duration // added after every Now; set it before the clock is shared
}

// NewClock returns a Clock that reads start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's time, then moves it by Tick.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.Tick)
	return t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
