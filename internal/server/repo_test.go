package server

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestCreate(t *testing.T) {
	cases := []struct {
		name     string
		body     string
		wantName string
		wantType string
		wantHub  map[string]any // the body the Hub must receive
	}{
		{"original README shape: plural type, bare name, private", `{"type": "spaces", "name": "my-space", "private": true}`,
			"alice/my-space", "space",
			map[string]any{"name": "my-space", "organization": nil, "type": "space", "private": true, "sdk": "static"}},
		{"model with namespace in name", `{"type":"model","name":"acme/m1"}`,
			"acme/m1", "model", map[string]any{"name": "m1", "organization": "acme", "type": "model"}},
		{"organization kept", `{"type":"models","name":"m2","organization":"acme"}`,
			"acme/m2", "model", map[string]any{"name": "m2", "organization": "acme", "type": "model"}},
		{"no type is a model", `{"name":"alice/m3"}`,
			"alice/m3", "model", map[string]any{"name": "m3", "organization": "alice", "type": "model"}},
		{"dataset with visibility", `{"type":"datasets","name":"alice/d1","visibility":"private"}`,
			"alice/d1", "dataset", map[string]any{"name": "d1", "organization": "alice", "type": "dataset", "visibility": "private"}},
		{"public flag kept as a boolean", `{"type":"dataset","name":"alice/d2","private":false}`,
			"alice/d2", "dataset", map[string]any{"name": "d2", "organization": "alice", "type": "dataset", "private": false}},
		{"space with sdk", `{"type":"space","name":"alice/s2","sdk":"gradio","visibility":"protected"}`,
			"alice/s2", "space", map[string]any{"name": "s2", "organization": "alice", "type": "space", "sdk": "gradio", "visibility": "protected"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			r := h.json(t, "POST", "/api/repo", tc.body)
			if r.status != 201 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if r.json["name"] != tc.wantName || r.json["type"] != tc.wantType || r.json["created"] != true {
				t.Errorf("reply = %s", r.body)
			}
			if id, _ := r.json["id"].(string); len(id) != 24 {
				t.Errorf("id = %q", id)
			}
			prefix := map[string]string{"model": "", "dataset": "datasets/", "space": "spaces/"}[tc.wantType]
			if u, _ := r.json["url"].(string); !strings.HasSuffix(u, "/"+prefix+tc.wantName) {
				t.Errorf("url = %q", u)
			}
			wantLocation := "/api/repo?" + url.Values{"type": {tc.wantType}, "name": {tc.wantName}}.Encode()
			if loc := r.header.Get("Location"); loc != wantLocation {
				t.Errorf("Location = %q", loc)
			}
			bodies := h.hubBodies(t, "POST", "/api/repos/create")
			if len(bodies) != 1 || fmt.Sprint(bodies[0]) != fmt.Sprint(tc.wantHub) {
				t.Errorf("the Hub received %v, want %v", bodies, tc.wantHub)
			}
			if _, ok := h.fake.Repo(tc.wantType, tc.wantName); !ok {
				t.Error("the repository does not exist on the Hub")
			}
		})
	}
}

func TestCreateConflictAndExistOK(t *testing.T) {
	h := newHarness(t)
	r := h.json(t, "POST", "/api/repo", `{"type":"model","name":"alice/existing"}`)
	checkError(t, r, 409, "already created")
	if u, _ := r.json["url"].(string); !strings.HasSuffix(u, "/alice/existing") {
		t.Errorf("409 without the existing url: %s", r.body)
	}
	for _, body := range []string{`{"type":"model","name":"alice/existing","exist_ok":true}`, `{"name":"existing","exist_ok":true}`} {
		r = h.json(t, "POST", "/api/repo", body)
		if r.status != 200 || r.json["created"] != false || r.json["name"] != "alice/existing" || !strings.HasSuffix(r.json["url"].(string), "/alice/existing") {
			t.Errorf("exist_ok %s: %d %s", body, r.status, r.body)
		}
	}
}

