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

// roundTripFunc lets a function stand for the transport below.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A request whose sender set the Hub headers itself goes down as it is; any other is sent as a stamped copy.
func TestTransportCopiesOnlyUnstampedRequests(t *testing.T) {
	var sent *http.Request
	transport := Transport{Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = r
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
	})}
	for _, info := range []*Info{
		{RequestID: "r", CallerRequestID: "caller-1", Trace: TraceContext{Parent: callerParent, State: "congo=1"}},
		{RequestID: "r", Trace: TraceContext{Parent: callerParent}},
	} {
		ctx := With(context.Background(), info)
		stamped, _ := http.NewRequestWithContext(ctx, "GET", "https://hub.test/api/whoami-v2", nil)
		info.SetHubHeaders(stamped.Header)
		if _, err := transport.RoundTrip(stamped); err != nil {
			t.Fatal(err)
		}
		if sent != stamped {
			t.Errorf("%+v: a stamped request was copied", info)
		}

		plain, _ := http.NewRequestWithContext(ctx, "GET", "https://hub.test/api/whoami-v2", nil)
		plain.Header.Set("Traceparent", "00-11111111111111111111111111111111-2222222222222222-01")
		if _, err := transport.RoundTrip(plain); err != nil {
			t.Fatal(err)
		}
		//lint:ignore SA1008 the transport keys it in lower case, as HTTP/2 sends it
		if sent == plain || sent.Header["traceparent"][0] != callerParent || len(sent.Header["Traceparent"]) != 0 {
			t.Errorf("%+v: an unstamped request went down as %v", info, sent.Header)
		}
		if got := sent.Header.Get("X-Amzn-Trace-Id"); got != info.CallerRequestID {
			t.Errorf("X-Amzn-Trace-Id %q, want %q", got, info.CallerRequestID)
		}
		if len(plain.Header) != 1 {
			t.Errorf("the caller's request was changed: %v", plain.Header)
		}
	}
}
