// Package metrics is hf-micro's registry and the name of every metric it exports. Other packages report facts
// (a request served, a Hub call answered, a retry, a refusal) through the methods here or through function
// values handed to them at construction; only this package knows names, labels and the Prometheus format.
//
// The library is github.com/VictoriaMetrics/metrics, chosen by what it costs: measured on the stripped binary
// (CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' ./cmd/hf-micro), it adds 131 KB (18,825,378 to
// 18,956,450 bytes) with Go runtime and process metrics, where prometheus/client_golang v1.25.0 with its Go
// and process collectors adds 2.47 MB (to 21,291,170 bytes) and brings protobuf with it. Its
// PrometheusHistogram writes the standard cumulative `le` buckets that every Prometheus tool reads.
//
// A nil *Registry is metrics turned off: every method does nothing, so callers need no checks.
package metrics

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
)

// Names of the metrics, OpenTelemetry's HTTP conventions as Prometheus spells them, and hf-micro's own.
const (
	ServerRequestDuration = "http_server_request_duration_seconds"
	ServerActiveRequests  = "http_server_active_requests"
	HubRequestDuration    = "hf_micro_hub_request_duration_seconds"
	HubRetries            = "hf_micro_hub_retries_total"
	HubRateLimitRemaining = "hf_micro_hub_rate_limit_remaining"
	AuthTotal             = "hf_micro_auth_total"
	PolicyRefusals        = "hf_micro_policy_refusals_total"
	AccessFileReloads     = "hf_micro_access_file_reloads_total"
	BudgetRefusals        = "hf_micro_budget_refusals_total"
	ShieldAnswers         = "hf_micro_shield_answers_total"
	ShieldRaised          = "hf_micro_shield_raised_total"
	CacheRequests         = "hf_micro_cache_requests_total"
	CacheServedBytes      = "hf_micro_cache_served_bytes_total"
	CacheFetchedBytes     = "hf_micro_cache_fetched_bytes_total"
	CacheEvictions        = "hf_micro_cache_evictions_total"
	CacheSizeBytes        = "hf_micro_cache_size_bytes"
	CacheMaxBytes         = "hf_micro_cache_max_bytes"
)

// durationBuckets are OpenTelemetry's advised bounds for HTTP durations, in seconds.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// Registry holds hf-micro's metrics. Its methods are safe for concurrent use.
type Registry struct {
	set    *vm.Set
	active *vm.Gauge
	// Per-request series are looked up by their labels, not by a formatted name, so that a request that
	// observes an existing series allocates nothing.
	requests sync.Map // requestSeries -> *vm.PrometheusHistogram
	hubCalls sync.Map // hubSeries -> *vm.PrometheusHistogram
	counters sync.Map // counterSeries -> *vm.Counter
	quotas   sync.Map // bucket -> *vm.Gauge
}

// counterSeries names a counter by its metric and up to two label pairs.
type counterSeries struct {
	name   string
	labels [4]string
}

type requestSeries struct {
	route, method string
	status        int
}

type hubSeries struct {
	bucket string
	status int
}

// New returns an empty registry.
func New() *Registry {
	set := vm.NewSet()
	return &Registry{set: set, active: set.NewGauge(ServerActiveRequests, nil)}
}

// WritePrometheus writes every metric in the Prometheus text format, Go runtime and process metrics included.
func (r *Registry) WritePrometheus(w io.Writer) {
	r.set.WritePrometheus(w)
	vm.WriteProcessMetrics(w)
}

// Handler serves GET /metrics and nothing else: the metrics listener is only that.
func (r *Registry) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		r.WritePrometheus(w)
	})
	return mux
}

// RequestStarted counts a request in flight; RequestDone ends it and observes its duration. route is the
// ServeMux pattern that served it ("GET /api/repo"; "" when none matched), of which only the path is the
// label: the method has its own.
func (r *Registry) RequestStarted() {
	if r != nil {
		r.active.Inc()
	}
}

func (r *Registry) RequestDone(route, method string, status int, d time.Duration) {
	if r == nil {
		return
	}
	r.active.Dec()
	// A pattern's methods ("GET HEAD /{p}{repo}/resolve/...") are not part of the route: its path starts at the
	// first " /".
	if i := strings.Index(route, " /"); i >= 0 {
		route = route[i+1:]
	}
	key := requestSeries{route: route, method: knownMethod(method), status: status}
	h, ok := r.requests.Load(key)
	if !ok {
		h, _ = r.requests.LoadOrStore(key, r.set.GetOrCreatePrometheusHistogramExt(series(ServerRequestDuration,
			"http_route", key.route, "http_request_method", key.method, "http_response_status_code", strconv.Itoa(status)),
			durationBuckets))
	}
	h.(*vm.PrometheusHistogram).Update(d.Seconds())
}

