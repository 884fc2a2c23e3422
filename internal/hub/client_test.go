package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

const testToken = "hf_clienttestsecret0123456789"

// seen is one request as the test Hub received it.
type seen struct {
	Method, Path, RawPath string
	Header                http.Header
	Body                  string
}

// testHub serves reply under /prefix only, so a client that drops the endpoint's path is caught, and records
// what it received.
type testHub struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seen
}

func newTestHub(t *testing.T, reply http.HandlerFunc) (*testHub, *Client) {
	t.Helper()
	th := &testHub{}
	mux := http.NewServeMux()
	mux.HandleFunc("/prefix/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		th.mu.Lock()
		th.seen = append(th.seen, seen{r.Method, r.URL.Path, r.URL.EscapedPath(), r.Header.Clone(), string(body)})
		th.mu.Unlock()
		reply(w, r)
	})
	th.Server = httptest.NewServer(mux)
	t.Cleanup(th.Close)
	client, err := New(Options{Endpoint: th.URL + "/prefix/", Token: NewToken(testToken), UserAgent: "hf-micro/test"}) // the default 30 s: a busy machine is slow, not broken
	if err != nil {
		t.Fatal(err)
	}
	return th, client
}

func (th *testHub) last(t *testing.T) seen {
	t.Helper()
	th.mu.Lock()
	defer th.mu.Unlock()
	if len(th.seen) == 0 {
		t.Fatal("the Hub received nothing")
	}
	return th.seen[len(th.seen)-1]
}

