package server

import (
	"net/http"
	"strings"
)

// route is one entry of the API surface. The OpenAPI test checks this list against openapi.json.
type route struct {
	pattern string
	handler handlerFunc
}

// routes is the whole API: every route hf-micro serves is here. Routes that reach the Hub authenticate their
// caller first (withCaller) and reach it only through hubFor, which applies the policy.
func routes(d *deps) []route {
	return []route{
		{"GET /{$}", handleIndex(d)},
		{"GET /openapi.json", handleOpenAPI(d)},
		{"GET /healthz", handleHealthz()},
		{"GET /readyz", handleReadyz(d)},
		{"GET /api/account", d.withCaller(handleAccount(d))},
		{"GET /api/repo", d.withCaller(handleRepoInfo(d))},
		{"POST /api/repo", d.withCaller(handleRepoCreate(d))},
		{"PUT /api/repo", d.withCaller(handleRepoUpdate(d))},
		{"DELETE /api/repo", d.withCaller(handleRepoDelete(d))},
		// A workload's OIDC ID token for a short-lived key; the token is the authentication.
		{"POST /api/identity/exchange", handleIdentityExchange(d)},
		// hf-micro's own paths answer other methods themselves, never passing them to the Hub.
		{"/{$}", methodNotAllowed("GET", "HEAD")},
		{"/openapi.json", methodNotAllowed("GET", "HEAD")},
		{"/healthz", methodNotAllowed("GET", "HEAD")},
		{"/readyz", methodNotAllowed("GET", "HEAD")},
		{"/api/account", methodNotAllowed("GET", "HEAD")},
		{"/api/repo", methodNotAllowed("GET", "HEAD", "POST", "PUT", "DELETE")},
		{"/api/identity/exchange", methodNotAllowed("POST")},
		// The drop-in Hub endpoint: every other path the Hub's route table knows (internal/hubroute: the
		// Hub's API, file downloads, LFS) goes to the Hub, judged by that table.
		{"/", d.withCaller(handleDropIn(d))},
	}
}

// methodNotAllowed answers a method a route of hf-micro's own does not take, naming those it does.
func methodNotAllowed(allow ...string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return &apiError{status: http.StatusMethodNotAllowed, allow: allow,
			msg: r.Method + " is not allowed on " + r.URL.Path + "; use " + strings.Join(allow, " or ")}
	}
}
