package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/fakehub"
)

// binary is hf-micro built once for these tests, as a user builds it.
var binary string

const testVersion = "1.0.0-e2e"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hf-micro-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "hf-micro")
	build := exec.Command("go", "build", "-o", binary, "-ldflags", "-X main.version="+testVersion, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building hf-micro:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// lockedBuffer collects a process's output while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a running hf-micro.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	base           string
	done           chan error
}

// startBinary runs hf-micro with exactly env (plus PATH), in a fresh working directory, and waits until
// /healthz answers. The listen address is read from the "listening" log line, as ADDR is 127.0.0.1:0.
func startBinary(t *testing.T, args []string, env ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "ADDR=127.0.0.1:0"}, env...)
	p := &process{cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})

	listening := regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
	deadline := time.Now().Add(time.Minute) // wide: a race-built binary on a busy machine starts slowly
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(p.stderr.String()); m != nil {
			p.base = "http://" + m[1]
			if resp, err := http.Get(p.base + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return p
				}
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("hf-micro exited early (%v):\n%s", err, p.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("hf-micro did not become healthy:\n%s", p.stderr)
	return nil
}

// call sends a JSON request and decodes the JSON reply.
func call(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	return callWith(t, method, url, "", body)
}

// callWith is call with a bearer credential ("" for none).
func callWith(t *testing.T, method, url, bearer, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: reply is not a JSON object: %s", method, url, raw)
	}
	return resp.StatusCode, out
}

// tlsHub serves the fake Hub over HTTPS and writes its CA certificate to a file for SSL_CERT_FILE.
func tlsHub(t *testing.T, handler http.Handler) (url, caFile string) {
	t.Helper()
	srv := httptest.NewTLSServer(handler)
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "hub-ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL, caFile
}

func newWorld() (*fakehub.Hub, string) {
	fake := fakehub.New()
	fake.AddUser("alice")
	fake.AddOrg("acme", map[string]string{"alice": "write"})
	return fake, fake.IssueToken("alice", fakehub.RoleWrite)
}

// TestRepositoryLifeOverHTTPS drives the built binary against the fake Hub over HTTPS, trusted through
// SSL_CERT_FILE as a user with a private CA would, through the whole life of a repository of each type.
func TestRepositoryLifeOverHTTPS(t *testing.T) {
	fake, token := newWorld()
	hubURL, caFile := tlsHub(t, fake)
	p := startBinary(t, nil, "HF_TOKEN="+token, "HF_ENDPOINT="+hubURL, "SSL_CERT_FILE="+caFile)
	api := p.base + "/api/repo"

	status, account := call(t, "GET", p.base+"/api/account", "")
	if status != 200 || account["name"] != "alice" {
		t.Fatalf("account: %d %v", status, account)
	}
	for _, typ := range []string{"model", "dataset", "space"} {
		t.Run(typ, func(t *testing.T) {
			id := "acme/life-" + typ
			create := fmt.Sprintf(`{"type":%q,"name":%q,"private":true}`, typ+"s", id)
			steps := []struct {
				method, url, body string
				status            int
				check             func(map[string]any) bool
			}{
				{"POST", api, create, 201, func(r map[string]any) bool { return r["name"] == id && r["created"] == true }},
				{"POST", api, create, 409, func(r map[string]any) bool { return strings.HasSuffix(r["url"].(string), id) }},
				{"POST", api, fmt.Sprintf(`{"type":%q,"name":%q,"exist_ok":true}`, typ, id), 200,
					func(r map[string]any) bool { return r["created"] == false && strings.HasSuffix(r["url"].(string), id) }},
				{"GET", api + "?type=" + typ + "&name=" + id, "", 200, func(r map[string]any) bool { return r["id"] == id && r["private"] == true }},
				{"PUT", api, fmt.Sprintf(`{"type":%q,"namespace":%q,"private":false}`, typ, id), 200,
					func(r map[string]any) bool { return r["settings"].(map[string]any)["private"] == false }},
				{"GET", api + "?type=" + typ + "&name=" + id, "", 200, func(r map[string]any) bool { return r["private"] == false }},
				{"DELETE", api, fmt.Sprintf(`{"type":%q,"name":%q}`, typ, id), 200, func(r map[string]any) bool { return r["deleted"] == true }},
				{"DELETE", api, fmt.Sprintf(`{"type":%q,"name":%q}`, typ, id), 404, func(r map[string]any) bool { return r["hub_error_code"] == "RepoNotFound" }},
				{"DELETE", api, fmt.Sprintf(`{"type":%q,"name":%q,"missing_ok":true}`, typ, id), 200, func(r map[string]any) bool { return r["deleted"] == false }},
			}
			for i, s := range steps {
				status, reply := call(t, s.method, s.url, s.body)
				if status != s.status || !s.check(reply) {
					t.Fatalf("step %d %s %s: %d %v", i+1, s.method, s.body, status, reply)
				}
			}
		})
	}
	if strings.Contains(p.stderr.String(), token) || strings.Contains(p.stdout.String(), token) {
		t.Error("the token appears in the output")
	}
	if strings.Contains(strings.Join(p.cmd.Args, " "), token) {
		t.Error("the token is in the process arguments")
	}
}

