package server

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"

	"github.com/hf-micro/hf-micro/internal/fakehub"
)

// TestTraceContextReachesTheHub: a caller's traceparent reaches the Hub unchanged, once, from the simple API
// and the drop-in alike, with its tracestate, and its trace id is in the access and audit lines; a caller
// without one gets a fresh, valid one sent, and logged.
func TestTraceContextReachesTheHub(t *testing.T) {
	fake := fakehub.New()
	fake.AddUser("alice")
	fake.AddRepo("model", "alice/existing", false)
	var mu sync.Mutex
	seen := map[string][]string{} // Hub path -> traceparent values of its last call
	states := map[string][]string{}
	hubServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path], states[r.URL.Path] = r.Header.Values("Traceparent"), r.Header.Values("Tracestate")
		mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(hubServer.Close)
	h := startServer(t, fake, hubServer.URL, fake.IssueToken("alice", fakehub.RoleWrite), setup{})

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	for path, hubPath := range map[string]string{
		"/api/repo?type=model&name=alice/existing": "/api/models/alice/existing",               // the simple API
		"/api/models/alice/existing/revision/main": "/api/models/alice/existing/revision/main", // the drop-in
	} {
		r := h.sendFull(t, "GET", path, map[string]string{"Traceparent": parent, "Tracestate": "congo=t61rcWkgMzE"}, "")
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		mu.Lock()
		got, state := seen[hubPath], states[hubPath]
		mu.Unlock()
		if len(got) != 1 || got[0] != parent || len(state) != 1 || state[0] != "congo=t61rcWkgMzE" {
			t.Errorf("GET %s: the Hub got traceparent %q, tracestate %q; want exactly the caller's", path, got, state)
		}
	}
	if lines := h.logLines(t, 2, `"msg":"request"`, `"trace_id":"`+traceID+`"`); len(lines) != 2 {
		t.Errorf("access lines with the caller's trace id: %q", lines)
	}

	// Without one: a fresh, valid traceparent, and its trace id in the log.
	if r := h.do(t, "GET", "/api/repo?type=model&name=alice/existing", "", ""); r.status != 200 {
		t.Fatalf("GET: %d", r.status)
	}
	mu.Lock()
	got := seen["/api/models/alice/existing"]
	mu.Unlock()
	valid := regexp.MustCompile(`^00-([0-9a-f]{32})-[0-9a-f]{16}-0[01]$`)
	if len(got) != 1 || !valid.MatchString(got[0]) || got[0] == parent {
		t.Fatalf("without a traceparent, the Hub got %q; want one fresh, valid one", got)
	}
	fresh := valid.FindStringSubmatch(got[0])[1]
	if lines := h.logLines(t, 1, `"msg":"request"`, `"trace_id":"`+fresh+`"`); len(lines) != 1 {
		t.Errorf("no access line with the fresh trace id %s:\n%s", fresh, h.logs)
	}

	// The audit line of a change carries it too.
	r := h.sendFull(t, "POST", "/api/repo", map[string]string{"Content-Type": "application/json", "Traceparent": parent},
		`{"type":"model","name":"alice/traced"}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if lines := h.logLines(t, 1, `"msg":"audit"`, `"trace_id":"`+traceID+`"`); len(lines) != 1 {
		t.Errorf("no audit line with the caller's trace id:\n%s", h.logs)
	}
}