func TestCreateRefusedByHub(t *testing.T) {
	h := newHarness(t, readToken)
	r := h.json(t, "POST", "/api/repo", `{"name":"alice/nope"}`)
	checkError(t, r, 403, "rights")
	h = newHarness(t)
	checkError(t, h.json(t, "POST", "/api/repo", `{"name":"bob/intruder"}`), 403, "rights")
}

func TestInvalidCreateRequests(t *testing.T) {
	big := `{"name":"alice/x","organization":"` + strings.Repeat("a", 5000) + `"}`
	cases := []struct {
		name, contentType, body string
		status                  int
		want                    string
	}{
		{"unknown field named", "application/json", `{"name":"alice/x","privat":true}`, 400, `unknown field "privat"`},
		{"unknown field lists accepted", "application/json", `{"name":"alice/x","license":"mit"}`, 400, "exist_ok"},
		{"bad JSON says where", "application/json", `{"name": "alice/x",}`, 400, "at byte"},
		{"truncated JSON", "application/json", `{"name": "alice/x"`, 400, "not valid JSON"},
		{"empty body", "application/json", ``, 400, "empty"},
		{"not an object", "application/json", `["alice/x"]`, 400, "must be a JSON object"},
		{"trailing data", "application/json", `{"name":"alice/x"} {"name":"alice/y"}`, 400, "exactly one object"},
		{"private as string", "application/json", `{"name":"alice/x","private":"true"}`, 400, "private: must be true or false"},
		{"wrong content type", "text/plain", `{"name":"alice/x"}`, 415, "application/json"},
		{"form content type", "application/x-www-form-urlencoded", `{"name":"alice/x"}`, 415, "application/json"},
		{"too large", "application/json", big, 413, "larger than 4096 bytes"},
		{"no name", "application/json", `{"type":"model"}`, 400, "name: required"},
		{"unknown type", "application/json", `{"type":"bucket","name":"alice/x"}`, 400, "type: unknown repository type"},
		{"bad name", "application/json", `{"name":"alice/bad name"}`, 400, "name: repository name"},
		{"path injection", "application/json", `{"name":"../../etc/passwd"}`, 400, "name:"},
		{"two slashes", "application/json", `{"name":"a/b/c"}`, 400, "more than one '/'"},
		{"organization differs", "application/json", `{"name":"alice/x","organization":"acme"}`, 400, "organization:"},
		{"bad organization", "application/json", `{"name":"x","organization":"ac me"}`, 400, "organization:"},
		{"private and visibility", "application/json", `{"name":"alice/x","private":true,"visibility":"private"}`, 400, "not both"},
		{"bad visibility", "application/json", `{"name":"alice/x","visibility":"secret"}`, 400, "visibility:"},
		{"protected model", "application/json", `{"name":"alice/x","visibility":"protected"}`, 400, "spaces only"},
		{"sdk on a model", "application/json", `{"name":"alice/x","sdk":"gradio"}`, 400, "only spaces have an sdk"},
		{"streamlit", "application/json", `{"type":"space","name":"alice/x","sdk":"streamlit"}`, 400, "use docker"},
		{"unknown sdk", "application/json", `{"type":"space","name":"alice/x","sdk":"flask"}`, 400, "gradio, docker or static"},
		{"several problems at once", "application/json", `{"type":"thing","name":"-x-"}`, 400, "name:"},
	}
	h := newHarness(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkError(t, h.do(t, "POST", "/api/repo", tc.contentType, tc.body), tc.status, tc.want)
		})
	}
	if reqs := h.fake.Requests(); len(reqs) != 0 {
		t.Errorf("invalid requests reached the Hub: %d", len(reqs))
	}
}