// TestWithoutTheCA shows why the CA bundle matters: the same Hub, not trusted, is a clear 502.
func TestWithoutTheCA(t *testing.T) {
	fake, token := newWorld()
	hubURL, _ := tlsHub(t, fake)
	p := startBinary(t, nil, "HF_TOKEN="+token, "HF_ENDPOINT="+hubURL, "SSL_CERT_FILE="+filepath.Join(t.TempDir(), "empty.pem"))
	status, reply := call(t, "GET", p.base+"/api/account", "")
	if status != 502 || !strings.Contains(reply["error"].(string), "certificate") {
		t.Errorf("untrusted Hub: %d %v", status, reply)
	}
}

// TestOriginalExamplesInDemo runs the examples for users of the original hf-micro (docs/migration.md), verbatim
// with real curl, against `hf-micro demo`.
func TestOriginalExamplesInDemo(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed (apt-get install curl)")
	}
	commands := markedExamples(t, "../../docs/migration.md", "original-examples")
	if len(commands) < 4 {
		t.Fatalf("found %d examples in docs/migration.md, want the original README's 4", len(commands))
	}
	p := startBinary(t, []string{"demo"}, "HF_TOKEN=hf_realtokenmustbeignored")
	// The banner is printed once the server accepts connections, so /healthz may answer before it is complete.
	waitFor(t, func() bool { return strings.Contains(p.stdout.String(), "Stop with Ctrl-C") })
	if !strings.Contains(p.stdout.String(), "fake Hub") || !strings.Contains(p.stdout.String(), "curl -sS") {
		t.Errorf("the demo banner lacks its instructions:\n%s", p.stdout)
	}
	if page := getText(t, p.base+"/"); !strings.Contains(page, "fake Hub") {
		t.Error("the demo's index page does not say it serves the fake Hub")
	}
	for _, command := range commands {
		command = strings.ReplaceAll(command, "http://localhost:8080", p.base)
		command = strings.Replace(command, "curl ", curl+" -sS --fail-with-body ", 1)
		out, err := exec.Command("sh", "-c", command).CombinedOutput()
		if err != nil {
			t.Errorf("%s\nfailed: %v\n%s", command, err, out)
			continue
		}
		if !json.Valid(out) {
			t.Errorf("%s\nanswered no JSON: %s", command, out)
		}
	}
	if strings.Contains(p.stderr.String(), "hf_realtokenmustbeignored") {
		t.Error("demo mode logged the real token")
	}
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// markedExamples returns the curl commands in the fenced block after the marker comment in a Markdown file.
func markedExamples(t *testing.T, path, marker string) []string {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, after, found := strings.Cut(string(doc), "<!-- "+marker+" -->")
	if !found {
		t.Fatalf("%s has no %q marker", path, marker)
	}
	_, block, _ := strings.Cut(after, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	var commands []string
	scanner := bufio.NewScanner(strings.NewReader(block))
	for scanner.Scan() {
		if line := strings.TrimSpace(scanner.Text()); strings.HasPrefix(line, "curl ") {
			commands = append(commands, line)
		}
	}
	return commands
}

// TestGracefulShutdown sends SIGTERM while a request waits on a slow Hub: the request still gets its real
// answer, new connections are refused, and the process exits 0.
func TestGracefulShutdown(t *testing.T) {
	fake, token := newWorld()
	arrived, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/whoami-v2" {
			close(arrived)
			<-release
		}
		fake.ServeHTTP(w, r)
	})
	hubServer := httptest.NewServer(slow)
	defer hubServer.Close()
	p := startBinary(t, nil, "HF_TOKEN="+token, "HF_ENDPOINT="+hubServer.URL, "HF_MICRO_SHUTDOWN_TIMEOUT=1m")

	type result struct {
		status int
		name   any
	}
	inFlight := make(chan result, 1)
	go func() {
		resp, err := http.Get(p.base + "/api/account")
		if err != nil {
			inFlight <- result{status: -1}
			return
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		inFlight <- result{resp.StatusCode, body["name"]}
	}()
	<-arrived
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(p.stderr.String(), "shutting down") })
	if _, err := http.Get(p.base + "/healthz"); err == nil {
		t.Error("a new connection was accepted after SIGTERM")
	}
	close(release)

	if r := <-inFlight; r.status != 200 || r.name != "alice" {
		t.Errorf("the in-flight request got %d %v", r.status, r.name)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exit: %v\n%s", err, p.stderr)
		}
	case <-time.After(time.Minute):
		t.Fatal("hf-micro did not exit")
	}
	p.done <- nil // for the cleanup
	if !strings.Contains(p.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in the log:\n%s", p.stderr)
	}
}

