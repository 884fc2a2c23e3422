package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/hubroute"
	"github.com/hf-micro/hf-micro/internal/policy"
	"github.com/hf-micro/hf-micro/internal/reqctx"
)

// withCaller authenticates the caller of an API route before anything else is read, so an unknown caller
// learns nothing but how to authenticate.
func (d *deps) withCaller(next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		caller, err := d.auth.Authenticate(r)
		if err != nil {
			d.opts.Metrics.Auth(authFailure(err), "")
			return authError(w, err)
		}
		d.opts.Metrics.Auth("ok", caller.String())
		state := stateFrom(r.Context())
		state.info.Caller, state.info.Subject = caller.String(), caller.Subject
		state.caller, state.note, state.known = caller, budgetNote{header: w.Header()}, true
		// Answered here, with the request that knows its caller, so a 401 from the Hub names the right token.
		if err := next(w, r); err != nil {
			d.answerError(w, r, err)
		}
		return nil
	}
}

// authFailure names an authentication failure for the metrics: the caller was refused, or its ID token's
// issuer could not be reached.
func authFailure(err error) string {
	var unavailable *auth.IssuerUnavailableError
	if errors.As(err, &unavailable) {
		return "unavailable"
	}
	return "refused"
}

// authError answers a caller that could not be recognised: 401, or 503 when the issuer of its ID token
// cannot be reached to check it (never a silent allow).
func authError(w http.ResponseWriter, err error) error {
	var unavailable *auth.IssuerUnavailableError
	if errors.As(err, &unavailable) {
		return &apiError{status: http.StatusServiceUnavailable, msg: err.Error(), cause: err,
			retryAfter: max(unavailable.RetryAfter, time.Second)}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="hf-micro"`)
	return &apiError{status: http.StatusUnauthorized, msg: err.Error(), cause: err}
}

// hubFor is the only way a simple API handler reaches the Hub, for one action on one repository (id is zero
// when the request names none); its routes count in the api bucket. See hubForAll.
func (d *deps) hubFor(r *http.Request, action policy.Action, t hub.RepoType, id hub.RepoID) (*hub.Client, error) {
	return d.hubForAll(r, hubroute.API, hubroute.Target{Action: action, Type: t, Repo: id})
}

// hubForAll records what a request does for the audit trail and, when the server's token would be used,
// holds each of its actions to the global policy (the ceiling over every principal) and to the caller's own
// scopes; then it counts the request in bucket (admit). It returns a client holding the right token: the
// caller's own, or the server's.
func (d *deps) hubForAll(r *http.Request, bucket hubroute.Bucket, targets ...hubroute.Target) (*hub.Client, error) {
	info := reqctx.From(r.Context())
	for _, t := range targets {
		// The audit line names the action that changes something (and its repository), else the last.
		if t.Action.Mutates() || !policy.Action(info.Action).Mutates() {
			info.Action = string(t.Action)
			info.Repo, info.RepoType = "", ""
			if t.Repo.Name != "" {
				info.Repo, info.RepoType = t.Repo.String(), string(t.Type)
			}
		}
	}
	caller, ok := callerFrom(r.Context())
	if !ok {
		// A route that calls the Hub without withCaller is a programming error; refuse rather than serve it.
		return nil, &apiError{status: http.StatusInternalServerError, msg: "internal error: route without authentication"}
	}
	if !caller.UsesServerToken() {
		if err := d.admit(r, caller, bucket); err != nil {
			return nil, err
		}
		return d.hub.WithToken(caller.Token), nil
	}
	whoami := isWhoami(r)
	for _, t := range targets {
		if err := d.opts.Policy.Check(t.Action, t.Repo.Namespace); err != nil {
			d.opts.Metrics.PolicyRefusal("policy")
			return nil, &apiError{status: http.StatusForbidden, msg: err.Error(), cause: err}
		}
		if err := caller.Scopes.Allows(caller.String(), t.Action, t.Type, t.Repo, whoami); err != nil {
			d.opts.Metrics.PolicyRefusal("scope")
			return nil, &apiError{status: http.StatusForbidden, msg: err.Error(), cause: err}
		}
	}
	if err := d.admit(r, caller, bucket); err != nil {
		return nil, err
	}
	return d.hub, nil
}

// isWhoami reports whether r asks for the caller's own account (the simple API's or the Hub's route), which
// every principal may.
func isWhoami(r *http.Request) bool {
	path := r.URL.EscapedPath()
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && (path == "/api/account" || path == "/api/whoami-v2")
}
