package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/metrics/metricstest"
)

func TestRegistryWritesEachFactUnderItsName(t *testing.T) {
	r := New()
	r.RequestStarted()
	r.RequestStarted()
	r.RequestDone("GET /api/repo", "GET", 200, 30*time.Millisecond)
	r.RequestDone("GET /api/repo", "BREW", 200, 2*time.Second)
	r.RequestStarted()
	r.RequestDone("", "GET", 404, time.Millisecond)
	r.RequestStarted()
	r.RequestDone("GET HEAD /{p}{repo}/resolve/{rev}/{path...}", "HEAD", 200, time.Millisecond)
	r.RequestStarted() // still in flight
	r.HubCall("api", 503, 20*time.Millisecond)
	r.HubCall("api", 0, time.Millisecond)
	r.HubRetry("503")
	r.HubRetry("503")
	r.HubRateLimitRemaining("resolvers", 2999)
	r.Auth("ok", "key:ci")
	r.Auth("refused", "")
	r.Auth("ok", `key:a "quoted" \ name`)
	r.PolicyRefusal("scope")
	r.AccessFileReload("changed")
	r.BudgetRefusal("api")
	r.ShieldAnswer("api")
	r.ShieldRaise("resolvers")
	used := int64(700)
	r.CacheStore(func() int64 { return used }, 1000)
	r.CacheRequest("hit")
	r.CacheRequest("hit")
	r.CacheServed(300)
	r.CacheServed(400)
	r.CacheFetched(400)
	r.CacheEvicted()
	used = 400 // read at the scrape

	got := metricstest.Scrape(t, r)
	want := map[string]float64{
		`http_server_active_requests`: 1,
		`http_server_request_duration_seconds_count{http_route="/api/repo",http_request_method="GET",http_response_status_code="200"}`:                           1,
		`http_server_request_duration_seconds_bucket{http_route="/api/repo",http_request_method="GET",http_response_status_code="200",le="0.025"}`:               0,
		`http_server_request_duration_seconds_bucket{http_route="/api/repo",http_request_method="GET",http_response_status_code="200",le="0.05"}`:                1,
		`http_server_request_duration_seconds_bucket{http_route="/api/repo",http_request_method="GET",http_response_status_code="200",le="+Inf"}`:                1,
		`http_server_request_duration_seconds_count{http_route="/api/repo",http_request_method="_OTHER",http_response_status_code="200"}`:                        1,
		`http_server_request_duration_seconds_count{http_route="",http_request_method="GET",http_response_status_code="404"}`:                                    1,
		`http_server_request_duration_seconds_count{http_route="/{p}{repo}/resolve/{rev}/{path...}",http_request_method="HEAD",http_response_status_code="200"}`: 1,
		`hf_micro_hub_request_duration_seconds_count{bucket="api",http_response_status_code="503"}`:                                                              1,
		`hf_micro_hub_request_duration_seconds_count{bucket="api",http_response_status_code="0"}`:                                                                1,
		`hf_micro_hub_retries_total{reason="503"}`:                              2,
		`hf_micro_hub_rate_limit_remaining{bucket="resolvers"}`:                 2999,
		`hf_micro_auth_total{result="ok",principal="key:ci"}`:                   1,
		`hf_micro_auth_total{result="refused",principal=""}`:                    1,
		`hf_micro_auth_total{result="ok",principal="key:a \"quoted\" \\ name"}`: 1,
		`hf_micro_policy_refusals_total{reason="scope"}`:                        1,
		`hf_micro_access_file_reloads_total{result="changed"}`:                  1,
		`hf_micro_budget_refusals_total{bucket="api"}`:                          1,
		`hf_micro_shield_answers_total{bucket="api"}`:                           1,
		`hf_micro_shield_raised_total{bucket="resolvers"}`:                      1,
		`hf_micro_cache_requests_total{result="hit"}`:                           2,
		`hf_micro_cache_requests_total{result="miss"}`:                          0,
		`hf_micro_cache_served_bytes_total`:                                     700,
		`hf_micro_cache_fetched_bytes_total`:                                    400,
		`hf_micro_cache_evictions_total`:                                        1,
		`hf_micro_cache_size_bytes`:                                             400,
		`hf_micro_cache_max_bytes`:                                              1000,
	}
	for series, v := range want {
		if got, ok := got[series]; !ok || got != v {
			t.Errorf("%s = %v (present %v); want %v", series, got, ok, v)
		}
	}
	for _, runtime := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := got[runtime]; !ok {
			t.Errorf("no %s: Go runtime and process metrics are missing", runtime)
		}
	}
}

func TestHandlerServesOnlyGETMetrics(t *testing.T) {
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()
	for _, c := range []struct {
		method, path string
		status       int
	}{{"GET", "/metrics", 200}, {"POST", "/metrics", 405}, {"GET", "/", 404}, {"GET", "/api/account", 404}} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d; want %d", c.method, c.path, resp.StatusCode, c.status)
		}
	}
}