func TestMissingContentTypeIsJSON(t *testing.T) {
	h := newHarness(t)
	if r := h.do(t, "POST", "/api/repo", "", `{"name":"alice/no-ct"}`); r.status != 201 {
		t.Errorf("status %d: %s", r.status, r.body)
	}
}

func TestInfo(t *testing.T) {
	h := newHarness(t)
	r := h.json(t, "GET", "/api/repo?type=models&name=alice/existing", "")
	if r.status != 200 || r.json["id"] != "alice/existing" || r.json["_id"] == nil {
		t.Fatalf("info = %d %s", r.status, r.body)
	}
	r = h.json(t, "GET", "/api/repo?type=model&name=alice/existing&revision=refs/pr/1", "")
	if r.status != 200 {
		t.Errorf("revision: %d %s", r.status, r.body)
	}
	reqs := h.fake.Requests()
	if last := reqs[len(reqs)-1]; last.Path != "/api/models/alice/existing/revision/refs%2Fpr%2F1" {
		t.Errorf("the Hub got path %q", last.Path)
	}

	r = h.json(t, "GET", "/api/repo?name=alice/missing", "")
	checkError(t, r, 404, "Repository not found")
	if r.json["hub_error_code"] != "RepoNotFound" {
		t.Errorf("hub_error_code = %v", r.json["hub_error_code"])
	}
	checkError(t, h.json(t, "GET", "/api/repo?name=bob/private-model", ""), 404, "not found")
	checkError(t, h.json(t, "GET", "/api/repo?name=alice/existing&revision=nope", ""), 404, "")

	before := len(h.fake.Requests())
	checkError(t, h.json(t, "GET", "/api/repo", ""), 400, "name: required")
	checkError(t, h.json(t, "GET", "/api/repo?name=alice/existing&foo=1", ""), 400, "foo: unknown query parameter")
	checkError(t, h.json(t, "GET", "/api/repo?name=alice/existing&type=bogus", ""), 400, "type:")
	checkError(t, h.json(t, "GET", "/api/repo?name=alice/existing&revision=a%0Db", ""), 400, "revision:")
	checkError(t, h.json(t, "GET", "/api/repo?name=alice%2F..%2F..%2Fwhoami-v2", ""), 400, "name:")
	if after := len(h.fake.Requests()); after != before {
		t.Errorf("invalid requests reached the Hub")
	}
}

func TestUpdate(t *testing.T) {
	h := newHarness(t)
	h.fake.AddRepo("space", "alice/my-space", true)
	// The original README's shape: plural type and "namespace" holding the repository id.
	r := h.json(t, "PUT", "/api/repo", `{"type": "spaces", "namespace": "alice/my-space", "private": false}`)
	if r.status != 200 || r.json["name"] != "alice/my-space" || r.json["type"] != "space" {
		t.Fatalf("update = %d %s", r.status, r.body)
	}
	if settings, _ := r.json["settings"].(map[string]any); settings["private"] != false {
		t.Errorf("settings = %v", r.json["settings"])
	}
	if repo, _ := h.fake.Repo("space", "alice/my-space"); repo.Private {
		t.Error("the Hub still has the space private")
	}
	bodies := h.hubBodies(t, "PUT", "/api/spaces/alice/my-space/settings")
	if len(bodies) != 1 || fmt.Sprint(bodies[0]) != "map[private:false]" {
		t.Errorf("the Hub received %v", bodies)
	}

	r = h.json(t, "PUT", "/api/repo", `{"type":"model","name":"alice/existing","gated":"auto","discussionsDisabled":true,"visibility":"private"}`)
	if r.status != 200 {
		t.Fatalf("update = %d %s", r.status, r.body)
	}
	if repo, _ := h.fake.Repo("model", "alice/existing"); !repo.Private || repo.Gated != "auto" || !repo.DiscussionsDisabled {
		t.Errorf("the Hub has %+v", repo)
	}
	if r = h.json(t, "PUT", "/api/repo", `{"name":"alice/existing","gated":false}`); r.status != 200 {
		t.Errorf("gated false: %d %s", r.status, r.body)
	}
	if repo, _ := h.fake.Repo("model", "alice/existing"); repo.Gated != false {
		t.Errorf("gated = %v", repo.Gated)
	}

	checkError(t, h.json(t, "PUT", "/api/repo", `{"name":"alice/missing","private":true}`), 404, "not found")
	before := len(h.fake.Requests())
	for body, want := range map[string]string{
		`{"name":"alice/existing"}`:                                          "nothing to change",
		`{"name":"existing","private":true}`:                                 "no namespace",
		`{"name":"alice/existing","gated":true}`:                             "gated:",
		`{"name":"alice/existing","gated":"sometimes"}`:                      "gated:",
		`{"name":"alice/existing","namespace":"alice/other","private":true}`: "namespace:",
		`{"private":true}`:                                                   "name: required",
		`{"name":"alice/existing","private":1}`:                              "private: must be true or false",
		`{"name":"alice/existing","visibility":"protected"}`:                 "spaces only",
	} {
		checkError(t, h.json(t, "PUT", "/api/repo", body), 400, want)
	}
	if after := len(h.fake.Requests()); after != before {
		t.Errorf("invalid requests reached the Hub")
	}
}

