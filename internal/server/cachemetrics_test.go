package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/cache"
	"github.com/hf-micro/hf-micro/internal/fakehub"
	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/metrics"
	"github.com/hf-micro/hf-micro/internal/metrics/metricstest"
)

// TestCacheMetricsCountAScriptedSetOfDownloads sends cold and warm downloads (GET, Range and HEAD), a missing
// file, a file larger than the cache and one more file than the bound holds, then checks every cache metric.
func TestCacheMetricsCountAScriptedSetOfDownloads(t *testing.T) {
	fake, hubURL := newFakeHub(t)
	cdn := httptest.NewServer(fake.CDN())
	t.Cleanup(cdn.Close)
	fake.SetCDN(cdn.URL)
	fake.AddRepo("model", "alice/m", false)
	const size, bound = 100_000, 250_000 // two files fit, not three
	file := func(seed int, n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*seed + i/4096)
		}
		return b
	}
	for i, name := range []string{"a.bin", "b.bin", "c.bin"} {
		fake.AddFile("model", "alice/m", name, file(i+3, size), true)
	}
	fake.AddFile("model", "alice/m", "big.bin", file(7, bound+1), true)

	store, err := cache.Open(t.TempDir(), bound)
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.New()
	client, err := hub.New(hub.Options{Endpoint: hubURL, Token: hub.NewToken(fake.IssueToken("alice", fakehub.RoleWrite))})
	if err != nil {
		t.Fatal(err)
	}
	handler, err := NewServer(slog.New(slog.DiscardHandler), client, Options{MaxBodyBytes: 4096, Metrics: reg, Cache: store})
	if err != nil {
		t.Fatal(err)
	}
	// done tells that the server is through with a request, its metrics written, whenever its reply reached us.
	done := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(w, r)
		done <- struct{}{}
	}))
	t.Cleanup(srv.Close)

	req, _ := http.NewRequest("HEAD", hubURL+"/alice/m/resolve/main/a.bin", nil)
	req.Header.Set("Authorization", "Bearer "+fake.IssueToken("alice", fakehub.RoleRead))
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	commit := resp.Header.Get("X-Repo-Commit")

	script := []struct {
		method, rev, path, rangeHeader string
		status, bytes                  int
	}{
		{"HEAD", "main", "a.bin", "", 200, 0},            // miss: the Hub's HEAD, nothing downloaded
		{"GET", "main", "a.bin", "", 200, size},          // miss: downloaded and streamed
		{"GET", commit, "a.bin", "", 200, size},          // hit, without the Hub
		{"GET", commit, "a.bin", "bytes=0-99", 206, 100}, // hit
		{"HEAD", commit, "a.bin", "", 200, 0},            // hit
		{"GET", "main", "nope.bin", "", 404, -1},         // bypass: not a file
		{"GET", "main", "big.bin", "", 302, -1},          // bypass: larger than the cache, the proxy's redirect
		{"GET", "main", "b.bin", "", 200, size},          // miss
		{"GET", "main", "c.bin", "", 200, size},          // miss: a, the least recently used, is evicted
	}
	served := 0
	for _, s := range script {
		req, _ := http.NewRequest(s.method, srv.URL+"/alice/m/resolve/"+s.rev+"/"+s.path, nil)
		if s.rangeHeader != "" {
			req.Header.Set("Range", s.rangeHeader)
		}
		resp, err := http.DefaultTransport.RoundTrip(req) // a redirect is an answer here
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != s.status || s.bytes >= 0 && len(body) != s.bytes {
			t.Fatalf("%s %s/%s: %d, %d bytes, %v; want %d, %d bytes", s.method, s.rev, s.path, resp.StatusCode, len(body), err, s.status, s.bytes)
		}
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatalf("%s %s/%s: the server never finished the request", s.method, s.rev, s.path)
		}
		if s.bytes > 0 {
			served += s.bytes
		}
	}

	got := metricstest.Scrape(t, reg)
	for series, want := range map[string]float64{
		`hf_micro_cache_requests_total{result="hit"}`:    3,
		`hf_micro_cache_requests_total{result="miss"}`:   4,
		`hf_micro_cache_requests_total{result="bypass"}`: 2,
		`hf_micro_cache_served_bytes_total`:              float64(served),
		`hf_micro_cache_fetched_bytes_total`:             3 * size, // a, b and c, once each; big.bin never
		`hf_micro_cache_evictions_total`:                 1,
		`hf_micro_cache_size_bytes`:                      2 * size,
		`hf_micro_cache_max_bytes`:                       bound,
	} {
		if v, ok := got[series]; !ok || v != want {
			t.Errorf("%s = %v (present %v); want %v", series, v, ok, want)
		}
	}
	if fetched := fake.CDNBytes(); fetched != 3*size {
		t.Errorf("the CDN sent %d bytes; want %d", fetched, 3*size)
	}
	for path, want := range map[string]bool{"a.bin": false, "b.bin": true, "c.bin": true} {
		if _, stored := store.Lookup(cache.Key{Type: "model", Repo: "alice/m", Commit: commit, Path: path}); stored != want {
			t.Errorf("%s stored: %v; want %v (a, the least recently used, evicted)", path, stored, want)
		}
	}
}
