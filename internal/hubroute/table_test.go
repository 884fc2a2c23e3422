package hubroute

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hf-micro/hf-micro/internal/fakehub"
	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/policy"
)

func id(s string) hub.RepoID {
	r, err := hub.ParseRepoID(s)
	if err != nil {
		panic(err)
	}
	return r
}

func judge(t *testing.T, method, path, body string) (*Match, []Target, []byte, error) {
	t.Helper()
	escaped, query, _ := strings.Cut(path, "?")
	m, err := Find(method, escaped, query)
	if err != nil || m == nil {
		return m, nil, nil, err
	}
	var b []byte
	if m.ReadsBody() {
		b = []byte(body)
	}
	targets, forward, err := m.Judge(b)
	return m, targets, forward, err
}

// TestTable holds every row of the table to what it says: the route, the bucket, and the actions on which
// repositories.
func TestTable(t *testing.T) {
	read, create, update, del := policy.Read, policy.Create, policy.Update, policy.Delete
	model, dataset, space := hub.Model, hub.Dataset, hub.Space
	type tableCase struct {
		method, path, body string
		route              string
		bucket             Bucket
		want               []Target
	}
	cases := []tableCase{
		{"GET", "/api/whoami-v2", "", "GET /api/whoami-v2", API, []Target{{read, model, hub.RepoID{}}}},
		{"POST", "/api/repos/create", `{"name":"m","organization":"acme","type":"dataset"}`, "POST /api/repos/create", API, []Target{{create, dataset, id("acme/m")}}},
		{"POST", "/api/repos/create", `{"name":"m","organization":null}`, "POST /api/repos/create", API, []Target{{create, model, id("m")}}},
		{"DELETE", "/api/repos/delete", `{"name":"m","organization":"acme","type":"space"}`, "DELETE /api/repos/delete", API, []Target{{del, space, id("acme/m")}}},
		{"POST", "/api/repos/move", `{"fromRepo":"acme/a","toRepo":"bob/b","type":"model"}`, "POST /api/repos/move", API,
			[]Target{{update, model, id("acme/a")}, {update, model, id("bob/b")}}},
		{"POST", "/api/validate-yaml", `{}`, "POST /api/validate-yaml", API, []Target{{read, model, hub.RepoID{}}}},
		{"GET", "/api/models?author=acme", "", "GET /api/{t}", API, []Target{{read, model, hub.RepoID{}}}},
		{"GET", "/api/datasets/acme/d", "", "GET /api/{t}/{repo}", API, []Target{{read, dataset, id("acme/d")}}},
		{"GET", "/api/spaces/acme/s/revision/refs%2Fpr%2F1", "", "GET /api/{t}/{repo}/revision/{rev}", API, []Target{{read, space, id("acme/s")}}},
		{"GET", "/api/models/acme/m/refs", "", "GET /api/{t}/{repo}/refs", API, []Target{{read, model, id("acme/m")}}},
		{"GET", "/api/models/acme/m/commits/main", "", "GET /api/{t}/{repo}/commits/{rev}", API, []Target{{read, model, id("acme/m")}}},
		{"GET", "/api/models/acme/m/tree/main", "", "GET /api/{t}/{repo}/tree/{rev}", API, []Target{{read, model, id("acme/m")}}},
		{"GET", "/api/models/acme/m/tree/main/a%2Fb", "", "GET /api/{t}/{repo}/tree/{rev}/{path...}", API, []Target{{read, model, id("acme/m")}}},
		{"GET", "/api/models/acme/m/tree/refs/pr/1/a/b", "", "GET /api/{t}/{repo}/tree/{rev}/{path...}", API, []Target{{read, model, id("acme/m")}}},
		{"GET", "/api/models/acme/m/auth-check", "", "GET /api/{t}/{repo}/auth-check", API, []Target{{read, model, id("acme/m")}}},
		{"GET", "/api/models/acme/m/scan", "", "GET /api/{t}/{repo}/scan", API, []Target{{read, model, id("acme/m")}}},
		{"POST", "/api/datasets/acme/d/paths-info/main", "paths=a", "POST /api/{t}/{repo}/paths-info/{rev}", API, []Target{{read, dataset, id("acme/d")}}},
		{"POST", "/api/models/acme/m/preupload/main", `{"files":[]}`, "POST /api/{t}/{repo}/preupload/{rev}", API, []Target{{read, model, id("acme/m")}}},
		{"GET", "/api/models/acme/m/xet-read-token/main", "", "GET /api/{t}/{repo}/xet-read-token/{rev}", API, []Target{{read, model, id("acme/m")}}},
		{"GET", "/api/models/acme/m/xet-write-token/main", "", "GET /api/{t}/{repo}/xet-write-token/{rev}", API, []Target{{update, model, id("acme/m")}}},
		{"GET", "/api/models/acme/m/xet-write-token/None?create_pr=1", "", "GET /api/{t}/{repo}/xet-write-token/{rev}", API, []Target{{update, model, id("acme/m")}}},
		{"POST", "/api/datasets/acme/d/commit/main", "", "POST /api/{t}/{repo}/commit/{rev}", API, []Target{{update, dataset, id("acme/d")}}},
		{"PUT", "/api/models/acme/m/settings", "", "PUT /api/{t}/{repo}/settings", API, []Target{{update, model, id("acme/m")}}},
		{"POST", "/api/spaces/acme/s/duplicate", `{"repository":"bob/copy"}`, "POST /api/{t}/{repo}/duplicate", API,
			[]Target{{read, space, id("acme/s")}, {create, space, id("bob/copy")}}},
		{"GET", "/api/models/acme/m/lfs-files", "", "GET /api/{t}/{repo}/lfs-files", API, []Target{{read, model, id("acme/m")}}},
		{"POST", "/api/models/acme/m/lfs-files/duplicate", `{"target":{"type":"dataset","name":"bob/d"},"files":[]}`, "POST /api/{t}/{repo}/lfs-files/duplicate", API,
			[]Target{{read, model, id("acme/m")}, {update, dataset, id("bob/d")}}},
		{"POST", "/api/models/acme/m/lfs-files/batch", "", "POST /api/{t}/{repo}/lfs-files/batch", API, []Target{{del, model, id("acme/m")}}},
		{"POST", "/api/models/acme/m/super-squash/main", "", "POST /api/{t}/{repo}/super-squash/{rev}", API, []Target{{del, model, id("acme/m")}}},
		{"POST", "/api/models/acme/m/branch/dev", "", "POST /api/{t}/{repo}/branch/{rev}", API, []Target{{update, model, id("acme/m")}}},
		{"DELETE", "/api/models/acme/m/branch/dev", "", "DELETE /api/{t}/{repo}/branch/{rev}", API, []Target{{del, model, id("acme/m")}}},
		{"POST", "/api/models/acme/m/tag/main", "", "POST /api/{t}/{repo}/tag/{rev}", API, []Target{{update, model, id("acme/m")}}},
		{"DELETE", "/api/models/acme/m/tag/v1", "", "DELETE /api/{t}/{repo}/tag/{rev}", API, []Target{{del, model, id("acme/m")}}},
		{"GET", "/api/models/acme/m/discussions", "", "GET /api/{t}/{repo}/discussions", API, []Target{{read, model, id("acme/m")}}},
		{"GET", "/api/models/acme/m/discussions/3", "", "GET /api/{t}/{repo}/discussions/{path...}", API, []Target{{read, model, id("acme/m")}}},
		{"POST", "/api/models/acme/m/discussions", "", "POST /api/{t}/{repo}/discussions", API, []Target{{update, model, id("acme/m")}}},
		{"POST", "/api/models/acme/m/discussions/3/merge", "", "POST /api/{t}/{repo}/discussions/{path...}", API, []Target{{update, model, id("acme/m")}}},
		{"GET", "/api/models/acme/m/user-access-request/pending", "", "GET /api/{t}/{repo}/user-access-request/{path...}", API, []Target{{read, model, id("acme/m")}}},
		{"POST", "/api/models/acme/m/user-access-request/handle", "", "POST /api/{t}/{repo}/user-access-request/{path...}", API, []Target{{update, model, id("acme/m")}}},
		{"GET", "/api/spaces/acme/s/runtime", "", "GET /api/spaces/{repo}/runtime", API, []Target{{read, model, id("acme/s")}}},
		{"GET", "/api/spaces/acme/s/secrets", "", "GET /api/spaces/{repo}/secrets", API, []Target{{read, model, id("acme/s")}}},
		{"GET", "/api/spaces/acme/s/variables", "", "GET /api/spaces/{repo}/variables", API, []Target{{read, model, id("acme/s")}}},
		{"GET", "/api/spaces/acme/s/logs/run", "", "GET /api/spaces/{repo}/logs/{any}", API, []Target{{read, model, id("acme/s")}}},
		{"POST", "/api/spaces/acme/s/secrets", "", "POST DELETE /api/spaces/{repo}/secrets", API, []Target{{update, model, id("acme/s")}}},
		{"DELETE", "/api/spaces/acme/s/variables", "", "POST DELETE /api/spaces/{repo}/variables", API, []Target{{update, model, id("acme/s")}}},
		{"POST", "/api/spaces/acme/s/hardware", "", "POST /api/spaces/{repo}/hardware", API, []Target{{update, model, id("acme/s")}}},
		{"POST", "/api/spaces/acme/s/sleeptime", "", "POST /api/spaces/{repo}/sleeptime", API, []Target{{update, model, id("acme/s")}}},
		{"POST", "/api/spaces/acme/s/pause", "", "POST /api/spaces/{repo}/pause", API, []Target{{update, model, id("acme/s")}}},
		{"POST", "/api/spaces/acme/s/restart", "", "POST /api/spaces/{repo}/restart", API, []Target{{update, model, id("acme/s")}}},
		{"POST", "/api/spaces/acme/s/dev-mode", "", "POST /api/spaces/{repo}/dev-mode", API, []Target{{update, model, id("acme/s")}}},
		{"DELETE", "/api/spaces/acme/s/storage", "", "POST DELETE /api/spaces/{repo}/storage", API, []Target{{update, model, id("acme/s")}}},
		{"PUT", "/api/spaces/acme/s/volumes", "", "PUT DELETE /api/spaces/{repo}/volumes", API, []Target{{update, model, id("acme/s")}}},
		{"GET", "/api/collections", "", "GET /api/collections", API, []Target{{read, model, hub.RepoID{}}}},
		{"GET", "/api/collections/acme/c-1", "", "GET /api/collections/{path...}", API, []Target{{read, model, hub.RepoID{}}}},
		{"POST", "/api/collections", "", "POST PATCH DELETE /api/collections", API, []Target{{update, model, hub.RepoID{}}}},
		{"PATCH", "/api/collections/acme/c-1", "", "POST PATCH DELETE /api/collections/{path...}", API, []Target{{update, model, hub.RepoID{}}}},
		{"GET", "/api/settings/webhooks", "", "GET /api/settings/webhooks", API, []Target{{read, model, hub.RepoID{}}}},
		{"GET", "/api/settings/webhooks/w1", "", "GET /api/settings/webhooks/{path...}", API, []Target{{read, model, hub.RepoID{}}}},
		{"POST", "/api/settings/webhooks", "", "POST DELETE /api/settings/webhooks", API, []Target{{update, model, hub.RepoID{}}}},
		{"DELETE", "/api/settings/webhooks/w1", "", "POST DELETE /api/settings/webhooks/{path...}", API, []Target{{update, model, hub.RepoID{}}}},
		{"HEAD", "/acme/m/resolve/main/config.json", "", "GET HEAD /{p}{repo}/resolve/{rev}/{path...}", Resolvers, []Target{{read, model, id("acme/m")}}},
		{"GET", "/datasets/acme/d/resolve/refs%2Fpr%2F1/data/x.parquet", "", "GET HEAD /{p}{repo}/resolve/{rev}/{path...}", Resolvers, []Target{{read, dataset, id("acme/d")}}},
		{"GET", "/spaces/acme/s/resolve/main/app.py", "", "GET HEAD /{p}{repo}/resolve/{rev}/{path...}", Resolvers, []Target{{read, space, id("acme/s")}}},
		{"GET", "/api/resolve-cache/models/acme/m/0123/config.json", "", "GET HEAD /api/resolve-cache/{t}/{repo}/{rev}/{path...}", Resolvers, []Target{{read, model, id("acme/m")}}},
		{"HEAD", "/acme/m/raw/main/README.md", "", "GET HEAD /{p}{repo}/raw/{rev}/{path...}", Resolvers, []Target{{read, model, id("acme/m")}}},
		{"POST", "/acme/m.git/info/lfs/objects/batch", `{"operation":"download","objects":[]}`, "POST /{p}{repo.git}/info/lfs/objects/batch", API, []Target{{read, model, id("acme/m")}}},
		{"POST", "/datasets/acme/d.git/info/lfs/objects/batch", `{"operation":"upload","transfers":["basic"],"objects":[]}`, "POST /{p}{repo.git}/info/lfs/objects/batch", API, []Target{{update, dataset, id("acme/d")}}},
		// The catch-all rows.
		{"GET", "/api/datasets/acme/d/parquet", "", "* /api/{t}/{repo}/{path...}", API, []Target{{read, dataset, id("acme/d")}}},
		{"DELETE", "/api/models/acme/m", "", "* /api/{t}/{repo}", API, []Target{{del, model, id("acme/m")}}},
		{"POST", "/api/models/acme/m/something-new", "", "* /api/{t}/{repo}/{path...}", API, []Target{{update, model, id("acme/m")}}},
		{"DELETE", "/api/models/acme/m/something-new", "", "* /api/{t}/{repo}/{path...}", API, []Target{{del, model, id("acme/m")}}},
		{"POST", "/api/something", "", "* /api/{path...}", API, []Target{{update, model, hub.RepoID{}}}},
		{"POST", "/api/repos/delete", "", "* /api/{path...}", API, []Target{{update, model, hub.RepoID{}}}},
		{"GET", "/api/repos/create", "", "* /api/{path...}", API, []Target{{read, model, hub.RepoID{}}}},
		{"POST", "/acme/m.git/info/lfs/objects/verify", "", "* /{p}{repo.git}/info/lfs/{path...}", API, []Target{{update, model, id("acme/m")}}},
		{"POST", "/datasets/acme/d/raw/main/x", "", "* /{p}{repo}/raw/{path...}", Resolvers, []Target{{update, dataset, id("acme/d")}}},
		{"PUT", "/acme/m/resolve/main/x", "", "* /{p}{repo}/resolve/{path...}", Resolvers, []Target{{update, model, id("acme/m")}}},
	}
	for _, c := range cases {
		m, targets, _, err := judge(t, c.method, c.path, c.body)
		if err != nil || m == nil {
			t.Errorf("%s %s: match %v, error %v", c.method, c.path, m, err)
			continue
		}
		if m.Route != c.route || m.Bucket != c.bucket || !slices.Equal(targets, c.want) {
			t.Errorf("%s %s:\n got %s %s %v\nwant %s %s %v", c.method, c.path, m.Route, m.Bucket, targets, c.route, c.bucket, c.want)
		}
	}
	// Every listed row is exercised above.
	for _, r := range table {
		name := r.methods + " " + r.pattern
		if !slices.ContainsFunc(cases, func(c tableCase) bool { return c.route == name }) {
			t.Errorf("row %q has no case in TestTable", name)
		}
	}
}

