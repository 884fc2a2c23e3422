package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/testissuer"
)

// jsClientDir holds the Node project that runs @huggingface/hub against hf-micro (test/clients).
const jsClientDir = "../../test/clients"

// jsClientVersion is the @huggingface/hub version test/clients/package.json pins.
const jsClientVersion = "2.17.5"

// listedModels is how many models the JS test lists: the client asks for pages of 500, so more than 1000 make
// it follow the Hub's Link header twice.
const listedModels = 1003

// TestRealClientHuggingFaceJS runs the official JS client, @huggingface/hub, under Node against the built
// binary's drop-in Hub endpoint, with a client key as its token, and checks on the fake Hub's side that only
// the server's token arrived and the pages of a listing all came through hf-micro.
func TestRealClientHuggingFaceJS(t *testing.T) {
	node := requireJSClient(t)

	fake, token := newWorld()
	for i := range listedModels {
		fake.AddRepo("model", fmt.Sprintf("acme/bulk-%04d", i), i%10 == 0)
	}
	hubServer := httptest.NewServer(fake)
	defer hubServer.Close()
	key := auth.GenerateKey()
	p := startBinary(t, nil, "HF_TOKEN="+token, "HF_ENDPOINT="+hubServer.URL, "HF_MICRO_API_KEYS="+key)

	out := runJSTest(t, node, p, "hub.test.mjs",
		"HF_MICRO_KEY="+key,
		"HF_MICRO_USER=alice",
		"HF_MICRO_LIST_OWNER=acme",
		"HF_MICRO_LIST_COUNT="+strconv.Itoa(listedModels))

	requests := fake.Requests()
	if len(requests) == 0 {
		t.Fatal("no request reached the fake Hub")
	}
	seen := map[string]int{}
	for i, r := range requests {
		what := r.Method + " " + r.Path
		seen[what]++
		if got := r.Header.Values("Authorization"); len(got) != 1 || got[0] != "Bearer "+token {
			t.Errorf("request %d %s reached the Hub without exactly the server's token (%d Authorization headers)", i, what, len(got))
		}
		// Neither the configured key nor any other hf-micro key (the JS test also sends a wrong one) may leave.
		headers, _ := json.Marshal(r.Header)
		for _, part := range []string{r.Path, r.RawQuery, string(headers), string(r.Body)} {
			if strings.Contains(part, key) || strings.Contains(part, auth.KeyPrefix) {
				t.Errorf("request %d %s carried a client key to the Hub", i, what)
			}
		}
	}
	paths := make([]string, 0, len(seen))
	for what, n := range seen {
		paths = append(paths, fmt.Sprintf("%-70s x%d", what, n))
	}
	slices.Sort(paths)
	t.Logf("the Hub received %d requests, on these paths:\n%s", len(requests), strings.Join(paths, "\n"))
	if n := seen["GET /api/models"]; n < 3 {
		t.Errorf("the listing reached the Hub in %d requests to /api/models, want at least 3 pages", n)
	}

	for name, secret := range map[string]string{"client key": key, "server token": token} {
		if strings.Contains(p.stderr.String(), secret) || strings.Contains(p.stdout.String(), secret) {
			t.Errorf("hf-micro's output contains the %s", name)
		}
	}
	if strings.Contains(string(out), token) {
		t.Error("the server's token reached the JS client")
	}
}

// runJSTest runs one test file of test/clients under node against the hf-micro p, with env, and returns its
// output; a failing or unfinished run fails the test.
func runJSTest(t *testing.T, node string, p *process, file string, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", file)
	cmd.Dir = jsClientDir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NO_COLOR=1", "HF_MICRO_URL=" + p.base}, env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("node --test %s did not finish in time:\n%s\nhf-micro:\n%s", file, out, p.stderr)
	}
	if err != nil {
		t.Fatalf("node --test %s: %v\n%s\nhf-micro:\n%s", file, err, out, p.stderr)
	}
	return string(out)
}

