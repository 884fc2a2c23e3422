package server

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/fakehub"
	"github.com/hf-micro/hf-micro/internal/hub"
)

// syncBuffer is a log sink that tests read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is hf-micro in front of a fake Hub with user alice (admin of org acme) and user bob.
type harness struct {
	fake     *fakehub.Hub
	url      string // hf-micro's base URL
	token    string // the server's token: alice, write
	logs     *syncBuffer
	draining *atomic.Bool
	replies  *syncBuffer // every reply body, for the leak check
	key      string      // the first client key configured, if any
}

type harnessOption func(fake *fakehub.Hub) string // returns the server's token

func readToken(fake *fakehub.Hub) string { return fake.IssueToken("alice", fakehub.RoleRead) }
func noToken(*fakehub.Hub) string        { return "" }

// newFakeHub serves an empty fake Hub with user alice on loopback.
func newFakeHub(t *testing.T) (*fakehub.Hub, string) {
	t.Helper()
	fake := fakehub.New()
	fake.AddUser("alice")
	hubServer := httptest.NewServer(fake)
	t.Cleanup(hubServer.Close)
	return fake, hubServer.URL
}

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	fake := fakehub.New()
	fake.AddUser("alice")
	fake.AddUser("bob")
	fake.AddOrg("acme", map[string]string{"alice": "admin"})
	fake.AddRepo("model", "alice/existing", false)
	fake.AddRepo("model", "bob/private-model", true)
	token := fake.IssueToken("alice", fakehub.RoleWrite)
	for _, opt := range opts {
		token = opt(fake)
	}
	hubServer := httptest.NewServer(fake)
	t.Cleanup(hubServer.Close)
	return startServer(t, fake, hubServer.URL, token, setup{})
}

// setup is how a test configures hf-micro beyond the defaults.
type setup struct {
	opts    Options
	peer    string   // pretend every caller connects from this address ("" keeps the real, loopback, one)
	secrets []string // client keys and callers' tokens, which must never appear in a log line or a reply
	// hubTimeout is hf-micro's Hub timeout when a test is about it; otherwise the default, 30 s, as a busy
	// machine is slow, not broken.
	hubTimeout time.Duration
}

