package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/fakehub"
	"github.com/hf-micro/hf-micro/internal/hub"
)

// Issue #7: how hf-micro behaves when the Hub misbehaves, through the simple API and the drop-in endpoint.
// Each case runs against a fresh upstream and a fresh hf-micro, and checks the status, the JSON error body,
// the log line with the cause, and that the goroutines are back to where they were once everything is closed.

// hf-micro's Hub timeout (HF_MICRO_HUB_TIMEOUT) in these tests: short where the timeout is what is tested (a
// stalling Hub), and otherwise far beyond anything a busy machine takes, so that a slow TLS handshake or a
// slow read is never mistaken for a stalled Hub.
const (
	faultTimeout = time.Second
	wideTimeout  = 2 * time.Minute
)

// faultUpstream is a Hub that misbehaves as told. stop ends every handler still waiting.
type faultUpstream struct {
	size    int64        // of the enormous body
	written atomic.Int64 // body bytes the handler managed to write
	stop    chan struct{}
	close   func()
}

// resetConn takes over the connection and closes it with a TCP reset (SO_LINGER 0), after writing raw.
func resetConn(w http.ResponseWriter, raw string) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	_ = buf.Flush()
	if raw != "" {
		_, _ = conn.Write([]byte(raw))
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// surface is a route a caller uses: two of the simple API, two of the drop-in endpoint.
type surface struct {
	name   string
	path   string
	dropIn bool
}

var faultSurfaces = []surface{
	{"account", "/api/account", false},
	{"repo-info", "/api/repo?type=model&name=a/b", false},
	{"dropin-whoami", "/api/whoami-v2", true},
	{"dropin-model", "/api/models/a/b", true},
}

// faultCase is one way the Hub fails. For each surface: the status, a part of the error message (simple API
// and drop-in failures hf-micro answers itself), or the passed-on body (drop-in answers the Hub gave).
type faultCase struct {
	name      string
	handler   func(u *faultUpstream) http.HandlerFunc
	tls       bool
	endpoint  string            // instead of the upstream's URL
	transport http.RoundTripper // instead of hub.NewTransport
	timeout   time.Duration     // instead of wideTimeout
	simple    faultWant
	dropIn    faultWant
}

type faultWant struct {
	status  int
	message string // the JSON "error" contains it; "" when the Hub's own answer is passed on
	body    string // the passed-on body starts with it
	cutOff  bool   // the status was sent, then the body broke off
	headers map[string]string
	logged  string // a log line has it (the cause)
}

func jsonAnswer(status int, body string) func(*faultUpstream) http.HandlerFunc {
	return func(*faultUpstream) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
}

// partialBody sends the status and the first bytes of a 1000-byte body, then does next.
func partialBody(next func(u *faultUpstream, w http.ResponseWriter, r *http.Request)) func(*faultUpstream) http.HandlerFunc {
	return func(u *faultUpstream) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			io.WriteString(w, `{"name":"alice","padding":"`)
			_ = http.NewResponseController(w).Flush()
			next(u, w, r)
		}
	}
}

func stallUntilStopped(u *faultUpstream, w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-u.stop:
	}
}

// The enormous body: for the simple API four times hub.maxBody (32 MiB), which it must not buffer; for the
// drop-in more than hub.maxBody, which it streams (TestDropInStreams measures its memory).
const (
	enormousBody       = 128 << 20
	enormousDropInBody = 40 << 20
)

