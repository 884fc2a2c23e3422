package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestHubFailures checks the reply for each way the Hub can fail. The Hub that stalls meets a 1 s timeout.
func TestHubFailures(t *testing.T) {
	cases := []struct {
		name       string
		hub        http.HandlerFunc
		status     int
		want       string
		retryAfter string
	}{
		{"hub 503", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(503)
			io.WriteString(w, `{"error":"maintenance"}`)
		}, 502, "the Hub failed with 503: maintenance", ""},
		{"hub 500 html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(500)
			io.WriteString(w, `<html>oops</html>`)
		}, 502, "the Hub failed with 500", ""},
		{"hub 429 with Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":"rate limited"}`)
		}, 429, "rate limited", "30"},
		{"hub 429 with RateLimit only", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("RateLimit", `"api";r=0;t=12`)
			w.WriteHeader(429)
		}, 429, "Too Many Requests", "12"},
		{"invalid JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"name": "alice"`)
		}, 502, "cannot read", ""},
		{"stalls past the timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}, 504, "did not answer in time", ""},
		{"connection cut", func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		}, 502, "the connection to the Hub failed", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			upstream := httptest.NewServer(tc.hub)
			defer upstream.Close()
			s := setup{}
			if tc.status == 504 {
				s.hubTimeout = time.Second
			}
			h := startServer(t, nil, upstream.URL, "hf_faulttoken", s)
			r := h.json(t, "GET", "/api/account", "")
			checkError(t, r, tc.status, tc.want)
			if got := r.header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
		})
	}
}

func TestHubUnreachable(t *testing.T) {
	upstream := httptest.NewServer(http.NotFoundHandler())
	endpoint := upstream.URL
	upstream.Close()
	h := startServer(t, nil, endpoint, "hf_x", setup{})
	checkError(t, h.json(t, "GET", "/api/account", ""), 502, "refused the connection")
}

func TestHubUnknownCertificateAuthority(t *testing.T) {
	upstream := httptest.NewTLSServer(http.NotFoundHandler())
	defer upstream.Close()
	h := startServer(t, nil, upstream.URL, "hf_x", setup{})
	checkError(t, h.json(t, "GET", "/api/account", ""), 502, "unknown authority")
}
