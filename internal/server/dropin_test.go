package server

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/fakehub"
	"github.com/hf-micro/hf-micro/internal/policy"
)

// keyedHarness is hf-micro with one client key, in front of the fake Hub of newHarness.
func keyedHarness(t *testing.T, p policy.Policy) (*harness, string) {
	t.Helper()
	key := auth.GenerateKey()
	keys, _ := auth.ParseKeys([]string{key})
	fake := fakehub.New()
	fake.AddUser("alice")
	fake.AddOrg("acme", map[string]string{"alice": "admin"})
	fake.AddRepo("model", "alice/existing", false)
	for i := range 7 {
		fake.AddRepo("model", "acme/listed-"+string(rune('a'+i)), false)
	}
	hubServer := httptest.NewServer(fake)
	t.Cleanup(hubServer.Close)
	h := startServer(t, fake, hubServer.URL, fake.IssueToken("alice", fakehub.RoleWrite),
		setup{opts: Options{Auth: auth.Options{Keys: keys, CallerTokens: true}, Policy: p}, secrets: []string{key}})
	return h, "Bearer " + key
}

func TestDropInPagination(t *testing.T) {
	h, bearer := keyedHarness(t, policy.Policy{})
	next := "/api/models?author=acme&limit=3"
	var ids []string
	for page := 0; next != ""; page++ {
		if page > 5 {
			t.Fatal("pagination does not end")
		}
		r := h.sendFull(t, "GET", strings.TrimPrefix(next, h.url), map[string]string{"Authorization": bearer}, "")
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", page, r.status, r.body)
		}
		ids = append(ids, regexp.MustCompile(`"id":"([^"]+)"`).FindAllString(string(r.body), -1)...)
		next = ""
		if m := regexp.MustCompile(`<([^>]+)>; rel="next"`).FindStringSubmatch(r.header.Get("Link")); m != nil {
			if !strings.HasPrefix(m[1], h.url+"/api/models?") {
				t.Fatalf("the Link points away from hf-micro: %s", m[1])
			}
			next = m[1]
		}
	}
	if len(ids) != 7 {
		t.Errorf("listed %d models over the pages, want 7: %v", len(ids), ids)
	}
	for _, req := range h.fake.Requests() {
		if req.Header.Get("Authorization") != "Bearer "+h.token {
			t.Errorf("the Hub got %q on %s", req.Header.Get("Authorization"), req.Path)
		}
	}
}

