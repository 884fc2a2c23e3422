package server

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/fakehub"
	"github.com/hf-micro/hf-micro/internal/policy"
	"github.com/hf-micro/hf-micro/internal/testissuer"
)

// accessKey is a [[key]] block of an access file for key.
func accessKey(name, key, rest string) string {
	digest := sha256.Sum256([]byte(key))
	return fmt.Sprintf("[[key]]\nname = %q\nsha256 = %q\n%s\n", name, hex.EncodeToString(digest[:]), rest)
}

// hubStatusRecorder remembers the status the fake Hub answered last, so a cell can check that hf-micro passed it on.
type hubStatusRecorder struct {
	mu   sync.Mutex
	last int
}

func (s *hubStatusRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		s.mu.Lock()
		s.last = rec.Code
		s.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

func (s *hubStatusRecorder) lastStatus() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// TestAccessMatrix holds every principal of an access file (four keys and a workload identity) to its scopes, through NewServer against the fake
// Hub: principals × actions × repositories (inside and outside the patterns, each type). Each cell asserts the
// status and exactly what reached the Hub: nothing for a refusal, the one judged request otherwise, answered
// with the Hub's own status.
func TestAccessMatrix(t *testing.T) {
	keys := map[string]string{"full": auth.GenerateKey(), "read-only": auth.GenerateKey(), "pattern": auth.GenerateKey(), "expired": auth.GenerateKey()}
	file := accessKey("full", keys["full"], `read = ["*"]`+"\n"+`write = ["*"]`+"\n"+`delete = ["*"]`) +
		accessKey("read-only", keys["read-only"], `read = ["*"]`) +
		accessKey("pattern", keys["pattern"], `write = ["acme/ci-*", "dataset:acme/eval-*"]`) +
		accessKey("expired", keys["expired"], "expires = 2020-01-01T00:00:00Z\nread = [\"*\"]\nwrite = [\"*\"]\ndelete = [\"*\"]")
	// A CI workload, by its OIDC ID token: it may write and delete acme/ci-*, and read nothing else.
	iss := testissuer.New(t)
	file += fmt.Sprintf(`
[[identity]]
name     = "ci"
issuer   = %q
audience = "hf-micro"
claims   = { repository = "acme/models" }
write    = ["acme/ci-*"]
delete   = ["acme/ci-*"]
`, iss.URL)
	claims := iss.Claims("repo:acme/models:ref:refs/heads/main", "hf-micro", time.Now())
	claims["repository"] = "acme/models"
	keys["identity"] = iss.Sign(t, claims, testissuer.SignOptions{})
	access, err := auth.ParseAccessFile([]byte(file))
	if err != nil {
		t.Fatal(err)
	}

	type repo struct {
		typ, id string
		inside  bool // within the pattern key's patterns
	}
	var repos []repo
	for _, typ := range []string{"model", "dataset", "space", "kernel"} {
		repos = append(repos, repo{typ, "acme/ci-" + typ, true}, repo{typ, "bob/" + typ, false})
	}
	repos = append(repos, repo{"dataset", "acme/eval-1", true}, repo{"model", "acme/eval-1", false})

	type request struct{ method, path, body, hubPath string } // hubPath: where the Hub is called, when not path
	// actions on one repository, as the official clients send them.
	repoActions := map[string]func(repo) request{
		"read": func(r repo) request { return request{"GET", "/api/" + r.typ + "s/" + r.id, "", ""} },
		"settings": func(r repo) request {
			return request{"PUT", "/api/" + r.typ + "s/" + r.id + "/settings", `{"private":true}`, ""}
		},
		"commit": func(r repo) request {
			return request{"POST", "/api/" + r.typ + "s/" + r.id + "/commit/main",
				`{"key":"header","value":{"summary":"x"}}` + "\n" + `{"key":"file","value":{"content":"eA==","path":"x.txt","encoding":"base64"}}`, ""}
		},
		"xet-write-token": func(r repo) request {
			return request{"GET", "/api/" + r.typ + "s/" + r.id + "/xet-write-token/main", "", ""}
		},
		"create": func(r repo) request {
			ns, name, _ := strings.Cut(r.id, "/")
			return request{"POST", "/api/repos/create", fmt.Sprintf(`{"type":%q,"name":%q,"organization":%q}`, r.typ, name+"-new", ns), ""}
		},
		"delete": func(r repo) request {
			ns, name, _ := strings.Cut(r.id, "/")
			return request{"DELETE", "/api/repos/delete", fmt.Sprintf(`{"type":%q,"name":%q,"organization":%q}`, r.typ, name, ns), ""}
		},
	}
	// actions that name no repository.
	plainActions := map[string]request{
		"listing":       {"GET", "/api/models?author=acme", "", ""},
		"whoami":        {"GET", "/api/whoami-v2", "", ""},
		"account (API)": {"GET", "/api/account", "", "/api/whoami-v2"},
	}
	// allowed is the rule of the issue, written plainly.
	allowed := func(principal, action string, r *repo) bool {
		switch {
		case principal == "expired":
			return false
		case action == "whoami" || action == "account (API)":
			return true
		case principal == "full":
			return true
		case principal == "identity":
			return r != nil && strings.HasPrefix(r.id, "acme/ci-")
		case action == "listing" || action == "read":
			return principal == "read-only" || principal == "pattern" && r != nil && r.inside
		case action == "delete":
			return false
		default: // create, settings, commit, xet-write-token
			return principal == "pattern" && r.inside
		}
	}

	fake := fakehub.New()
	fake.AddUser("alice")
	fake.AddUser("bob")
	fake.AddOrg("acme", map[string]string{"alice": "admin"})
	for _, r := range repos {
		fake.AddRepo(r.typ, r.id, false)
	}
	var hubStatus hubStatusRecorder
	hubServer := httptest.NewServer(hubStatus.wrap(fake))
	t.Cleanup(hubServer.Close)
	serverToken := fake.IssueToken("alice", fakehub.RoleWrite)
	h := startServer(t, fake, hubServer.URL, serverToken, setup{
		opts:    Options{Auth: auth.Options{Access: auth.NewAccess("access.toml", access), CallerTokens: true, IssuerClient: iss.Client()}},
		secrets: []string{keys["full"], keys["read-only"], keys["pattern"], keys["expired"], keys["identity"]},
	})

	cells, reached, statuses := 0, 0, map[int]int{}
	check := func(principal, action string, r *repo, req request) {
		t.Helper()
		cells++
		name := principal + "/" + action
		if r != nil {
			name += "/" + r.typ + ":" + r.id
		}
		fake.ResetRequests()
		reply := h.sendFull(t, req.method, req.path, map[string]string{"Authorization": "Bearer " + keys[principal], "Content-Type": "application/json"}, req.body)
		got := fake.Requests()
		switch {
		case principal == "expired":
			if reply.status != 401 || !strings.Contains(fmt.Sprint(reply.json["error"]), `the key "expired" expired`) || len(got) != 0 {
				t.Errorf("%s: %d %s; the Hub got %d requests", name, reply.status, reply.body, len(got))
			}
		case !allowed(principal, action, r):
			label := "key:" + principal
			if principal == "identity" {
				label = "identity:ci"
			}
			if reply.status != 403 || !strings.Contains(fmt.Sprint(reply.json["error"]), label) || len(got) != 0 {
				t.Errorf("%s: %d %s; the Hub got %d requests, want a 403 naming %s and none", name, reply.status, reply.body, len(got), label)
			}
		default:
			reached++
			path, _, _ := strings.Cut(cmp.Or(req.hubPath, req.path), "?")
			statuses[reply.status]++
			if len(got) != 1 || got[0].Method != req.method || got[0].Path != path || got[0].Header.Get("Authorization") != "Bearer "+serverToken {
				t.Errorf("%s: the Hub got %d requests (%v), want the one %s %s with the server's token", name, len(got), got, req.method, path)
			} else if reply.status != hubStatus.lastStatus() {
				t.Errorf("%s: status %d, the Hub answered %d: %s", name, reply.status, hubStatus.lastStatus(), reply.body)
			}
		}
	}
	for _, principal := range []string{"full", "read-only", "pattern", "expired", "identity"} {
		for action, req := range plainActions {
			check(principal, action, nil, req)
		}
		for action, build := range repoActions {
			for i := range repos {
				check(principal, action, &repos[i], build(repos[i]))
			}
		}
	}
	// The audit trail names the principal.
	if lines := h.logLines(t, 1, `"caller":"key:pattern"`, `"repo":"acme/ci-model"`); len(lines) == 0 {
		t.Errorf("no log line names key:pattern:\n%s", h.logs)
	}
	t.Logf("%d cells, %d reached the Hub (its statuses: %v)", cells, reached, statuses)
}

// TestAccessScopesUnderThePolicy: the global policy stays a ceiling over a principal with every scope.
func TestAccessScopesUnderThePolicy(t *testing.T) {
	key := auth.GenerateKey()
	access, err := auth.ParseAccessFile([]byte(accessKey("all", key, `read = ["*"]`+"\n"+`write = ["*"]`+"\n"+`delete = ["*"]`)))
	if err != nil {
		t.Fatal(err)
	}
	fake, endpoint := newFakeHub(t)
	fake.AddRepo("model", "alice/existing", false)
	h := startServer(t, fake, endpoint, fake.IssueToken("alice", fakehub.RoleWrite), setup{
		opts:    Options{Auth: auth.Options{Access: auth.NewAccess("access.toml", access)}, Policy: policy.Policy{ReadOnly: true}},
		secrets: []string{key},
	})
	r := h.sendFull(t, "PUT", "/api/models/alice/existing/settings", map[string]string{"Authorization": "Bearer " + key, "Content-Type": "application/json"}, `{"private":true}`)
	checkError(t, r, 403, "HF_MICRO_READ_ONLY")
	if r := h.sendFull(t, "GET", "/api/models/alice/existing", map[string]string{"Authorization": "Bearer " + key}, ""); r.status != 200 {
		t.Errorf("a read: %d %s", r.status, r.body)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("the Hub got %d requests, want the read alone", n)
	}
	// Without a credential, loopback is refused as well: the access file's keys are client keys.
	checkError(t, h.send(t, "GET", "/api/account", "", "", ""), 401, "client key is required")
}
