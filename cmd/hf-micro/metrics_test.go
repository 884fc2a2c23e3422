package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/hf-micro/hf-micro/internal/metrics/metricstest"
)

// TestMetricsListener drives the built binary: /metrics is served on its own listener and nowhere else, that
// listener serves nothing but /metrics, and it counts what the API served.
func TestMetricsListener(t *testing.T) {
	fake, token := newWorld()
	hubServer := httptest.NewServer(fake)
	defer hubServer.Close()
	p := startBinary(t, nil, "HF_TOKEN="+token, "HF_ENDPOINT="+hubServer.URL, "HF_MICRO_METRICS_ADDR=127.0.0.1:0")
	m := regexp.MustCompile(`"msg":"metrics","addr":"([^"]+)"`).FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no metrics line:\n%s", p.stderr)
	}
	metricsBase := "http://" + m[1]

	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, _ := get(p.base + "/api/account"); status != 200 {
		t.Fatalf("GET /api/account: %d", status)
	}
	if status, _ := get(p.base + "/metrics"); status != 404 {
		t.Errorf("the API listener answers /metrics with %d; want 404", status)
	}
	for _, path := range []string{"/", "/healthz", "/api/account", "/metrics/x"} {
		if status, _ := get(metricsBase + path); status != 404 {
			t.Errorf("the metrics listener answers %s with %d; want 404", path, status)
		}
	}
	account := `http_server_request_duration_seconds_count{http_route="/api/account",http_request_method="GET",http_response_status_code="200"}`
	var samples map[string]float64
	waitFor(t, func() bool {
		status, body := get(metricsBase + "/metrics")
		var ok bool
		samples, ok = metricstest.Parse(body)
		return status == 200 && ok && samples[account] == 1
	})
	for series, want := range map[string]float64{
		`hf_micro_hub_request_duration_seconds_count{bucket="api",http_response_status_code="200"}`: 1,
		// The API's /metrics is a drop-in path the route table does not know: authenticated, then 404.
		`hf_micro_auth_total{result="ok",principal="loopback"}`: 2,
	} {
		if samples[series] != want {
			t.Errorf("%s = %v; want %v", series, samples[series], want)
		}
	}
	if _, ok := samples["process_cpu_seconds_total"]; !ok {
		t.Error("no process metrics")
	}
}

// TestMetricsAddressReachableFromElsewhere: a metrics address that is not loopback stops start-up, unless
// HF_MICRO_METRICS_PUBLIC=true.
func TestMetricsAddressReachableFromElsewhere(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0"} {
		cmd := exec.Command(binary)
		cmd.Dir = t.TempDir()
		cmd.Env = []string{"ADDR=127.0.0.1:0", "HF_MICRO_METRICS_ADDR=" + addr}
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "HF_MICRO_METRICS_ADDR") ||
			!strings.Contains(string(out), "HF_MICRO_METRICS_PUBLIC=true") {
			t.Errorf("%s: exit %v, output %q; want exit 1 naming HF_MICRO_METRICS_PUBLIC", addr, err, out)
		}
	}
	p := startBinary(t, nil, "HF_MICRO_METRICS_ADDR=:0", "HF_MICRO_METRICS_PUBLIC=true")
	if !regexp.MustCompile(`"msg":"metrics","addr":"[^"]+"`).MatchString(p.stderr.String()) {
		t.Errorf("no metrics listener when made public:\n%s", p.stderr)
	}
}
