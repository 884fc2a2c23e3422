// Package metricstest reads the Prometheus text format back, for tests that assert what /metrics says.
package metricstest

import (
	"io"
	"strconv"
	"strings"
	"testing"
)

// Parse returns each sample of a scrape by its series, spelled as written (`name{label="value",...}`).
// Comment lines are skipped; a line that is not a sample makes ok false.
func Parse(text string) (samples map[string]float64, ok bool) {
	samples = map[string]float64{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return samples, false
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return samples, false
		}
		samples[line[:i]] = v
	}
	return samples, true
}

// Scrape writes a registry's metrics and parses them back, failing the test when the text is not the
// Prometheus format. It takes what the registry does, so the metrics package's own tests can use it.
func Scrape(t testing.TB, r interface{ WritePrometheus(io.Writer) }) map[string]float64 {
	t.Helper()
	var b strings.Builder
	r.WritePrometheus(&b)
	samples, ok := Parse(b.String())
	if !ok {
		t.Fatalf("the scrape is not the Prometheus text format:\n%s", b.String())
	}
	return samples
}
