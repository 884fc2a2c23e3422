package budget

import (
	"context"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/budget/redistest"
	"github.com/hf-micro/hf-micro/internal/fakeclock"
	"github.com/hf-micro/hf-micro/internal/hubroute"
)

// Admit checks the shield before the budget, counts nothing while shielded, and counts nothing without a
// limit: the same answers from memory and from Redis.
func TestAdmit(t *testing.T) {
	server := redistest.Start(t)
	stores := map[string]func(*fakeclock.Clock) Store{
		"memory": func(c *fakeclock.Clock) Store { return NewMemory(c.Now) },
		"redis":  func(c *fakeclock.Clock) Store { return newRedisStore(t, server.URL, c, &logRecorder{}) },
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			clock := newFakeClock()
			clock.Advance(20 * time.Second)
			store := newStore(clock)
			ctx := context.Background()
			limit := &Limit{2, time.Minute}
			cred := CredentialKey("hf_token_" + name)

			if a := store.Admit(ctx, cred, "key:"+name, hubroute.API, nil); !a.Allowed() || a.Counted || a.Shielded {
				t.Errorf("no limit: %+v", a)
			}
			a := store.Admit(ctx, cred, "key:"+name, hubroute.API, limit)
			if !a.Allowed() || !a.Counted || a.Decision.Remaining != 1 || a.Decision.Reset != 40*time.Second {
				t.Errorf("first: %+v", a)
			}
			store.Shield(ctx, cred, hubroute.API, 30*time.Second)
			a = store.Admit(ctx, cred, "key:"+name, hubroute.API, limit)
			if a.Allowed() || !a.Shielded || a.Counted || a.ShieldReset <= 0 || a.ShieldReset > 30*time.Second {
				t.Errorf("shielded: %+v", a)
			}
			if a := store.Admit(ctx, cred, "key:"+name, hubroute.Resolvers, limit); !a.Allowed() || a.Decision.Remaining != 1 {
				t.Errorf("another bucket: %+v", a)
			}
			// The shielded request was not counted: one is left in the api bucket.
			store.Shield(ctx, cred, hubroute.API, time.Millisecond) // lift it (Redis keeps at least 1 ms)
			clock.Advance(time.Second)
			if name == "redis" {
				time.Sleep(5 * time.Millisecond) // Redis expires the key on its own clock
			}
			if a := store.Admit(ctx, cred, "key:"+name, hubroute.API, limit); !a.Allowed() || a.Decision.Remaining != 0 {
				t.Errorf("after the shield: %+v", a)
			}
			if a := store.Admit(ctx, cred, "key:"+name, hubroute.API, limit); a.Allowed() || a.Shielded || a.Decision.Allowed {
				t.Errorf("over budget: %+v", a)
			}
		})
	}
}
