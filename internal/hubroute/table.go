package hubroute

import "github.com/hf-micro/hf-micro/internal/policy"

// table is every Hub route the official clients use (docs/hub-contract.md, the route table), most specific
// first: the first row whose methods and pattern fit a request judges it. Patterns are the Hub's escaped paths,
// one segment at a time:
//
//	{t}        a plural repository type in an API path: models, datasets, spaces, kernels
//	{p}        the optional type prefix of a file path: datasets/, spaces/, kernels/ (none for models)
//	{repo}     namespace/name (two segments); {repo.git} the same with ".git" after the name
//	{rev}      one segment (a revision, a branch or tag name, refs%2Fpr%2F1)
//	{any}      one segment of any value
//	{path...}  one or more segments to the end
//
// action is what the request does to the repository its path names; rows with a body function name their
// repositories (and for some, their action) in the JSON body instead. Methods "*" are the catch-all rows at the
// end: what the table does not list is a read for GET and HEAD, a delete for DELETE, and a write otherwise.
var table = []row{
	{"GET", "/api/whoami-v2", policy.Read, API, nil},
	{"POST", "/api/repos/create", policy.Create, API, createOrDelete},
	{"DELETE", "/api/repos/delete", policy.Delete, API, createOrDelete},
	{"POST", "/api/repos/move", policy.Update, API, move},
	{"POST", "/api/validate-yaml", policy.Read, API, nil},

	{"GET", "/api/{t}", policy.Read, API, nil},
	{"GET", "/api/{t}/{repo}", policy.Read, API, nil},
	{"GET", "/api/{t}/{repo}/revision/{rev}", policy.Read, API, nil},
	{"GET", "/api/{t}/{repo}/refs", policy.Read, API, nil},
	{"GET", "/api/{t}/{repo}/commits/{rev}", policy.Read, API, nil},
	{"GET", "/api/{t}/{repo}/tree/{rev}", policy.Read, API, nil},
	{"GET", "/api/{t}/{repo}/tree/{rev}/{path...}", policy.Read, API, nil},
	{"GET", "/api/{t}/{repo}/auth-check", policy.Read, API, nil},
	{"GET", "/api/{t}/{repo}/scan", policy.Read, API, nil},
	// Reads that use POST: they change nothing.
	{"POST", "/api/{t}/{repo}/paths-info/{rev}", policy.Read, API, nil},
	{"POST", "/api/{t}/{repo}/preupload/{rev}", policy.Read, API, nil},
	{"GET", "/api/{t}/{repo}/xet-read-token/{rev}", policy.Read, API, nil},
	// A GET that grants storage writes: a write.
	{"GET", "/api/{t}/{repo}/xet-write-token/{rev}", policy.Update, API, nil},

	{"POST", "/api/{t}/{repo}/commit/{rev}", policy.Update, API, nil},
	{"PUT", "/api/{t}/{repo}/settings", policy.Update, API, nil},
	{"POST", "/api/{t}/{repo}/duplicate", policy.Read, API, duplicateRepo},
	{"GET", "/api/{t}/{repo}/lfs-files", policy.Read, API, nil},
	{"POST", "/api/{t}/{repo}/lfs-files/duplicate", policy.Read, API, duplicateLFSFiles},
	{"POST", "/api/{t}/{repo}/lfs-files/batch", policy.Delete, API, nil},
	{"POST", "/api/{t}/{repo}/super-squash/{rev}", policy.Delete, API, nil},
	{"POST", "/api/{t}/{repo}/branch/{rev}", policy.Update, API, nil},
	{"DELETE", "/api/{t}/{repo}/branch/{rev}", policy.Delete, API, nil},
	{"POST", "/api/{t}/{repo}/tag/{rev}", policy.Update, API, nil},
	{"DELETE", "/api/{t}/{repo}/tag/{rev}", policy.Delete, API, nil},
	{"GET", "/api/{t}/{repo}/discussions", policy.Read, API, nil},
	{"GET", "/api/{t}/{repo}/discussions/{path...}", policy.Read, API, nil},
	{"POST", "/api/{t}/{repo}/discussions", policy.Update, API, nil},
	{"POST", "/api/{t}/{repo}/discussions/{path...}", policy.Update, API, nil},
	{"GET", "/api/{t}/{repo}/user-access-request/{path...}", policy.Read, API, nil},
	{"POST", "/api/{t}/{repo}/user-access-request/{path...}", policy.Update, API, nil},

	{"GET", "/api/spaces/{repo}/runtime", policy.Read, API, nil},
	{"GET", "/api/spaces/{repo}/secrets", policy.Read, API, nil},
	{"GET", "/api/spaces/{repo}/variables", policy.Read, API, nil},
	{"GET", "/api/spaces/{repo}/logs/{any}", policy.Read, API, nil},
	{"POST DELETE", "/api/spaces/{repo}/secrets", policy.Update, API, nil},
	{"POST DELETE", "/api/spaces/{repo}/variables", policy.Update, API, nil},
	{"POST", "/api/spaces/{repo}/hardware", policy.Update, API, nil},
	{"POST", "/api/spaces/{repo}/sleeptime", policy.Update, API, nil},
	{"POST", "/api/spaces/{repo}/pause", policy.Update, API, nil},
	{"POST", "/api/spaces/{repo}/restart", policy.Update, API, nil},
	{"POST", "/api/spaces/{repo}/dev-mode", policy.Update, API, nil},
	{"POST DELETE", "/api/spaces/{repo}/storage", policy.Update, API, nil},
	{"PUT DELETE", "/api/spaces/{repo}/volumes", policy.Update, API, nil},

	{"GET", "/api/collections", policy.Read, API, nil},
	{"GET", "/api/collections/{path...}", policy.Read, API, nil},
	{"POST PATCH DELETE", "/api/collections", policy.Update, API, nil},
	{"POST PATCH DELETE", "/api/collections/{path...}", policy.Update, API, nil},
	{"GET", "/api/settings/webhooks", policy.Read, API, nil},
	{"GET", "/api/settings/webhooks/{path...}", policy.Read, API, nil},
	{"POST DELETE", "/api/settings/webhooks", policy.Update, API, nil},
	{"POST DELETE", "/api/settings/webhooks/{path...}", policy.Update, API, nil},

	// Files.
	{"GET HEAD", "/{p}{repo}/resolve/{rev}/{path...}", policy.Read, Resolvers, nil},
	{"GET HEAD", "/api/resolve-cache/{t}/{repo}/{rev}/{path...}", policy.Read, Resolvers, nil},
	{"GET HEAD", "/{p}{repo}/raw/{rev}/{path...}", policy.Read, Resolvers, nil},
	// The LFS batch API stores objects on "upload" and only reads on "download" (git lfs pull).
	{"POST", "/{p}{repo.git}/info/lfs/objects/batch", policy.Update, API, lfsBatch},

	// What the table does not list: judged by method, on the repository the path names if it names one.
	{"*", "/api/{t}/{repo}", byMethod, API, nil},
	{"*", "/api/{t}/{repo}/{path...}", byMethod, API, nil},
	{"*", "/api/{path...}", byMethod, API, nil},
	{"*", "/{p}{repo}/resolve/{path...}", byMethod, Resolvers, nil},
	{"*", "/{p}{repo}/raw/{path...}", byMethod, Resolvers, nil},
	{"*", "/{p}{repo.git}/info/lfs/{path...}", byMethod, API, nil},
}
