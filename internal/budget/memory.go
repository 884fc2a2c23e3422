package budget

import (
	"context"
	"sync"
	"time"

	"github.com/hf-micro/hf-micro/internal/hubroute"
)

// sweepEvery is how often Memory drops ended windows and shields, so that many principals seen once do not
// pile up: what it holds is bounded by the principals active within the longest window.
const sweepEvery = time.Minute

// Memory is a Store for one process: every replica counts on its own.
type Memory struct {
	now func() time.Time

	mu        sync.Mutex
	counts    map[countKey]count
	shields   map[shieldKey]time.Time // when the shield lifts
	nextSweep time.Time
}

type countKey struct {
	principal string
	bucket    hubroute.Bucket
}

type count struct {
	start, end time.Time
	n          int64
}

type shieldKey struct {
	credential string
	bucket     hubroute.Bucket
}

// NewMemory returns an empty Memory store that reads the time from now (time.Now when nil).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, counts: map[countKey]count{}, shields: map[shieldKey]time.Time{}}
}

func (m *Memory) Take(_ context.Context, principal string, bucket hubroute.Bucket, limit Limit) Decision {
	now := m.now()
	start, reset := limit.window(now)
	key := countKey{principal, bucket}

	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	c := m.counts[key]
	if !c.start.Equal(start) {
		c = count{start: start, end: start.Add(limit.Window)}
	}
	// A refused request is not counted: the count stops at limit+1, so it cannot overflow however long a
	// caller keeps knocking.
	if c.n <= int64(limit.Count) {
		c.n++
	}
	m.counts[key] = c
	return decide(c.n, limit, reset)
}

func (m *Memory) Shield(_ context.Context, credentialKey string, bucket hubroute.Bucket, reset time.Duration) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	m.shields[shieldKey{credentialKey, bucket}] = now.Add(reset)
}

func (m *Memory) Shielded(_ context.Context, credentialKey string, bucket hubroute.Bucket) (time.Duration, bool) {
	now := m.now()
	m.mu.Lock()
	until, ok := m.shields[shieldKey{credentialKey, bucket}]
	m.mu.Unlock()
	if !ok || !until.After(now) {
		return 0, false
	}
	return until.Sub(now), true
}

// sweep drops ended windows and lifted shields, at most once per sweepEvery; m.mu is held.
func (m *Memory) sweep(now time.Time) {
	if now.Before(m.nextSweep) {
		return
	}
	m.nextSweep = now.Add(sweepEvery)
	for k, c := range m.counts {
		if !c.end.After(now) {
			delete(m.counts, k)
		}
	}
	for k, until := range m.shields {
		if !until.After(now) {
			delete(m.shields, k)
		}
	}
}

func (m *Memory) Admit(ctx context.Context, credentialKey, principal string, bucket hubroute.Bucket, limit *Limit) Admission {
	if reset, shielded := m.Shielded(ctx, credentialKey, bucket); shielded {
		return Admission{Shielded: true, ShieldReset: reset}
	}
	if limit == nil {
		return Admission{}
	}
	return Admission{Counted: true, Decision: m.Take(ctx, principal, bucket, *limit)}
}