// TestRealClientScopedKeys runs @huggingface/hub with keys that carry their own powers: a scoped key of the
// access file, and a key exchanged for a workload's OIDC ID token (from a test issuer over HTTPS, trusted
// through SSL_CERT_FILE). Allowed operations succeed; a write outside the scope is the client's 403. The
// exchanged key also works on a second hf-micro process with the same signing key, and not with another.
func TestRealClientScopedKeys(t *testing.T) {
	node := requireJSClient(t)
	fake, token := newWorld()
	hubServer := httptest.NewServer(fake)
	defer hubServer.Close()
	iss := testissuer.New(t)
	dir := t.TempDir()
	caFile, accessFile := filepath.Join(dir, "issuer.pem"), filepath.Join(dir, "access.toml")
	scoped := auth.GenerateKey()
	access := fmt.Sprintf(`[[key]]
name   = "scoped"
sha256 = %q
read   = ["*"]
write  = ["alice/scoped-*"]
delete = ["alice/scoped-*"]

[[identity]]
name     = "ci"
issuer   = %q
audience = "hf-micro"
claims   = { repository = "acme/models", ref = "refs/heads/*" }
write    = ["alice/ci-*"]
`, auth.KeyDigest(scoped), iss.URL)
	for name, content := range map[string][]byte{caFile: iss.CertificatePEM(), accessFile: []byte(access)} {
		if err := os.WriteFile(name, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	signingKey := auth.GenerateSigningKey()
	env := []string{"HF_TOKEN=" + token, "HF_ENDPOINT=" + hubServer.URL, "HF_MICRO_ACCESS_FILE=" + accessFile, "SSL_CERT_FILE=" + caFile}
	p := startBinary(t, nil, append(env, "HF_MICRO_SIGNING_KEY="+signingKey)...)

	claims := iss.Claims("repo:acme/models:ref:refs/heads/main", "hf-micro", time.Now())
	claims["repository"], claims["ref"] = "acme/models", "refs/heads/main"
	idToken := iss.Sign(t, claims, testissuer.SignOptions{})
	status, reply := callWith(t, "POST", p.base+"/api/identity/exchange", idToken, "")
	exchanged, _ := reply["token"].(string)
	if status != 200 || !strings.HasPrefix(exchanged, "hf_micro_x_") || reply["principal"] != "ci" {
		t.Fatalf("exchange: %d %v", status, reply)
	}

	runJSTest(t, node, p, "scoped.test.mjs", "HF_MICRO_USER=alice", "HF_MICRO_SCOPED_KEY="+scoped, "HF_MICRO_EXCHANGED_KEY="+exchanged)
	if _, ok := fake.Repo("model", "alice/ci-model"); !ok {
		t.Error("the exchanged key's create did not reach the Hub")
	}
	for _, forbidden := range []string{"alice/elsewhere", "alice/not-ci"} {
		if _, ok := fake.Repo("model", forbidden); ok {
			t.Errorf("%s was created outside the scopes", forbidden)
		}
	}

	twin := startBinary(t, nil, append(env, "HF_MICRO_SIGNING_KEY="+signingKey)...)
	if status, reply := callWith(t, "GET", twin.base+"/api/account", exchanged, ""); status != 200 {
		t.Errorf("a second process with the same signing key: %d %v", status, reply)
	}
	stranger := startBinary(t, nil, append(env, "HF_MICRO_SIGNING_KEY="+auth.GenerateSigningKey())...)
	if status, reply := callWith(t, "GET", stranger.base+"/api/account", exchanged, ""); status != 401 {
		t.Errorf("a process with another signing key: %d %v", status, reply)
	}
	for _, proc := range []*process{p, twin, stranger} {
		for name, secret := range map[string]string{"scoped key": scoped, "exchanged key": exchanged, "ID token": idToken, "signing key": signingKey} {
			if strings.Contains(proc.stderr.String(), secret) {
				t.Errorf("hf-micro's log contains the %s", name)
			}
		}
	}
}

// requireJSClient returns the path of node once Node and test/clients' npm packages are there. Without them the
// test skips, saying what is missing (`make test` fails on any skip under CI=true: .ci/run provides them).
func requireJSClient(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: the @huggingface/hub test needs Node 20 or newer")
	}
	out, err := exec.Command(node, "--version").Output()
	version := strings.TrimSpace(string(out))
	if major, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), "."); err != nil || atoi(major) < 20 {
		t.Skipf("node %q (%v): the @huggingface/hub test needs Node 20 or newer", version, err)
	}
	manifest, err := os.ReadFile(filepath.Join(jsClientDir, "node_modules", "@huggingface", "hub", "package.json"))
	if err != nil {
		t.Skip("test/clients has no node_modules: run `npm ci` in test/clients (.ci/run runs it before make test)")
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(manifest, &pkg); err != nil || pkg.Version != jsClientVersion {
		t.Skipf("test/clients/node_modules has @huggingface/hub %q, want %s: run `npm ci` in test/clients", pkg.Version, jsClientVersion)
	}
	t.Logf("node %s, @huggingface/hub %s", version, pkg.Version)
	return node
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