func replyJSON(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestWhoAmI(t *testing.T) {
	const account = `{"type":"user","name":"alice","orgs":[{"type":"org","name":"acme"}],"auth":{"type":"access_token","accessToken":{"role":"write"}},"extra":1}`
	th, c := newTestHub(t, replyJSON(200, account))
	got, err := c.WhoAmI(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != account {
		t.Errorf("WhoAmI = %s; want every field as sent", got)
	}
	req := th.last(t)
	checks := map[string][2]string{
		"method":        {req.Method, "GET"},
		"path":          {req.Path, "/prefix/api/whoami-v2"},
		"authorization": {req.Header.Get("Authorization"), "Bearer " + testToken},
		"user-agent":    {req.Header.Get("User-Agent"), "hf-micro/test"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
}

// An answer is refused when it is not framed as one JSON object: cut short, an error page, an array, nothing.
func TestAnswerMustBeOneJSONObject(t *testing.T) {
	for _, body := range []string{`{"name": "alice"`, `<html>502 Bad Gateway</html>`, `[]`, ``, `{`, `  }`} {
		_, c := newTestHub(t, replyJSON(200, body))
		if _, err := c.WhoAmI(context.Background()); !errors.Is(err, ErrBadResponse) {
			t.Errorf("body %q: err = %v, want ErrBadResponse", body, err)
		}
	}
	_, c := newTestHub(t, replyJSON(200, " {}\n"))
	if got, err := c.WhoAmI(context.Background()); err != nil || string(got) != " {}\n" {
		t.Errorf("an empty object came back as %q, %v", got, err)
	}
}

func TestAnonymousClientSendsNoAuthorization(t *testing.T) {
	th := httptest.NewServer(replyJSON(200, `{}`))
	defer th.Close()
	var got http.Header
	th.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone(); replyJSON(200, `{}`)(w, r) })
	c, err := New(Options{Endpoint: th.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v, ok := got["Authorization"]; ok {
		t.Errorf("anonymous client sent Authorization %q", v)
	}
}

func TestCreateRepoBodies(t *testing.T) {
	yes := true
	cases := []struct {
		name string
		req  CreateRepoRequest
		want map[string]any
	}{
		{"model in a namespace", CreateRepoRequest{Type: Model, ID: RepoID{"alice", "m"}},
			map[string]any{"name": "m", "organization": "alice", "type": "model"}},
		{"bare name: organization null", CreateRepoRequest{Type: Dataset, ID: RepoID{Name: "d"}, Private: &yes},
			map[string]any{"name": "d", "organization": nil, "type": "dataset", "private": true}},
		{"space with sdk and visibility", CreateRepoRequest{Type: Space, ID: RepoID{"acme", "s"}, Visibility: "protected", SDK: "static"},
			map[string]any{"name": "s", "organization": "acme", "type": "space", "visibility": "protected", "sdk": "static"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			th, c := newTestHub(t, replyJSON(200, `{"url":"https://hub/x","name":"alice/m","id":"0123456789abcdef01234567"}`))
			created, err := c.CreateRepo(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if created != (CreatedRepo{URL: "https://hub/x", Name: "alice/m", ID: "0123456789abcdef01234567"}) {
				t.Errorf("created = %+v", created)
			}
			req := th.last(t)
			if req.Method != "POST" || req.Path != "/prefix/api/repos/create" || req.Header.Get("Content-Type") != "application/json" {
				t.Errorf("request %s %s %q", req.Method, req.Path, req.Header.Get("Content-Type"))
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(req.Body), &body); err != nil {
				t.Fatal(err)
			}
			if !equalJSON(body, tc.want) {
				t.Errorf("body = %v, want %v", body, tc.want)
			}
		})
	}
}

func TestCreateRepoRefusesPrivateAndVisibility(t *testing.T) {
	th, c := newTestHub(t, replyJSON(200, `{}`))
	yes := true
	_, err := c.CreateRepo(context.Background(), CreateRepoRequest{Type: Model, ID: RepoID{"a", "b"}, Private: &yes, Visibility: "private"})
	if err == nil {
		t.Fatal("accepted both private and visibility")
	}
	if len(th.seen) != 0 {
		t.Error("the request reached the Hub")
	}
}

func TestCreateRepoConflict(t *testing.T) {
	// Body and headers as recorded from huggingface.co (fixtures: test_manage_secrets).
	_, c := newTestHub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "Root=1-67cae56b-7044bad340f6f3b2760f4124")
		replyJSON(409, `{"error":"You already created this space repo","url":"https://huggingface.co/spaces/user/tmp_test_space"}`)(w, r)
	})
	_, err := c.CreateRepo(context.Background(), CreateRepoRequest{Type: Space, ID: RepoID{"user", "tmp_test_space"}, SDK: "gradio"})
	var he *Error
	if !errors.As(err, &he) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if he.Status != 409 || he.URL != "https://huggingface.co/spaces/user/tmp_test_space" ||
		he.Message != "You already created this space repo" || he.RequestID != "Root=1-67cae56b-7044bad340f6f3b2760f4124" {
		t.Errorf("error = %+v", he)
	}
}

func TestCreateRepoBadAnswer(t *testing.T) {
	for _, body := range []string{`not json`, `{"id":"x"}`, `[]`, ``} {
		_, c := newTestHub(t, replyJSON(200, body))
		_, err := c.CreateRepo(context.Background(), CreateRepoRequest{Type: Model, ID: RepoID{"a", "b"}})
		if !errors.Is(err, ErrBadResponse) {
			t.Errorf("body %q: err = %v, want ErrBadResponse", body, err)
		}
	}
}

func TestRepoInfoPaths(t *testing.T) {
	cases := []struct {
		typ      RepoType
		id       RepoID
		revision string
		wantRaw  string
	}{
		{Model, RepoID{"alice", "m"}, "", "/prefix/api/models/alice/m"},
		{Dataset, RepoID{"alice", "d"}, "main", "/prefix/api/datasets/alice/d/revision/main"},
		{Space, RepoID{"alice", "s"}, "refs/pr/1", "/prefix/api/spaces/alice/s/revision/refs%2Fpr%2F1"},
		{Model, RepoID{Name: "gpt2"}, "", "/prefix/api/models/gpt2"},
		{Model, RepoID{"a", "b"}, "weird ?#%/..", "/prefix/api/models/a/b/revision/weird%20%3F%23%25%2F.."},
	}
	for _, tc := range cases {
		th, c := newTestHub(t, replyJSON(200, `{"_id":"1","id":"a/b"}`))
		if _, err := c.RepoInfo(context.Background(), tc.typ, tc.id, tc.revision); err != nil {
			t.Fatal(err)
		}
		if got := th.last(t).RawPath; got != tc.wantRaw {
			t.Errorf("RepoInfo(%s, %s, %q) path = %q, want %q", tc.typ, tc.id, tc.revision, got, tc.wantRaw)
		}
	}
}

// TestAPIURLUnderAnEscapedEndpointPath: the one-string path of plain segments and the joined escaped form of
// the rest agree, under an endpoint whose own path needs escaping too.
func TestAPIURLUnderAnEscapedEndpointPath(t *testing.T) {
	c, err := New(Options{Endpoint: "https://hub.example/my%20mirror"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		segments          []string
		wantPath, wantRaw string
	}{
		{[]string{"whoami-v2"}, "/my mirror/api/whoami-v2", "/my%20mirror/api/whoami-v2"},
		{[]string{"models", "a", "b", "revision", "refs/pr/1"}, "/my mirror/api/models/a/b/revision/refs/pr/1",
			"/my%20mirror/api/models/a/b/revision/refs%2Fpr%2F1"},
	}
	for _, tc := range cases {
		u := c.apiURL(tc.segments...)
		if u.Path != tc.wantPath || u.EscapedPath() != tc.wantRaw {
			t.Errorf("apiURL(%q) = path %q, escaped %q; want %q, %q", tc.segments, u.Path, u.EscapedPath(), tc.wantPath, tc.wantRaw)
		}
	}
}

func TestUpdateSettings(t *testing.T) {
	th, c := newTestHub(t, replyJSON(200, `{"private":false,"gated":"auto"}`))
	no := false
	got, err := c.UpdateSettings(context.Background(), Space, RepoID{"alice", "s"}, Settings{Private: &no, Gated: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"private":false,"gated":"auto"}` {
		t.Errorf("answer = %s", got)
	}
	req := th.last(t)
	if req.Method != "PUT" || req.Path != "/prefix/api/spaces/alice/s/settings" || req.Body != `{"private":false,"gated":"auto"}` {
		t.Errorf("sent %s %s %s", req.Method, req.Path, req.Body)
	}
	if _, err := c.UpdateSettings(context.Background(), Model, RepoID{Name: "bare"}, Settings{Private: &no}); err == nil {
		t.Error("a bare name was accepted for settings")
	}
}

func TestUpdateSettingsGatedFalseIsSent(t *testing.T) {
	th, c := newTestHub(t, replyJSON(200, `{}`))
	if _, err := c.UpdateSettings(context.Background(), Model, RepoID{"a", "b"}, Settings{Gated: false}); err != nil {
		t.Fatal(err)
	}
	if body := th.last(t).Body; body != `{"gated":false}` {
		t.Errorf("body = %s", body)
	}
}

func TestDeleteRepo(t *testing.T) {
	th, c := newTestHub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "OK")
	})
	if err := c.DeleteRepo(context.Background(), Space, RepoID{"alice", "s"}); err != nil {
		t.Fatal(err)
	}
	req := th.last(t)
	if req.Method != "DELETE" || req.Path != "/prefix/api/repos/delete" || req.Body != `{"name":"s","organization":"alice","type":"space"}` {
		t.Errorf("sent %s %s %s", req.Method, req.Path, req.Body)
	}
}

func TestDeleteMissingRepo(t *testing.T) {
	_, c := newTestHub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		replyJSON(404, `{"error":"Repository not found"}`)(w, r)
	})
	err := c.DeleteRepo(context.Background(), Model, RepoID{"alice", "gone"})
	if !IsRepoNotFound(err) {
		t.Errorf("err = %v, want RepoNotFound", err)
	}
	_, c = newTestHub(t, replyJSON(404, `{"error":"Not Found"}`))
	if err := c.DeleteRepo(context.Background(), Model, RepoID{"alice", "gone"}); err == nil || IsRepoNotFound(err) {
		t.Errorf("a 404 without X-Error-Code counted as RepoNotFound: %v", err)
	}
}

func TestErrorMapping(t *testing.T) {
	future := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		name           string
		status         int
		headers        map[string]string
		body           string
		wantMsg        string
		wantCode       string
		wantRetryAfter time.Duration
	}{
		{"header message wins", 401, map[string]string{"X-Error-Message": "Invalid credentials in Authorization header"},
			`{"error":"something else"}`, "Invalid credentials in Authorization header", "", 0},
		{"body error string", 400, nil, `{"error":"Only regular characters and '-', '_', '.' accepted"}`,
			"Only regular characters and '-', '_', '.' accepted", "", 0},
		{"body error list", 400, nil, `{"error":["a","b"]}`, "a: b", "", 0},
		{"oauth style", 400, nil, `{"error":"invalid_grant","error_description":"expired"}`, "invalid_grant: expired", "", 0},
		{"plain text body", 500, map[string]string{"Content-Type": "text/plain"}, "upstream broke", "upstream broke", "", 0},
		{"html body is not a message", 502, map[string]string{"Content-Type": "text/html"}, "<html>bad gateway</html>", "", "", 0},
		{"error code", 404, map[string]string{"X-Error-Code": "RevisionNotFound"}, `{"error":"Invalid rev id: x"}`,
			"Invalid rev id: x", "RevisionNotFound", 0},
		{"retry-after seconds", 429, map[string]string{"Retry-After": "17"}, `{"error":"slow down"}`, "slow down", "", 17 * time.Second},
		{"retry-after date", 429, map[string]string{"Retry-After": future}, `{}`, "", "", 90 * time.Second},
		{"ratelimit exhausted", 429, map[string]string{"RateLimit": `"api";r=0;t=42`}, `{}`, "", "", 42 * time.Second},
		{"ratelimit not exhausted", 429, map[string]string{"RateLimit": `"api";r=3;t=42`}, `{}`, "", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, c := newTestHub(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				w.Header().Set("X-Request-Id", "hub-req-1")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := c.WhoAmI(context.Background())
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if he.Status != tc.status || he.Message != tc.wantMsg || he.Code != tc.wantCode || he.RequestID != "hub-req-1" {
				t.Errorf("error = %+v", he)
			}
			if diff := he.RetryAfter - tc.wantRetryAfter; diff < -2*time.Second || diff > 2*time.Second {
				t.Errorf("RetryAfter = %v, want %v", he.RetryAfter, tc.wantRetryAfter)
			}
			if he.Method != "GET" || he.Path != "/prefix/api/whoami-v2" {
				t.Errorf("error names %s %s", he.Method, he.Path)
			}
		})
	}
}

func TestErrorBodyIsBounded(t *testing.T) {
	_, c := newTestHub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(500)
		io.WriteString(w, strings.Repeat("x", 8<<20))
	})
	_, err := c.WhoAmI(context.Background())
	var he *Error
	if !errors.As(err, &he) {
		t.Fatalf("err = %v", err)
	}
	if len(he.Message) > maxErrorBody {
		t.Errorf("read %d bytes of an error body; the limit is %d", len(he.Message), maxErrorBody)
	}
}

// TestSuccessBodyIsBounded counts the bytes the client reads of an answer larger than maxBody. The answer is
// served from memory inside a synctest bubble, so the client's timeout cannot fire however slow the machine.
func TestSuccessBodyIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		body := &countingReader{r: io.MultiReader(
			strings.NewReader(`{"a":"`),
			strings.NewReader(strings.Repeat("x", maxBody+1<<20)),
			strings.NewReader(`"}`),
		)}
		c := newMemoryClient(t, func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(body), Request: r}, nil
		})
		if _, err := c.WhoAmI(context.Background()); !errors.Is(err, ErrBadResponse) {
			t.Errorf("err = %v, want ErrBadResponse for an oversized answer", err)
		}
		if body.n > maxBody+1 {
			t.Errorf("read %d bytes of the answer, want at most maxBody+1 (%d)", body.n, maxBody+1)
		}
	})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// roundTripFunc is a Hub in memory: no network, so it can run inside a synctest bubble.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// newMemoryClient is a client of an in-memory Hub, with the default timeout.
