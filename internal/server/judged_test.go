package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/fakehub"
	"github.com/hf-micro/hf-micro/internal/policy"
)

// These tests are the findings of the issue "Forward exactly what was judged": each sends what an attacker
// would, and checks hf-micro's answer and that nothing unintended reached the Hub.

// refusedBeforeTheHub sends a request and checks that it was refused with status and never reached the Hub.
func refusedBeforeTheHub(t *testing.T, h *harness, status int, says, method, path string, headers map[string]string, body string) {
	t.Helper()
	before := len(h.fake.Requests())
	r := h.sendFull(t, method, path, headers, body)
	checkError(t, r, status, says)
	if reached := h.fake.Requests()[before:]; len(reached) != 0 {
		t.Errorf("%s %s reached the Hub as %s %s", method, path, reached[0].Method, reached[0].Path)
	}
}

// Finding 1: Go matches JSON keys in any case and keeps the last; the Hub matches exactly.
func TestBodyKeysTheHubReadsDifferently(t *testing.T) {
	h, bearer := keyedHarness(t, policy.Policy{AllowedNamespaces: []string{"acme"}})
	headers := map[string]string{"Authorization": bearer, "Content-Type": "application/json"}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/repos/create", `{"type":"model","name":"x","organization":"alice","ORGANIZATION":"acme"}`},
		{"POST", "/api/repos/create", `{"type":"model","name":"x","organization":"alice","organization":"acme"}`},
		{"DELETE", "/api/repos/delete", `{"type":"model","name":"existing","organization":"alice","Organization":"acme"}`},
		{"POST", "/api/repos/move", `{"fromRepo":"acme/listed-a","toRepo":"alice/stolen","TOREPO":"acme/kept"}`},
		{"POST", "/api/repos/move", `{"fromRepo":"alice/existing","FromRepo":"acme/listed-a","toRepo":"acme/planted"}`},
	} {
		refusedBeforeTheHub(t, h, 400, "twice", c.method, c.path, headers, c.body)
	}

	// A body that is judged goes to the Hub as it was decoded: an escaped key is the key it stands for.
	r := h.sendFull(t, "POST", "/api/repos/create", headers, `{"type":"model","name":"new","organiz\u0061tion":"acme"}`)
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	got := h.hubBodies(t, "POST", "/api/repos/create")
	if len(got) != 1 || got[0]["organization"] != "acme" || got[0]["name"] != "new" {
		t.Errorf("the Hub got %v", got)
	}
	if _, ok := h.fake.Repo("model", "acme/new"); !ok {
		t.Error("acme/new was not created")
	}
}

// Finding 5: TRACE and TRACK could echo the token from a hop that answers them.
func TestOnlyTheHubsMethodsAreForwarded(t *testing.T) {
	h, bearer := keyedHarness(t, policy.Policy{})
	for _, method := range []string{"TRACE", "TRACK", "OPTIONS", "PROPFIND", "LOCK"} {
		refusedBeforeTheHub(t, h, 405, "forwards only", method, "/api/whoami-v2", map[string]string{"Authorization": bearer}, "")
	}
	r := h.sendFull(t, "TRACE", "/api/models", map[string]string{"Authorization": bearer}, "")
	if allow := r.header.Get("Allow"); allow != "GET, HEAD, POST, PUT, PATCH, DELETE" {
		t.Errorf("Allow = %q", allow)
	}
}

// Finding 6: HF_MICRO_ALLOW_DELETE=false must hold for every spelling the Hub may read as a delete.
func TestDeleteOffHoldsForEverySpelling(t *testing.T) {
	h, bearer := keyedHarness(t, policy.Policy{DenyDelete: true})
	body := `{"name":"existing","organization":"alice","type":"model"}`
	headers := map[string]string{"Authorization": bearer, "Content-Type": "application/json"}
	for _, path := range []string{"/api/repos/delete/", "/api/repos/Delete", "/api/Repos/delete", "/api/repos/DELETE", "/API/repos/delete"} {
		before := len(h.fake.Requests())
		r := h.sendFull(t, "DELETE", path, headers, body)
		if r.status < 400 || r.status >= 500 || len(h.fake.Requests()) != before {
			t.Errorf("DELETE %s: %d %s, Hub calls %d", path, r.status, r.body, len(h.fake.Requests())-before)
		}
	}
	for _, override := range []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"} {
		refusedBeforeTheHub(t, h, 400, "send the method itself", "POST", "/api/repos/delete",
			map[string]string{"Authorization": bearer, "Content-Type": "application/json", override: "DELETE"}, body)
	}
	refusedBeforeTheHub(t, h, 400, "_method", "POST", "/api/repos/delete?_method=DELETE", headers, body)
	refusedBeforeTheHub(t, h, 403, "HF_MICRO_ALLOW_DELETE", "DELETE", "/api/repos/delete", headers, body)
	refusedBeforeTheHub(t, h, 403, "HF_MICRO_ALLOW_DELETE", "DELETE", "/api/models/alice/existing/branch/dev", headers, "")
	if _, ok := h.fake.Repo("model", "alice/existing"); !ok {
		t.Error("the repository was deleted")
	}
}

