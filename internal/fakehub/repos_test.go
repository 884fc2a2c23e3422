package fakehub

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestCreateRepo(t *testing.T) {
	w := newWorld(t)
	objectID := regexp.MustCompile(`^[0-9a-f]{24}$`)
	for _, c := range []struct {
		name                                   string
		body                                   map[string]any
		token                                  func(*world) string
		wantType, wantID, wantURLPath, wantSDK string
		wantPrivate                            bool
	}{
		{"python model without type", map[string]any{"name": "m1", "organization": "alice"}, tokenAlice, "model", "alice/m1", "/alice/m1", "", false},
		{"organization null means the token owner", map[string]any{"name": "m2", "organization": nil, "type": "model"}, tokenAlice, "model", "alice/m2", "/alice/m2", "", false},
		{"private dataset by visibility", map[string]any{"name": "d1", "visibility": "private", "type": "dataset"}, tokenAlice, "dataset", "alice/d1", "/datasets/alice/d1", "", true},
		{"old python private bool", map[string]any{"name": "s1", "organization": "alice", "private": true, "type": "space", "sdk": "gradio"}, tokenAlice, "space", "alice/s1", "/spaces/alice/s1", "gradio", true},
		{"protected space", map[string]any{"name": "s2", "visibility": "protected", "type": "space", "sdk": "docker"}, tokenAlice, "space", "alice/s2", "/spaces/alice/s2", "docker", false},
		{"kernel", map[string]any{"name": "k1", "type": "kernel"}, tokenAlice, "kernel", "alice/k1", "/kernels/alice/k1", "", false},
		{"documented options are accepted", map[string]any{"name": "s3", "type": "space", "sdk": "static", "license": "mit",
			"hardware": "cpu-basic", "secrets": []any{map[string]any{"key": "K", "value": "v"}}, "files": []any{},
			"sleepTimeSeconds": -1, "storageTier": "small", "resourceGroupId": nil, "region": "us"}, tokenAlice, "space", "alice/s3", "/spaces/alice/s3", "static", false},
		{"org admin", map[string]any{"name": "o1", "organization": "acme"}, tokenAlice, "model", "acme/o1", "/acme/o1", "", false},
		{"org writer", map[string]any{"name": "o2", "organization": "acme"}, func(w *world) string { return w.dave }, "model", "acme/o2", "/acme/o2", "", false},
		{"org contributor", map[string]any{"name": "o3", "organization": "ACME"}, func(w *world) string { return w.carol }, "model", "acme/o3", "/acme/o3", "", false},
		{"name rules allow _ at the edges", map[string]any{"name": "_x.y-z_"}, tokenAlice, "model", "alice/_x.y-z_", "/alice/_x.y-z_", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := w.do(t, "POST", "/api/repos/create", c.token(w), c.body)
			if r.status != http.StatusOK {
				t.Fatalf("status %d (want 200, not 201): %s", r.status, r.body)
			}
			m := r.object(t)
			if got := keys(m); !slices.Equal(got, []string{"id", "name", "url"}) {
				t.Errorf("keys = %v", got)
			}
			if m["url"] != w.srv.URL+c.wantURLPath || m["name"] != c.wantID || !objectID.MatchString(m["id"].(string)) {
				t.Errorf("reply = %s", r.body)
			}
			rp, ok := w.h.Repo(c.wantType, c.wantID)
			if !ok || rp.ObjectID != m["id"] || rp.Private != c.wantPrivate || rp.SDK != c.wantSDK || rp.ID != c.wantID {
				t.Errorf("stored = %+v, %v", rp, ok)
			}
		})
	}
}

func tokenAlice(w *world) string { return w.alice }

