package server

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
		// The drop-in Hub endpoint: every other Hub path (the Hub's API, file downloads) goes to the Hub.
		{"/", handleDropIn(d)},
	}
}