func TestDropInKeepsEncodedRevision(t *testing.T) {
	h, bearer := keyedHarness(t, policy.Policy{})
	r := h.sendFull(t, "GET", "/api/models/alice/existing/revision/refs%2Fpr%2F1?expand=private", map[string]string{"Authorization": bearer}, "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	reqs := h.fake.Requests()
	if got := reqs[len(reqs)-1]; got.Path != "/api/models/alice/existing/revision/refs%2Fpr%2F1" || got.RawQuery != "expand=private" {
		t.Errorf("the Hub got %s?%s", got.Path, got.RawQuery)
	}
}

func TestDropInCreateAndDeleteWithJSONBody(t *testing.T) {
	h, bearer := keyedHarness(t, policy.Policy{})
	headers := map[string]string{"Authorization": bearer, "Content-Type": "application/json", "Cookie": "token=secret-cookie"}
	r := h.sendFull(t, "POST", "/api/repos/create", headers, `{"name":"m","organization":"acme","type":"model"}`)
	if r.status != 200 || r.json["name"] != "acme/m" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r.header.Get("X-Request-Id") == "" || len(r.header.Values("X-Request-Id")) != 1 || !strings.HasPrefix(r.header.Get("X-Request-Id"), "Root=") {
		t.Errorf("X-Request-Id should be the Hub's alone: %q", r.header.Values("X-Request-Id"))
	}
	r = h.sendFull(t, "DELETE", "/api/repos/delete", headers, `{"name":"m","organization":"acme","type":"model"}`)
	if r.status != 200 || string(r.body) != "OK" {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if _, ok := h.fake.Repo("model", "acme/m"); ok {
		t.Error("the repository still exists")
	}
	for _, req := range h.fake.Requests() {
		if req.Header.Get("Cookie") != "" || req.Header.Get("Authorization") != "Bearer "+h.token {
			t.Errorf("the Hub got Cookie %q, Authorization %q", req.Header.Get("Cookie"), req.Header.Get("Authorization"))
		}
	}
	if audit := h.logLines(t, 2, `"msg":"audit"`, `"repo":"acme/m"`); len(audit) != 2 {
		t.Errorf("want 2 audit lines for acme/m, got %d", len(audit))
	}
}

func TestDropInPolicy(t *testing.T) {
	cases := []struct {
		name   string
		policy policy.Policy
		method string
		path   string
		body   string
		want   string // the rule named in the refusal; "" when allowed
	}{
		{"create outside the allow-list", policy.Policy{AllowedNamespaces: []string{"acme"}}, "POST", "/api/repos/create", `{"name":"x","organization":"alice"}`, "HF_MICRO_ALLOWED_NAMESPACES"},
		{"create with a bare name", policy.Policy{AllowedNamespaces: []string{"acme"}}, "POST", "/api/repos/create", `{"name":"x"}`, "namespace/name"},
		{"create inside the allow-list", policy.Policy{AllowedNamespaces: []string{"acme"}}, "POST", "/api/repos/create", `{"name":"x","organization":"acme"}`, ""},
		{"delete switched off", policy.Policy{DenyDelete: true}, "DELETE", "/api/repos/delete", `{"name":"existing","organization":"alice"}`, "HF_MICRO_ALLOW_DELETE"},
		{"move out of an allowed namespace", policy.Policy{AllowedNamespaces: []string{"acme"}}, "POST", "/api/repos/move", `{"fromRepo":"acme/listed-a","toRepo":"alice/stolen"}`, "HF_MICRO_ALLOWED_NAMESPACES"},
		{"settings when read-only", policy.Policy{ReadOnly: true}, "PUT", "/api/models/alice/existing/settings", `{"private":true}`, "HF_MICRO_READ_ONLY"},
		{"commit outside the allow-list", policy.Policy{AllowedNamespaces: []string{"acme"}}, "POST", "/api/models/alice/existing/commit/main", `{}`, "HF_MICRO_ALLOWED_NAMESPACES"},
		{"storage write token when read-only", policy.Policy{ReadOnly: true}, "GET", "/api/models/acme/listed-a/xet-write-token/main", ``, "HF_MICRO_READ_ONLY"},
		{"storage write token outside the allow-list", policy.Policy{AllowedNamespaces: []string{"acme"}}, "GET", "/api/models/alice/existing/xet-write-token/main", ``, "HF_MICRO_ALLOWED_NAMESPACES"},
		{"paths-info when read-only", policy.Policy{ReadOnly: true}, "POST", "/api/models/alice/existing/paths-info/main", `{"paths":["config.json"]}`, ""},
		{"preupload when read-only", policy.Policy{ReadOnly: true}, "POST", "/api/models/acme/listed-a/preupload/main", `{"files":[]}`, ""},
		{"LFS download batch when read-only", policy.Policy{ReadOnly: true}, "POST", "/alice/existing.git/info/lfs/objects/batch", `{"operation":"download","objects":[]}`, ""},
		{"LFS upload batch when read-only", policy.Policy{ReadOnly: true}, "POST", "/alice/existing.git/info/lfs/objects/batch", `{"operation":"upload","objects":[]}`, "HF_MICRO_READ_ONLY"},
		{"xet read token when read-only", policy.Policy{ReadOnly: true}, "GET", "/api/models/alice/existing/xet-read-token/main", ``, ""},
		{"paths-info outside the allow-list", policy.Policy{AllowedNamespaces: []string{"acme"}}, "POST", "/api/models/alice/existing/paths-info/main", `{"paths":["config.json"]}`, ""},
		{"unknown write when read-only", policy.Policy{ReadOnly: true}, "POST", "/api/something-new", `{}`, "HF_MICRO_READ_ONLY"},
		{"reads when read-only", policy.Policy{ReadOnly: true}, "GET", "/api/models/alice/existing", ``, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, bearer := keyedHarness(t, tc.policy)
			before := len(h.fake.Requests())
			r := h.sendFull(t, tc.method, tc.path, map[string]string{"Authorization": bearer, "Content-Type": "application/json"}, tc.body)
			reached := len(h.fake.Requests()) - before
			if tc.want == "" {
				if r.status == 403 || reached != 1 {
					t.Errorf("refused: %d %s", r.status, r.body)
				}
				return
			}
			checkError(t, r, 403, tc.want)
			if reached != 0 {
				t.Error("a refused request reached the Hub")
			}
		})
	}
}

func TestDropInAuthentication(t *testing.T) {
	h, _ := keyedHarness(t, policy.Policy{})
	checkError(t, h.json(t, "GET", "/api/models", ""), 401, "client key is required")
	checkError(t, h.sendFull(t, "GET", "/alice/existing/resolve/main/README.md", map[string]string{"Authorization": "Bearer " + auth.GenerateKey()}, ""), 401, "unknown client key")
	if n := len(h.fake.Requests()); n != 0 {
		t.Errorf("unauthenticated requests reached the Hub %d times", n)
	}
	// A caller's own token goes through as theirs.
	h.fake.AddUser("bob")
	bob := h.fake.IssueToken("bob", fakehub.RoleRead)
	r := h.sendFull(t, "GET", "/api/whoami-v2", map[string]string{"Authorization": "Bearer " + bob}, "")
	if r.status != 200 || r.json["name"] != "bob" {
		t.Errorf("caller token: %d %s", r.status, r.body)
	}
}

// hubDouble answers like the Hub for header and redirect tests.
func hubDouble(t *testing.T, handler http.HandlerFunc) (*harness, string) {
	t.Helper()
	upstream := httptest.NewServer(handler)
	t.Cleanup(upstream.Close)
	key := auth.GenerateKey()
	keys, _ := auth.ParseKeys([]string{key})
	h := startServer(t, nil, upstream.URL+"/hub", "hf_servertoken", setup{opts: Options{Auth: auth.Options{Keys: keys}}, secrets: []string{key}})
	return h, upstream.URL
}

func TestDropInHeaderFidelity(t *testing.T) {
	passed := map[string]string{
		"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found", "X-Request-Id": "Root=1-abc",
		"Ratelimit": `"api";r=0;t=30`, "Ratelimit-Policy": `"fixed window";"api";q=1000;w=300`, "Retry-After": "30",
		"X-Hf-Warning": "topic; message", "Etag": `"abc"`, "X-Repo-Commit": "0123abcd", "Content-Range": "bytes 0-1/2",
		"Accept-Ranges": "bytes", "X-Xet-Hash": "deadbeef", "X-Total-Count": "12",
	}
	var got http.Header
	h, _ := hubDouble(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		for k, v := range passed {
			w.Header().Set(k, v)
		}
		w.Header().Set("Set-Cookie", "session=abc")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(429)
		io.WriteString(w, `{"error":"slow down"}`)
	})
	r := h.sendFull(t, "GET", "/api/models/a/b", map[string]string{"Authorization": h.keyBearer(t), "X-Forwarded-For": "198.51.100.9", "Cookie": "a=b"}, "")
	if r.status != 429 || string(r.body) != `{"error":"slow down"}` || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("reply %d %q %q", r.status, r.body, r.header.Get("Content-Type"))
	}
	for k, v := range passed {
		if vals := r.header.Values(k); len(vals) != 1 || vals[0] != v {
			t.Errorf("%s = %q, want %q", k, vals, v)
		}
	}
	if r.header.Get("Set-Cookie") != "" {
		t.Error("the Hub's cookie was passed on")
	}
	if got.Get("Authorization") != "Bearer hf_servertoken" || got.Get("Cookie") != "" || got.Get("X-Forwarded-For") != "" {
		t.Errorf("the Hub got Authorization %q, Cookie %q, X-Forwarded-For %q", got.Get("Authorization"), got.Get("Cookie"), got.Get("X-Forwarded-For"))
	}
}

