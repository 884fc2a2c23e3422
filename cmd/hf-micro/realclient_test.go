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

	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec")
	cmd.Dir = jsClientDir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"NO_COLOR=1",
		"HF_MICRO_URL=" + p.base,
		"HF_MICRO_KEY=" + key,
		"HF_MICRO_USER=alice",
		"HF_MICRO_LIST_OWNER=acme",
		"HF_MICRO_LIST_COUNT=" + strconv.Itoa(listedModels),
	}
	cmd.WaitDelay = 5 * time.Second
	started := time.Now()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("node --test did not finish in time:\n%s\nhf-micro:\n%s", out, p.stderr)
	}
	if err != nil {
		t.Fatalf("node --test: %v\n%s\nhf-micro:\n%s", err, out, p.stderr)
	}
	t.Logf("node --test passed in %v", time.Since(started).Round(time.Millisecond))

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
