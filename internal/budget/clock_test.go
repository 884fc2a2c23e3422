package budget

import (
	"sync"
	"time"
)

// epoch is a start time on a five-minute boundary, so tests know where windows begin.
var epoch = time.Unix(1_800_000_000, 0)

// fakeClock is the clock the stores read in tests: time moves only when a test says so.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: epoch} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
