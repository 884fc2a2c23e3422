// Package reqctx carries the facts about one incoming request that the server adds to and the logs read at
// the end: its id, the route that served it, the status the Hub answered (recorded by Transport), and who did
// what.
package reqctx

import (
	"context"
	"time"
)

// Info is filled in while a request is handled. One request is handled by one goroutine at a time, so plain
// fields are enough.
type Info struct {
	RequestID       string
	CallerRequestID string       // the caller's own X-Request-Id, sent on to the Hub; "" when hf-micro made the id
	Trace           TraceContext // the caller's W3C trace context, or a fresh one; sent on to the Hub
	Route           string       // the ServeMux pattern, e.g. "POST /api/repo"
	UpstreamStatus  int          // the Hub's last status for this request; 0 when the Hub was not called or not reached
	// UpstreamDuration is the time spent waiting for the Hub's answers (headers, not bodies).
	UpstreamDuration time.Duration

	// For the audit trail: who asked, and what they asked to do to which repository.
	Caller   string // e.g. "key:1a2b3c4d", "identity:release-ci", "caller-token", "loopback"
	Subject  string // for an identity: its ID token's "sub"
	Action   string // "create", "update", "delete"; "read" or "" for the rest
	Repo     string // namespace/name
	RepoType string
}

// Holder is the one value a request's context carries: it holds the request's Info, and may hold more beside
// it (the server keeps its caller and budget note there), so that a request needs a single context value.
// *Info is a Holder of itself.
type Holder interface{ RequestInfo() *Info }

// RequestInfo makes *Info a Holder.
func (info *Info) RequestInfo() *Info { return info }

type key struct{}

// With returns a context that carries h.
func With(ctx context.Context, h Holder) context.Context {
	return context.WithValue(ctx, key{}, h)
}

// HolderFrom returns the Holder in ctx, or nil outside a request.
func HolderFrom(ctx context.Context) Holder {
	h, _ := ctx.Value(key{}).(Holder)
	return h
}

// From returns the Info in ctx, or nil outside a request.
func From(ctx context.Context) *Info {
	if h := HolderFrom(ctx); h != nil {
		return h.RequestInfo()
	}
	return nil
}