func faultCases() []faultCase {
	rateLimit := `"api";r=0;t=30`
	return []faultCase{
		{name: "refused", endpoint: closedPort(),
			simple: faultWant{status: 502, message: "the Hub refused the connection", logged: "connection refused"},
			dropIn: faultWant{status: 502, message: "the Hub refused the connection", logged: "connection refused"}},
		{name: "reset-mid-headers", handler: func(*faultUpstream) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { resetConn(w, "HTTP/1.1 200 OK\r\nContent-Type: appl") }
		},
			// The reset comes after bytes of the status line: net/http reports the answer cut short.
			simple: faultWant{status: 502, message: "the connection to the Hub failed", logged: "transport connection broken: unexpected EOF"},
			dropIn: faultWant{status: 502, message: "the connection to the Hub failed", logged: "transport connection broken: unexpected EOF"}},
		{name: "reset-mid-body", handler: partialBody(func(u *faultUpstream, w http.ResponseWriter, r *http.Request) { resetConn(w, "") }),
			simple: faultWant{status: 502, message: "the Hub reset the connection", logged: "connection reset by peer"},
			dropIn: faultWant{status: 200, cutOff: true, logged: "Hub answer cut off"}},
		{name: "stall-before-headers", timeout: faultTimeout, handler: func(u *faultUpstream) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { stallUntilStopped(u, w, r) }
		},
			// The simple API's call is bounded whole by its own deadline; the drop-in's wait for headers by hub.AwaitHeaders.
			simple: faultWant{status: 504, message: "the Hub did not answer in time", logged: "no complete answer within the Hub timeout"},
			dropIn: faultWant{status: 504, message: "the Hub did not answer in time", logged: "timeout awaiting response headers"}},
		{name: "stall-mid-body", timeout: faultTimeout, handler: partialBody(stallUntilStopped),
			simple: faultWant{status: 504, message: "the Hub did not answer in time", logged: "no complete answer within the Hub timeout"},
			dropIn: faultWant{status: 200, cutOff: true, logged: "the Hub sent nothing more of its answer within the timeout"}},
		{name: "500", handler: func(*faultUpstream) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(500)
				io.WriteString(w, "<html>Internal Error</html>")
			}
		},
			simple: faultWant{status: 502, message: "the Hub failed with 500: Internal Server Error", logged: `"cause":"hub: GET`},
			dropIn: faultWant{status: 500, body: "<html>Internal Error</html>", logged: `"upstream_status":500`}},
		{name: "502", handler: jsonAnswer(502, `{"error":"bad gateway"}`),
			simple: faultWant{status: 502, message: "the Hub failed with 502: bad gateway", logged: `502: bad gateway`},
			dropIn: faultWant{status: 502, body: `{"error":"bad gateway"}`, logged: `"upstream_status":502`}},
		{name: "503", handler: jsonAnswer(503, `{"error":"maintenance"}`),
			simple: faultWant{status: 502, message: "the Hub failed with 503: maintenance", logged: `503: maintenance`},
			dropIn: faultWant{status: 503, body: `{"error":"maintenance"}`, logged: `"upstream_status":503`}},
		{name: "429", handler: func(*faultUpstream) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "30")
				w.Header().Set("RateLimit", rateLimit)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(429)
				io.WriteString(w, `{"error":"rate limited"}`)
			}
		},
			simple: faultWant{status: 429, message: "rate limited", logged: `429: rate limited`,
				headers: map[string]string{"Retry-After": "30", "RateLimit": rateLimit}},
			dropIn: faultWant{status: 429, body: `{"error":"rate limited"}`, logged: `"upstream_status":429`,
				headers: map[string]string{"Retry-After": "30", "RateLimit": rateLimit}}},
		{name: "invalid-json", handler: jsonAnswer(200, `{"name": "alice"`),
			simple: faultWant{status: 502, message: "the Hub sent an answer hf-micro cannot read", logged: "not a JSON object"},
			dropIn: faultWant{status: 200, body: `{"name": "alice"`, logged: `"upstream_status":200`}},
		// What is checked is the bytes the Hub could write, not the time taken to read them.
		{name: "enormous-body", handler: func(u *faultUpstream) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"padding":"`)
				chunk := bytes.Repeat([]byte("x"), 64<<10)
				for u.written.Load() < u.size {
					n, err := w.Write(chunk)
					u.written.Add(int64(n))
					if err != nil {
						return
					}
				}
				io.WriteString(w, `"}`)
			}
		},
			simple: faultWant{status: 502, message: "the Hub sent an answer hf-micro cannot read", logged: "answer larger than 33554432 bytes"},
			dropIn: faultWant{status: 200, body: `{"padding":"xxx`, logged: `"upstream_status":200`}},
		{name: "unknown-ca", tls: true, handler: jsonAnswer(200, `{}`),
			simple: faultWant{status: 502, message: "signed by an unknown authority (add the CA with SSL_CERT_FILE)", logged: "x509"},
			dropIn: faultWant{status: 502, message: "signed by an unknown authority (add the CA with SSL_CERT_FILE)", logged: "x509"}},
		{name: "dns-failure", endpoint: "https://hub.invalid", transport: failingDNS(),
			simple: faultWant{status: 502, message: "cannot resolve the Hub's host name", logged: "no such host"},
			dropIn: faultWant{status: 502, message: "cannot resolve the Hub's host name", logged: "no such host"}},
	}
}

// closedPort is the URL of a loopback port nothing listens on any more.
func closedPort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}

