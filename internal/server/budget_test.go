package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/fakeclock"
	"github.com/hf-micro/hf-micro/internal/fakehub"
)

// newTestClock is the budgets' clock in these tests: windows turn when the test says, never mid-test.
func newTestClock() *fakeclock.Clock { return fakeclock.New(time.Unix(1_800_000_010, 0)) }

// budgetHarness is hf-micro with an access file of keys ci, other (5/1m in api each) and reader (read only,
// 5/1m by the defaults), counting in memory on clock, in front of the fake Hub.
func budgetHarness(t *testing.T, clock *fakeclock.Clock) (*harness, map[string]string) {
	t.Helper()
	keys := map[string]string{"ci": auth.GenerateKey(), "other": auth.GenerateKey(), "reader": auth.GenerateKey()}
	file := "[defaults]\nlimits = { api = \"5/1m\" }\n\n" +
		accessKey("ci", keys["ci"], "read = [\"*\"]\nwrite = [\"*\"]\nlimits = { api = \"5/1m\", pages = \"100/1h\" }") +
		accessKey("other", keys["other"], "read = [\"*\"]\nwrite = [\"*\"]") +
		accessKey("reader", keys["reader"], "read = [\"*\"]")
	access, err := auth.ParseAccessFile([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	fake, url := budgetHub(t, nil)
	h := startServer(t, fake, url, fake.IssueToken("alice", fakehub.RoleWrite), setup{
		opts: Options{Auth: auth.Options{Access: auth.NewAccess("access.toml", access), CallerTokens: true},
			Budgets: budget.NewMemory(clock.Now)},
		secrets: []string{keys["ci"], keys["other"], keys["reader"]},
	})
	return h, keys
}

// budgetHub serves a fake Hub with alice/existing, through wrap when it is set.
func budgetHub(t *testing.T, wrap func(http.Handler) http.Handler) (*fakehub.Hub, string) {
	t.Helper()
	fake := fakehub.New()
	fake.AddUser("alice")
	fake.AddRepo("model", "alice/existing", false)
	var handler http.Handler = fake
	if wrap != nil {
		handler = wrap(fake)
	}
	hubServer := httptest.NewServer(handler)
	t.Cleanup(hubServer.Close)
	return fake, hubServer.URL
}

func (h *harness) as(t *testing.T, key, method, path string) reply {
	t.Helper()
	return h.sendFull(t, method, path, map[string]string{"Authorization": "Bearer " + key}, "")
}

// A principal with 5/1m gets 5 answers with r counting down, then 429 with Retry-After, and the Hub sees
// nothing more; another principal is unaffected; a request refused by policy is not counted; the next window
// allows it again.
func TestBudgetPerPrincipal(t *testing.T) {
	clock := newTestClock()
	h, keys := budgetHarness(t, clock)
	const model = "/api/models/alice/existing"

	for i := range 5 {
		r := h.as(t, keys["ci"], "GET", model)
		if r.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
		}
		if got, want := r.header.Values("RateLimit"), fmt.Sprintf(`"api";r=%d;t=50`, 4-i); len(got) != 1 || got[0] != want {
			t.Errorf("request %d: RateLimit %q, want [%s]", i+1, got, want)
		}
		if got := r.header.Values("RateLimit-Policy"); len(got) != 1 || got[0] != `"fixed window";"api";q=5;w=60` {
			t.Errorf("request %d: RateLimit-Policy %q", i+1, got)
		}
	}
	reached := len(h.fake.Requests())
	for _, path := range []string{model, "/api/account", "/api/repo?type=model&name=alice/existing"} {
		r := h.as(t, keys["ci"], "GET", path)
		checkError(t, r, http.StatusTooManyRequests, `key:ci has used its budget of 5 requests per 1m0s in the "api" bucket`)
		if r.header.Get("Retry-After") != "50" || r.header.Get("RateLimit") != `"api";r=0;t=50` {
			t.Errorf("%s over budget: Retry-After %q, RateLimit %q", path, r.header.Get("Retry-After"), r.header.Get("RateLimit"))
		}
	}
	if n := len(h.fake.Requests()); n != reached {
		t.Errorf("%d requests over budget reached the Hub", n-reached)
	}

	if r := h.as(t, keys["other"], "GET", model); r.status != http.StatusOK || r.header.Get("RateLimit") != `"api";r=4;t=50` {
		t.Errorf("another principal: %d, RateLimit %q", r.status, r.header.Get("RateLimit"))
	}
	// Refused by policy: not counted.
	checkError(t, h.sendFull(t, "POST", "/api/repo", map[string]string{"Authorization": "Bearer " + keys["reader"], "Content-Type": "application/json"},
		`{"type":"model","name":"alice/new"}`), http.StatusForbidden, "")
	if r := h.as(t, keys["reader"], "GET", "/api/account"); r.status != http.StatusOK || r.header.Get("RateLimit") != `"api";r=4;t=50` {
		t.Errorf("after a refusal: %d, RateLimit %q (the simple API counts in api; a refusal does not)", r.status, r.header.Get("RateLimit"))
	}

	clock.Advance(50 * time.Second)
	if r := h.as(t, keys["ci"], "GET", model); r.status != http.StatusOK || r.header.Get("RateLimit") != `"api";r=4;t=60` {
		t.Errorf("next window: %d, RateLimit %q", r.status, r.header.Get("RateLimit"))
	}
}

// When the Hub's own quota for the server token is tighter, its RateLimit is the one the caller sees, from
// the drop-in and from the simple API alike; only one RateLimit ever.
func TestBudgetPassesTheHubsTighterRateLimit(t *testing.T) {
	h, keys := budgetHarness(t, newTestClock())
	h.fake.SetRateQuota(3)
	for i, path := range []string{"/api/models/alice/existing", "/api/repo?type=model&name=alice/existing"} {
		r := h.as(t, keys["ci"], "GET", path)
		got, policy := r.header.Values("RateLimit"), r.header.Values("RateLimit-Policy")
		if r.status != http.StatusOK || len(got) != 1 || !strings.HasPrefix(got[0], fmt.Sprintf(`"api";r=%d;t=`, 2-i)) ||
			len(policy) != 1 || policy[0] != `"fixed window";"api";q=3;w=300` {
			t.Errorf("%s: %d, RateLimit %q, policy %q: want the Hub's", path, r.status, got, policy)
		}
	}
}

// One 429 from the Hub with t=30 stops the next 100 requests of that bucket before the Hub, for the drop-in
// and the simple API; another bucket, and a caller's own token, still reach it; GET /api/account answers from
// its fresh cache.
func TestShield(t *testing.T) {
	var hubCalls, apiCalls atomic.Int64
	var refuseNext atomic.Bool
	clock := newTestClock()
	fake, url := budgetHub(t, func(fake http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hubCalls.Add(1)
			if strings.HasPrefix(r.URL.Path, "/api/") {
				apiCalls.Add(1)
				if refuseNext.CompareAndSwap(true, false) {
					w.Header().Set("RateLimit", `"api";r=0;t=30`)
					w.Header().Set("RateLimit-Policy", `"fixed window";"api";q=1000;w=300`)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
			}
			fake.ServeHTTP(w, r)
		})
	})
	// A loopback caller uses the server's token with no budget: only the shield applies.
	h := startServer(t, fake, url, fake.IssueToken("alice", fakehub.RoleWrite),
		setup{opts: Options{Auth: auth.Options{CallerTokens: true}, Budgets: budget.NewMemory(clock.Now), AccountCacheTTL: time.Hour}})
	if r := h.do(t, "GET", "/api/account", "", ""); r.status != http.StatusOK {
		t.Fatalf("account: %d %s", r.status, r.body)
	}
	refuseNext.Store(true)
	if r := h.do(t, "GET", "/api/models/alice/existing", "", ""); r.status != http.StatusTooManyRequests || r.header.Get("RateLimit") != `"api";r=0;t=30` {
		t.Fatalf("the Hub's 429: %d, RateLimit %q", r.status, r.header.Get("RateLimit"))
	}
	before := apiCalls.Load()
	for i := range 100 {
		path := "/api/models/alice/existing"
		if i%2 == 1 {
			path = "/api/repo?type=model&name=alice/existing"
		}
		r := h.do(t, "GET", path, "", "")
		checkError(t, r, http.StatusTooManyRequests, `the Hub is rate-limiting hf-micro's Hub token in the "api" bucket`)
		if rl, ok := budget.ParseRateLimit(r.header.Get("RateLimit")); !ok || rl.Remaining != 0 || rl.Reset != 30*time.Second ||
			r.header.Get("Retry-After") != "30" {
			t.Fatalf("shielded reply: RateLimit %q, Retry-After %q", r.header.Get("RateLimit"), r.header.Get("Retry-After"))
		}
	}
	if n := apiCalls.Load() - before; n != 0 {
		t.Errorf("%d shielded requests reached the Hub, want 0", n)
	}
	if r := h.do(t, "GET", "/api/account", "", ""); r.status != http.StatusOK || apiCalls.Load() != before {
		t.Errorf("account while shielded: %d, %d Hub calls: want the cached answer", r.status, apiCalls.Load()-before)
	}
	calls := hubCalls.Load()
	h.do(t, "GET", "/alice/existing/resolve/main/README.md", "", "")
	if hubCalls.Load() != calls+1 {
		t.Error("a request of the resolvers bucket did not reach the Hub")
	}
	own := h.fake.IssueToken("alice", fakehub.RoleRead)
	if r := h.send(t, "GET", "/api/models/alice/existing", "", "Bearer "+own, ""); r.status != http.StatusOK {
		t.Errorf("a caller's own token is not shielded by the server token's 429: %d %s", r.status, r.body)
	}
	clock.Advance(30 * time.Second)
	if r := h.do(t, "GET", "/api/models/alice/existing", "", ""); r.status != http.StatusOK {
		t.Errorf("after the reset: %d %s", r.status, r.body)
	}
}

