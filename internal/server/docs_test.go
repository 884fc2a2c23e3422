package server

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/browsertest"
	"github.com/hf-micro/hf-micro/internal/fakehub"
)

// TestOpenAPIMatchesRoutes fails when a route is added without documentation, or documented without a route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := newHarness(t)
	r := h.json(t, "GET", "/openapi.json", "")
	if r.status != 200 {
		t.Fatalf("openapi.json: %d", r.status)
	}
	if r.json["openapi"] != "3.1.0" || r.json["info"].(map[string]any)["version"] != "1.2.3-test" {
		t.Errorf("openapi header: %v %v", r.json["openapi"], r.json["info"])
	}
	var documented []string
	for path, methods := range r.json["paths"].(map[string]any) {
		for method := range methods.(map[string]any) {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	var registered []string
	for _, rt := range routes(&deps{}) {
		if !strings.Contains(rt.pattern, " ") {
			continue // the drop-in endpoint (the Hub's own API, which the Hub documents), and 405s for other methods
		}
		registered = append(registered, strings.TrimSuffix(rt.pattern, "{$}"))
	}
	slices.Sort(documented)
	slices.Sort(registered)
	if !slices.Equal(documented, registered) {
		t.Errorf("openapi.json documents\n  %v\nbut the server registers\n  %v", documented, registered)
	}
}

func TestIndexPage(t *testing.T) {
	h := newHarness(t)
	r := h.do(t, "GET", "/", "", "")
	if r.status != 200 || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("index: %d %q", r.status, r.header.Get("Content-Type"))
	}
	page := string(r.body)
	for _, want := range []string{"1.2.3-test", "curl -sS -X POST &#39;" + h.url + "/api/repo&#39;", "/api/account", "/healthz", "/openapi.json"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	_, docs, err := loadOpenAPI("x")
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range docs.Operations {
		if !strings.Contains(page, ">"+op.Method+"</span> <code>"+op.Path+"</code>") {
			t.Errorf("the page does not list %s %s", op.Method, op.Path)
		}
	}
	checkError(t, h.json(t, "GET", "/index.html", ""), 404, "no such endpoint")
	if !strings.Contains(page, "HF_ENDPOINT") {
		t.Error("the page does not explain the drop-in endpoint")
	}
}

// TestExamplesWork sends every API example, in the order shown, to a server in front of the demo world: the
// commands on the page and in the demo banner must work as pasted.
func TestExamplesWork(t *testing.T) {
	fake, token := fakehub.Demo()
	hubServer := httptest.NewServer(fake)
	defer hubServer.Close()
	h := startServer(t, fake, hubServer.URL, token, setup{})
	_, docs, err := loadOpenAPI("x")
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, op := range docs.Operations {
		if !strings.HasPrefix(op.Path, "/api/") || op.header != "" {
			continue // the exchange needs an ID token: TestIdentityExchange runs it
		}
		r := h.json(t, op.Method, op.target(), op.body)
		if r.status/100 != 2 {
			t.Errorf("example %s: %d %s", op.curl(h.url), r.status, r.body)
		}
		sent++
	}
	examples, err := Examples("http://example")
	if err != nil || len(examples) != sent || sent < 5 {
		t.Errorf("Examples gave %d commands (%v), the docs %d", len(examples), err, sent)
	}
}

// TestExamplesPasteAsPrinted runs the commands of the page and the demo banner exactly as printed, through a
// shell and real curl, in order, against the demo world: the quoting must survive pasting, and each body must
// be one tidy line in the README's shape ("name", not the original's "namespace").
func TestExamplesPasteAsPrinted(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is not installed; CI must install it")
		}
		t.Skip("curl is not installed")
	}
	fake, token := fakehub.Demo()
	hubServer := httptest.NewServer(fake)
	defer hubServer.Close()
	h := startServer(t, fake, hubServer.URL, token, setup{})
	examples, err := Examples(h.url)
	if err != nil || len(examples) < 5 {
		t.Fatalf("Examples gave %d commands: %v", len(examples), err)
	}
	for _, command := range examples {
		if _, body, ok := strings.Cut(command, " -d '"); ok {
			body = strings.TrimSuffix(body, "'")
			if !json.Valid([]byte(body)) || strings.ContainsAny(body, "\n\t") || strings.Contains(body, "  ") ||
				!strings.HasPrefix(body, `{"type": "model", "name": "demo/my-model"`) {
				t.Errorf("the example body is not one tidy line in the README's shape: %s", body)
			}
		}
		out, err := exec.Command("sh", "-c", strings.Replace(command, "curl ", curl+" --fail-with-body ", 1)).CombinedOutput()
		if err != nil || !json.Valid(out) {
			t.Errorf("%s\nfailed (%v): %s", command, err, out)
		}
	}
	if _, ok := fake.Repo("model", "demo/my-model"); ok {
		t.Error("the examples' last step should have deleted demo/my-model")
	}
	if n := len(fake.Requests()); n < len(examples) {
		t.Errorf("the Hub saw %d requests for %d examples", n, len(examples))
	}
}

// TestIndexPageDemo: the page says when it serves the demo's fake Hub, and only then; and it says whose
// account /api/account describes.
func TestIndexPageDemo(t *testing.T) {
	fake, endpoint := newFakeHub(t)
	for _, demo := range []bool{false, true} {
		h := startServer(t, fake, endpoint, "", setup{opts: Options{Demo: demo}})
		page := string(h.do(t, "GET", "/", "", "").body)
		if got := strings.Contains(page, "fake Hub"); got != demo {
			t.Errorf("Demo=%v: the page mentions the fake Hub: %v", demo, got)
		}
		if !strings.Contains(page, "your own Hub token when you send one, else the server&#39;s") {
			t.Error("the page does not say whose account /api/account describes")
		}
	}
}

func TestIndexInBrowser(t *testing.T) {
	chromium := browsertest.Chromium()
	if chromium == "" {
		t.Skip("chromium is not installed (apt-get install chromium, or set $CHROMIUM)")
	}
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := browsertest.Load(ctx, chromium, h.url+"/")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ConsoleErrors) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(res.ConsoleErrors, "\n"))
	}
	if !strings.Contains(res.Title, "hf-micro") || !strings.Contains(res.Text, "DELETE") || !strings.Contains(res.Text, "curl") {
		t.Errorf("page rendered as title %q, text %q", res.Title, res.Text)
	}
}