// failingDNS is the Hub's transport, except that resolving fails as it does for a name under .invalid: the
// failure is injected in the dialer, so no DNS query leaves the machine.
func failingDNS() http.RoundTripper {
	t := hub.NewTransport(wideTimeout)
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}
	t.Proxy = nil
	return t
}

// faultServer is hf-micro in front of endpoint, which stop closes entirely (servers and idle connections).
type faultServer struct {
	*harness
	transport http.RoundTripper
	srv       *httptest.Server
}

func startFaultServer(t *testing.T, endpoint string, transport http.RoundTripper, timeout time.Duration, opts Options) *faultServer {
	t.Helper()
	if transport == nil {
		transport = hub.NewTransport(0) // as hub.New makes it: no header timeout, the call's deadline bounds it
	}
	client, err := hub.New(hub.Options{Endpoint: endpoint, Token: hub.NewToken("hf_faulttoken"), UserAgent: "hf-micro/test", Timeout: timeout, Transport: transport})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Version, opts.MaxBodyBytes, opts.Draining = "1.2.3-test", 4096, new(atomic.Bool)
	handler, err := NewServer(logger, client, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	return &faultServer{
		harness:   &harness{url: srv.URL, token: "hf_faulttoken", logs: logs, draining: opts.Draining, replies: &syncBuffer{}},
		transport: transport,
		srv:       srv,
	}
}

func (f *faultServer) stop() {
	f.srv.Close()
	if ci, ok := f.transport.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
	http.DefaultClient.CloseIdleConnections()
}

// outcome is what a caller got, including a body that broke off.
type outcome struct {
	reply
	readErr error
}

// fetch GETs url. A caller's deadline far beyond every timeout in these tests turns a hang (a Hub timeout
// that never fires) into a failure; how long the call took is not checked, as a busy machine is slow.
func fetch(t *testing.T, ctx context.Context, url string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, readErr := io.ReadAll(resp.Body)
	o := outcome{reply: reply{status: resp.StatusCode, header: resp.Header, body: raw}, readErr: readErr}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && readErr == nil {
		_ = json.Unmarshal(raw, &o.json)
	}
	return o
}

// checkGoroutines waits until the goroutine count is back to baseline, and shows the extra ones if not.
func checkGoroutines(t *testing.T, baseline int) {
	t.Helper()
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(30 * time.Second); n > baseline && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(20 * time.Millisecond)
	}
	if n > baseline {
		var buf bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Errorf("%d goroutines, %d before: a leak\n%s", n, baseline, buf.String())
	}
}

func TestHubFaultMatrix(t *testing.T) {
	for _, fc := range faultCases() {
		for _, s := range faultSurfaces {
			t.Run(fc.name+"/"+s.name, func(t *testing.T) {
				http.DefaultClient.CloseIdleConnections()
				baseline := runtime.NumGoroutine()
				u := &faultUpstream{stop: make(chan struct{}), size: enormousBody}
				if s.dropIn {
					u.size = enormousDropInBody
				}
				endpoint := fc.endpoint
				if fc.handler != nil {
					var hubServer *httptest.Server
					if fc.tls {
						hubServer = httptest.NewTLSServer(fc.handler(u))
						// The client's refusal of the certificate is what is tested, not the server's log of it.
						hubServer.Config.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
					} else {
						hubServer = httptest.NewServer(fc.handler(u))
					}
					endpoint = hubServer.URL
					u.close = hubServer.Close
				}
				timeout := wideTimeout
				if fc.timeout > 0 {
					timeout = fc.timeout
				}
				f := startFaultServer(t, endpoint, fc.transport, timeout, Options{})
				want := fc.simple
				if s.dropIn {
					want = fc.dropIn
				}

				o := fetch(t, context.Background(), f.url+s.path)
				checkFaultOutcome(t, f, u, o, want)

				close(u.stop)
				f.stop()
				if u.close != nil {
					u.close()
				}
				checkGoroutines(t, baseline)
			})
		}
	}
}