// knownMethod bounds the method label, as OpenTelemetry does: any other method is _OTHER.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// HubCall observes one answer (or failure, status 0) of the Hub in a rate-limit bucket.
func (r *Registry) HubCall(bucket string, status int, d time.Duration) {
	if r == nil {
		return
	}
	key := hubSeries{bucket: bucket, status: status}
	h, ok := r.hubCalls.Load(key)
	if !ok {
		h, _ = r.hubCalls.LoadOrStore(key, r.set.GetOrCreatePrometheusHistogramExt(series(HubRequestDuration,
			"bucket", bucket, "http_response_status_code", strconv.Itoa(status)), durationBuckets))
	}
	h.(*vm.PrometheusHistogram).Update(d.Seconds())
}

// HubRetry counts a retried Hub call, by what failed: a status ("503") or "network".
func (r *Registry) HubRetry(reason string) { r.count(HubRetries, "reason", reason) }

// HubRateLimitRemaining is what the Hub's RateLimit header said is left of the server token's quota.
func (r *Registry) HubRateLimitRemaining(bucket string, remaining int) {
	if r == nil {
		return
	}
	g, ok := r.quotas.Load(bucket)
	if !ok {
		g, _ = r.quotas.LoadOrStore(bucket, r.set.GetOrCreateGauge(series(HubRateLimitRemaining, "bucket", bucket), nil))
	}
	g.(*vm.Gauge).Set(float64(remaining))
}

// Auth counts an authentication: result "ok", "refused" or "unavailable"; principal is the caller's name
// from configuration ("key:ci", "identity:release", "caller-token", "loopback"), "" when refused.
func (r *Registry) Auth(result, principal string) {
	r.count(AuthTotal, "result", result, "principal", principal)
}

// PolicyRefusal counts a request the policy refused: reason "policy" (the global ceiling) or "scope".
func (r *Registry) PolicyRefusal(reason string) { r.count(PolicyRefusals, "reason", reason) }

// AccessFileReload counts a look at the access file: result "changed", "unchanged" or "error".
func (r *Registry) AccessFileReload(result string) { r.count(AccessFileReloads, "result", result) }

// BudgetRefusal counts a request refused because its principal spent its budget in bucket.
func (r *Registry) BudgetRefusal(bucket string) { r.count(BudgetRefusals, "bucket", bucket) }

// ShieldAnswer counts a request answered 429 by the shield, without asking the Hub.
func (r *Registry) ShieldAnswer(bucket string) { r.count(ShieldAnswers, "bucket", bucket) }

// ShieldRaise counts a 429 from the Hub that raised the shield.
func (r *Registry) ShieldRaise(bucket string) { r.count(ShieldRaised, "bucket", bucket) }

// CacheRequest counts a download the cache answered: result "hit" (from disk), "miss" (the content was not
// stored: downloaded, or waited for another request's download) or "bypass" (not cacheable: proxied).
func (r *Registry) CacheRequest(result string) { r.count(CacheRequests, "result", result) }

// CacheServed counts bytes sent to callers from the cache, from a stored file or a download in progress.
func (r *Registry) CacheServed(bytes int64) { r.add(CacheServedBytes, bytes) }

// CacheFetched counts bytes downloaded from the Hub or its CDN into the cache.
func (r *Registry) CacheFetched(bytes int64) { r.add(CacheFetchedBytes, bytes) }

// CacheEvicted counts a file evicted from the cache to keep it under its bound.
func (r *Registry) CacheEvicted() { r.add(CacheEvictions, 1) }

// CacheStore says the cache is on: it reports the cache's bound, reads the bytes it holds (used) at each
// scrape, and writes its counters from zero, so that a dashboard's ratios have series before the first download.
func (r *Registry) CacheStore(used func() int64, maxBytes int64) {
	if r == nil {
		return
	}
	r.set.GetOrCreateGauge(CacheSizeBytes, func() float64 { return float64(used()) })
	r.set.GetOrCreateGauge(CacheMaxBytes, nil).Set(float64(maxBytes))
	for _, result := range []string{"hit", "miss", "bypass"} {
		r.set.GetOrCreateCounter(series(CacheRequests, "result", result))
	}
	for _, name := range []string{CacheServedBytes, CacheFetchedBytes, CacheEvictions} {
		r.set.GetOrCreateCounter(name)
	}
}

func (r *Registry) add(name string, n int64) {
	if r == nil || n == 0 {
		return
	}
	r.set.GetOrCreateCounter(name).AddInt64(n)
}

// count adds one to a counter with up to two label pairs (name, value, name, value).
func (r *Registry) count(name string, labels ...string) {
	if r == nil {
		return
	}
	key := counterSeries{name: name}
	copy(key.labels[:], labels)
	c, ok := r.counters.Load(key)
	if !ok {
		c, _ = r.counters.LoadOrStore(key, r.set.GetOrCreateCounter(series(name, labels...)))
	}
	c.(*vm.Counter).Inc()
}

// series spells a metric's name with its labels, given as name, value pairs.
func series(name string, labels ...string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i := 0; i < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(labels[i])
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(labels[i+1]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// labelEscaper escapes a label value as the Prometheus text format asks.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
