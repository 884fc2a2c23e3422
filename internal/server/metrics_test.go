package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/fakehub"
	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/metrics"
	"github.com/hf-micro/hf-micro/internal/metrics/metricstest"
	"github.com/hf-micro/hf-micro/internal/policy"
)

// TestMetricsCountAScriptedSetOfRequests sends successes, a 404, a read the Hub fails once with 503 (retried),
// a policy refusal and an unknown key, then scrapes /metrics and checks every count.
func TestMetricsCountAScriptedSetOfRequests(t *testing.T) {
	fake, _ := newFakeHub(t)
	fake.AddRepo("model", "alice/flaky", false)
	var failedOnce atomic.Bool
	hubServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/models/alice/flaky" && !failedOnce.Swap(true) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(hubServer.Close)

	reg := metrics.New()
	key := auth.GenerateKey()
	keys, err := auth.ParseKeys([]string{key})
	if err != nil {
		t.Fatal(err)
	}
	keyID, _ := keys.Match(key)
	client, err := hub.New(hub.Options{Endpoint: hubServer.URL, Token: hub.NewToken(fake.IssueToken("alice", fakehub.RoleWrite)),
		OnRetry: reg.HubRetry})
	if err != nil {
		t.Fatal(err)
	}
	handler, err := NewServer(slog.New(slog.DiscardHandler), client, Options{MaxBodyBytes: 4096, Metrics: reg,
		Auth: auth.Options{Keys: keys}, Policy: policy.Policy{ReadOnly: true}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)

	script := []struct {
		method, path, key string
		status            int
	}{
		{"GET", "/api/account", key, 200},
		{"GET", "/api/account", key, 200},
		{"GET", "/api/repo?type=model&name=alice/flaky", key, 200}, // 503, retried
		{"GET", "/api/repo?type=model&name=alice/missing", key, 404},
		{"POST", "/api/repo", key, 403}, // read-only policy
		{"GET", "/api/account", "hfm_unknown", 401},
		{"GET", "/api/models/alice/flaky", key, 200}, // the drop-in
	}
	for _, s := range script {
		req, _ := http.NewRequest(s.method, srv.URL+s.path, strings.NewReader(`{"type":"model","name":"alice/new"}`))
		req.Header.Set("Authorization", "Bearer "+s.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != s.status {
			t.Fatalf("%s %s: %d; want %d", s.method, s.path, resp.StatusCode, s.status)
		}
	}

	hist := func(route, method, status string) string {
		return `http_server_request_duration_seconds_count{http_route="` + route + `",http_request_method="` + method +
			`",http_response_status_code="` + status + `"}`
	}
	hubHist := func(status string) string {
		return `hf_micro_hub_request_duration_seconds_count{bucket="api",http_response_status_code="` + status + `"}`
	}
	want := map[string]float64{
		hist("/api/account", "GET", "200"):                               2,
		hist("/api/account", "GET", "401"):                               1,
		hist("/api/repo", "GET", "200"):                                  1,
		hist("/api/repo", "GET", "404"):                                  1,
		hist("/api/repo", "POST", "403"):                                 1,
		hist("/api/{t}/{repo}", "GET", "200"):                            1,
		`http_server_active_requests`:                                    0,
		hubHist("200"):                                                   4, // two accounts, the flaky repo's second try, the drop-in's
		hubHist("503"):                                                   1,
		hubHist("404"):                                                   1,
		`hf_micro_hub_retries_total{reason="503"}`:                       1,
		`hf_micro_auth_total{result="ok",principal="key:` + keyID + `"}`: 6,
		`hf_micro_auth_total{result="refused",principal=""}`:             1,
		`hf_micro_policy_refusals_total{reason="policy"}`:                1,
	}
	// The metrics of a request are written as its reply ends, which the caller may see first: wait (widely)
	// for the last request's count.
	var got map[string]float64
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		got = metricstest.Scrape(t, reg)
		if got[hist("/api/{t}/{repo}", "GET", "200")] == 1 && got[`http_server_active_requests`] == 0 || time.Now().After(deadline) {
			break
		}
	}
	for series, v := range want {
		if got[series] != v {
			t.Errorf("%s = %v; want %v", series, got[series], v)
		}
	}
	// Every request is in exactly one series, and each histogram's +Inf bucket holds its whole count.
	var requests, hubCalls float64
	for series, v := range got {
		switch {
		case strings.HasPrefix(series, metrics.ServerRequestDuration+"_count"):
			requests += v
			inf := strings.Replace(strings.TrimSuffix(series, "}"), "_count{", "_bucket{", 1) + `,le="+Inf"}`
			if got[inf] != v {
				t.Errorf("%s = %v, but its +Inf bucket holds %v", series, v, got[inf])
			}
		case strings.HasPrefix(series, metrics.HubRequestDuration+"_count"):
			hubCalls += v
		}
	}
	if requests != float64(len(script)) || hubCalls != 6 {
		t.Errorf("%v requests and %v Hub calls counted; want %d and 6", requests, hubCalls, len(script))
	}
	if _, ok := got[`hf_micro_hub_rate_limit_remaining{bucket="api"}`]; !ok {
		t.Error("the server token's quota left is missing")
	}
}