func checkFaultOutcome(t *testing.T, f *faultServer, u *faultUpstream, o outcome, want faultWant) {
	t.Helper()
	switch {
	case want.cutOff:
		if o.status != want.status || o.readErr == nil {
			t.Errorf("got %d, body read error %v; want %d and a cut-off body", o.status, o.readErr, want.status)
		}
		if !errors.Is(o.readErr, io.ErrUnexpectedEOF) {
			t.Errorf("the body ended with %v, want unexpected EOF", o.readErr)
		}
	case want.message != "":
		checkError(t, o.reply, want.status, want.message)
	default:
		if o.status != want.status || o.readErr != nil || !bytes.HasPrefix(o.body, []byte(want.body)) {
			t.Errorf("got %d %.80q (%v), want %d %q as the Hub sent it", o.status, o.body, o.readErr, want.status, want.body)
		}
	}
	for k, v := range want.headers {
		if got := o.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if want.message == "" && !want.cutOff && strings.HasPrefix(want.body, `{"padding"`) && int64(len(o.body)) < u.size {
		t.Errorf("the drop-in passed on %d bytes of a %d-byte answer", len(o.body), u.size)
	}
	if strings.HasPrefix(want.message, "the Hub sent an answer") && u.written.Load() > 0 {
		// hf-micro stopped reading at hub.maxBody: the Hub could not push the whole body into it.
		if w := u.written.Load(); w > 48<<20 {
			t.Errorf("the Hub wrote %d MiB before hf-micro gave up: the body was not bounded", w>>20)
		}
	}
	// One log line says why, at error level for a 5xx hf-micro answered itself.
	lines := f.logLines(t, 1, want.logged)
	if len(lines) == 0 {
		t.Errorf("no log line with %q:\n%s", want.logged, f.logs)
	}
	if want.message != "" || want.cutOff {
		var failed []string
		switch {
		case want.cutOff:
			failed = f.logLines(t, 1, `"msg":"Hub answer cut off"`)
		case want.status >= 500:
			failed = f.logLines(t, 1, `"level":"ERROR"`)
		default:
			failed = f.logLines(t, 1, `"msg":"request failed"`)
		}
		if len(failed) != 1 {
			t.Errorf("want exactly one error line, got %d:\n%s", len(failed), f.logs)
		}
	}
	if strings.Contains(f.logs.String(), `"msg":"panic"`) {
		t.Errorf("a panic was logged:\n%s", f.logs)
	}
	if len(f.logLines(t, 1, `"msg":"request"`)) != 1 {
		t.Errorf("want one access line:\n%s", f.logs)
	}
}

// flakyHub is the fake Hub, except that the first call to path answers 503.
func flakyHub(t *testing.T, method, path string) (fake *fakehub.Hub, endpoint, token string) {
	t.Helper()
	fake = fakehub.New()
	fake.AddUser("alice")
	token = fake.IssueToken("alice", fakehub.RoleWrite)
	var calls atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == method && r.URL.Path == path && calls.Add(1) == 1 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(503)
			io.WriteString(w, `{"error":"try again"}`)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(upstream.Close)
	return fake, upstream.URL, token
}

// TestAccountRecoversFromOne503: a read that the Hub fails once in passing is retried; the caller never knows.
func TestAccountRecoversFromOne503(t *testing.T) {
	fake, endpoint, token := flakyHub(t, "GET", "/api/whoami-v2")
	h := startServer(t, fake, endpoint, token, setup{})
	r := h.json(t, "GET", "/api/account", "")
	if r.status != 200 || r.json["name"] != "alice" {
		t.Fatalf("account = %d %s", r.status, r.body)
	}
	if r.header.Get("Retry-After") != "" {
		t.Error("the caller was told to retry")
	}
	// Two calls reached the Hub's whoami-v2: the 503 and the retry (the fake records only the second).
	if n := len(h.fake.Requests()); n != 1 {
		t.Errorf("the fake Hub saw %d calls after the 503, want 1", n)
	}
	if lines := h.logLines(t, 1, `"msg":"request"`, `"status":200`, `"upstream_status":200`); len(lines) != 1 {
		t.Errorf("access line:\n%s", h.logs)
	}
}

// TestCreateIsNotRetried: a write the Hub fails is never sent twice (it may have happened).
func TestCreateIsNotRetried(t *testing.T) {
	fake, endpoint, token := flakyHub(t, "POST", "/api/repos/create")
	h := startServer(t, fake, endpoint, token, setup{})
	r := h.json(t, "POST", "/api/repo", `{"type":"model","name":"alice/new"}`)
	checkError(t, r, 502, "the Hub failed with 503: try again")
	if n := len(h.fake.Requests()); n != 0 {
		t.Errorf("the create was sent again after the 503 (%d more calls)", n)
	}
	if _, exists := fake.Repo("model", "alice/new"); exists {
		t.Error("the repository was created by a retry")
	}
}

// TestCallerGoneCancelsHubCall: a caller that hangs up ends hf-micro's Hub call at once, through the simple
// API and the drop-in endpoint. (GET /api/account is the exception on purpose: with the account cache on, the
// call is shared by every caller with that credential and runs on, bounded by the Hub timeout.)
func TestCallerGoneCancelsHubCall(t *testing.T) {
	for _, path := range []string{"/api/repo?type=model&name=a/b", "/api/models/a/b", "/api/whoami-v2", "/api/account"} {
		t.Run(path, func(t *testing.T) {
			http.DefaultClient.CloseIdleConnections()
			baseline := runtime.NumGoroutine()
			arrived, cancelled := make(chan struct{}), make(chan time.Time, 1)
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(arrived)
				select {
				case <-r.Context().Done():
					cancelled <- time.Now()
				case <-time.After(2 * time.Minute):
				}
			}))
			// A Hub timeout far beyond the test, so that only the caller's going can end the call.
			f := startFaultServer(t, upstream.URL, nil, 5*time.Minute, Options{})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				req, _ := http.NewRequestWithContext(ctx, "GET", f.url+path, nil)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				done <- err
			}()
			<-arrived
			hungUp := time.Now()
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("caller: %v", err)
			}
			select {
			case at := <-cancelled:
				t.Logf("the Hub saw its request cancelled %s after the caller hung up", at.Sub(hungUp).Round(time.Millisecond))
			case <-time.After(30 * time.Second): // at once, in fact; wide for a busy machine
				t.Fatal("the Hub call was not cancelled when the caller went away")
			}
			if lines := f.logLines(t, 1, `"msg":"request"`, `"status":499`); len(lines) != 1 {
				t.Errorf("no access line with 499:\n%s", f.logs)
			}
			f.stop()
			upstream.Close()
			checkGoroutines(t, baseline)
		})
	}
}