// startServer runs hf-micro against a Hub at endpoint.
func startServer(t *testing.T, fake *fakehub.Hub, endpoint, token string, s setup) *harness {
	t.Helper()
	client, err := hub.New(hub.Options{Endpoint: endpoint, Token: hub.NewToken(token), UserAgent: "hf-micro/test", Timeout: s.hubTimeout})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := s.opts
	opts.Version, opts.MaxBodyBytes, opts.Draining = "1.2.3-test", 4096, new(atomic.Bool)
	opts.AccessLogJSON = logs // access lines as the service writes them, past slog
	handler, err := NewServer(logger, client, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s.peer != "" {
		inner := handler
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.RemoteAddr = s.peer
			inner.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(handler)
	h := &harness{fake: fake, url: srv.URL, token: token, logs: logs, draining: opts.Draining, replies: &syncBuffer{}}
	if len(s.secrets) > 0 {
		h.key = s.secrets[0]
	}
	t.Cleanup(func() {
		srv.Close()
		for _, secret := range append(s.secrets, token) {
			if secret == "" {
				continue
			}
			if strings.Contains(logs.String(), secret) {
				t.Errorf("a secret (%.12s...) appears in the log", secret)
			}
			if strings.Contains(h.replies.String(), secret) {
				t.Errorf("a secret (%.12s...) appears in a reply", secret)
			}
		}
	})
	return h
}

// logLines waits until the log has want lines containing each of substrings, and returns those lines. The
// access and audit lines are written after the reply is sent, so a test can see the reply first.
func (h *harness) logLines(t *testing.T, want int, substrings ...string) []string {
	t.Helper()
	var found []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		found = found[:0]
	lines:
		for _, line := range strings.Split(h.logs.String(), "\n") {
			for _, sub := range substrings {
				if !strings.Contains(line, sub) {
					continue lines
				}
			}
			found = append(found, line)
		}
		if len(found) >= want || time.Now().After(deadline) {
			return found
		}
	}
}

// reply is an answer from hf-micro, decoded.
type reply struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (h *harness) do(t *testing.T, method, path, contentType, body string) reply {
	t.Helper()
	return h.send(t, method, path, contentType, "", body)
}

// send is do with an Authorization header ("" for none).
func (h *harness) send(t *testing.T, method, path, contentType, authorization, body string) reply {
	t.Helper()
	return h.sendFull(t, method, path, map[string]string{"Content-Type": contentType, "Authorization": authorization}, body)
}

// sendHeaders sends a request without a body and with the given headers.
func (h *harness) sendHeaders(t *testing.T, method, path string, headers map[string]string) reply {
	t.Helper()
	return h.sendFull(t, method, path, headers, "")
}

func (h *harness) sendFull(t *testing.T, method, path string, headers map[string]string, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, h.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	req.Host = cmp.Or(headers["Host"], req.Host) // net/http sends req.Host, not a Host header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	h.replies.Write(raw)
	fmt.Fprintln(h.replies, resp.Header)
	r := reply{status: resp.StatusCode, header: resp.Header, body: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && !bytes.HasPrefix(raw, []byte("[")) {
		if err := json.Unmarshal(raw, &r.json); err != nil {
			t.Fatalf("%s %s: reply is not a JSON object: %s", method, path, raw)
		}
	}
	return r
}

func (h *harness) json(t *testing.T, method, path, body string) reply {
	t.Helper()
	return h.do(t, method, path, "application/json", body)
}

// checkError asserts an error reply's status and shape, and that its message contains want.
func checkError(t *testing.T, r reply, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	msg, _ := r.json["error"].(string)
	if msg == "" || !strings.Contains(msg, want) {
		t.Errorf("error = %q, want it to contain %q", msg, want)
	}
	if id, _ := r.json["request_id"].(string); id == "" || id != r.header.Get("X-Request-Id") {
		t.Errorf("request_id %q does not match X-Request-Id %q", id, r.header.Get("X-Request-Id"))
	}
}

// hubBodies are the JSON bodies the fake Hub received on path, in order.
func (h *harness) hubBodies(t *testing.T, method, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, req := range h.fake.Requests() {
		if req.Method == method && req.Path == path {
			var body map[string]any
			if err := json.Unmarshal(req.Body, &body); err != nil {
				t.Fatalf("the Hub got a body that is not JSON: %s", req.Body)
			}
			out = append(out, body)
		}
	}
	return out
}

func TestAccount(t *testing.T) {
	h := newHarness(t)
	r := h.json(t, "GET", "/api/account", "")
	if r.status != 200 || r.json["name"] != "alice" || r.json["type"] != "user" {
		t.Fatalf("account = %d %s", r.status, r.body)
	}
	auth, _ := r.json["auth"].(map[string]any)
	orgs, _ := r.json["orgs"].([]any)
	if auth == nil || len(orgs) != 1 || orgs[0].(map[string]any)["name"] != "acme" {
		t.Errorf("fields were lost: %s", r.body)
	}
	reqs := h.fake.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/api/whoami-v2" || reqs[0].Header.Get("Authorization") != "Bearer "+h.token {
		t.Errorf("the Hub received %+v", reqs)
	}
}

func TestAccountWithoutToken(t *testing.T) {
	h := newHarness(t, noToken)
	r := h.json(t, "GET", "/api/account", "")
	checkError(t, r, 401, "set HF_TOKEN")
	if r.json["hub_status"] != float64(401) {
		t.Errorf("hub_status = %v", r.json["hub_status"])
	}
}

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t)
	if r := h.json(t, "GET", "/healthz", ""); r.status != 200 || r.json["status"] != "ok" {
		t.Errorf("healthz = %d %s", r.status, r.body)
	}
	if r := h.json(t, "GET", "/readyz", ""); r.status != 200 {
		t.Errorf("readyz = %d %s", r.status, r.body)
	}
	h.draining.Store(true)
	checkError(t, h.json(t, "GET", "/readyz", ""), 503, "shutting down")
	if r := h.json(t, "GET", "/healthz", ""); r.status != 200 {
		t.Errorf("healthz while draining = %d", r.status)
	}
	if n := len(h.fake.Requests()); n != 0 {
		t.Errorf("probes called the Hub %d times", n)
	}
}