// Finding 7: percent-encoded dot segments are judged as one path and read as another by a hop that decodes.
func TestEncodedDotSegmentsAreRefused(t *testing.T) {
	h, bearer := keyedHarness(t, policy.Policy{AllowedNamespaces: []string{"acme"}})
	headers := map[string]string{"Authorization": bearer, "Content-Type": "application/json"}
	refusedBeforeTheHub(t, h, 400, "percent-encodes", "PUT", "/api/models/acme/x/%2e%2e/%2e%2e/alice/existing/settings", headers, `{"private":true}`)
	refusedBeforeTheHub(t, h, 400, "percent-encodes", "GET", "/api/%2e%2e/settings/tokens", headers, "")
	refusedBeforeTheHub(t, h, 400, "percent-encodes", "GET", "/acme/m/resolve/main/%2e%2e/%2E%2E/x", headers, "")
	refusedBeforeTheHub(t, h, 400, "dot segment", "GET", "/acme/m/resolve/main/a%2F..%2Fb", headers, "")
}

// Finding 9: reads that use POST are reads: not refused by the policy, not in the audit trail.
func TestReadsThatPostAreNotAudited(t *testing.T) {
	h, bearer := keyedHarness(t, policy.Policy{})
	headers := map[string]string{"Authorization": bearer, "Content-Type": "application/json"}
	h.sendFull(t, "POST", "/api/models/alice/existing/paths-info/main", headers, `{"paths":["config.json"]}`)
	h.sendFull(t, "POST", "/alice/existing.git/info/lfs/objects/batch", map[string]string{"Authorization": bearer,
		"Content-Type": "application/vnd.git-lfs+json"}, `{"operation":"download","objects":[]}`)
	if r := h.sendFull(t, "PUT", "/api/models/alice/existing/settings", headers, `{"private":true}`); r.status != 200 {
		t.Fatalf("settings: %d %s", r.status, r.body)
	}
	h.logLines(t, 1, `"msg":"audit"`, `"action":"update"`)
	if audits := h.logLines(t, 0, `"msg":"audit"`); len(audits) != 1 {
		t.Errorf("audit lines: %q; want only the settings change", audits)
	}
}

// Finding 11: headers that a hop may trust, or that change the connection, do not go to the Hub.
func TestOnlyAllowedHeadersReachTheHub(t *testing.T) {
	h, bearer := keyedHarness(t, policy.Policy{})
	sent := map[string]string{
		"X-Original-URL": "/api/repos/delete", "X-Rewrite-URL": "/api/repos/delete",
		"X-Real-IP": "10.0.0.1", "True-Client-IP": "10.0.0.1", "CF-Connecting-IP": "10.0.0.1", "X-Client-IP": "10.0.0.1",
		"Via": "1.1 evil", "X-Forwarded-For": "10.0.0.1", "Forwarded": "for=10.0.0.1", "Cookie": "session=1",
		"Origin": "https://evil.example", "X-HF-Bill-To": "acme", "Upgrade": "h2c", "Connection": "Upgrade, HTTP2-Settings",
		"HTTP2-Settings": "AAMAAABkAAQAoAAAAAIAAAAA",
	}
	headers := map[string]string{"Authorization": bearer, "Accept": "application/json", "User-Agent": "huggingface_hub/1.29",
		"X-Amzn-Trace-Id": "trace-1"}
	for k, v := range sent {
		headers[k] = v
	}
	before := len(h.fake.Requests())
	r := h.sendFull(t, "GET", "/api/models/alice/existing", headers, "")
	if r.status != 200 {
		t.Fatalf("status %d %s (Upgrade: h2c must not end in a 502)", r.status, r.body)
	}
	reached := h.fake.Requests()[before:]
	if len(reached) != 1 {
		t.Fatalf("the Hub got %d requests", len(reached))
	}
	got := reached[0].Header
	for name := range sent {
		if v := got.Values(name); len(v) > 0 {
			t.Errorf("%s reached the Hub: %q", name, v)
		}
	}
	for name, want := range map[string]string{"Accept": "application/json", "User-Agent": "huggingface_hub/1.29", "X-Amzn-Trace-Id": "trace-1"} {
		if got.Get(name) != want {
			t.Errorf("%s = %q at the Hub, want %q", name, got.Get(name), want)
		}
	}
	if got.Get("Authorization") != "Bearer "+h.token {
		t.Error("the Hub did not get the server's token")
	}
}

