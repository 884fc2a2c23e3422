package fakehub

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRepoInfoFullPayload(t *testing.T) {
	w := newWorld(t)
	w.h.AddRepo("space", "alice/tmp_test_space", false)
	if r := w.do(t, "PUT", "/api/spaces/alice/app/settings", w.alice, map[string]any{"private": true}); r.status != 200 {
		t.Fatal(r.status)
	}
	common := []string{"_id", "author", "createdAt", "disabled", "gated", "id", "lastModified", "likes", "private", "sha", "siblings", "tags"}
	for _, c := range []struct {
		path  string
		extra []string
	}{
		{"/api/models/alice/public-model", []string{"downloads", "modelId"}},
		{"/api/datasets/alice/data", []string{"downloads"}},
		{"/api/kernels/alice/kern", []string{"downloads"}},
		{"/api/spaces/alice/app", []string{"host", "runtime", "sdk", "subdomain"}},
	} {
		r := w.do(t, "GET", c.path, w.alice, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.path, r.status, r.body)
		}
		m := r.object(t)
		want := slices.Sorted(slices.Values(append(slices.Clone(common), c.extra...)))
		if got := keys(m); !slices.Equal(got, want) {
			t.Errorf("%s: keys %v, want %v", c.path, got, want)
		}
		if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(m["_id"].(string)) || !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(m["sha"].(string)) ||
			m["author"] != "alice" || m["disabled"] != false || m["gated"] != false || m["likes"] != 0.0 {
			t.Errorf("%s: %s", c.path, r.body)
		}
		for _, k := range []string{"createdAt", "lastModified"} {
			if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(m[k].(string)) {
				t.Errorf("%s: %s = %v", c.path, k, m[k])
			}
		}
		if !strings.Contains(string(r.body), `"siblings":[{"rfilename":".gitattributes"},{"rfilename":"README.md"}]`) {
			t.Errorf("%s: siblings in %s", c.path, r.body)
		}
		if !strings.HasPrefix(string(r.body), `{"_id":"`+m["_id"].(string)+`","id":`) {
			t.Errorf("%s: body does not start with _id, id: %s", c.path, r.body)
		}
	}

	// Same ObjectId and sha on every read.
	a := w.do(t, "GET", "/api/models/alice/public-model", w.alice, nil).object(t)
	b := w.do(t, "GET", "/api/models/Alice/PUBLIC-model", "", nil).object(t)
	if a["_id"] != b["_id"] || a["sha"] != b["sha"] || b["id"] != "alice/public-model" || b["modelId"] != "alice/public-model" {
		t.Errorf("two reads differ: %v / %v", a, b)
	}

	// Spaces: the subdomain and runtime of the recordings (test_space_runtime.yaml and
	// test_static_space_runtime.yaml).
	rp := w.do(t, "GET", "/api/spaces/alice/tmp_test_space", w.alice, nil)
	m := rp.object(t)
	if m["sdk"] != "static" || m["subdomain"] != "alice-tmp-test-space" || m["private"] != false {
		t.Errorf("space: %s", rp.body)
	}
	if !strings.Contains(string(rp.body), `"runtime":{"stage":"RUNNING","hardware":{"current":null,"requested":null}`) {
		t.Errorf("static space runtime: %s", rp.body)
	}
	w.do(t, "POST", "/api/repos/create", w.alice, map[string]any{"name": "g", "type": "space", "sdk": "gradio"})
	if r := w.do(t, "GET", "/api/spaces/alice/g", w.alice, nil); !strings.Contains(string(r.body), `"runtime":{"stage":"BUILDING","hardware":{"current":null,"requested":"cpu-basic"}`) {
		t.Errorf("gradio space runtime: %s", r.body)
	}
}