func TestCreateRepoErrors(t *testing.T) {
	w := newWorld(t)
	const invalidCreds = "Invalid credentials in Authorization header"
	for _, c := range []struct {
		name   string
		token  func(*world) string
		body   any
		status int
		msg    string // "" checks only that there is one; a prefix ending in "*" checks the start
	}{
		{"anonymous", func(*world) string { return "" }, map[string]any{"name": "x"}, 401, invalidCreds},
		{"read token", func(w *world) string { return w.aliceRead }, map[string]any{"name": "x", "type": "dataset"}, 403,
			"You don't have the rights to create a dataset under this namespace"},
		{"someone else's namespace", func(w *world) string { return w.bob }, map[string]any{"name": "x", "organization": "alice"}, 403,
			"You don't have the rights to create a model under this namespace"},
		{"org read member", func(w *world) string { return w.bob }, map[string]any{"name": "x", "organization": "acme", "type": "space", "sdk": "static"}, 403,
			"You don't have the rights to create a space under this namespace"},
		{"unknown org", tokenAlice, map[string]any{"name": "x", "organization": "nobody"}, 403, ""},
		{"plural type", tokenAlice, map[string]any{"name": "x", "type": "spaces", "sdk": "gradio"}, 400, `Invalid repo type "spaces"*`},
		{"unknown type", tokenAlice, map[string]any{"name": "x", "type": "bucket"}, 400, `Invalid repo type "bucket"*`},
		{"private as a string", tokenAlice, map[string]any{"name": "x", "private": "true"}, 400, `"private" must be of type boolean, not string`},
		{"private and visibility", tokenAlice, map[string]any{"name": "x", "private": true, "visibility": "private"}, 400, "Cannot specify both private and visibility"},
		{"bad visibility", tokenAlice, map[string]any{"name": "x", "visibility": "secret"}, 400, `Invalid visibility "secret"*`},
		{"protected model", tokenAlice, map[string]any{"name": "x", "visibility": "protected"}, 400, `Visibility "protected" is only available for spaces`},
		{"space without sdk", tokenAlice, map[string]any{"name": "x", "type": "space"}, 400, `"sdk" is required for spaces*`},
		{"streamlit", tokenAlice, map[string]any{"name": "x", "type": "space", "sdk": "streamlit"}, 400, `The "streamlit" sdk is deprecated: create a "docker" Space*`},
		{"unknown sdk", tokenAlice, map[string]any{"name": "x", "type": "space", "sdk": "flask"}, 400, `Invalid sdk "flask"*`},
		{"sdk on a model", tokenAlice, map[string]any{"name": "x", "sdk": "gradio"}, 400, `"sdk" is only valid for spaces`},
		{"unknown field", tokenAlice, map[string]any{"name": "x", "colour": "red"}, 400, `Unknown field "colour"`},
		{"missing name", tokenAlice, map[string]any{"organization": "alice"}, 400, `"name" is required`},
		{"not JSON", tokenAlice, "name=x", 400, "Invalid JSON body*"},
		{"a JSON array", tokenAlice, "[]", 400, "Request body must be a JSON object"},
		{"empty body", tokenAlice, "", 400, "Request body must be a JSON object"},
		{"trailing data", tokenAlice, `{"name":"x"} {}`, 400, "Invalid JSON body*"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := w.do(t, "POST", "/api/repos/create", c.token(w), c.body)
			prefix, isPrefix := strings.CutSuffix(c.msg, "*")
			if isPrefix {
				wantError(t, r, c.status, "", "")
				if got := r.object(t)["error"].(string); !strings.HasPrefix(got, prefix) {
					t.Errorf("error = %q, want it to start with %q", got, prefix)
				}
				return
			}
			wantError(t, r, c.status, "", c.msg)
		})
	}
	if n := len(w.h.Requests()); n == 0 {
		t.Error("no request recorded")
	}
}

func TestCreateRepoNameRules(t *testing.T) {
	w := newWorld(t)
	for _, name := range []string{"-a", "a-", ".a", "a.", "a--b", "a..b", "a/b", "repo.git", "café", "a b",
		strings.Repeat("a", 97)} {
		r := w.do(t, "POST", "/api/repos/create", w.alice, map[string]any{"name": name})
		wantError(t, r, http.StatusBadRequest, "", nameRule)
	}
	if r := w.do(t, "POST", "/api/repos/create", w.alice, map[string]any{"name": strings.Repeat("a", 96)}); r.status != http.StatusOK {
		t.Errorf("96 characters: status %d", r.status)
	}
}

func TestCreateRepoNeedsJSONContentType(t *testing.T) {
	w := newWorld(t)
	req, _ := http.NewRequest("POST", w.srv.URL+"/api/repos/create", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Authorization", "Bearer "+w.alice)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("text/plain body: status %d, want 400", resp.StatusCode)
	}
	if _, ok := w.h.Repo("model", "alice/x"); ok {
		t.Error("repo created from a text/plain body")
	}
}

