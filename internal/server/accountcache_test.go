package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/fakehub"
)

// whoamiCalls counts the fake Hub's whoami-v2 requests.
func whoamiCalls(h *harness) int {
	n := 0
	for _, r := range h.fake.Requests() {
		if r.Path == "/api/whoami-v2" {
			n++
		}
	}
	return n
}

func cachedHarness(t *testing.T, ttl time.Duration) *harness {
	t.Helper()
	fake, endpoint := newFakeHub(t)
	fake.AddUser("bob")
	return startServer(t, fake, endpoint, fake.IssueToken("alice", fakehub.RoleWrite),
		setup{opts: Options{AccountCacheTTL: ttl, Auth: auth.Options{CallerTokens: true}}})
}

func TestAccountBurstSharesOneHubCall(t *testing.T) {
	h := cachedHarness(t, time.Minute)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	const burst = 1000
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range burst {
		wg.Go(func() {
			resp, err := client.Get(h.url + "/api/account")
			if err != nil {
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(body), `"name":"alice"`) {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != burst {
		t.Errorf("%d of %d requests got alice's account", ok.Load(), burst)
	}
	if n := whoamiCalls(h); n != 1 {
		t.Errorf("a burst of %d made %d Hub calls, want 1", burst, n)
	}
	t.Logf("%d requests, %d Hub call", burst, whoamiCalls(h))
}

func TestAccountCacheIsPerCredential(t *testing.T) {
	h := cachedHarness(t, time.Minute)
	bob := h.fake.IssueToken("bob", fakehub.RoleRead)
	for range 3 {
		if r := h.json(t, "GET", "/api/account", ""); r.json["name"] != "alice" {
			t.Fatalf("server token: %s", r.body)
		}
		if r := h.send(t, "GET", "/api/account", "", "Bearer "+bob, ""); r.json["name"] != "bob" {
			t.Fatalf("bob's token: %s", r.body)
		}
	}
	if r := h.send(t, "GET", "/api/account", "", "Bearer hf_notavalidtokenatall", ""); r.status != 401 {
		t.Errorf("an unknown token got %d: a cached answer leaked across credentials", r.status)
	}
	if n := whoamiCalls(h); n != 3 {
		t.Errorf("%d Hub calls, want one per credential (3)", n)
	}
}

func TestAccountCacheExpiresAndSkipsErrors(t *testing.T) {
	// A TTL that two requests in a row fit in, even on a busy machine; the wait after them outlasts it for sure.
	const ttl = time.Second
	h := cachedHarness(t, ttl)
	h.json(t, "GET", "/api/account", "")
	h.json(t, "GET", "/api/account", "")
	time.Sleep(ttl + 100*time.Millisecond)
	h.json(t, "GET", "/api/account", "")
	if n := whoamiCalls(h); n != 2 {
		t.Errorf("%d Hub calls, want 2 (one before, one after the TTL)", n)
	}
	for range 2 {
		h.send(t, "GET", "/api/account", "", "Bearer hf_notavalidtokenatall", "")
	}
	if n := whoamiCalls(h); n != 4 {
		t.Errorf("%d Hub calls: a failed answer was cached", n)
	}
}

func TestAccountCacheOff(t *testing.T) {
	h := cachedHarness(t, 0)
	for range 3 {
		h.json(t, "GET", "/api/account", "")
	}
	if n := whoamiCalls(h); n != 3 {
		t.Errorf("%d Hub calls with the cache off, want 3", n)
	}
}

func TestAccountWaiterLeavesSharedCallGoesOn(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		<-release
		io.WriteString(w, `{"type":"user","name":"alice"}`)
	}))
	defer upstream.Close()
	h := startServer(t, nil, upstream.URL, "hf_x", setup{opts: Options{AccountCacheTTL: time.Minute}}) // no expiry between the two callers, however slow

	impatient, _ := http.NewRequest("GET", h.url+"/api/account", nil)
	client := &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := client.Do(impatient); err == nil {
		t.Fatal("the impatient request got an answer")
	}
	close(release)
	r := h.json(t, "GET", "/api/account", "")
	if r.status != 200 || r.json["name"] != "alice" || calls.Load() != 1 {
		t.Errorf("after the first caller left: %d %s, %d Hub calls", r.status, r.body, calls.Load())
	}
}
