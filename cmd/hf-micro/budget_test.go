package main

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/budget/redistest"
)

// TestBudgetsSharedThroughRedis runs two hf-micro processes on one real Redis: together they allow a
// principal's 10/1m exactly 10 times per window; a shield raised by one holds for the other; and when Redis
// dies, requests go on, counted locally, with one warning line per process.
func TestBudgetsSharedThroughRedis(t *testing.T) {
	redis := redistest.Start(t)
	fake, token := newWorld()
	fake.AddRepo("model", "alice/existing", false)
	var hubCalls atomic.Int64
	hubServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hubCalls.Add(1)
		if r.URL.Path == "/api/models/alice/trigger-429" {
			w.Header().Set("RateLimit", `"api";r=0;t=30`)
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	defer hubServer.Close()

	keys := map[string]string{"ci": auth.GenerateKey(), "other": auth.GenerateKey(), "bulk": auth.GenerateKey()}
	file := filepath.Join(t.TempDir(), "access.toml")
	writeText(t, file, accessBlock("ci", keys["ci"], `limits = { api = "10/1m" }`)+
		accessBlock("other", keys["other"], "limits = {}")+
		accessBlock("bulk", keys["bulk"], `limits = { resolvers = "1000/1m" }`))
	env := []string{"HF_TOKEN=" + token, "HF_ENDPOINT=" + hubServer.URL, "HF_MICRO_ACCESS_FILE=" + file, "HF_MICRO_REDIS_URL=" + redis.URL}
	procs := []*process{startBinary(t, nil, env...), startBinary(t, nil, env...)}
	get := func(p *process, key, path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", p.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	// 30 requests, alternating between the processes. A window may turn mid-test, so each reply is put in its
	// window, read from its own RateLimit (now + t is the window's end, to the second).
	allowed, refused := map[int64]int{}, map[int64]int{}
	before := hubCalls.Load()
	for i := range 30 {
		resp := get(procs[i%2], keys["ci"], "/api/models/alice/existing")
		rl, ok := budget.ParseRateLimit(resp.Header.Get("RateLimit"))
		if !ok {
			t.Fatalf("request %d: %d without a RateLimit", i, resp.StatusCode)
		}
		window := int64(math.Round(float64(time.Now().Add(rl.Reset).Unix()) / 60))
		switch resp.StatusCode {
		case http.StatusOK:
			allowed[window]++
		case http.StatusTooManyRequests:
			refused[window]++
		default:
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	total := 0
	for window, n := range allowed {
		total += n
		if n > 10 || refused[window] > 0 && n != 10 {
			t.Errorf("window %d: %d allowed, %d refused; want exactly 10 allowed once any is refused", window, n, refused[window])
		}
	}
	if len(refused) == 0 {
		t.Errorf("30 requests across two processes, none refused: the budget is not shared (%v)", allowed)
	}
	if n := hubCalls.Load() - before; n != int64(total) {
		t.Errorf("%d requests reached the Hub, %d were allowed", n, total)
	}

	// The shield: the Hub says 429 through the first process; the second stops asking it too.
	if resp := get(procs[0], keys["other"], "/api/models/alice/trigger-429"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the Hub's 429: %d", resp.StatusCode)
	}
	before = hubCalls.Load()
	for range 5 {
		resp := get(procs[1], keys["other"], "/api/models/alice/existing")
		if rl, _ := budget.ParseRateLimit(resp.Header.Get("RateLimit")); resp.StatusCode != http.StatusTooManyRequests || rl.Remaining != 0 || rl.Reset > 30*time.Second {
			t.Errorf("the other process while shielded: %d, RateLimit %q", resp.StatusCode, resp.Header.Get("RateLimit"))
		}
	}
	if n := hubCalls.Load() - before; n != 0 {
		t.Errorf("%d shielded requests reached the Hub", n)
	}

	// Redis dies: every request still gets the Hub's answer (a resolve of a file the fake has not: its 404).
	redis.Kill()
	for i := range 20 {
		resp := get(procs[i%2], keys["bulk"], "/alice/existing/resolve/main/config.json")
		if resp.StatusCode != http.StatusNotFound || len(resp.Header.Values("RateLimit")) != 1 {
			t.Errorf("request %d during the outage: %d, RateLimit %q: want the Hub's 404 and one RateLimit", i, resp.StatusCode, resp.Header.Values("RateLimit"))
		}
	}
	for i, p := range procs {
		waitFor(t, func() bool { return strings.Contains(p.stderr.String(), "Redis is unreachable") })
		if n := strings.Count(p.stderr.String(), `"level":"WARN","msg":"budget: Redis is unreachable`); n != 1 {
			t.Errorf("process %d: %d outage warnings, want 1:\n%s", i, n, p.stderr)
		}
		if strings.Contains(p.stderr.String(), token) {
			t.Errorf("process %d logs the Hub token", i)
		}
	}
}

// accessBlock is a [[key]] of an access file that may read everything.
func accessBlock(name, key, rest string) string {
	return fmt.Sprintf("[[key]]\nname = %q\nsha256 = %q\nread = [\"*\"]\n%s\n\n", name, auth.KeyDigest(key), rest)
}
