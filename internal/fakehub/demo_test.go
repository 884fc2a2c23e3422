package fakehub

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestDemo(t *testing.T) {
	h, tok := Demo()
	srv := httptest.NewServer(h)
	defer srv.Close()
	w := &world{h: h, srv: srv}

	me := w.do(t, "GET", "/api/whoami-v2", tok, nil).object(t)
	orgs, _ := me["orgs"].([]any)
	if me["name"] != "demo" || me["fullname"] != "Demo User" || len(orgs) != 1 ||
		orgs[0].(map[string]any)["name"] != "demo-org" || orgs[0].(map[string]any)["roleInOrg"] != "admin" {
		t.Errorf("whoami = %v", me)
	}
	if role := me["auth"].(map[string]any)["accessToken"].(map[string]any)["role"]; role != "write" {
		t.Errorf("demo token role = %v", role)
	}

	for _, c := range []struct{ typ, id string }{
		{"model", "demo/hello-model"}, {"model", "demo-org/shared-model"}, {"dataset", "demo/notes-dataset"},
		{"space", "demo/hello-space"}, {"kernel", "demo/hello-kernel"},
	} {
		if r := w.do(t, "GET", "/api/"+c.typ+"s/"+c.id, "", nil); r.status != http.StatusOK {
			t.Errorf("%s %s: %d", c.typ, c.id, r.status)
		}
	}
	if rp, _ := h.Repo("space", "demo/hello-space"); rp.SDK != "static" {
		t.Errorf("hello-space sdk = %q", rp.SDK)
	}
	wantError(t, w.do(t, "GET", "/api/models/demo/secret-model", "", nil), http.StatusUnauthorized, "", "Invalid username or password.")
	if r := w.do(t, "GET", "/api/models/demo/secret-model", tok, nil); r.status != http.StatusOK || r.object(t)["private"] != true {
		t.Errorf("secret-model for demo: %d %s", r.status, r.body)
	}

	// A small limit paginates over the community models.
	pages := listAll(t, w, "/api/models?author=community&limit=10", "")
	if len(pages) != 3 || len(slices.Concat(pages...)) < 25 {
		t.Errorf("community pages = %v", pages)
	}
	// The demo user can do everything the demo shows.
	if r := w.do(t, "POST", "/api/repos/create", tok, map[string]any{"name": "new", "organization": "demo-org", "type": "dataset"}); r.status != http.StatusOK {
		t.Errorf("create in demo-org: %d %s", r.status, r.body)
	}
}