// TestRefused covers each spelling that a hop could read differently, and each body the Hub could read
// differently, with the status hf-micro answers.
func TestRefused(t *testing.T) {
	cases := []struct {
		method, path, body string
		status             int
		says               string
	}{
		{"TRACE", "/api/whoami-v2", "", 405, "forwards only"},
		{"TRACK", "/api/whoami-v2", "", 405, "forwards only"},
		{"OPTIONS", "/api/models", "", 405, "forwards only"},
		{"CONNECT", "/api/models", "", 405, "forwards only"},
		{"PUT", "/api/models/own/x/%2e%2e/%2e%2e/other/victim/settings", "", 400, "percent-encodes"},
		{"GET", "/api/%2e%2e/settings/tokens", "", 400, "percent-encodes"},
		{"GET", "/acme/m/resolve/main/%2E%2E/%2e%2e/other/m/resolve/main/x", "", 400, "percent-encodes"},
		{"GET", "/acme/m/resolve/main/a%2F..%2Fb", "", 400, "dot segment"},
		{"GET", "/acme/m/resolve/main/a%2F%2Fb", "", 400, "empty segment"},
		{"GET", "/api/models/acme/%6d", "", 400, "percent-encodes"},
		{"GET", "/api/models/acme/m/tree/main/a%5cb", "", 400, "backslash"},
		{"GET", "/api/models/acme/m%00", "", 400, "control"},
		{"GET", "/api/models/acme/m%zz", "", 400, "malformed"},
		{"DELETE", "/api/repos/delete/", "", 400, "empty segment"},
		{"DELETE", "/api//repos/delete", "", 400, "empty segment"},
		{"DELETE", "/api/repos/Delete", "", 400, "letter cases"},
		{"DELETE", "/api/Repos/delete", "", 400, "letter cases"},
		{"DELETE", "/api/repos/DELETE", "", 400, "letter cases"},
		{"PUT", "/api/Models/acme/m/settings", "", 400, "letter cases"},
		{"GET", "/acme/m/RESOLVE/main/x", "", 400, "letter cases"},
		{"POST", "/api/repos/delete?_method=DELETE", "", 400, "_method"},
		{"POST", "/api/repos/create", `{"type":"model","name":"x","organization":"other","ORGANIZATION":"own"}`, 400, "twice"},
		{"POST", "/api/repos/create", `{"name":"x","organization":"other","organization":"own"}`, 400, "twice"},
		{"DELETE", "/api/repos/delete", `{"name":"x","Organization":"own","organization":"other"}`, 400, "twice"},
		{"POST", "/api/repos/move", `{"fromRepo":"other/a","toRepo":"own/b","FROMREPO":"own/a"}`, 400, "twice"},
		{"POST", "/api/repos/move", `{"fromRepo":"other/a"}`, 400, "toRepo"},
		{"POST", "/api/models/acme/m/lfs-files/duplicate", `{"target":{"type":"model","name":"own/m","NAME":"other/m"}}`, 400, "twice"},
		{"POST", "/api/repos/create", `name=x&organization=own`, 400, "not valid JSON"},
		{"POST", "/api/repos/create", `{"name":"x"} {"name":"y"}`, 400, "more after"},
		{"POST", "/api/repos/create", `["x"]`, 400, "JSON object"},
		{"POST", "/api/repos/create", `{"name":"x","organization":7}`, 400, "must be a string"},
		{"POST", "/api/repos/create", `{"name":"x","type":"bucket"}`, 400, "unknown repository type"},
		{"POST", "/api/repos/create", `{"organization":"own"}`, 400, "name"},
		{"POST", "/api/repos/create?organization=other", `{"name":"x","organization":"own"}`, 400, "no query"},
		{"POST", "/acme/m.git/info/lfs/objects/batch", `{"operation":"Upload"}`, 400, "operation"},
		{"POST", "/api/spaces/acme/s/duplicate", `{"repository":"../x"}`, 400, "repository"},
	}
	for _, c := range cases {
		_, _, _, err := judge(t, c.method, c.path, c.body)
		e, ok := err.(*Error)
		if !ok || e.Status != c.status || !strings.Contains(e.Msg, c.says) {
			t.Errorf("%s %s %s: got %v, want %d saying %q", c.method, c.path, c.body, err, c.status, c.says)
		}
	}
}