func TestUnknownRoute(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/nope", "/alice/m", "/alice/m/blob/main/x", "/datasets/alice/d/tree/main"} {
		checkError(t, h.json(t, "GET", path, ""), 404, "no such endpoint")
	}
	for _, c := range []struct{ method, path, allow string }{
		{"POST", "/healthz", "GET, HEAD"}, {"PATCH", "/api/repo", "GET, HEAD, POST, PUT, DELETE"},
		{"POST", "/api/account", "GET, HEAD"}, {"DELETE", "/", "GET, HEAD"}, {"PUT", "/openapi.json", "GET, HEAD"},
	} {
		r := h.json(t, c.method, c.path, "{}")
		checkError(t, r, 405, "is not allowed on "+c.path)
		if got := r.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
	if n := len(h.fake.Requests()); n != 0 {
		t.Errorf("paths that are not the Hub's reached it %d times", n)
	}
}

func TestRequestID(t *testing.T) {
	h := newHarness(t)
	send := func(id string) string {
		req, _ := http.NewRequest("GET", h.url+"/nope", nil)
		req.Header.Set("X-Request-Id", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Request-Id")
	}
	if got := send("abc-123.def"); got != "abc-123.def" {
		t.Errorf("a sane id was replaced by %q", got)
	}
	for _, bad := range []string{"has space", strings.Repeat("x", 200), "quote\"d", "new\tline"} {
		if got := send(bad); got == bad || got == "" {
			t.Errorf("id %q was kept as %q", bad, got)
		}
	}
	// The id reaches the Hub, which echoes it in its own request id.
	req, _ := http.NewRequest("GET", h.url+"/api/account", nil)
	req.Header.Set("X-Request-Id", "trace-me-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := h.fake.Requests()
	if len(reqs) == 0 || reqs[len(reqs)-1].Header.Get("X-Amzn-Trace-Id") != "trace-me-42" {
		t.Errorf("the request id did not reach the Hub")
	}
	// hf-micro's own ids stay home (a new header value per request costs HTTP/2 its header compression).
	h.json(t, "GET", "/api/account", "")
	reqs = h.fake.Requests()
	if got := reqs[len(reqs)-1].Header.Get("X-Amzn-Trace-Id"); got != "" {
		t.Errorf("hf-micro sent its own id %q to the Hub", got)
	}
}

func TestAccessLog(t *testing.T) {
	h := newHarness(t)
	h.json(t, "GET", "/api/repo?type=model&name=alice/existing", "")
	h.json(t, "GET", "/api/repo?type=model&name=alice/missing", "")
	var lines []map[string]any
	for _, line := range h.logLines(t, 2, `"msg":"request"`) {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		lines = append(lines, entry)
	}
	if len(lines) != 2 {
		t.Fatalf("want 2 access lines, got %d:\n%s", len(lines), h.logs)
	}
	want := []struct {
		status, upstream float64
	}{{200, 200}, {404, 404}}
	for i, line := range lines {
		if line["route"] != "GET /api/repo" || line["method"] != "GET" || line["status"] != want[i].status ||
			line["upstream_status"] != want[i].upstream || line["request_id"] == "" || line["bytes"] == float64(0) {
			t.Errorf("access line %d = %v", i, line)
		}
		if _, ok := line["duration_ms"].(float64); !ok {
			t.Errorf("access line %d has no duration", i)
		}
	}
}

func TestRecover(t *testing.T) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	h := withRequestID(withRecover(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("boom")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"request_id"`) || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("panic answered %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "boom") || !strings.Contains(logs.String(), "stack") {
		t.Errorf("panic not logged with its stack: %s", logs)
	}

	abort := withRequestID(withRecover(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	})))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("ErrAbortHandler was not re-panicked: %v", v)
		}
	}()
	abort.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

// TestNewRequestIDs: hf-micro's own request ids look as crypto/rand.Text's did (26 characters of the base32
// alphabet), pass its own check for ids, never repeat, and every position takes many values.
func TestNewRequestIDs(t *testing.T) {
	const n = 2000
	seen := make(map[string]bool, n)
	values := make([]map[byte]bool, 26)
	for i := range values {
		values[i] = map[byte]bool{}
	}
	for range n {
		id := newRequestID()
		if len(id) != 26 || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" || !saneRequestID(id) {
			t.Fatalf("request id %q: want 26 characters of the base32 alphabet", id)
		}
		if seen[id] {
			t.Fatalf("request id %q came twice in %d", id, n)
		}
		seen[id] = true
		for i := range id {
			values[i][id[i]] = true
		}
	}
	for i, v := range values {
		if len(v) < 30 { // 2000 draws of 32 equally likely characters miss even one with odds of about 1e-26
			t.Errorf("position %d took only %d of the 32 characters in %d ids", i, len(v), n)
		}
	}
}
