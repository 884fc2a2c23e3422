package dropin

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/policy"
)

// Target is what a Hub request does, and to which repository, for the policy and the audit trail.
type Target struct {
	Action policy.Action
	Type   hub.RepoType
	Repo   hub.RepoID // zero when the request names no repository hf-micro can read
}

// repoBodyPaths name their repository in a JSON body rather than the path; the body is small, and must be
// read to judge the request.
var repoBodyPaths = map[string]policy.Action{
	"POST /api/repos/create":   policy.Create,
	"DELETE /api/repos/delete": policy.Delete,
	"POST /api/repos/move":     policy.Update,
}

// NeedsBody reports whether Classify needs the request body.
func NeedsBody(r *http.Request) bool {
	_, ok := repoBodyPaths[r.Method+" "+r.URL.Path]
	return ok
}

// Classify reads what a request does: reads (GET, HEAD, OPTIONS) are policy.Read, and anything else changes
// something. The repositories come from the path, or for create, delete and move from body. A move names two
// repositories; both are returned so the policy judges both.
func Classify(r *http.Request, body []byte) []Target {
	if action, ok := repoBodyPaths[r.Method+" "+r.URL.Path]; ok {
		return fromBody(action, body)
	}
	action := policy.Update
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		action = policy.Read
	}
	t, id := fromPath(r.URL.Path)
	return []Target{{Action: action, Type: t, Repo: id}}
}

// fromPath finds the repository in /api/{types}/{ns}/{name}/..., /{ns}/{name}/resolve/... and
// /{types}/{ns}/{name}/resolve/....
func fromPath(path string) (hub.RepoType, hub.RepoID) {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case parts[0] == "api":
		parts = parts[1:]
	case len(parts) >= 3 && (parts[2] == "resolve" || strings.HasSuffix(parts[1], ".git")):
		// A file or git path without a type prefix is a model's.
		parts = append([]string{"models"}, parts...)
	}
	if len(parts) >= 3 {
		parts[2] = strings.TrimSuffix(parts[2], ".git")
	}
	if len(parts) < 3 {
		return "", hub.RepoID{}
	}
	t, err := hub.ParseRepoType(parts[0])
	if err != nil || !strings.HasSuffix(parts[0], "s") {
		return "", hub.RepoID{}
	}
	id, err := hub.ParseRepoID(parts[1] + "/" + parts[2])
	if err != nil {
		return "", hub.RepoID{}
	}
	return t, id
}

func fromBody(action policy.Action, body []byte) []Target {
	var b struct {
		Name         string `json:"name"`
		Organization string `json:"organization"`
		Type         string `json:"type"`
		FromRepo     string `json:"fromRepo"`
		ToRepo       string `json:"toRepo"`
	}
	if json.Unmarshal(body, &b) != nil {
		return []Target{{Action: action}}
	}
	t, _ := hub.ParseRepoType(b.Type)
	if b.FromRepo != "" || b.ToRepo != "" {
		from, _ := hub.ParseRepoID(b.FromRepo)
		to, _ := hub.ParseRepoID(b.ToRepo)
		return []Target{{Action: action, Type: t, Repo: from}, {Action: action, Type: t, Repo: to}}
	}
	id, err := hub.ParseRepoID(b.Organization + "/" + b.Name)
	if b.Organization == "" {
		id, err = hub.ParseRepoID(b.Name)
	}
	if err != nil {
		return []Target{{Action: action, Type: t}}
	}
	return []Target{{Action: action, Type: t, Repo: id}}
}

// IsHubPath reports whether a path is one the drop-in endpoint passes to the Hub: the Hub's API, file
// downloads (/{ns}/{name}/resolve/...) and the Git LFS batch API that uploads use
// (/{ns}/{name}.git/info/lfs/...), with a datasets/, spaces/ or kernels/ prefix for those types. Anything else
// is not the Hub's API, and hf-micro answers 404 itself.
func IsHubPath(path string) bool {
	if strings.HasPrefix(path, "/api/") {
		return true
	}
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 6)
	if len(parts) > 0 && (parts[0] == "datasets" || parts[0] == "spaces" || parts[0] == "kernels") {
		parts = parts[1:]
	}
	switch {
	case len(parts) >= 4 && parts[2] == "resolve":
		return true
	case len(parts) >= 4 && strings.HasSuffix(parts[1], ".git") && parts[2] == "info" && parts[3] == "lfs":
		return true
	}
	return false
}
