package budget

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/hubroute"
)

func TestMemoryCountsExactlyTheLimitThenResets(t *testing.T) {
	clock := newFakeClock()
	store := NewMemory(clock.Now)
	ctx := context.Background()
	limit := Limit{5, time.Minute}

	clock.Advance(15 * time.Second)
	for i := range 5 {
		d := store.Take(ctx, "ci-bot", hubroute.API, limit)
		if !d.Allowed || d.Remaining != 4-i || d.Reset != 45*time.Second || d.Limit != limit {
			t.Fatalf("request %d: %+v; want allowed, %d remaining, reset 45s", i+1, d, 4-i)
		}
	}
	for range 3 {
		if d := store.Take(ctx, "ci-bot", hubroute.API, limit); d.Allowed || d.Remaining != 0 {
			t.Fatalf("over the limit: %+v; want refused with 0 remaining", d)
		}
	}
	// Another principal, and another bucket of the same principal, have budgets of their own.
	if d := store.Take(ctx, "alice", hubroute.API, limit); !d.Allowed || d.Remaining != 4 {
		t.Errorf("another principal: %+v", d)
	}
	if d := store.Take(ctx, "ci-bot", hubroute.Resolvers, limit); !d.Allowed || d.Remaining != 4 {
		t.Errorf("another bucket: %+v", d)
	}

	clock.Advance(44 * time.Second) // the last second of the window: still refused
	if d := store.Take(ctx, "ci-bot", hubroute.API, limit); d.Allowed || d.Reset != time.Second {
		t.Fatalf("end of the window: %+v", d)
	}
	clock.Advance(time.Second) // the next window
	if d := store.Take(ctx, "ci-bot", hubroute.API, limit); !d.Allowed || d.Remaining != 4 || d.Reset != time.Minute {
		t.Fatalf("next window: %+v; want allowed, 4 remaining, reset 1m", d)
	}
}

func TestMemoryDropsEndedWindows(t *testing.T) {
	clock := newFakeClock()
	store := NewMemory(clock.Now)
	ctx := context.Background()
	limit := Limit{10, 10 * time.Second}
	for i := range 10_000 {
		store.Take(ctx, fmt.Sprint("principal-", i), hubroute.API, limit)
	}
	store.Shield(ctx, "key", hubroute.API, 5*time.Second)
	if n := held(store); n != 10_001 {
		t.Fatalf("holds %d, want 10001", n)
	}
	clock.Advance(sweepEvery)
	store.Take(ctx, "late", hubroute.API, limit)
	if n := held(store); n != 1 {
		t.Errorf("after the windows ended, holds %d, want only the latest", n)
	}
}

func held(m *Memory) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.counts) + len(m.shields)
}

func TestMemoryConcurrentTakesAllowExactlyTheLimit(t *testing.T) {
	store := NewMemory(newFakeClock().Now)
	limit := Limit{100, time.Minute}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 10 {
				if store.Take(context.Background(), "ci-bot", hubroute.API, limit).Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 100 {
		t.Errorf("%d of 500 allowed, want exactly 100", n)
	}
}

func TestMemoryShieldPerCredentialAndBucket(t *testing.T) {
	clock := newFakeClock()
	store := NewMemory(clock.Now)
	ctx := context.Background()
	server := CredentialKey("hf_server_token")

	if _, shielded := store.Shielded(ctx, server, hubroute.API); shielded {
		t.Fatal("shielded before any 429")
	}
	store.Shield(ctx, server, hubroute.API, 30*time.Second)
	clock.Advance(10 * time.Second)
	if reset, shielded := store.Shielded(ctx, server, hubroute.API); !shielded || reset != 20*time.Second {
		t.Errorf("Shielded = %v, %v; want 20s, true", reset, shielded)
	}
	if _, shielded := store.Shielded(ctx, server, hubroute.Resolvers); shielded {
		t.Error("another bucket is shielded")
	}
	if _, shielded := store.Shielded(ctx, CredentialKey("hf_caller_token"), hubroute.API); shielded {
		t.Error("another credential is shielded")
	}
	clock.Advance(20 * time.Second)
	if _, shielded := store.Shielded(ctx, server, hubroute.API); shielded {
		t.Error("still shielded at the reset")
	}
}

func TestCredentialKeyIsADigest(t *testing.T) {
	key := CredentialKey("hf_secret")
	if len(key) != 64 || key == CredentialKey("hf_secret2") || key != CredentialKey("hf_secret") {
		t.Errorf("CredentialKey = %q: want a stable 64-digit hex digest, distinct per token", key)
	}
}
