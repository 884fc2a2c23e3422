package server

// route is one entry of the API surface. The OpenAPI test checks this list against openapi.json.
type route struct {
	pattern string
	handler handlerFunc
}

// routes is the whole API: every route hf-micro serves is here.
func routes(d *deps) []route {
	return []route{
		{"GET /{$}", handleIndex(d)},
		{"GET /openapi.json", handleOpenAPI(d)},
		{"GET /healthz", handleHealthz()},
		{"GET /readyz", handleReadyz(d)},
		{"GET /api/account", handleAccount(d)},
		{"GET /api/repo", handleRepoInfo(d)},
		{"POST /api/repo", handleRepoCreate(d)},
		{"PUT /api/repo", handleRepoUpdate(d)},
		{"DELETE /api/repo", handleRepoDelete(d)},
	}
}