func newMemoryClient(t *testing.T, hub roundTripFunc) *Client {
	t.Helper()
	c, err := New(Options{Endpoint: "https://hub.test", Token: NewToken(testToken), Transport: hub})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestContextCancellation(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	_, c := newTestHub(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.WhoAmI(ctx)
	var ne *NetworkError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ne) {
		t.Errorf("err = %v, want a NetworkError wrapping context.Canceled", err)
	}
}

// TestTimeout runs in a synctest bubble: the Hub never answers, and the fake clock shows the call ended when
// Options.Timeout said, or at most a watchdog tick (a tenth of it) later, whatever the machine's speed. Without
// the timeout the bubble deadlocks, which fails the test.
func TestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 100 * time.Millisecond
		c, err := New(Options{Endpoint: "https://hub.test", Token: NewToken(testToken), Timeout: timeout,
			Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				<-r.Context().Done()
				return nil, r.Context().Err()
			})})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = c.WhoAmI(context.Background())
		var ne *NetworkError
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("err = %v, want a timeout", err)
		}
		if elapsed := time.Since(start); elapsed < timeout || elapsed > timeout+timeout/10 {
			t.Errorf("the call ended after %v, want the timeout, %v, or at most a tenth more", elapsed, timeout)
		}
	})
}

func TestConnectionRefused(t *testing.T) {
	th := httptest.NewServer(http.NotFoundHandler())
	url := th.URL
	th.Close()
	c, err := New(Options{Endpoint: url, Token: NewToken(testToken)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WhoAmI(context.Background())
	var ne *NetworkError
	if !errors.As(err, &ne) || ne.Timeout() {
		t.Errorf("err = %v, want a NetworkError that is no timeout", err)
	}
}

func TestTokenInNoError(t *testing.T) {
	answers := []http.HandlerFunc{
		replyJSON(401, `{"error":"Invalid credentials in Authorization header"}`),
		replyJSON(200, `garbage`),
		func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) },
	}
	for i, answer := range answers {
		_, c := newTestHub(t, answer)
		_, err := c.WhoAmI(context.Background())
		if err == nil {
			t.Fatalf("answer %d: no error", i)
		}
		if strings.Contains(err.Error(), testToken) || strings.Contains(strings.ReplaceAll(err.Error(), " ", ""), testToken) {
			t.Errorf("answer %d: token in error %q", i, err)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	good := map[string]string{
		"https://huggingface.co":        "https://huggingface.co",
		"https://huggingface.co/":       "https://huggingface.co",
		"http://127.0.0.1:9000/hf/":     "http://127.0.0.1:9000/hf",
		"https://[::1]:8443/mirror/hub": "https://[::1]:8443/mirror/hub",
	}
	for in, want := range good {
		u, err := ParseEndpoint(in)
		if err != nil || u.String() != want {
			t.Errorf("ParseEndpoint(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, in := range []string{"", "huggingface.co", "ftp://huggingface.co", "https://", "https://user:pw@huggingface.co",
		"https://huggingface.co/?x=1", "https://huggingface.co/#f", "://bad"} {
		if u, err := ParseEndpoint(in); err == nil {
			t.Errorf("ParseEndpoint(%q) accepted as %v", in, u)
		}
	}
}

func equalJSON(a, b map[string]any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestRedirectToAnotherHostDropsToken(t *testing.T) {
	var elsewhere http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere = r.Header.Clone()
		replyJSON(200, `{"_id":"1","id":"a/b"}`)(w, r)
	}))
	defer other.Close()
	th, c := newTestHub(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/old") {
			http.Redirect(w, r, "/prefix/api/models/a/new", http.StatusTemporaryRedirect)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/new") {
			http.Redirect(w, r, other.URL+"/api/models/a/b", http.StatusTemporaryRedirect)
			return
		}
	})
	if _, err := c.RepoInfo(context.Background(), Model, RepoID{"a", "old"}, ""); err != nil {
		t.Fatal(err)
	}
	if got := th.last(t).Header.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("a redirect on the Hub's own host lost the token: %q", got)
	}
	if elsewhere == nil {
		t.Fatal("the redirect to the other host was not followed")
	}
	if got := elsewhere.Get("Authorization"); got != "" {
		t.Errorf("the token was sent to another host: %q", got)
	}
}

