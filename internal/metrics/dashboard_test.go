package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/metrics/metricstest"
)

// TestDashboardQueriesOnlyExportedMetrics loads deploy/grafana/hf-micro.json and checks that every metric its
// queries name is one a registry holding one of each fact exports.
func TestDashboardQueriesOnlyExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana/hf-micro.json")
	if err != nil {
		t.Fatal(err)
	}
	var dashboard struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}

	exported := exportedFamilies(t)
	queried := 0
	onDashboard := map[string]bool{}
	for _, p := range dashboard.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, target := range p.Targets {
			names := metricNames(target.Expr)
			if len(names) == 0 {
				t.Errorf("panel %q: no metric in %q", p.Title, target.Expr)
			}
			for _, name := range names {
				queried++
				onDashboard[name] = true
				if !exported[name] {
					t.Errorf("panel %q queries %s, which hf-micro does not export", p.Title, name)
				}
			}
		}
	}
	if queried < 10 {
		t.Errorf("only %d metrics queried", queried)
	}
	// The cache's panels (hit ratio, fetched vs served, results, size) show each of its metrics.
	for name := range exported {
		if strings.HasPrefix(name, "hf_micro_cache_") && !onDashboard[name] {
			t.Errorf("the dashboard does not show %s", name)
		}
	}
}

// exportedFamilies is every series name a registry writes once each fact has been reported.
func exportedFamilies(t *testing.T) map[string]bool {
	r := New()
	r.RequestStarted()
	r.RequestDone("GET /api/account", "GET", 200, time.Millisecond)
	r.HubCall("api", 200, time.Millisecond)
	r.HubRetry("503")
	r.HubRateLimitRemaining("api", 1)
	r.Auth("ok", "loopback")
	r.PolicyRefusal("scope")
	r.AccessFileReload("changed")
	r.BudgetRefusal("api")
	r.ShieldAnswer("api")
	r.ShieldRaise("api")
	r.CacheStore(func() int64 { return 1 }, 2)
	r.CacheRequest("hit")
	r.CacheServed(1)
	r.CacheFetched(1)
	r.CacheEvicted()
	names := map[string]bool{}
	for series := range metricstest.Scrape(t, r) {
		name, _, _ := strings.Cut(series, "{")
		names[name] = true
	}
	return names
}

var (
	// Parts of a PromQL expression that are not metric names: label matchers, strings, ranges, and the
	// label lists of grouping clauses.
	notNames = regexp.MustCompile(`\{[^}]*\}|"[^"]*"|\[[^\]]*\]|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	// An identifier, with what follows it (a "(" makes it a function).
	identifier = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	keywords   = map[string]bool{"by": true, "without": true, "and": true, "or": true, "unless": true, "bool": true, "offset": true}
)

// metricNames lists the metric names a PromQL expression reads.
func metricNames(expr string) []string {
	var names []string
	for _, m := range identifier.FindAllStringSubmatch(notNames.ReplaceAllString(expr, " "), -1) {
		if m[1] == "" && !keywords[m[0]] {
			names = append(names, m[0])
		}
	}
	return names
}

func TestMetricNamesOfAnExpression(t *testing.T) {
	got := metricNames(`histogram_quantile(0.99, sum by (le, bucket) (rate(a_bucket{x=~"0|5.."}[$__rate_interval]))) / b_total + on (job) c`)
	if strings.Join(got, " ") != "a_bucket b_total c" {
		t.Errorf("metric names: %q", got)
	}
}