func TestDelete(t *testing.T) {
	h := newHarness(t)
	h.fake.AddRepo("space", "alice/my-space", false)
	r := h.json(t, "DELETE", "/api/repo", `{"type": "spaces", "name": "alice/my-space"}`)
	if r.status != 200 || r.json["deleted"] != true || r.json["name"] != "alice/my-space" || r.json["type"] != "space" {
		t.Fatalf("delete = %d %s", r.status, r.body)
	}
	if _, ok := h.fake.Repo("space", "alice/my-space"); ok {
		t.Error("the space still exists")
	}
	bodies := h.hubBodies(t, "DELETE", "/api/repos/delete")
	if len(bodies) != 1 || fmt.Sprint(bodies[0]) != "map[name:my-space organization:alice type:space]" {
		t.Errorf("the Hub received %v", bodies)
	}

	r = h.json(t, "DELETE", "/api/repo", `{"type":"spaces","name":"alice/my-space"}`)
	checkError(t, r, 404, "not found")
	r = h.json(t, "DELETE", "/api/repo", `{"type":"spaces","name":"alice/my-space","missing_ok":true}`)
	if r.status != 200 || r.json["deleted"] != false {
		t.Errorf("missing_ok = %d %s", r.status, r.body)
	}

	// A bare name is the token owner's; "namespace" is accepted as in the original.
	h.fake.AddRepo("model", "alice/bare", false)
	if r = h.json(t, "DELETE", "/api/repo", `{"name":"bare"}`); r.status != 200 {
		t.Errorf("bare name: %d %s", r.status, r.body)
	}
	if _, ok := h.fake.Repo("model", "alice/bare"); ok {
		t.Error("alice/bare still exists")
	}
	if r = h.json(t, "DELETE", "/api/repo", `{"namespace":"alice/existing"}`); r.status != 200 {
		t.Errorf("namespace field: %d %s", r.status, r.body)
	}

	checkError(t, h.json(t, "DELETE", "/api/repo", `{"name":"bob/private-model"}`), 404, "")
	checkError(t, h.json(t, "DELETE", "/api/repo", `{}`), 400, "name: required")
	checkError(t, h.json(t, "DELETE", "/api/repo", `{"name":"a/b","force":true}`), 400, `unknown field "force"`)
}

