package dropin

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/policy"
)

func TestIsHubPath(t *testing.T) {
	for path, want := range map[string]bool{
		"/api/models": true, "/api/whoami-v2": true, "/api/spaces/a/b/runtime": true,
		"/alice/m/resolve/main/config.json": true, "/datasets/alice/d/resolve/main/data/x.parquet": true,
		"/spaces/alice/s/resolve/main/app.py": true, "/alice/m.git/info/lfs/objects/batch": true,
		"/datasets/alice/d.git/info/lfs/objects/batch": true,
		"/": false, "/api": false, "/alice/m": false, "/alice/m/blob/main/x": false, "/models/alice/m/resolve/main/x": false,
		"/settings/tokens": false, "/alice/m/resolve": false, "/alice/m.git/HEAD": false, "/datasets/alice/d": false,
	} {
		if got := IsHubPath(path); got != want {
			t.Errorf("IsHubPath(%q) = %v", path, got)
		}
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		method, path, body string
		want               []Target
	}{
		{"GET", "/api/models", "", []Target{{Action: policy.Read}}},
		{"HEAD", "/alice/m/resolve/main/x.bin", "", []Target{{policy.Read, hub.Model, id("alice/m")}}},
		{"GET", "/datasets/alice/d/resolve/main/x", "", []Target{{policy.Read, hub.Dataset, id("alice/d")}}},
		{"GET", "/api/spaces/alice/s/revision/main", "", []Target{{policy.Read, hub.Space, id("alice/s")}}},
		{"PUT", "/api/models/alice/m/settings", "", []Target{{policy.Update, hub.Model, id("alice/m")}}},
		{"POST", "/api/datasets/acme/d/commit/main", "", []Target{{policy.Update, hub.Dataset, id("acme/d")}}},
		{"POST", "/acme/m.git/info/lfs/objects/batch", "", []Target{{policy.Update, hub.Model, id("acme/m")}}},
		{"DELETE", "/api/models/acme/m/branch/dev", "", []Target{{policy.Update, hub.Model, id("acme/m")}}},
		{"POST", "/api/something", "", []Target{{Action: policy.Update}}},
		{"POST", "/api/models/../x/commit", "", []Target{{Action: policy.Update}}},
		{"POST", "/api/repos/create", `{"name":"m","organization":"acme","type":"dataset"}`, []Target{{policy.Create, hub.Dataset, id("acme/m")}}},
		{"POST", "/api/repos/create", `{"name":"m"}`, []Target{{policy.Create, hub.Model, id("m")}}},
		{"POST", "/api/repos/create", `not json`, []Target{{Action: policy.Create}}},
		{"DELETE", "/api/repos/delete", `{"name":"m","organization":"acme","type":"space"}`, []Target{{policy.Delete, hub.Space, id("acme/m")}}},
		{"POST", "/api/repos/move", `{"fromRepo":"acme/a","toRepo":"bob/b","type":"model"}`,
			[]Target{{policy.Update, hub.Model, id("acme/a")}, {policy.Update, hub.Model, id("bob/b")}}},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		if got := Classify(r, []byte(tc.body)); !equal(got, tc.want) {
			t.Errorf("%s %s %s: %+v, want %+v", tc.method, tc.path, tc.body, got, tc.want)
		}
		if want := strings.HasPrefix(tc.path, "/api/repos/"); NeedsBody(r) != want {
			t.Errorf("%s %s: NeedsBody = %v", tc.method, tc.path, !want)
		}
	}
}

func equal(a, b []Target) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func id(s string) hub.RepoID {
	parsed, err := hub.ParseRepoID(s)
	if err != nil {
		panic(err)
	}
	return parsed
}
