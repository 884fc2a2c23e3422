package reqctx

import (
	"net/http"
	"time"
)

// Transport is the one way to the Hub, for the simple API and the drop-in endpoint alike: it sends the
// request's W3C trace context (exactly one traceparent, replacing any a caller's headers brought along) and the
// caller's own request id as X-Amzn-Trace-Id (the Hub echoes it inside its X-Request-Id, which ties its logs
// to the caller's), and records the Hub's status and the time spent waiting on it in the request's Info. So
// neither the Hub client nor the proxy needs to know about the request's facts.
type Transport struct{ Base http.RoundTripper }

func (t Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	info := From(req.Context())
	if info == nil {
		return t.Base.RoundTrip(req)
	}
	// A RoundTripper must not change the request it is given: send a copy, with a map of headers of its own.
	// The values are shared, not copied: they are only replaced here (Set, Del), never written into.
	out := *req
	out.Header = make(http.Header, len(req.Header)+2)
	for name, values := range req.Header {
		out.Header[name] = values
	}
	if info.CallerRequestID != "" && out.Header.Get("X-Amzn-Trace-Id") == "" {
		out.Header.Set("X-Amzn-Trace-Id", info.CallerRequestID)
	}
	if info.Trace.Parent != "" {
		for _, name := range [...]string{"Traceparent", "Tracestate", "traceparent", "tracestate"} {
			delete(out.Header, name)
		}
		// Keyed in lower case, as HTTP/2 sends header names: net/http would otherwise lower a name it does not
		// know, at the cost of an allocation on every call.
		out.Header["traceparent"] = []string{info.Trace.Parent}
		if info.Trace.State != "" {
			out.Header["tracestate"] = []string{info.Trace.State}
		}
	}
	req = &out
	start := time.Now()
	resp, err := t.Base.RoundTrip(req)
	info.UpstreamDuration += time.Since(start)
	if err == nil {
		info.UpstreamStatus = resp.StatusCode
	}
	return resp, err
}
