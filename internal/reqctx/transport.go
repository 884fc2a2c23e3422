package reqctx

import (
	"net/http"
	"slices"
	"time"
)

// Transport is the one way to the Hub, for the simple API and the drop-in endpoint alike: it sends the
// request's W3C trace context (exactly one traceparent, replacing any a caller's headers brought along) and the
// caller's own request id as X-Amzn-Trace-Id (the Hub echoes it inside its X-Request-Id, which ties its logs
// to the caller's), and records the Hub's status and the time spent waiting on it in the request's Info. So
// neither the Hub client nor the proxy needs to know about the request's facts; one that sets them itself
// (SetHubHeaders) spares the copy of its headers.
type Transport struct{ Base http.RoundTripper }

func (t Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	info := From(req.Context())
	if info == nil {
		return t.Base.RoundTrip(req)
	}
	if !info.hubHeadersSet(req.Header) {
		// A RoundTripper must not change the request it is given: send a copy, with a map of headers of its
		// own. The values are shared, not copied: they are only replaced, never written into.
		out := *req
		out.Header = make(http.Header, len(req.Header)+2)
		for name, values := range req.Header {
			out.Header[name] = values
		}
		info.SetHubHeaders(out.Header)
		req = &out
	}
	start := time.Now()
	resp, err := t.Base.RoundTrip(req)
	info.UpstreamDuration += time.Since(start)
	if err == nil {
		info.UpstreamStatus = resp.StatusCode
	}
	return resp, err
}

// traceHeaders are every spelling of the trace context's headers a request may carry.
var traceHeaders = [...]string{"Traceparent", "Tracestate", "traceparent", "tracestate"}

// SetHubHeaders sets, in a request's headers to the Hub, the trace context and the caller's request id (when
// the headers do not already carry an X-Amzn-Trace-Id of their own).
func (info *Info) SetHubHeaders(h http.Header) {
	if info.CallerRequestID != "" && h.Get("X-Amzn-Trace-Id") == "" {
		h["X-Amzn-Trace-Id"] = []string{info.CallerRequestID}
	}
	if info.Trace.Parent == "" {
		return
	}
	for _, name := range traceHeaders {
		delete(h, name)
	}
	// Keyed in lower case, as HTTP/2 sends header names: net/http would otherwise lower a name it does not
	// know, at the cost of an allocation on every call.
	h["traceparent"] = []string{info.Trace.Parent}
	if info.Trace.State != "" {
		h["tracestate"] = []string{info.Trace.State}
	}
}

// hubHeadersSet reports whether SetHubHeaders would leave h as it is.
func (info *Info) hubHeadersSet(h http.Header) bool {
	if info.CallerRequestID != "" && h.Get("X-Amzn-Trace-Id") == "" {
		return false
	}
	if info.Trace.Parent == "" {
		return true
	}
	var state []string
	if info.Trace.State != "" {
		state = []string{info.Trace.State}
	}
	_, canonicalParent := h["Traceparent"]
	_, canonicalState := h["Tracestate"]
	//lint:ignore SA1008 SetHubHeaders keys them in lower case, as HTTP/2 sends them
	parent, stateNow := h["traceparent"], h["tracestate"]
	return !canonicalParent && !canonicalState && slices.Equal(parent, []string{info.Trace.Parent}) && slices.Equal(stateNow, state)
}