// waitFor waits until cond holds, up to a minute: a bound for what never happens, not for a slow machine.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}

func TestConfigErrorStopsStartUp(t *testing.T) {
	cmd := exec.Command(binary)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PORT=eighty", "HF_TOKEN=hf_secretvalue"}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit = %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != `hf-micro: invalid configuration: PORT: want a port number from 0 to 65535, got "eighty"` {
		t.Errorf("output = %q", got)
	}
}

func TestHealthcheckAndVersion(t *testing.T) {
	p := startBinary(t, nil)
	port := p.base[strings.LastIndex(p.base, ":")+1:]
	check := exec.Command(binary, "healthcheck")
	check.Env = []string{"PORT=" + port}
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("healthcheck against a live server: %v %s", err, out)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	p.done <- nil
	check = exec.Command(binary, "healthcheck")
	check.Env = []string{"PORT=" + port}
	if err := check.Run(); err == nil {
		t.Error("healthcheck passed with the server down")
	}

	out, err := exec.Command(binary, "version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "hf-micro "+testVersion {
		t.Errorf("version = %q, %v", out, err)
	}
	if err := exec.Command(binary, "frobnicate").Run(); err == nil {
		t.Error("an unknown command succeeded")
	}
}

// TestClientKeysEndToEnd configures a key made by `hf-micro keygen` and uses it as a client would.
func TestClientKeysEndToEnd(t *testing.T) {
	out, err := exec.Command(binary, "keygen").Output()
	key := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(key, "hf_micro_") {
		t.Fatalf("keygen: %q %v", out, err)
	}
	fake, token := newWorld()
	hubServer := httptest.NewServer(fake)
	defer hubServer.Close()
	p := startBinary(t, nil, "HF_TOKEN="+token, "HF_ENDPOINT="+hubServer.URL, "HF_MICRO_API_KEYS="+key)

	get := func(authorization string) int {
		req, _ := http.NewRequest("GET", p.base+"/api/account", nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(""); s != 401 {
		t.Errorf("no key from loopback: %d, want 401 when keys are configured", s)
	}
	if s := get("Bearer " + key); s != 200 {
		t.Errorf("with the key: %d", s)
	}
	if s := get("Bearer hf_micro_notthekey_0123456789abc"); s != 401 {
		t.Errorf("wrong key: %d", s)
	}
	if !strings.Contains(p.stderr.String(), `"msg":"who may use the Hub token","server_token_usable_by":"callers with one of 1 client keys"`) {
		t.Errorf("start-up does not say who may use the token:\n%s", p.stderr)
	}
	for _, secret := range []string{key, token} {
		if strings.Contains(p.stderr.String()+p.stdout.String(), secret) {
			t.Errorf("a secret appears in the output")
		}
	}
}

func TestAnonymousIsAnnounced(t *testing.T) {
	p := startBinary(t, nil, "HF_MICRO_ALLOW_ANONYMOUS=true")
	if !strings.Contains(p.stderr.String(), `"level":"WARN","msg":"HF_MICRO_ALLOW_ANONYMOUS is on`) {
		t.Errorf("no loud warning:\n%s", p.stderr)
	}
}

func TestOversizedHeaders(t *testing.T) {
	p := startBinary(t, nil)
	req, _ := http.NewRequest("GET", p.base+"/healthz", nil)
	req.Header.Set("X-Padding", strings.Repeat("x", 200<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", resp.StatusCode)
	}
}

func TestPprofOnLoopbackOnly(t *testing.T) {
	p := startBinary(t, nil, "HF_MICRO_PPROF_ADDR=127.0.0.1:0")
	m := regexp.MustCompile(`"msg":"profiler","addr":"([^"]+)"`).FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no profiler line:\n%s", p.stderr)
	}
	resp, err := http.Get("http://" + m[1] + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("profiler: %d %.80s", resp.StatusCode, body)
	}
	// Not on the API's own port.
	resp, err = http.Get(p.base + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("the API port serves the profiler: %d", resp.StatusCode)
	}
}

// TestDrainDelay: after SIGTERM, readiness turns 503 while the server still serves, for HF_MICRO_DRAIN_DELAY;
// then the listener closes and the process exits 0. The delay is wide enough for the two checks below to fit
// in it on a busy machine.
func TestDrainDelay(t *testing.T) {
	p := startBinary(t, nil, "HF_MICRO_DRAIN_DELAY=5s")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(p.stderr.String(), `"msg":"draining"`) })
	status := func(path string) int {
		resp, err := http.Get(p.base + path)
		if err != nil {
			return -1
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("/readyz"); got != 503 {
		t.Errorf("/readyz while draining = %d, want 503", got)
	}
	if got := status("/healthz"); got != 200 {
		t.Errorf("/healthz while draining = %d, want 200: the server should still serve", got)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("hf-micro did not exit")
	}
	p.done <- nil
	if got := status("/healthz"); got != -1 {
		t.Errorf("still serving after the drain: %d", got)
	}
}
