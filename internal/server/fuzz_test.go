package server

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/hf-micro/hf-micro/internal/hub"
)

// FuzzCreateRequest feeds arbitrary bodies through the create route's decoding and validation: no panic, every
// refusal is a client error, and what is accepted is a valid repository for the Hub.
func FuzzCreateRequest(f *testing.F) {
	for _, seed := range []string{
		`{"type": "spaces", "name": "my-space", "private": true}`, `{"namespace":"a/b","name":"a/c"}`,
		`{"name":"acme/m","organization":"acme","visibility":"private","exist_ok":true}`,
		`{"type":"space","name":"a/s","sdk":"gradio"}`,
		`{"name":"../x"}`, `{"name":"a","private":"true"}`, `{"name":"a"} {}`, `[[[[`, `{"gated":[[[[[[[[[[]]]]]]]]]]}`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/api/repo", strings.NewReader(string(body)))
		create, err := decodeValid[createRequest](rec, req, 4096)
		if err == nil {
			checkValidRepo(t, create.Type, create.ID)
			if create.Type == hub.Space && !slices.Contains(spaceSDKs, create.SDK) {
				t.Fatalf("space with sdk %q", create.SDK)
			}
			if create.Private != nil && create.Visibility != "" {
				t.Fatal("both private and visibility")
			}
			return
		}
		if e := toAPIError(err, ""); e.status < 400 || e.status > 499 || e.msg == "" {
			t.Fatalf("refusal %d %q for %q", e.status, e.msg, body)
		}
	})
}

// FuzzUpdateRequest does the same for the settings route.
func FuzzUpdateRequest(f *testing.F) {
	for _, seed := range []string{
		`{"type": "spaces", "namespace": "user/repo", "private": true}`,
		`{"name":"a/b","gated":"auto","discussionsDisabled":true}`, `{"name":"a/b","gated":false}`, `{"name":"a/b","gated":1}`,
		`{"name":"a/b","namespace":"a/c","private":true}`, `{}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("PUT", "/api/repo", strings.NewReader(string(body)))
		update, err := decodeValid[updateRequest](rec, req, 4096)
		if err == nil {
			checkValidRepo(t, update.Type, update.ID)
			if update.ID.Namespace == "" || update.settings == (hub.Settings{}) {
				t.Fatalf("accepted %+v", update)
			}
			if g := update.settings.Gated; g != nil && g != false && g != "auto" && g != "manual" {
				t.Fatalf("gated %v", g)
			}
			return
		}
		if e := toAPIError(err, ""); e.status < 400 || e.status > 499 || e.msg == "" {
			t.Fatalf("refusal %d %q for %q", e.status, e.msg, body)
		}
	})
}

func checkValidRepo(t *testing.T, typ hub.RepoType, id hub.RepoID) {
	t.Helper()
	if !slices.Contains(hub.RepoTypes, typ) {
		t.Fatalf("type %q", typ)
	}
	if again, err := hub.ParseRepoID(id.String()); err != nil || again != id {
		t.Fatalf("id %+v does not re-parse: %v", id, err)
	}
}