// TestCachedAccountCallOutlivesItsCaller: with the account cache on, the shared whoami-v2 call is not cancelled
// by one caller's going, but the Hub timeout still ends it: nothing is left behind.
func TestCachedAccountCallOutlivesItsCaller(t *testing.T) {
	http.DefaultClient.CloseIdleConnections()
	baseline := runtime.NumGoroutine()
	arrived := make(chan struct{})
	var ended atomic.Bool
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
		ended.Store(true)
	}))
	// A Hub timeout well beyond the pause below, which a busy machine may stretch.
	const timeout = 3 * time.Second
	f := startFaultServer(t, upstream.URL, nil, timeout, Options{AccountCacheTTL: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", f.url+"/api/account", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-arrived
	cancel()
	time.Sleep(timeout / 12)
	if ended.Load() {
		t.Error("the shared call ended with its first caller")
	}
	waitUntil(t, 30*time.Second, ended.Load)
	f.stop()
	upstream.Close()
	checkGoroutines(t, baseline)
}

func waitUntil(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

// TestDropInSlowReaderIsNotCut: the drop-in's idle bound counts only time waiting on the Hub; a caller that
// reads slowly (here, pausing longer than the Hub timeout) still gets the whole answer.
func TestDropInSlowReaderIsNotCut(t *testing.T) {
	const size = 8 << 20
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		chunk := bytes.Repeat([]byte("y"), 64<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer upstream.Close()
	// The pause below is twice the timeout; the timeout itself is wide enough that a busy machine's Hub, which
	// must write again as soon as the caller reads, is not cut while it is being read.
	f := startFaultServer(t, upstream.URL, nil, 2*time.Second, Options{})
	defer f.stop()
	resp, err := http.Get(f.url + "/alice/m/resolve/main/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 1024)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second) // the socket buffers fill; hf-micro waits on us, not on the Hub
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n+1024 != size {
		t.Errorf("read %d more bytes, %v; want all %d", n, err, size)
	}
	if strings.Contains(f.logs.String(), "cut off") {
		t.Errorf("a slow caller was cut:\n%s", f.logs)
	}
}

// TestUnknownCAOverHTTP2 checks the TLS refusal where the transport would speak HTTP/2.
func TestUnknownCAOverHTTP2(t *testing.T) {
	upstream := httptest.NewUnstartedServer(http.NotFoundHandler())
	upstream.EnableHTTP2 = true
	upstream.Config.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	upstream.TLS = &tls.Config{NextProtos: []string{"h2"}}
	upstream.StartTLS()
	defer upstream.Close()
	f := startFaultServer(t, upstream.URL, nil, wideTimeout, Options{})
	defer f.stop()
	checkError(t, f.json(t, "GET", "/api/models/a/b", ""), 502, "unknown authority")
}