func TestWithToken(t *testing.T) {
	th, c := newTestHub(t, replyJSON(200, `{}`))
	if _, err := c.WithToken(NewToken("hf_callers_own")).WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := th.last(t).Header.Get("Authorization"); got != "Bearer hf_callers_own" {
		t.Errorf("Authorization = %q", got)
	}
	if _, err := c.WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := th.last(t).Header.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("the original client changed: %q", got)
	}
	if _, err := c.WithToken(Token{}).WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := th.last(t).Header["Authorization"]; ok {
		t.Error("an empty token still sent Authorization")
	}
}

// A redirect from the Hub's https endpoint to plain http is not followed: the next hop would be readable by
// anyone on the path.
func TestRedirectToPlainHTTPIsNotFollowed(t *testing.T) {
	var plainCalls atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainCalls.Add(1)
		replyJSON(200, `{"_id":"1","id":"a/b"}`)(w, r)
	}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/api/models/a/b", http.StatusTemporaryRedirect)
	}))
	defer secure.Close()
	c, err := New(Options{Endpoint: secure.URL, Token: NewToken(testToken), Transport: secure.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RepoInfo(context.Background(), Model, RepoID{"a", "b"}, "")
	if !errors.Is(err, errDowngrade) {
		t.Errorf("error %v, want the downgrade refused", err)
	}
	if n := plainCalls.Load(); n != 0 {
		t.Errorf("the plain http server was called %d times", n)
	}
}

// The token a call was made with is removed from everything kept of the Hub's error answer.
func TestErrorsDoNotRepeatTheToken(t *testing.T) {
	_, c := newTestHub(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Error-Message", "bad token "+testToken)
		w.Header().Set("X-Request-Id", "id-"+testToken)
		replyJSON(401, `{"error":"bad `+testToken+`","url":"https://x/`+testToken+`"}`)(w, r)
	})
	_, err := c.WhoAmI(context.Background())
	var he *Error
	if !errors.As(err, &he) {
		t.Fatalf("error %v", err)
	}
	if text := fmt.Sprintf("%s %+v", err, *he); strings.Contains(text, testToken) || !strings.Contains(he.Message, "REDACTED") {
		t.Errorf("the error repeats the token, or drops the message: %s", text)
	}
}