func TestRepoInfoExpand(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		query string
		want  string
	}{
		// What the recordings' Python client asks (test_manage_secrets.yaml): {_id, id, xetEnabled}.
		{"/api/spaces/alice/app/revision/main?expand=xetEnabled", `{"_id":"%s","id":"alice/app","xetEnabled":false}`},
		// JS repoExists sends the literal key expand[].
		{"/api/models/alice/public-model?expand[]=likes", `{"_id":"%s","id":"alice/public-model","likes":0}`},
		{"/api/models/alice/public-model?expand%5B%5D=likes", `{"_id":"%s","id":"alice/public-model","likes":0}`},
		// JS modelInfo.
		{"/api/models/alice/public-model/revision/HEAD?expand=pipeline_tag&expand=private&expand=gated&expand=downloads&expand=likes&expand=lastModified",
			`{"_id":"%s","id":"alice/public-model","lastModified":"*","private":false,"gated":false,"downloads":0,"likes":0,"pipeline_tag":null}`},
		// JS spaceInfo.
		{"/api/spaces/alice/app/revision/HEAD?expand=sdk&expand=likes&expand=private&expand=lastModified",
			`{"_id":"%s","id":"alice/app","lastModified":"*","private":false,"likes":0,"sdk":"static"}`},
		{"/api/datasets/alice/data?expand=downloadsAllTime&expand=paperswithcode_id", `{"_id":"%s","id":"alice/data","downloadsAllTime":0,"paperswithcode_id":null}`},
	} {
		r := w.do(t, "GET", c.query, w.alice, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.query, r.status, r.body)
		}
		m := r.object(t)
		want := strings.Replace(c.want, "%s", m["_id"].(string), 1)
		if lm, ok := m["lastModified"].(string); ok {
			want = strings.Replace(want, "*", lm, 1)
		}
		if string(r.body) != want {
			t.Errorf("%s:\n got %s\nwant %s", c.query, r.body, want)
		}
	}

	for _, q := range []string{"/api/models/alice/public-model?expand=nonsense", "/api/spaces/alice/app?expand=downloads", "/api/models/alice/public-model?expand[]=sdk"} {
		r := w.do(t, "GET", q, w.alice, nil)
		wantError(t, r, http.StatusBadRequest, "", "")
		if msg := r.object(t)["error"].(string); !strings.Contains(msg, "must be one of") || !strings.Contains(msg, "likes") {
			t.Errorf("%s: error %q does not list the valid values", q, msg)
		}
	}
}

func TestRepoInfoRevisions(t *testing.T) {
	w := newWorld(t)
	sha := w.do(t, "GET", "/api/models/alice/public-model", w.alice, nil).object(t)["sha"].(string)
	for _, rev := range []string{"main", "HEAD", "refs%2Fpr%2F1", sha} {
		r := w.do(t, "GET", "/api/models/alice/public-model/revision/"+rev, w.alice, nil)
		if r.status != http.StatusOK || r.object(t)["id"] != "alice/public-model" {
			t.Errorf("revision %s: %d %s", rev, r.status, r.body)
		}
	}
	wantError(t, w.do(t, "GET", "/api/models/alice/public-model/revision/refs%2Fpr%2F9", w.alice, nil),
		http.StatusNotFound, "RevisionNotFound", "Invalid rev id: refs/pr/9")
	wantError(t, w.do(t, "GET", "/api/datasets/alice/data/revision/dev", "", nil),
		http.StatusNotFound, "RevisionNotFound", "Invalid rev id: dev")
	// A decoded slash makes other segments: no such page, which catches a proxy that decodes.
	wantError(t, w.do(t, "GET", "/api/models/alice/public-model/revision/refs/pr/1", w.alice, nil),
		http.StatusNotFound, "", "Sorry, we can't find the page you are looking for.")
	// A missing repo wins over a bad revision.
	wantError(t, w.do(t, "GET", "/api/models/alice/nope/revision/dev", w.alice, nil), http.StatusNotFound, "RepoNotFound", "Repository not found")
}

func TestRepoInfoVisibility(t *testing.T) {
	w := newWorld(t)
	carolsRead := w.h.IssueToken("carol", RoleRead)
	for _, c := range []struct {
		name, path, token string
		status            int
		code, msg         string
	}{
		{"public, anonymous", "/api/models/alice/public-model", "", 200, "", ""},
		{"public, other user", "/api/models/alice/public-model", w.bob, 200, "", ""},
		{"private, owner", "/api/models/alice/private-model", w.alice, 200, "", ""},
		{"private, owner's read token", "/api/models/alice/private-model/revision/main", w.aliceRead, 200, "", ""},
		{"org private, admin", "/api/models/acme/team-secret", w.alice, 200, "", ""},
		{"org private, read member", "/api/models/acme/team-secret", w.bob, 200, "", ""},
		{"org private, contributor's read token", "/api/models/acme/team-secret", carolsRead, 200, "", ""},
		{"private, other user", "/api/models/alice/private-model", w.bob, 404, "RepoNotFound", "Repository not found"},
		{"missing, signed in", "/api/models/alice/nope", w.bob, 404, "RepoNotFound", "Repository not found"},
		{"missing type", "/api/datasets/alice/public-model", w.alice, 404, "RepoNotFound", "Repository not found"},
		{"private, anonymous", "/api/models/alice/private-model", "", 401, "", "Invalid username or password."},
		{"missing, anonymous", "/api/models/alice/nope/revision/main", "", 401, "", "Invalid username or password."},
		{"missing, JS without token", "/api/spaces/alice/nope?expand[]=likes", "undefined", 401, "", "Invalid username or password."},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := w.do(t, "GET", c.path, c.token, nil)
			if c.status == 200 {
				if r.status != 200 || r.object(t)["_id"] == nil {
					t.Errorf("%d %s", r.status, r.body)
				}
				return
			}
			wantError(t, r, c.status, c.code, c.msg)
		})
	}
}