func TestCreateExistingRepoIs409WithURL(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		body     map[string]any
		msg, url string
	}{
		{map[string]any{"name": "PUBLIC-MODEL"}, "You already created this model repo", "/alice/public-model"},
		{map[string]any{"name": "data", "type": "dataset"}, "You already created this dataset repo", "/datasets/alice/data"},
		{map[string]any{"name": "app", "type": "space", "sdk": "gradio"}, "You already created this space repo", "/spaces/alice/app"},
		{map[string]any{"name": "team-model", "organization": "acme"}, "You already created this model repo", "/acme/team-model"},
	} {
		r := w.do(t, "POST", "/api/repos/create", w.alice, c.body)
		wantError(t, r, http.StatusConflict, "", c.msg)
		if got := r.object(t)["url"]; got != w.srv.URL+c.url {
			t.Errorf("url = %v, want %s", got, w.srv.URL+c.url)
		}
	}
	// The same name under another type is no conflict.
	if r := w.do(t, "POST", "/api/repos/create", w.alice, map[string]any{"name": "public-model", "type": "dataset"}); r.status != http.StatusOK {
		t.Errorf("dataset named like a model: status %d", r.status)
	}
}

// TestCreateMatchesRecordings holds create to the replies recorded against huggingface.co on
// 2025-03-07 (huggingface_hub's tests/cassettes/TestSpaceAPIProduction.test_manage_variables.yaml
// for the 200 and test_manage_secrets.yaml for the 409; docs/hub-contract.md §3), sending the recorded request.
func TestCreateMatchesRecordings(t *testing.T) {
	w := newWorld(t)
	w.h.AddUser("user")
	tok := w.h.IssueToken("user", RoleWrite)
	const recordedRequest = `{"name": "tmp_test_space", "organization": "user", "private": true,
      "type": "space", "sdk": "gradio"}`
	// Recorded bodies, kept for their shapes:
	//   200 {"url":"https://huggingface.co/spaces/user/tmp_test_space","name":"user/tmp_test_space","id":"67cae56f9b4f4ee4713c83e7"}
	//   409 {"error":"You already created this space repo","url":"https://huggingface.co/spaces/user/tmp_test_space"}
	// both with Content-Type "application/json; charset=utf-8" and X-Powered-By "huggingface-moon".
	for _, c := range []struct {
		status int
		keys   []string
		want   map[string]any
	}{
		{200, []string{"id", "name", "url"}, map[string]any{"url": w.srv.URL + "/spaces/user/tmp_test_space", "name": "user/tmp_test_space"}},
		{409, []string{"error", "url"}, map[string]any{"error": "You already created this space repo", "url": w.srv.URL + "/spaces/user/tmp_test_space"}},
	} {
		req, _ := http.NewRequest("POST", w.srv.URL+"/api/repos/create", strings.NewReader(recordedRequest))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Amzn-Trace-Id", "47a4cc5f-9a1b-44b2-9cef-901111fd2498")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r := readResponse(t, resp)
		if r.status != c.status {
			t.Fatalf("status %d, want %d", r.status, c.status)
		}
		m := r.object(t)
		if got := keys(m); !slices.Equal(got, c.keys) {
			t.Errorf("%d: keys %v, want %v", c.status, got, c.keys)
		}
		for k, v := range c.want {
			if m[k] != v {
				t.Errorf("%d: %s = %v, want %v", c.status, k, m[k], v)
			}
		}
		if r.header.Get("X-Powered-By") != "huggingface-moon" ||
			!strings.HasSuffix(r.header.Get("X-Request-Id"), ";47a4cc5f-9a1b-44b2-9cef-901111fd2498") {
			t.Errorf("%d: headers %v", c.status, r.header)
		}
	}
}

func TestCreateOverTLSUsesHTTPSURLs(t *testing.T) {
	h := New()
	h.AddUser("alice")
	tok := h.IssueToken("alice", RoleWrite)
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/api/repos/create", strings.NewReader(`{"name":"m","type":"model"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	m := readResponse(t, resp).object(t)
	if !strings.HasPrefix(srv.URL, "https://") || m["url"] != srv.URL+"/alice/m" {
		t.Errorf("url = %v, want %s/alice/m", m["url"], srv.URL)
	}
}

