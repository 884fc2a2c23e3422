package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/fakehub"
	"github.com/hf-micro/hf-micro/internal/policy"
)

// browserHeaders are what a browser sends for a page on another site: with an Origin, with the opaque origin of
// a sandboxed frame or data: page, and with only Sec-Fetch-Site (as for a form post from an older page).
var browserHeaders = map[string]map[string]string{
	"evil origin":         {"Origin": "https://evil.example", "Sec-Fetch-Site": ""},
	"null origin":         {"Origin": "null", "Sec-Fetch-Site": ""},
	"cross-site":          {"Origin": "", "Sec-Fetch-Site": "cross-site"},
	"same-site, own port": {"Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"},
}

// with returns headers plus extra.
func with(headers map[string]string, extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range headers {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// checkNothingReachedHub fails the test if the fake Hub received anything.
func checkNothingReachedHub(t *testing.T, h *harness) {
	t.Helper()
	if reqs := h.fake.Requests(); len(reqs) != 0 {
		t.Errorf("the Hub received %d requests, first %s %s", len(reqs), reqs[0].Method, reqs[0].Path)
	}
}

// With no keys, a page on another site must not change anything through the user's browser, whatever body type
// it picks to avoid a preflight; clients that are not browsers, and the server's own pages, keep working.
func TestCrossOriginWritesRefusedWithoutKeys(t *testing.T) {
	h := newHarness(t)
	writes := []struct {
		method, path, contentType, body string
	}{
		{"POST", "/api/repos/create", "text/plain", `{"type":"model","name":"x","organization":"alice"}`},
		{"POST", "/api/repos/create", "application/x-www-form-urlencoded", `{"type":"model","name":"x","organization":"alice"}`},
		{"POST", "/api/repos/create", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n{}\r\n--b--\r\n"},
		{"POST", "/api/repo", "", `{"type":"model","name":"alice/x"}`},
		{"POST", "/api/repos/move", "text/plain", `{"fromRepo":"alice/existing","toRepo":"alice/moved","type":"model"}`},
		{"DELETE", "/api/repo?type=model&name=alice/existing", "", ""},
		{"PUT", "/api/models/alice/existing/settings", "text/plain", `{"private":true}`},
	}
	for name, headers := range browserHeaders {
		for _, w := range writes {
			r := h.sendFull(t, w.method, w.path, with(headers, map[string]string{"Content-Type": w.contentType}), w.body)
			if r.status != 403 {
				t.Errorf("%s: %s %s (%s) = %d %s", name, w.method, w.path, w.contentType, r.status, r.body)
				continue
			}
			checkError(t, r, 403, "HF_MICRO_CORS_ORIGINS")
		}
	}
	checkNothingReachedHub(t, h)

	// The server's own page, same-origin as a browser sends it, and a client that is not a browser.
	sameOrigin := map[string]string{"Origin": h.url, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}
	if r := h.sendFull(t, "POST", "/api/repo", sameOrigin, `{"name":"alice/same-origin"}`); r.status != 201 {
		t.Errorf("same-origin create = %d %s", r.status, r.body)
	}
	if r := h.sendFull(t, "POST", "/api/repo", map[string]string{"Origin": h.url}, `{"name":"alice/old-browser"}`); r.status != 201 {
		t.Errorf("same-origin create without Sec-Fetch-Site = %d %s", r.status, r.body)
	}
	if r := h.json(t, "POST", "/api/repos/create", `{"type":"model","name":"curl","organization":"alice"}`); r.status != 200 {
		t.Errorf("a create without Origin or Sec-Fetch-Site = %d %s", r.status, r.body)
	}
}

// A configured origin may call the API from a browser; the others are still refused, in every mode.
func TestCrossOriginWritesFromConfiguredOrigin(t *testing.T) {
	fake, endpoint := newFakeHub(t)
	h := startServer(t, fake, endpoint, fake.IssueToken("alice", fakehub.RoleWrite),
		setup{opts: Options{CORSOrigins: []string{"https://app.example"}}})
	r := h.sendFull(t, "POST", "/api/repo",
		map[string]string{"Origin": "https://app.example", "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
		`{"name":"alice/from-app"}`)
	if r.status != 201 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("create from the configured origin = %d %v %s", r.status, r.header, r.body)
	}
	before := len(fake.Requests())
	r = h.sendFull(t, "POST", "/api/repo",
		map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, `{"name":"alice/from-evil"}`)
	checkError(t, r, 403, "HF_MICRO_CORS_ORIGINS")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin got a grant: %v", r.header)
	}
	if n := len(fake.Requests()); n != before {
		t.Errorf("the refused request reached the Hub")
	}

	// With client keys, a key does not make a cross-origin write acceptable either.
	keyed, bearer := keyedHarness(t, policy.Policy{})
	r = keyed.sendFull(t, "POST", "/api/repos/create",
		map[string]string{"Authorization": bearer, "Origin": "https://evil.example", "Content-Type": "text/plain"},
		`{"type":"model","name":"x","organization":"alice"}`)
	checkError(t, r, 403, "HF_MICRO_CORS_ORIGINS")
	checkNothingReachedHub(t, keyed)
}

// With no keys, a cross-site read would spend the user's token and quota: refused on every path that can reach
// the Hub. hf-micro's own pages stay readable, and with client keys reads need no rule (a browser never
// attaches a key by itself).
func TestCrossSiteReadsRefusedWithoutKeys(t *testing.T) {
	h := newHarness(t)
	reads := []struct{ method, path string }{
		{"GET", "/api/account"},
		{"GET", "/api/repo?type=model&name=alice/existing"},
		{"GET", "/api/models/alice/existing"},
		{"GET", "/alice/existing/resolve/main/config.json"},
		{"GET", "/api/whoami-v2"},
	}
	for name, headers := range browserHeaders {
		for _, read := range reads {
			r := h.sendHeaders(t, read.method, read.path, headers)
			checkError(t, r, 403, "HF_MICRO_CORS_ORIGINS")
		}
		// HEAD, as download clients ask for a file's metadata (no body to decode).
		req, _ := http.NewRequest("HEAD", h.url+"/alice/existing/resolve/main/config.json", nil)
		for k, v := range headers {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
			t.Errorf("%s: HEAD of a file = %v %v", name, resp, err)
		} else {
			resp.Body.Close()
		}
	}
	for _, page := range []string{"/", "/openapi.json", "/healthz"} {
		if r := h.sendHeaders(t, "GET", page, map[string]string{"Sec-Fetch-Site": "cross-site"}); r.status != 200 {
			t.Errorf("own page %s from another site = %d", page, r.status)
		}
	}
	checkNothingReachedHub(t, h)

	if r := h.sendHeaders(t, "GET", "/api/account", map[string]string{"Sec-Fetch-Site": "same-origin"}); r.status != 200 {
		t.Errorf("a same-origin read = %d %s", r.status, r.body)
	}
	if r := h.sendHeaders(t, "GET", "/api/account", map[string]string{"Origin": h.url}); r.status != 200 {
		t.Errorf("a read with the server's own origin = %d %s", r.status, r.body)
	}

	keyed, bearer := keyedHarness(t, policy.Policy{})
	r := keyed.sendHeaders(t, "GET", "/api/account", map[string]string{"Authorization": bearer, "Origin": "https://other.example", "Sec-Fetch-Site": "cross-site"})
	if r.status != 200 {
		t.Errorf("a keyed read from another site = %d %s", r.status, r.body)
	}
}

// With no keys, a page on a name that resolves to 127.0.0.1 (DNS rebinding) is same-origin with its requests:
// the Host gives it away.
func TestDNSRebindingRefused(t *testing.T) {
	h := newHarness(t)
	port := h.url[strings.LastIndex(h.url, ":")+1:]
	sendTo := func(h *harness, host, method, path string, headers map[string]string) reply {
		t.Helper()
		return h.sendHeaders(t, method, path, with(headers, map[string]string{"Host": host}))
	}
	rebound := "rebind.example:" + port
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/account"},
		{"DELETE", "/api/repo?type=model&name=alice/existing"},
		{"GET", "/api/models/alice/existing"},
		{"DELETE", "/api/repos/delete"},
		{"GET", "/"},
	} {
		// Same-origin for the browser, as the page's origin is the rebound name.
		r := sendTo(h, rebound, tc.method, tc.path, map[string]string{"Origin": "http://" + rebound, "Sec-Fetch-Site": "same-origin"})
		checkError(t, r, 421, "HF_MICRO_PUBLIC_URL")
	}
	checkNothingReachedHub(t, h)

	for _, host := range []string{"localhost:" + port, "LOCALHOST", "app.localhost:" + port, "127.0.0.2:" + port, "[::1]:" + port, "127.0.0.1"} {
		if r := sendTo(h, host, "GET", "/api/account", nil); r.status != 200 {
			t.Errorf("Host %s = %d %s", host, r.status, r.body)
		}
	}
	for _, probe := range []string{"/healthz", "/readyz"} {
		if r := sendTo(h, "10.1.2.3:8080", "GET", probe, nil); r.status != 200 {
			t.Errorf("%s by pod address = %d", probe, r.status)
		}
	}

	// HF_MICRO_PUBLIC_URL's host, client keys, and anonymous access each serve other names.
	fake, endpoint := newFakeHub(t)
	token := fake.IssueToken("alice", fakehub.RoleRead)
	public := startServer(t, fake, endpoint, token, setup{opts: Options{PublicURL: "https://hf.example.com"}})
	if r := sendTo(public, "HF.example.com", "GET", "/api/account", nil); r.status != 200 {
		t.Errorf("the public URL's host = %d %s", r.status, r.body)
	}
	checkError(t, sendTo(public, rebound, "GET", "/api/account", nil), 421, "HF_MICRO_PUBLIC_URL")
	anonymous := startServer(t, fake, endpoint, token, setup{opts: Options{Auth: auth.Options{AllowAnonymous: true}}})
	if r := sendTo(anonymous, rebound, "GET", "/api/account", nil); r.status != 200 {
		t.Errorf("anonymous mode, another name = %d %s", r.status, r.body)
	}
	keyed, bearer := keyedHarness(t, policy.Policy{})
	if r := sendTo(keyed, rebound, "GET", "/api/account", map[string]string{"Authorization": bearer}); r.status != 200 {
		t.Errorf("keyed mode, another name = %d %s", r.status, r.body)
	}
	// A caller from another machine with its own Hub token does not use this machine's trust: served by name.
	callerOwn := fake.IssueToken("alice", fakehub.RoleRead)
	withToken := startServer(t, fake, endpoint, token, setup{opts: Options{Auth: auth.Options{CallerTokens: true}}, secrets: []string{callerOwn}})
	if r := sendTo(withToken, "hf-box.internal:8080", "GET", "/api/account", map[string]string{"Authorization": "Bearer " + callerOwn}); r.status != 200 {
		t.Errorf("a caller's own token, another name = %d %s", r.status, r.body)
	}
	checkError(t, sendTo(withToken, rebound, "GET", "/api/account", map[string]string{"Authorization": "Bearer undefined"}), 421, "HF_MICRO_PUBLIC_URL")
	// With no server token, hf-micro only forwards callers' own tokens: a browser has nothing to lend.
	own := fake.IssueToken("alice", fakehub.RoleRead)
	gateway := startServer(t, fake, endpoint, "", setup{opts: Options{Auth: auth.Options{CallerTokens: true}}, secrets: []string{own}})
	if r := sendTo(gateway, rebound, "GET", "/api/account", map[string]string{"Authorization": "Bearer " + own}); r.status != 200 {
		t.Errorf("pure gateway, another name = %d %s", r.status, r.body)
	}
}

// Preflights are hf-micro's to answer, on its own routes and the Hub's alike: the Hub never sees one.
func TestPreflightsAnsweredHere(t *testing.T) {
	fake, endpoint := newFakeHub(t)
	h := startServer(t, fake, endpoint, fake.IssueToken("alice", fakehub.RoleWrite),
		setup{opts: Options{CORSOrigins: []string{"https://app.example"}}})
	bare := newHarness(t) // no origin configured
	paths := []string{"/api/repo", "/api/account", "/api/repos/create", "/api/models/alice/existing", "/alice/existing/resolve/main/config.json"}
	for _, path := range paths {
		r := h.sendHeaders(t, "OPTIONS", path, map[string]string{"Origin": "https://app.example",
			"Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "authorization,content-type"})
		if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
			r.header.Get("Access-Control-Allow-Credentials") != "" || r.header.Get("Access-Control-Max-Age") == "" ||
			!strings.Contains(r.header.Get("Vary"), "Origin") {
			t.Errorf("allowed preflight of %s: %d %v", path, r.status, r.header)
		}
		for _, want := range []string{"PATCH", "DELETE", "HEAD"} {
			if !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), want) {
				t.Errorf("%s: Allow-Methods %q lacks %s", path, r.header.Get("Access-Control-Allow-Methods"), want)
			}
		}
		for _, want := range []string{"Authorization", "Content-Type", "Range", "X-Request-Id"} {
			if !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), want) {
				t.Errorf("%s: Allow-Headers %q lacks %s", path, r.header.Get("Access-Control-Allow-Headers"), want)
			}
		}
		for _, refused := range []struct {
			h      *harness
			origin string
		}{{h, "https://evil.example"}, {h, "null"}, {bare, "https://app.example"}} {
			r := refused.h.sendHeaders(t, "OPTIONS", path, map[string]string{"Origin": refused.origin, "Access-Control-Request-Method": "POST"})
			checkError(t, r, 403, "HF_MICRO_CORS_ORIGINS")
			if r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Access-Control-Allow-Methods") != "" {
				t.Errorf("refused preflight of %s from %s carries grants: %v", path, refused.origin, r.header)
			}
		}
	}
	for _, req := range fake.Requests() {
		t.Errorf("the Hub received %s %s", req.Method, req.Path)
	}
	checkNothingReachedHub(t, bare)
}

