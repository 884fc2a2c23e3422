package server

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hf-micro/hf-micro/internal/auth"
)

// hubPaths are the only paths the simple API may ever ask of the Hub.
var hubPaths = regexp.MustCompile(`^/api/(whoami-v2|repos/create|repos/delete|` +
	`(models|datasets|spaces|kernels)/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?(/settings|/revision/[A-Za-z0-9_.%-]+)?)$`)

// injections are attempts to steer a Hub URL somewhere else, through every field that reaches one.
var injections = []string{
	"../../api/whoami-v2", "..", "../x", "a/../../b", "%2e%2e/x", "a%2Fb/c", "a%2F..%2Fb", "alice/x?admin=1", "alice/x#frag",
	"alice/x\r\nX-Injected: 1", "alice/x\nb", "alice/x\x00", "alice/ x", "alice/x/", "/alice/x", "alice//x", "alice/x/settings",
	"аlice/x" /* Cyrillic а */, "alice/ｘ" /* fullwidth x */, "alice/x\u202e", "alice/x%00", "alice\\x", "alice/x;y",
	"alice/" + strings.Repeat("n", 97), strings.Repeat("n", 200) + "/x", "alice/x.git", "-alice/x", "alice/x-", "alice/--x",
	"", " ", "alice/x y", "alice/%", "alice/x'", `alice/x"`, "alice/<x>", "https://evil.example/x", "//evil.example/x",
}

// typeInjections go in the "type" field or parameter.
var typeInjections = []string{"../models", "models/../datasets", "model\r\n", "spaces?x=1", "model#", "MODELS", "ｍodel", "bucket", "model/alice"}

func TestInjectionNeverReachesTheHub(t *testing.T) {
	h := newHarness(t)
	h.fake.AddRepo("model", "alice/x", false)
	cases := 0
	send := func(method, path, body string) {
		t.Helper()
		cases++
		r := h.json(t, method, path, body)
		if r.status < 400 || r.status >= 500 {
			t.Errorf("%s %s %s: status %d: %s", method, path, body, r.status, r.body)
		}
	}
	quote := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	for _, bad := range injections {
		q := url.QueryEscape(bad)
		send("GET", "/api/repo?name="+q, "")
		send("GET", "/api/repo?namespace="+q, "")
		send("POST", "/api/repo", `{"name":`+quote(bad)+`}`)
		if bad != "" { // an empty organization is no organization: the token owner's namespace
			send("POST", "/api/repo", `{"name":"x","organization":`+quote(bad)+`}`)
		}
		send("PUT", "/api/repo", `{"namespace":`+quote(bad)+`,"private":true}`)
		send("PUT", "/api/repo", `{"name":`+quote(bad)+`,"private":true}`)
		send("DELETE", "/api/repo", `{"name":`+quote(bad)+`}`)
		send("DELETE", "/api/repo", `{"namespace":`+quote(bad)+`}`)
		if bad != "" {
			send("GET", "/api/repo?name=alice/x&revision="+q+"&"+q+"=1", "")
		}
	}
	for _, bad := range typeInjections {
		send("GET", "/api/repo?name=alice/x&type="+url.QueryEscape(bad), "")
		send("POST", "/api/repo", `{"name":"alice/y","type":`+quote(bad)+`}`)
		send("PUT", "/api/repo", `{"name":"alice/x","type":`+quote(bad)+`,"private":true}`)
		send("DELETE", "/api/repo", `{"name":"alice/x","type":`+quote(bad)+`}`)
	}
	// Revisions are sent as one escaped segment: odd ones reach the Hub, but only inside that segment.
	for _, rev := range []string{"../../whoami-v2", "refs/pr/1", "a?b#c", "%2e%2e"} {
		cases++
		h.json(t, "GET", "/api/repo?name=alice/x&revision="+url.QueryEscape(rev), "")
	}

	reached := 0
	for _, req := range h.fake.Requests() {
		if !hubPaths.MatchString(req.Path) || req.RawQuery != "" {
			t.Errorf("the Hub received %s %s?%s", req.Method, req.Path, req.RawQuery)
		}
		if !strings.Contains(req.Path, "/revision/") {
			t.Errorf("reached the Hub: %s %s %s", req.Method, req.Path, req.Body)
			reached++
		}
	}
	if reached != 0 {
		t.Errorf("%d injection attempts reached the Hub", reached)
	}
	t.Logf("%d injection cases; %d reached the Hub outside a revision segment; %d revision cases reached it escaped",
		cases, reached, len(h.fake.Requests()))
}

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/", "/api/account", "/healthz", "/api/nope"} {
		r := h.do(t, "GET", path, "", "")
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("X-Frame-Options") != "DENY" ||
			r.header.Get("Referrer-Policy") != "no-referrer" || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: headers %v", path, r.header)
		}
	}
	csp := h.do(t, "GET", "/", "", "").header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestCORSAllowList(t *testing.T) {
	fake, endpoint := newFakeHub(t)
	h := startServer(t, fake, endpoint, "", setup{opts: Options{CORSOrigins: []string{"https://app.example"}, Auth: auth.Options{CallerTokens: true}}})
	preflight := func(origin string) reply {
		t.Helper()
		return h.sendHeaders(t, "OPTIONS", "/api/repo", map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST"})
	}
	r := preflight("https://app.example")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("allowed preflight: %d %v", r.status, r.header)
	}
	r = preflight("https://evil.example")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin was allowed: %v", r.header)
	}
	r = h.sendHeaders(t, "GET", "/healthz", map[string]string{"Origin": "https://app.example"})
	if r.header.Get("Access-Control-Allow-Origin") != "https://app.example" || r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("simple request: %v", r.header)
	}
}

func TestJSONNestingLimit(t *testing.T) {
	h := newHarness(t)
	deep := `{"name":"alice/x","gated":` + strings.Repeat("[", 50) + strings.Repeat("]", 50) + `}`
	checkError(t, h.json(t, "PUT", "/api/repo", deep), 400, "deeper than 8")
	if n := len(h.fake.Requests()); n != 0 {
		t.Errorf("the Hub was called")
	}
	// Brackets inside strings do not count.
	r := h.json(t, "POST", "/api/repo", `{"name":"alice/x","organization":"[[[[[[[[[[[[[[["}`)
	checkError(t, r, 400, "organization:")
}