func TestDropInRedirects(t *testing.T) {
	var cdnHits int
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { cdnHits++ }))
	defer cdn.Close()
	var hubURL string
	var h *harness
	h, hubURL = hubDouble(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hub/api/models/gpt2":
			w.Header().Set("Location", hubURL+"/hub/api/models/openai-community/gpt2?x=1")
		case "/hub/api/models/relative":
			w.Header().Set("Location", "/hub/api/models/elsewhere")
		case "/hub/alice/m/resolve/main/big.bin":
			w.Header().Set("Location", cdn.URL+"/blob?sig=abc")
		}
		w.WriteHeader(http.StatusTemporaryRedirect)
	})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	location := func(path string) string {
		req, _ := http.NewRequest("GET", h.url+path, nil)
		req.Header.Set("Authorization", h.keyBearer(t))
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 307 {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	if got := location("/api/models/gpt2"); got != h.url+"/api/models/openai-community/gpt2?x=1" {
		t.Errorf("Hub redirect became %q", got)
	}
	if got := location("/api/models/relative"); got != "/hub/api/models/elsewhere" {
		t.Errorf("relative redirect became %q", got)
	}
	if got := location("/alice/m/resolve/main/big.bin"); got != cdn.URL+"/blob?sig=abc" {
		t.Errorf("CDN redirect became %q", got)
	}
	if cdnHits != 0 {
		t.Error("hf-micro followed the redirect to the CDN")
	}
}

func TestDropInUnreachableHub(t *testing.T) {
	upstream := httptest.NewServer(http.NotFoundHandler())
	endpoint := upstream.URL
	upstream.Close()
	h := startServer(t, nil, endpoint, "hf_x", setup{})
	r := h.json(t, "GET", "/api/models", "")
	checkError(t, r, 502, "refused the connection")
}

// TestDropInStreams passes a large download and a large upload through hf-micro and checks that the memory
// allocated meanwhile is a small fraction of the body: nothing holds a whole body.
func TestDropInStreams(t *testing.T) {
	const size = 64 << 20
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	var uploaded int64
	var uploadSum [32]byte
	h, _ := hubDouble(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			hash := sha256.New()
			uploaded, _ = io.Copy(hash, r.Body)
			copy(uploadSum[:], hash.Sum(nil))
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		for sent := 0; sent < size; sent += len(chunk) {
			w.Write(chunk)
		}
	})
	bearer := h.keyBearer(t)

	allocated := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	var downloaded int64
	down := allocated(func() {
		req, _ := http.NewRequest("GET", h.url+"/alice/m/resolve/main/model.bin", nil)
		req.Header.Set("Authorization", bearer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		downloaded, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
	up := allocated(func() {
		body := io.LimitReader(repeatReader(chunk), size)
		req, _ := http.NewRequest("POST", h.url+"/api/models/alice/m/upload", body)
		req.Header.Set("Authorization", bearer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})
	if downloaded != size || uploaded != size {
		t.Fatalf("moved %d down and %d up, want %d each", downloaded, uploaded, size)
	}
	want := sha256.New()
	io.Copy(want, io.LimitReader(repeatReader(chunk), size))
	if !bytes.Equal(want.Sum(nil), uploadSum[:]) {
		t.Error("the upload arrived changed")
	}
	t.Logf("allocated %d KiB for a %d MiB download, %d KiB for the upload", down>>10, size>>20, up>>10)
	if down > size/20 || up > size/20 {
		t.Errorf("allocated %d and %d bytes while streaming %d: a body is being held", down, up, size)
	}
}

type repeatReader []byte

func (r repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], r)
	}
	return n, nil
}

// keyBearer is the Authorization value with the harness's client key.
func (h *harness) keyBearer(t *testing.T) string {
	t.Helper()
	if h.key == "" {
		t.Fatal("this harness has no client key")
	}
	return "Bearer " + h.key
}