// A configured origin's browser can read the headers Hub clients read; nothing grants credentials.
func TestCORSExposesHubHeaders(t *testing.T) {
	fake, endpoint := newFakeHub(t)
	fake.AddRepo("model", "alice/existing", false)
	h := startServer(t, fake, endpoint, fake.IssueToken("alice", fakehub.RoleWrite),
		setup{opts: Options{CORSOrigins: []string{"https://app.example"}}})
	r := h.sendHeaders(t, "GET", "/api/models/alice/existing", map[string]string{"Origin": "https://app.example", "Sec-Fetch-Site": "cross-site"})
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" || r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("drop-in read from the configured origin = %d %v", r.status, r.header)
	}
	exposed := r.header.Get("Access-Control-Expose-Headers")
	for _, want := range []string{"X-Request-Id", "Retry-After", "Location", "Link", "ETag", "X-Repo-Commit",
		"X-Linked-Etag", "X-Linked-Size", "X-Error-Code", "X-Error-Message", "RateLimit", "RateLimit-Policy",
		"Content-Range", "Accept-Ranges", "X-Xet-Hash"} {
		if !strings.Contains(exposed, want) {
			t.Errorf("Access-Control-Expose-Headers %q lacks %s", exposed, want)
		}
	}
}

// The Hub's own CORS grants are never passed on: hf-micro's answer carries only the grants it makes itself.
func TestHubCORSGrantsNotPassedOn(t *testing.T) {
	fake := fakehub.New()
	fake.AddUser("alice")
	fake.AddRepo("model", "alice/existing", false)
	// The Hub grants any origin, with credentials, as huggingface.co does.
	hubServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			w.Header().Set("Access-Control-Allow-Origin", origin)
		} else {
			w.Header().Set("Access-Control-Allow-Origin", "https://evil.example")
		}
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Expose-Headers", "X-Repo-Commit")
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(hubServer.Close)
	key := auth.GenerateKey()
	keys, _ := auth.ParseKeys([]string{key})
	h := startServer(t, fake, hubServer.URL, fake.IssueToken("alice", fakehub.RoleWrite),
		setup{opts: Options{Auth: auth.Options{Keys: keys}, CORSOrigins: []string{"https://app.example"}}, secrets: []string{key}})
	for _, origin := range []string{"https://evil.example", "https://app.example"} {
		r := h.sendHeaders(t, "GET", "/api/models/alice/existing", map[string]string{"Authorization": "Bearer " + key, "Origin": origin})
		if r.status != 200 {
			t.Fatalf("%s: %d %s", origin, r.status, r.body)
		}
		want := []string(nil)
		if origin == "https://app.example" {
			want = []string{origin}
		}
		if got := r.header.Values("Access-Control-Allow-Origin"); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("Origin %s: Access-Control-Allow-Origin = %q, want %q", origin, got, want)
		}
		if got := r.header.Values("Access-Control-Allow-Credentials"); len(got) != 0 {
			t.Errorf("Origin %s: Access-Control-Allow-Credentials = %q", origin, got)
		}
	}
}