// A client that does what huggingface_hub does (on a 429 with r=0 it waits t seconds, here by moving the
// clock) gets all its work done and never more than one 429 per window.
func TestBackingOffClientMakesProgress(t *testing.T) {
	clock := newTestClock()
	h, keys := budgetHarness(t, clock)
	refusals := map[int64]int{} // by window start
	done := 0
	for attempts := 0; done < 23 && attempts < 100; attempts++ {
		r := h.as(t, keys["ci"], "GET", "/api/models/alice/existing")
		switch r.status {
		case http.StatusOK:
			done++
		case http.StatusTooManyRequests:
			window := clock.Now().Unix() / 60
			refusals[window]++
			rl, ok := budget.ParseRateLimit(r.header.Get("RateLimit"))
			if !ok || rl.Remaining != 0 {
				t.Fatalf("a 429 without r=0: %q", r.header.Get("RateLimit"))
			}
			clock.Advance(rl.Reset)
		default:
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	if done != 23 {
		t.Fatalf("%d of 23 requests done", done)
	}
	for window, n := range refusals {
		if n > 1 {
			t.Errorf("window %d: %d refusals", window, n)
		}
	}
	if len(refusals) != 4 { // 23 requests at 5 a window: four full windows, each ending in one 429
		t.Errorf("%d windows with a refusal, want 4", len(refusals))
	}
}
