package server

import (
	"context"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/reqctx"
)

// requestState is everything the server notes about one request, carried in its context as a single value
// (one allocation, one context, one copy of the request): the facts for the logs, which the Hub transport
// fills in too, and, once withCaller has recognised the caller, the caller and the budget note for the reply.
type requestState struct {
	info   reqctx.Info
	caller auth.Caller
	note   budgetNote
	known  bool // withCaller set caller and note
}

// RequestInfo makes requestState the reqctx.Holder of its request.
func (s *requestState) RequestInfo() *reqctx.Info { return &s.info }

// stateFrom returns the request's state, or nil for a context that is not a request's (a shared account
// cache fetch carries only a reqctx.Info).
func stateFrom(ctx context.Context) *requestState {
	s, _ := reqctx.HolderFrom(ctx).(*requestState)
	return s
}

// callerFrom returns the request's caller; ok is false before withCaller has recognised one.
func callerFrom(ctx context.Context) (auth.Caller, bool) {
	if s := stateFrom(ctx); s != nil && s.known {
		return s.caller, true
	}
	return auth.Caller{}, false
}

// noteFrom returns the request's budget note, or nil for a Hub call made apart from a request (a shared
// account cache fetch) or before withCaller.
func noteFrom(ctx context.Context) *budgetNote {
	if s := stateFrom(ctx); s != nil && s.known {
		return &s.note
	}
	return nil
}