func TestConcurrentCreates(t *testing.T) {
	w := newWorld(t)
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Go(func() {
			// Half of them race for the same name: exactly one may win.
			name := "same"
			if i%2 == 1 {
				name = "m" + strings.Repeat("x", i)
			}
			req, _ := http.NewRequest("POST", w.srv.URL+"/api/repos/create", strings.NewReader(`{"name":"`+name+`"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+w.alice)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err) // not Fatal: this is not the test's goroutine
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	var ok, conflict int
	for _, s := range statuses {
		switch s {
		case 200:
			ok++
		case 409:
			conflict++
		}
	}
	if ok != 11 || conflict != 9 {
		t.Errorf("%d created and %d conflicts, want 11 and 9 (%v)", ok, conflict, statuses)
	}
}

func TestDeleteRepo(t *testing.T) {
	w := newWorld(t)
	// Carol (contributor) creates one acme repo; she may delete it but not the others.
	if r := w.do(t, "POST", "/api/repos/create", w.carol, map[string]any{"name": "carols", "organization": "acme"}); r.status != 200 {
		t.Fatalf("create: %d", r.status)
	}
	for _, c := range []struct {
		name   string
		token  string
		body   map[string]any
		status int
		code   string
		msg    string
	}{
		{"anonymous", "", map[string]any{"name": "public-model", "organization": "alice"}, 401, "", "Invalid credentials in Authorization header"},
		{"missing", w.alice, map[string]any{"name": "nope", "organization": "alice", "type": "model"}, 404, "RepoNotFound", "Repository not found"},
		{"wrong type", w.alice, map[string]any{"name": "public-model", "organization": "alice", "type": "dataset"}, 404, "RepoNotFound", "Repository not found"},
		{"someone else's private repo", w.bob, map[string]any{"name": "private-model", "organization": "alice"}, 404, "RepoNotFound", "Repository not found"},
		{"read token", w.aliceRead, map[string]any{"name": "public-model", "organization": "alice"}, 403, "", "You don't have the rights to delete this model"},
		{"no rights", w.bob, map[string]any{"name": "public-model", "organization": "alice"}, 403, "", "You don't have the rights to delete this model"},
		{"org read member", w.bob, map[string]any{"name": "team-secret", "organization": "acme"}, 403, "", ""},
		{"contributor, not the creator", w.carol, map[string]any{"name": "team-model", "organization": "acme"}, 403, "", ""},
		{"plural type", w.alice, map[string]any{"name": "app", "organization": "alice", "type": "spaces"}, 400, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, w.do(t, "DELETE", "/api/repos/delete", c.token, c.body), c.status, c.code, c.msg)
		})
	}

	for _, c := range []struct {
		token string
		body  map[string]any
		typ   string
		id    string
	}{
		{w.alice, map[string]any{"name": "app", "organization": "alice", "type": "space"}, "space", "alice/app"},
		{w.alice, map[string]any{"name": "Public-Model", "organization": nil}, "model", "alice/public-model"}, // Python: no type, org null
		{w.carol, map[string]any{"name": "carols", "organization": "acme", "type": "model"}, "model", "acme/carols"},
		{w.dave, map[string]any{"name": "team-secret", "organization": "acme", "type": "model"}, "model", "acme/team-secret"},
	} {
		r := w.do(t, "DELETE", "/api/repos/delete", c.token, c.body)
		if r.status != http.StatusOK || string(r.body) != "OK" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("delete %s: %d %q %q", c.id, r.status, r.header.Get("Content-Type"), r.body)
		}
		if _, ok := w.h.Repo(c.typ, c.id); ok {
			t.Errorf("%s still exists", c.id)
		}
	}
	// Deleting again: gone, with the code Python's missing_ok needs.
	wantError(t, w.do(t, "DELETE", "/api/repos/delete", w.alice, map[string]any{"name": "app", "organization": "alice", "type": "space"}),
		404, "RepoNotFound", "Repository not found")
}

func TestMoveRepo(t *testing.T) {
	w := newWorld(t)
	before, _ := w.h.Repo("model", "alice/public-model")
	r := w.do(t, "POST", "/api/repos/move", w.alice, map[string]any{"fromRepo": "alice/public-model", "toRepo": "acme/moved", "type": "model"})
	if r.status != http.StatusOK || string(r.body) != "OK" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("move: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	after, ok := w.h.Repo("model", "acme/moved")
	if !ok || after.ObjectID != before.ObjectID || after.ID != "acme/moved" {
		t.Errorf("moved repo = %+v, %v", after, ok)
	}
	if _, ok := w.h.Repo("model", "alice/public-model"); ok {
		t.Error("old id still exists")
	}
	if r := w.do(t, "GET", "/api/models/acme/moved", w.alice, nil); r.status != http.StatusOK || r.object(t)["id"] != "acme/moved" {
		t.Errorf("info at the new id: %d %s", r.status, r.body)
	}
	wantError(t, w.do(t, "GET", "/api/models/alice/public-model", w.alice, nil), 404, "RepoNotFound", "Repository not found")

	// Only the case changes: the target is the repo itself.
	if r := w.do(t, "POST", "/api/repos/move", w.alice, map[string]any{"fromRepo": "alice/data", "toRepo": "alice/Data", "type": "dataset"}); r.status != 200 {
		t.Errorf("case-only rename: %d %s", r.status, r.body)
	}
	if rp, _ := w.h.Repo("dataset", "alice/data"); rp.ID != "alice/Data" {
		t.Errorf("after case-only rename: %q", rp.ID)
	}

	for _, c := range []struct {
		name   string
		token  string
		body   map[string]any
		status int
		code   string
		msg    string
	}{
		{"anonymous", "", map[string]any{"fromRepo": "alice/kern", "toRepo": "alice/k2", "type": "kernel"}, 401, "", "Invalid credentials in Authorization header"},
		{"missing source", w.alice, map[string]any{"fromRepo": "alice/nope", "toRepo": "alice/k2", "type": "model"}, 404, "RepoNotFound", "Repository not found"},
		{"target exists", w.alice, map[string]any{"fromRepo": "alice/private-model", "toRepo": "acme/TEAM-MODEL"}, 409, "", "A model repository called acme/team-model already exists"},
		{"read token", w.aliceRead, map[string]any{"fromRepo": "alice/kern", "toRepo": "alice/k2", "type": "kernel"}, 403, "", ""},
		{"no rights on source", w.bob, map[string]any{"fromRepo": "alice/kern", "toRepo": "bob/k2", "type": "kernel"}, 403, "", "You don't have the rights to move this kernel"},
		{"no rights on target", w.alice, map[string]any{"fromRepo": "alice/kern", "toRepo": "bob/k2", "type": "kernel"}, 403, "", "You don't have the rights to create a kernel under this namespace"},
		{"invalid target name", w.alice, map[string]any{"fromRepo": "alice/kern", "toRepo": "alice/-k", "type": "kernel"}, 400, "", nameRule},
		{"target without namespace", w.alice, map[string]any{"fromRepo": "alice/kern", "toRepo": "k2", "type": "kernel"}, 400, "", ""},
		{"unknown field", w.alice, map[string]any{"fromRepo": "alice/kern", "toRepo": "alice/k2", "kind": "kernel"}, 400, "", `Unknown field "kind"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, w.do(t, "POST", "/api/repos/move", c.token, c.body), c.status, c.code, c.msg)
		})
	}
}

