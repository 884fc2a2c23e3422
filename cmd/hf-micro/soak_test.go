package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSoak drives the binary with 16 concurrent clients over mixed routes in front of a Hub that fails now and
// then (5% 503, 2% connection resets, 0-20 ms latency), for HF_MICRO_SOAK (default 5s; `make soak` runs 60s).
// It checks: no crash, every reply well-formed JSON with an expected status, resident memory without an upward
// trend (first third against last third of one-second samples), goroutines back to their baseline.
func TestSoak(t *testing.T) {
	duration := 5 * time.Second
	if v := os.Getenv("HF_MICRO_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("HF_MICRO_SOAK=%q: want a duration such as 60s", v)
		}
		duration = d
	}
	const workers = 16

	fake, token := newWorld()
	fake.AddRepo("model", "acme/soak-fixed", false)
	fake.SetRateQuota(1 << 30) // the Hub's own rate limit is tested elsewhere; here it would be all we measure
	var hubCalls, injected503, injectedResets atomic.Int64
	faulty := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hubCalls.Add(1)
		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
		switch n := rand.IntN(100); {
		case n < 5:
			injected503.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(503)
			io.WriteString(w, `{"error":"injected 503"}`)
			return
		case n < 7:
			injectedResets.Add(1)
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				if tcp, ok := conn.(*net.TCPConn); ok {
					_ = tcp.SetLinger(0)
				}
				conn.Close()
			}
			return
		}
		fake.ServeHTTP(w, r)
	})
	hubServer := httptest.NewServer(faulty)
	defer hubServer.Close()
	p := startBinary(t, nil, "HF_TOKEN="+token, "HF_ENDPOINT="+hubServer.URL, "HF_MICRO_PPROF_ADDR=127.0.0.1:0",
		"HF_MICRO_HUB_TIMEOUT=1m", "HF_MICRO_ACCOUNT_CACHE_TTL=0") // a busy machine's slow call is no 504
	m := regexp.MustCompile(`"msg":"profiler","addr":"([^"]+)"`).FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no profiler address:\n%s", p.stderr)
	}
	pprofURL := "http://" + m[1] + "/debug/pprof/goroutine?debug=1"
	pid := p.cmd.Process.Pid

	type op struct {
		name, method, path, body string
		statuses                 []int // the expected set
	}
	ops := func(worker, i int) op {
		repo := fmt.Sprintf("acme/soak-%d-%d", worker, i%4)
		switch rand.IntN(6) {
		case 0:
			return op{"account", "GET", "/api/account", "", []int{200, 502}}
		case 1:
			return op{"info", "GET", "/api/repo?type=model&name=acme/soak-fixed", "", []int{200, 502}}
		case 2:
			return op{"create", "POST", "/api/repo", fmt.Sprintf(`{"type":"model","name":%q}`, repo), []int{201, 409, 502}}
		case 3:
			return op{"delete", "DELETE", "/api/repo", fmt.Sprintf(`{"type":"model","name":%q}`, repo), []int{200, 404, 502}}
		case 4:
			return op{"info-missing", "GET", "/api/repo?type=model&name=" + repo, "", []int{200, 404, 502}}
		default: // the drop-in endpoint passes the Hub's 503 on as it is
			return op{"dropin-list", "GET", "/api/models?author=acme", "", []int{200, 502, 503}}
		}
	}

	goroutines := func() int {
		resp, err := http.Get(pprofURL)
		if err != nil {
			t.Fatalf("profiler: %v", err)
		}
		defer resp.Body.Close()
		first, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		mm := regexp.MustCompile(`goroutine profile: total (\d+)`).FindSubmatch(first)
		if mm == nil {
			t.Fatalf("profiler answered %q", first)
		}
		n, _ := strconv.Atoi(string(mm[1]))
		return n
	}
	http.DefaultClient.CloseIdleConnections()
	goroutinesBefore, rssBefore := goroutines(), rssKiB(t, pid)

	var requests atomic.Int64
	var mu sync.Mutex
	byStatus := map[int]int{}
	var problems []string
	problem := func(format string, args ...any) {
		mu.Lock()
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 5 * time.Minute}
	stop := time.Now().Add(duration)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(stop); i++ {
				o := ops(w, i)
				req, _ := http.NewRequest(o.method, p.base+o.path, strings.NewReader(o.body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				requests.Add(1)
				if err != nil {
					problem("%s: %v", o.name, err)
					continue
				}
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				byStatus[resp.StatusCode]++
				mu.Unlock()
				switch {
				case err != nil:
					problem("%s: %d, body cut: %v", o.name, resp.StatusCode, err)
				case !slices.Contains(o.statuses, resp.StatusCode):
					problem("%s: unexpected status %d %.200s", o.name, resp.StatusCode, raw)
				case !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !json.Valid(raw):
					problem("%s: %d not JSON (%q): %.200s", o.name, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
				case resp.StatusCode >= 400 && !bytes.Contains(raw, []byte(`"request_id"`)) && o.name != "dropin-list":
					problem("%s: error without request_id: %.200s", o.name, raw)
				}
			}
		}()
	}

	var samples []int64
	for time.Now().Before(stop) {
		time.Sleep(time.Second)
		samples = append(samples, rssKiB(t, pid))
	}
	wg.Wait()

	select {
	case err := <-p.done:
		t.Fatalf("hf-micro exited during the soak: %v\n%s", err, p.stderr)
	default:
	}
	// Back to baseline once the load is gone: our connections, and hf-micro's pooled ones to the Hub, closed.
	client.CloseIdleConnections()
	hubServer.CloseClientConnections()
	goroutinesAfter := goroutines()
	for deadline := time.Now().Add(time.Minute); goroutinesAfter > goroutinesBefore && time.Now().Before(deadline); goroutinesAfter = goroutines() {
		time.Sleep(100 * time.Millisecond)
	}
	rssAfter := rssKiB(t, pid)

	third := len(samples) / 3
	mean := func(xs []int64) int64 {
		var sum int64
		for _, x := range xs {
			sum += x
		}
		return sum / int64(max(len(xs), 1))
	}
	firstThird, lastThird := mean(samples[:max(third, 1)]), mean(samples[len(samples)-max(third, 1):])
	statuses := slices.Sorted(func(yield func(int) bool) {
		for s := range byStatus {
			if !yield(s) {
				return
			}
		}
	})
	var counts []string
	for _, s := range statuses {
		counts = append(counts, fmt.Sprintf("%d:%d", s, byStatus[s]))
	}
	summary := fmt.Sprintf("soak %s, %d clients: %d requests (%s); Hub calls %d, injected 503 %d, resets %d; goroutines %d before, %d after; VmRSS %d KiB before, %d KiB after, first third %d KiB, last third %d KiB",
		duration, workers, requests.Load(), strings.Join(counts, " "), hubCalls.Load(), injected503.Load(), injectedResets.Load(),
		goroutinesBefore, goroutinesAfter, rssBefore, rssAfter, firstThird, lastThird)
	t.Log(summary)
	fmt.Println(summary)

	if len(problems) > 0 {
		t.Errorf("%d malformed or unexpected replies, e.g.:\n%s", len(problems), strings.Join(problems, "\n"))
	}
	if goroutinesAfter > goroutinesBefore {
		t.Errorf("goroutines: %d before, %d after the load", goroutinesBefore, goroutinesAfter)
	}
	// No upward trend: the last third may not exceed the first by more than a quarter plus GC noise.
	if len(samples) >= 3 && lastThird > firstThird*5/4+4<<10 {
		t.Errorf("resident memory grew from %d KiB to %d KiB over the run", firstThird, lastThird)
	}
	if strings.Contains(p.stderr.String(), `"msg":"panic"`) {
		t.Errorf("a panic was logged:\n%s", p.stderr)
	}
}
