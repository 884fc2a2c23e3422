package fakehub

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// world is a small Hub: alice owns acme (bob reads it, carol contributes, dave writes), and
// each has a write token; aliceRead is a read token.
type world struct {
	h                            *Hub
	srv                          *httptest.Server
	alice, aliceRead, bob, carol string
	dave                         string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	h := New()
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		h.AddUser(u)
	}
	h.AddOrg("acme", map[string]string{"alice": "admin", "bob": "read", "carol": "contributor", "dave": "write"})
	h.AddRepo("model", "alice/public-model", false)
	h.AddRepo("model", "alice/private-model", true)
	h.AddRepo("model", "acme/team-model", false)
	h.AddRepo("model", "acme/team-secret", true)
	h.AddRepo("dataset", "alice/data", false)
	h.AddRepo("space", "alice/app", false)
	h.AddRepo("kernel", "alice/kern", false)
	w := &world{h: h, srv: httptest.NewServer(h),
		alice: h.IssueToken("alice", RoleWrite), aliceRead: h.IssueToken("alice", RoleRead),
		bob: h.IssueToken("bob", RoleWrite), carol: h.IssueToken("carol", RoleWrite),
		dave: h.IssueToken("dave", RoleWrite)}
	t.Cleanup(w.srv.Close)
	return w
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request. body is sent as-is when it is a string, else as JSON; JSON bodies get
// Content-Type application/json. token "" sends no Authorization header.
func (w *world) do(t *testing.T, method, path, token string, body any) response {
	t.Helper()
	return send(t, w.srv.URL+path, method, token, body)
}

func send(t *testing.T, url, method, token string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		s, ok := body.(string)
		if !ok {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			s = string(b)
		}
		rd = strings.NewReader(s)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readResponse(t, resp)
}

func readResponse(t *testing.T, resp *http.Response) response {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// object decodes a JSON object reply, failing the test on anything else.
func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != jsonContentType {
		t.Fatalf("Content-Type = %q, want %q (body %s)", ct, jsonContentType, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func keys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// wantError checks an error reply: status, JSON {"error": msg} (msg "" skips the text check),
// the same text in X-Error-Message, and X-Error-Code (code "" means the header must be absent).
func wantError(t *testing.T, r response, status int, code, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	got, _ := r.object(t)["error"].(string)
	if got == "" {
		t.Fatalf("body %s has no error text", r.body)
	}
	if msg != "" && got != msg {
		t.Errorf("error = %q, want %q", got, msg)
	}
	if h := r.header.Get("X-Error-Message"); h != got {
		t.Errorf("X-Error-Message = %q, want the body's %q", h, got)
	}
	if h := r.header.Get("X-Error-Code"); h != code {
		t.Errorf("X-Error-Code = %q, want %q", h, code)
	}
}

func TestCommonHeaders(t *testing.T) {
	w := newWorld(t)
	rateLimit := regexp.MustCompile(`^"api";r=\d+;t=\d+$`)
	for _, path := range []string{"/api/models/alice/public-model", "/no/such/page"} {
		req, _ := http.NewRequest("GET", w.srv.URL+path, nil)
		req.Header.Set("X-Amzn-Trace-Id", "c9be3bc3-c902-4af2-98ce-49f29dd89efd")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Powered-By"); got != "huggingface-moon" {
			t.Errorf("%s: X-Powered-By = %q", path, got)
		}
		if got := resp.Header.Get("X-Request-Id"); !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};c9be3bc3-c902-4af2-98ce-49f29dd89efd$`).MatchString(got) {
			t.Errorf("%s: X-Request-Id = %q", path, got)
		}
		if got := resp.Header.Get("RateLimit"); !rateLimit.MatchString(got) {
			t.Errorf("%s: RateLimit = %q", path, got)
		}
		if got := resp.Header.Get("RateLimit-Policy"); got != `"fixed window";"api";q=1000;w=300` {
			t.Errorf("%s: RateLimit-Policy = %q", path, got)
		}
	}
	// Without a trace id there is nothing after the root.
	r := w.do(t, "GET", "/api/models", "", nil)
	if got := r.header.Get("X-Request-Id"); !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`).MatchString(got) {
		t.Errorf("X-Request-Id = %q", got)
	}
}

func TestRateLimit(t *testing.T) {
	w := newWorld(t)
	w.h.quota = 2
	first := w.do(t, "GET", "/api/models", w.alice, nil)
	if got := first.header.Get("RateLimit"); !strings.HasPrefix(got, `"api";r=1;t=`) {
		t.Errorf("first RateLimit = %q, want r=1", got)
	}
	w.do(t, "GET", "/api/models", w.alice, nil)
	r := w.do(t, "GET", "/api/models", w.alice, nil)
	wantError(t, r, http.StatusTooManyRequests, "", "")
	if got := r.header.Get("RateLimit"); !strings.HasPrefix(got, `"api";r=0;t=`) {
		t.Errorf("RateLimit = %q, want r=0", got)
	}
	if got := r.header.Get("Retry-After"); !regexp.MustCompile(`^[1-9]\d*$`).MatchString(got) {
		t.Errorf("Retry-After = %q", got)
	}
	// Counted per token: another caller still has its quota.
	if r := w.do(t, "GET", "/api/models", w.bob, nil); r.status != http.StatusOK {
		t.Errorf("bob: status %d, want 200", r.status)
	}
}

func TestInvalidTokenOnEveryEndpoint(t *testing.T) {
	w := newWorld(t)
	const msg = "Invalid credentials in Authorization header"
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/whoami-v2"},
		{"GET", "/api/models"},
		{"GET", "/api/models/alice/public-model"},
		{"GET", "/api/spaces/alice/app/revision/main"},
		{"POST", "/api/repos/create"},
		{"DELETE", "/api/repos/delete"},
		{"POST", "/api/repos/move"},
		{"PUT", "/api/models/alice/public-model/settings"},
		{"GET", "/no/such/page"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := w.do(t, c.method, c.path, "hf_NotARealTokenAtAllxxxxxxxxxxxxxxx", map[string]any{"name": "x"})
			wantError(t, r, http.StatusUnauthorized, "", msg)
		})
	}
	// Another scheme is a credential the API cannot take, not anonymity.
	req, _ := http.NewRequest("GET", w.srv.URL+"/api/models", nil)
	req.Header.Set("Authorization", "Basic YWxpY2U6cHc=")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("Basic auth: status %d, want 401", resp.StatusCode)
	}
}

