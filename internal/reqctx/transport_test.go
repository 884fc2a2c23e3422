package reqctx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestTransportSendsTheTraceAndRecordsTheStatus(t *testing.T) {
	var trace []string
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trace = append(trace, r.Header.Get("X-Amzn-Trace-Id"))
		w.WriteHeader(http.StatusTeapot)
	}))
	defer hub.Close()
	client := &http.Client{Transport: Transport{Base: http.DefaultTransport}}

	info := &Info{RequestID: "req-1", CallerRequestID: "req-1"}
	req, _ := http.NewRequestWithContext(With(context.Background(), info), "GET", hub.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if info.UpstreamStatus != http.StatusTeapot || info.UpstreamDuration <= 0 {
		t.Errorf("recorded status %d after %v; want 418 and a duration", info.UpstreamStatus, info.UpstreamDuration)
	}
	if req.Header.Get("X-Amzn-Trace-Id") != "" {
		t.Error("the caller's request was changed")
	}

	// hf-micro's own ids are not sent; a request outside any incoming one passes untouched.
	for _, ctx := range []context.Context{With(context.Background(), &Info{RequestID: "own"}), context.Background()} {
		req, _ := http.NewRequestWithContext(ctx, "GET", hub.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if len(trace) != 3 || trace[0] != "req-1" || trace[1] != "" || trace[2] != "" {
		t.Errorf("the Hub saw trace ids %q; want req-1, then none", trace)
	}
}