// TestForwardedBodyIsTheJudgedOne: a body the route reads goes to the Hub re-encoded from what was judged.
func TestForwardedBodyIsTheJudgedOne(t *testing.T) {
	_, targets, forward, err := judge(t, "POST", "/api/repos/create", "{\"organiz\\u0061tion\": \"acme\", \"name\": \"m\", \"private\": true}")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"m","organization":"acme","private":true}`; string(forward) != want || targets[0].Repo != id("acme/m") {
		t.Errorf("forwarded %s for %v, want %s", forward, targets, want)
	}
	_, _, forward, err = judge(t, "POST", "/api/models/acme/m/commit/main", "anything")
	if err != nil || forward != nil {
		t.Errorf("a route that does not read its body: forward %q, %v; want nil (passed as it came)", forward, err)
	}
}

func TestNotHubPaths(t *testing.T) {
	for _, path := range []string{"/", "/alice/m", "/alice/m/blob/main/x", "/settings/tokens", "/alice/m/resolve",
		"/alice/m.git/HEAD", "/datasets/alice/d", "/api", "/favicon.ico", "/debug/pprof/", "/%2e%2e/x", "/a//b"} {
		if m, err := Find(http.MethodGet, path, ""); m != nil || err != nil {
			t.Errorf("Find(GET %s) = %v, %v; want not a Hub path", path, m, err)
		}
	}
}

// TestFakeHubRoutesAreListed: every route the fake Hub serves is a listed row of the table (not a catch-all),
// for the same method.
func TestFakeHubRoutesAreListed(t *testing.T) {
	fill := strings.NewReplacer("{ns}", "acme", "{name}", "m", "{rev}", "main")
	for _, route := range fakehub.Routes() {
		method, pattern, _ := strings.Cut(route, " ")
		m, err := Find(method, fill.Replace(pattern), "")
		if err != nil || m == nil || strings.HasPrefix(m.Route, "*") {
			t.Errorf("the fake Hub serves %s, which the table lists as %v (%v)", route, m, err)
		}
	}
}

// FuzzFind judges arbitrary requests: no panic; a request judged is judged the same when its forwarded body is
// judged again (the Hub gets what was judged); every repository named is a valid one; and no path that is
// judged spells a dot segment, an encoded unreserved character or an empty segment.
func FuzzFind(f *testing.F) {
	for _, seed := range [][3]string{
		{"POST", "/api/repos/create", `{"name":"m","organization":"acme","type":"dataset"}`},
		{"POST", "/api/repos/move", `{"fromRepo":"a/b","toRepo":"c/d"}`},
		{"POST", "/acme/m.git/info/lfs/objects/batch", `{"operation":"download"}`},
		{"GET", "/datasets/a/b/resolve/refs%2Fpr%2F1/x", ""},
		{"PUT", "/api/models/own/x/%2e%2e/other/settings", ""},
		{"DELETE", "/api/repos/Delete", `{"name":"x","ORGANIZATION":"y","organization":"z"}`},
		{"POST", "/api/spaces/a/s/duplicate", `{"repository":"b/c","private":true}`},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		escaped, query, _ := strings.Cut(path, "?")
		m, err := Find(method, escaped, query)
		if err != nil || m == nil {
			return
		}
		lower := strings.ToLower(escaped)
		for _, bad := range []string{"//", "/./", "/../", "%2e", "%41", "%5c", "\\"} {
			if strings.Contains(lower, bad) || strings.HasSuffix(escaped, "/") && escaped != "/" {
				t.Fatalf("%s %s was judged", method, path)
			}
		}
		targets, forward, err := m.Judge([]byte(body))
		if err != nil {
			return
		}
		for _, target := range targets {
			if target.Repo.Name != "" {
				if _, err := hub.ParseRepoID(target.Repo.String()); err != nil {
					t.Fatalf("%s %s: repository %q: %v", method, path, target.Repo, err)
				}
			}
		}
		if forward != nil {
			again, forwardAgain, err := m.Judge(forward)
			if err != nil || !slices.Equal(again, targets) || string(forwardAgain) != string(forward) {
				t.Fatalf("%s %s %s: forwarded %s, judged again as %v (%v), was %v", method, path, body, forward, again, err, targets)
			}
		}
	})
}