func TestWhoAmI(t *testing.T) {
	w := newWorld(t)
	const msg = "Invalid credentials in Authorization header"
	wantError(t, w.do(t, "GET", "/api/whoami-v2", "", nil), http.StatusUnauthorized, "", msg)
	// JS sends this literal header when it has no token.
	wantError(t, w.do(t, "GET", "/api/whoami-v2", "undefined", nil), http.StatusUnauthorized, "", msg)

	r := w.do(t, "GET", "/api/whoami-v2", w.bob, nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	m := r.object(t)
	// The keys of the hub-ci reply the JS client's test deep-equals (docs/hub-contract.md §2).
	want := []string{"auth", "avatarUrl", "billingMode", "canPay", "email", "emailVerified", "fullname", "id", "isPro", "name", "orgs", "periodEnd", "type"}
	if got := keys(m); !slices.Equal(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
	if m["type"] != "user" || m["name"] != "bob" || m["isPro"] != false || m["periodEnd"] != nil || m["billingMode"] != "postpaid" {
		t.Errorf("user fields: %s", r.body)
	}
	if id, _ := m["id"].(string); !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(id) {
		t.Errorf("id = %q", id)
	}
	if a, _ := m["avatarUrl"].(string); !regexp.MustCompile(`^/avatars/[0-9a-f]+\.svg$`).MatchString(a) {
		t.Errorf("avatarUrl = %q", a)
	}
	orgs, _ := m["orgs"].([]any)
	if len(orgs) != 1 {
		t.Fatalf("orgs = %v", m["orgs"])
	}
	o := orgs[0].(map[string]any)
	if o["type"] != "org" || o["name"] != "acme" || o["roleInOrg"] != "read" || o["id"] == "" || o["avatarUrl"] == "" {
		t.Errorf("org = %v", o)
	}
	at := m["auth"].(map[string]any)["accessToken"].(map[string]any)
	if m["auth"].(map[string]any)["type"] != "access_token" || at["role"] != "write" || at["displayName"] == "" {
		t.Errorf("auth = %v", m["auth"])
	}
	if c, _ := at["createdAt"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(c) {
		t.Errorf("createdAt = %q", c)
	}

	// The id is stable per user, and a read token says so.
	again := w.do(t, "GET", "/api/whoami-v2", w.aliceRead, nil).object(t)
	first := w.do(t, "GET", "/api/whoami-v2", w.alice, nil).object(t)
	if again["id"] != first["id"] || again["id"] == m["id"] {
		t.Errorf("ids: alice %v and %v, bob %v", first["id"], again["id"], m["id"])
	}
	if role := again["auth"].(map[string]any)["accessToken"].(map[string]any)["role"]; role != "read" {
		t.Errorf("read token role = %v", role)
	}
}

func TestNotFoundAndWrongMethod(t *testing.T) {
	w := newWorld(t)
	wantError(t, w.do(t, "GET", "/api/nothing-here", w.alice, nil), http.StatusNotFound, "",
		"Sorry, we can't find the page you are looking for.")
	wantError(t, w.do(t, "GET", "/api/kernels", w.alice, nil), http.StatusNotFound, "", "")

	r := w.do(t, "GET", "/api/repos/create", w.alice, nil)
	wantError(t, r, http.StatusMethodNotAllowed, "", "")
	if got := r.header.Get("Allow"); got != "POST" {
		t.Errorf("Allow = %q, want POST", got)
	}
	r = w.do(t, "POST", "/api/models/alice/public-model", w.alice, map[string]any{})
	wantError(t, r, http.StatusMethodNotAllowed, "", "")
	if got := r.header.Get("Allow"); got != "GET" {
		t.Errorf("Allow = %q, want GET", got)
	}
}

func TestRequestsAreRecordedAsSent(t *testing.T) {
	w := newWorld(t)
	w.do(t, "GET", "/api/models/alice/public-model/revision/refs%2Fpr%2F1?expand=likes&expand%5B%5D=private", w.alice, nil)
	w.do(t, "POST", "/api/repos/create", "hf_unknownxxxxxxxxxxxxxxxxxxxxxxxxxxxx", `{"name": "x"}`)

	got := w.h.Requests()
	if len(got) != 2 {
		t.Fatalf("recorded %d requests, want 2", len(got))
	}
	if got[0].Method != "GET" || got[0].Path != "/api/models/alice/public-model/revision/refs%2Fpr%2F1" ||
		got[0].RawQuery != "expand=likes&expand%5B%5D=private" || got[0].Header.Get("Authorization") != "Bearer "+w.alice {
		t.Errorf("first request = %+v", got[0])
	}
	// Refused requests are recorded too, body byte for byte.
	if got[1].Method != "POST" || got[1].Path != "/api/repos/create" || string(got[1].Body) != `{"name": "x"}` ||
		got[1].Header.Get("Content-Type") != "application/json" {
		t.Errorf("second request = %+v", got[1])
	}
	// Copies: changing them does not change the Hub's record.
	got[1].Body[0] = 'X'
	got[1].Header.Set("Content-Type", "text/plain")
	if again := w.h.Requests(); string(again[1].Body) != `{"name": "x"}` || again[1].Header.Get("Content-Type") != "application/json" {
		t.Errorf("Requests() shares memory with the Hub: %+v", again[1])
	}
	w.h.ResetRequests()
	if n := len(w.h.Requests()); n != 0 {
		t.Errorf("after ResetRequests: %d requests", n)
	}
}

func TestBodyTooLarge(t *testing.T) {
	w := newWorld(t)
	big := `{"name":"` + strings.Repeat("a", maxBodyBytes) + `"}`
	wantError(t, w.do(t, "POST", "/api/repos/create", w.alice, big), http.StatusRequestEntityTooLarge, "", "")
	if n := len(w.h.Requests()); n != 1 {
		t.Errorf("recorded %d requests, want 1", n)
	}
}

func TestSeedingAPI(t *testing.T) {
	h := New()
	h.AddUser("alice")
	tok := h.IssueToken("alice", RoleWrite)
	if !regexp.MustCompile(`^hf_[A-Za-z0-9]{34}$`).MatchString(tok) {
		t.Errorf("token %q is not hf_ + 34 alphanumerics", tok)
	}
	if tok2 := h.IssueToken("alice", RoleWrite); tok2 == tok {
		t.Error("two tokens are equal")
	}
	h.AddRepo("space", "alice/My_Space", true)
	rp, ok := h.Repo("space", "ALICE/my_space")
	if !ok || rp.ID != "alice/My_Space" || rp.SDK != "static" || !rp.Private || rp.Gated != false || rp.CreatedAt.IsZero() ||
		!regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(rp.ObjectID) {
		t.Errorf("Repo = %+v, %v", rp, ok)
	}
	if _, ok := h.Repo("model", "alice/My_Space"); ok {
		t.Error("a space was found as a model")
	}
	for name, f := range map[string]func(){
		"duplicate user":      func() { h.AddUser("ALICE") },
		"org named as a user": func() { h.AddOrg("alice", nil) },
		"invalid user":        func() { h.AddUser("-bad") },
		"unknown member":      func() { h.AddOrg("org", map[string]string{"nobody": "admin"}) },
		"unknown org role":    func() { h.AddOrg("org", map[string]string{"alice": "owner"}) },
		"token for nobody":    func() { h.IssueToken("nobody", RoleRead) },
		"duplicate repo":      func() { h.AddRepo("space", "alice/my_space", false) },
		"plural repo type":    func() { h.AddRepo("models", "alice/m", false) },
		"repo id without ns":  func() { h.AddRepo("model", "m", false) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func jsonUnmarshal(r response, v any) error {
	if ct := r.header.Get("Content-Type"); ct != jsonContentType {
		return fmt.Errorf("Content-Type = %q", ct)
	}
	return json.Unmarshal(r.body, v)
}
