package reqctx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
)

const callerParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

var validParent = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)

func TestTraceFromTheCallerOrFresh(t *testing.T) {
	cases := []struct {
		parent, state []string
		wantParent    string // "" for a fresh one
		wantState     string
	}{
		{[]string{callerParent}, []string{"congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7"}, callerParent, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"},
		{[]string{callerParent}, nil, callerParent, ""},
		// A later version is read for its version 00 fields.
		{[]string{"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds"}, nil, callerParent, ""},
		{nil, []string{"congo=t61rcWkgMzE"}, "", ""}, // a tracestate alone is dropped
		{[]string{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}, nil, "", ""},
		{[]string{"00-00000000000000000000000000000000-00f067aa0ba902b7-01"}, nil, "", ""},
		{[]string{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"}, nil, "", ""},
		{[]string{"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, nil, "", ""},
		{[]string{callerParent + "-extra"}, nil, "", ""},
		{[]string{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"}, nil, "", ""},
		{[]string{"garbage"}, []string{"congo=1"}, "", ""},
		{[]string{callerParent}, []string{"congo=1\x7f"}, callerParent, ""}, // a state that could break a header
	}
	for _, c := range cases {
		h := http.Header{"Traceparent": c.parent, "Tracestate": c.state}
		got := TraceFrom(h)
		switch {
		case c.wantParent != "" && got.Parent != c.wantParent:
			t.Errorf("%q: parent %q; want %q", c.parent, got.Parent, c.wantParent)
		case c.wantParent == "" && (!validParent.MatchString(got.Parent) || got.TraceID() == "4bf92f3577b34da6a3ce929d0e0e4736"):
			t.Errorf("%q: parent %q; want a fresh, valid one", c.parent, got.Parent)
		}
		if got.State != c.wantState {
			t.Errorf("%q %q: state %q; want %q", c.parent, c.state, got.State, c.wantState)
		}
	}
	if a, b := NewTrace(), NewTrace(); a.TraceID() == b.TraceID() || len(a.TraceID()) != 32 {
		t.Errorf("fresh traces %q and %q", a.Parent, b.Parent)
	}
}

// TestTransportSendsExactlyOneTraceContext: the request's trace context replaces whatever trace headers the
// outgoing request carried (the drop-in forwards the caller's own), and the caller's request is not changed.
func TestTransportSendsExactlyOneTraceContext(t *testing.T) {
	var got http.Header
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer hub.Close()
	client := &http.Client{Transport: Transport{Base: http.DefaultTransport}}

	for _, trace := range []TraceContext{{Parent: callerParent, State: "congo=1"}, {Parent: callerParent}} {
		req, _ := http.NewRequestWithContext(With(context.Background(), &Info{RequestID: "r", Trace: trace}), "GET", hub.URL, nil)
		req.Header["Traceparent"] = []string{"00-11111111111111111111111111111111-2222222222222222-01", "00-33333333333333333333333333333333-4444444444444444-01"}
		req.Header.Set("Tracestate", "stale=1")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if p := got.Values("Traceparent"); len(p) != 1 || p[0] != trace.Parent {
			t.Errorf("the Hub got traceparent %q; want exactly %q", p, trace.Parent)
		}
		if s := got.Values("Tracestate"); (trace.State == "" && len(s) != 0) || (trace.State != "" && (len(s) != 1 || s[0] != trace.State)) {
			t.Errorf("the Hub got tracestate %q; want %q", s, trace.State)
		}
		if req.Header.Get("Tracestate") != "stale=1" || len(req.Header.Values("Traceparent")) != 2 {
			t.Error("the caller's request was changed")
		}
	}
}