func TestUpdateSettings(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		path string
		body map[string]any
		want map[string]any
	}{
		{"/api/models/alice/public-model/settings", map[string]any{"visibility": "private"},
			map[string]any{"private": true, "visibility": "private", "gated": false, "discussionsDisabled": false}},
		{"/api/models/ALICE/Public-Model/settings", map[string]any{"private": false, "gated": "auto"},
			map[string]any{"private": false, "visibility": "public", "gated": "auto", "discussionsDisabled": false}},
		{"/api/models/alice/public-model/settings", map[string]any{"gated": false, "discussionsDisabled": true, "discussionsSorting": "trending",
			"gatedNotificationsEmail": "a@example.com", "gatedNotificationsMode": "bulk"},
			map[string]any{"private": false, "visibility": "public", "gated": false, "discussionsDisabled": true}},
		{"/api/spaces/alice/app/settings", map[string]any{"visibility": "protected", "gated": "manual"},
			map[string]any{"private": false, "visibility": "protected", "gated": "manual", "discussionsDisabled": false}},
		{"/api/datasets/alice/data/settings", map[string]any{"private": true},
			map[string]any{"private": true, "visibility": "private", "gated": false, "discussionsDisabled": false}},
		{"/api/kernels/alice/kern/settings", map[string]any{"private": true},
			map[string]any{"private": true, "visibility": "private", "gated": false, "discussionsDisabled": false}},
	} {
		r := w.do(t, "PUT", c.path, w.alice, c.body)
		if r.status != http.StatusOK {
			t.Fatalf("%s %v: %d %s", c.path, c.body, r.status, r.body)
		}
		m := r.object(t)
		if got := keys(m); !slices.Equal(got, keys(c.want)) {
			t.Errorf("keys %v", got)
		}
		for k, v := range c.want {
			if m[k] != v {
				t.Errorf("%s %v: %s = %v, want %v", c.path, c.body, k, m[k], v)
			}
		}
	}
	rp, _ := w.h.Repo("model", "alice/public-model")
	if rp.Private || rp.Gated != false || !rp.DiscussionsDisabled {
		t.Errorf("stored = %+v", rp)
	}
	if rp, _ := w.h.Repo("dataset", "alice/data"); !rp.Private {
		t.Error("dataset did not become private")
	}
	// Info reflects a change, and a now-private repo hides from others.
	if m := w.do(t, "GET", "/api/spaces/alice/app?expand=gated", w.bob, nil).object(t); m["gated"] != "manual" {
		t.Errorf("info gated = %v", m["gated"])
	}
	wantError(t, w.do(t, "GET", "/api/datasets/alice/data", w.bob, nil), 404, "RepoNotFound", "Repository not found")
}