// Finding 12: a client key is a client key in any letter case, and is never forwarded as a Hub token.
func TestKeyPrefixInAnyCaseIsNeverForwarded(t *testing.T) {
	h, _ := keyedHarness(t, policy.Policy{})
	for _, key := range []string{"HF_MICRO_NOTAKEYATALLBUTLONGENOUGH", "Hf_Micro_NotAKeyAtAllButLongEnough"} {
		refusedBeforeTheHub(t, h, 401, "unknown client key", "GET", "/api/models/alice/existing", map[string]string{"Authorization": "Bearer " + key}, "")
		refusedBeforeTheHub(t, h, 401, "unknown client key", "GET", "/api/account", map[string]string{"Authorization": "Bearer " + key}, "")
	}
}

// echoingHub is a Hub (or a hop before it) that repeats the credential it got in its error answers.
func echoingHub() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		credential := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("X-Error-Message", "token "+credential+" is not valid here")
		w.Header().Set("X-Request-Id", "req;"+credential)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]string{"error": "refused " + credential, "url": "https://hub.example/" + credential})
	}
}

// Finding 13: hf-micro never repeats a token it sent, whatever the Hub says (the harness checks every reply
// and log line for the server's token and the caller's).
func TestTokensEchoedByTheHubAreNotRepeated(t *testing.T) {
	const callerToken = "hf_callerTokenThatTheHubEchoes"
	upstream := httptest.NewServer(echoingHub())
	t.Cleanup(upstream.Close)
	serverToken := "hf_serverTokenThatTheHubEchoes"
	h := startServer(t, fakehub.New(), upstream.URL, serverToken, setup{
		opts:    Options{Auth: auth.Options{CallerTokens: true}},
		secrets: []string{callerToken},
	})
	for _, credential := range []string{"", "Bearer " + callerToken} {
		for _, path := range []string{"/api/account", "/api/repo?type=model&name=alice/x", "/api/models/alice/x", "/alice/x/resolve/main/config.json"} {
			r := h.sendFull(t, "GET", path, map[string]string{"Authorization": credential}, "")
			if r.status != 403 {
				t.Errorf("GET %s: %d %s", path, r.status, r.body)
			}
			if !strings.Contains(string(r.body)+r.header.Get("X-Error-Message"), "REDACTED") {
				t.Errorf("GET %s: the Hub's message is not passed on, redacted: %s", path, r.body)
			}
		}
	}
	h.logLines(t, 8, `"msg":"request"`)
}

// Finding 15 is TestUnknownRoute: hf-micro's own paths answer other methods with a JSON 405.

// Finding 4 (the proxy's half): the Hub's CORS grants never reach the caller.
func TestHubsCORSGrantsAreDropped(t *testing.T) {
	fake := fakehub.New()
	fake.AddUser("alice")
	fake.AddRepo("model", "alice/existing", false)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://evil.example")
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Expose-Headers", "X-Repo-Commit")
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(upstream.Close)
	h := startServer(t, fake, upstream.URL, fake.IssueToken("alice", fakehub.RoleWrite), setup{})
	r := h.sendFull(t, "GET", "/api/models/alice/existing", map[string]string{"Origin": "http://" + strings.TrimPrefix(h.url, "http://")}, "")
	if r.status != 200 {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	for name := range r.header {
		if strings.HasPrefix(name, "Access-Control-") {
			t.Errorf("the Hub's %s reached the caller: %q", name, r.header.Values(name))
		}
	}
}
