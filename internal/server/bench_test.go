package server

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/metrics"
)

// whoamiBody is an account answer of the size the Hub sends.
var whoamiBody = []byte(`{"type":"user","id":"65a1f0c2e4b0d1a2b3c4d5e6","name":"alice","fullname":"Alice Martin",` +
	`"email":"alice@example.com","emailVerified":true,"canPay":false,"isPro":false,"periodEnd":null,` +
	`"avatarUrl":"/avatars/alice.svg","orgs":[],"auth":{"type":"access_token","accessToken":{"displayName":"bench",` +
	`"role":"read","createdAt":"2026-01-01T00:00:00.000Z"}}}`)

// memoryHub answers every request with whoamiBody, without a network.
type memoryHub struct{}

func (memoryHub) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(whoamiBody)), ContentLength: int64(len(whoamiBody)), Request: req}, nil
}

// BenchmarkAccount is GET /api/account as make bench sends it (account cache off, metrics on), with the Hub
// in memory: what hf-micro itself costs per request, apart from the network.
func BenchmarkAccount(b *testing.B) {
	client, err := hub.New(hub.Options{Endpoint: "https://hub.invalid", Token: hub.NewToken("hf_benchtoken0123456789"),
		UserAgent: "hf-micro/bench", Transport: memoryHub{}})
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil)) // as the service logs: access lines past slog
	h, err := NewServer(logger, client, Options{Version: "bench", MaxBodyBytes: 4096, Draining: new(atomic.Bool),
		Metrics: metrics.New(), AccessLogJSON: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/api/account", nil)
	req.RemoteAddr = "127.0.0.1:50000"
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), `{"type":"user"`) {
			b.Fatalf("status %d, body %q", w.Code, w.Body)
		}
	}
}