func TestUpdateSettingsErrors(t *testing.T) {
	w := newWorld(t)
	const path = "/api/models/alice/public-model/settings"
	for _, c := range []struct {
		name   string
		token  string
		path   string
		body   any
		status int
		code   string
		msg    string
	}{
		{"anonymous", "", path, map[string]any{"private": true}, 401, "", "Invalid credentials in Authorization header"},
		{"empty object", w.alice, path, map[string]any{}, 400, "", "No settings to update"},
		{"unknown field", w.alice, path, map[string]any{"xetEnabled": true}, 400, "", `Unknown field "xetEnabled"`},
		{"private as a string", w.alice, path, map[string]any{"private": "yes"}, 400, "", `"private" must be of type boolean, not string`},
		{"both", w.alice, path, map[string]any{"private": true, "visibility": "public"}, 400, "", "Cannot specify both private and visibility"},
		{"protected model", w.alice, path, map[string]any{"visibility": "protected"}, 400, "", `Visibility "protected" is only available for spaces`},
		{"gated true", w.alice, path, map[string]any{"gated": true}, 400, "", `"gated" must be false, "auto" or "manual"`},
		{"gated other", w.alice, path, map[string]any{"gated": "open"}, 400, "", `"gated" must be false, "auto" or "manual"`},
		{"discussions as a string", w.alice, path, map[string]any{"discussionsDisabled": "true"}, 400, "", ""},
		{"bad sorting", w.alice, path, map[string]any{"discussionsSorting": "newest"}, 400, "", ""},
		{"missing repo", w.alice, "/api/models/alice/nope/settings", map[string]any{"private": true}, 404, "RepoNotFound", "Repository not found"},
		{"private repo of another user", w.bob, "/api/models/alice/private-model/settings", map[string]any{"private": false}, 404, "RepoNotFound", "Repository not found"},
		{"read token", w.aliceRead, path, map[string]any{"private": true}, 403, "", "You don't have the rights to update the settings of this model"},
		{"no rights", w.bob, path, map[string]any{"private": true}, 403, "", "You don't have the rights to update the settings of this model"},
		{"org read member", w.bob, "/api/models/acme/team-secret/settings", map[string]any{"private": false}, 403, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, w.do(t, "PUT", c.path, c.token, c.body), c.status, c.code, c.msg)
		})
	}
	if rp, _ := w.h.Repo("model", "alice/public-model"); rp.Private || rp.Gated != false {
		t.Errorf("a refused update changed the repo: %+v", rp)
	}
}