// TestMessages pins the words of the answers a newcomer meets first: what a missing name may be, where a body
// stops being JSON, and which fields are unknown.
func TestMessages(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		method, path, body string
		want               string
		fields             map[string]string // the error's "fields", exactly; nil to skip
	}{
		{"POST", "/api/repo", `{"type":"model"}`, `name: required: give "name": "my-model" (in the token owner's namespace) or "namespace/my-model"`, nil},
		{"DELETE", "/api/repo", `{}`, `name: required: give "name": "my-model" (in the token owner's namespace) or "namespace/my-model"`, nil},
		{"PUT", "/api/repo", `{"private":true}`, `name: required: give "name": "namespace/my-model"`, nil},
		{"GET", "/api/repo?type=model", ``, `name: required: give name=namespace/my-model in the query`, nil},
		{"POST", "/api/repo", `{"name": "alice/x",}`, `the body is not valid JSON: unexpected '}' at byte 20`, nil},
		{"POST", "/api/repo", `{'name': 'alice/x'}`, `unexpected '\'' at byte 2 (JSON strings take double quotes)`, nil},
		{"PUT", "/api/repo", `{"name":"alice/x",` + "\n" + `"private": yes}`, `unexpected 'y' at byte 31`, nil},
		{"POST", "/api/repo", `{"name":"alice/x","privat":true}`, `unknown field "privat"; accepted fields are: type, name, namespace,`,
			map[string]string{"privat": "unknown field; accepted fields are: type, name, namespace, organization, private, visibility, sdk, exist_ok"}},
		{"DELETE", "/api/repo", `{"name":"a/b","force":true}`, `unknown field "force"`,
			map[string]string{"force": "unknown field; accepted fields are: type, name, namespace, missing_ok"}},
		{"GET", "/api/repo?name=a/b&rev=main", ``, "rev: unknown query parameter",
			map[string]string{"rev": "unknown query parameter; accepted: type, name, namespace, revision"}},
		{"PUT", "/api/repo", `{"name":"a/b","private":"yes"}`, "private: must be true or false",
			map[string]string{"private": "must be true or false, got string"}},
	} {
		r := h.json(t, tc.method, tc.path, tc.body)
		checkError(t, r, 400, tc.want)
		if tc.fields != nil && fmt.Sprint(r.json["fields"]) != fmt.Sprint(tc.fields) {
			t.Errorf("%s %s: fields = %v, want %v", tc.method, tc.body, r.json["fields"], tc.fields)
		}
	}
	if n := len(h.fake.Requests()); n != 0 {
		t.Errorf("invalid requests reached the Hub %d times", n)
	}
}

// TestCreateWithNamespace: POST takes the original hf-micro's "namespace" (the repository id) as PUT and
// DELETE do; with "name" as well, the two must agree.
func TestCreateWithNamespace(t *testing.T) {
	h := newHarness(t)
	r := h.json(t, "POST", "/api/repo", `{"type": "spaces", "namespace": "alice/from-namespace", "private": true}`)
	if r.status != 201 || r.json["name"] != "alice/from-namespace" || r.json["type"] != "space" {
		t.Fatalf("create with namespace = %d %s", r.status, r.body)
	}
	if r = h.json(t, "POST", "/api/repo", `{"namespace": "alice/both", "name": "alice/both"}`); r.status != 201 {
		t.Errorf("name and namespace that agree: %d %s", r.status, r.body)
	}
	if _, ok := h.fake.Repo("model", "alice/both"); !ok {
		t.Error("alice/both was not created")
	}
	before := len(h.fake.Requests())
	r = h.json(t, "POST", "/api/repo", `{"namespace": "alice/one", "name": "alice/other"}`)
	checkError(t, r, 400, `namespace: "alice/one" differs from name "alice/other"`)
	if fields, _ := r.json["fields"].(map[string]any); fields["namespace"] == nil {
		t.Errorf("fields = %v", r.json["fields"])
	}
	checkError(t, h.json(t, "POST", "/api/repo", `{"namespace": "alice/x", "organization": "acme"}`), 400, "organization:")
	if after := len(h.fake.Requests()); after != before {
		t.Error("a refused create reached the Hub")
	}
}
