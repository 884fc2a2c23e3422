package browsertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// chromium returns the browser or skips (`make test` fails on any skip under CI=true).
func chromium(t *testing.T) string {
	t.Helper()
	p := Chromium()
	if p == "" {
		t.Skip("no Chromium found (apt-get install chromium, or set $CHROMIUM)")
	}
	return p
}

// serve serves the given pages on loopback; every other path is a 404.
// The data: favicon keeps Chromium from fetching /favicon.ico.
func serve(t *testing.T, pages map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func load(t *testing.T, url string) Result {
	t.Helper()
	path := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	res, err := Load(ctx, path, url)
	if err != nil {
		t.Fatalf("Load(%s): %v", url, err)
	}
	t.Logf("Load took %v; result: %+v", time.Since(start).Round(time.Millisecond), res)
	return res
}

func wantOneError(t *testing.T, res Result, substrs ...string) {
	t.Helper()
	if len(res.ConsoleErrors) != 1 {
		t.Fatalf("got %d console errors %q, want 1", len(res.ConsoleErrors), res.ConsoleErrors)
	}
	for _, s := range substrs {
		if !strings.Contains(res.ConsoleErrors[0], s) {
			t.Errorf("console error %q does not contain %q", res.ConsoleErrors[0], s)
		}
	}
}

const head = `<!doctype html><html><head><link rel="icon" href="data:,"><title>T</title></head>`

func TestLoadClean(t *testing.T) {
	srv := serve(t, map[string]string{"/": `<!doctype html><html><head><link rel="icon" href="data:,">
<title>Hello page</title></head><body><h1>Hello</h1><p>All is well.</p>
<script>console.log("just info"); console.warn("just a warning");</script></body></html>`})
	res := load(t, srv.URL+"/")
	if len(res.ConsoleErrors) != 0 {
		t.Errorf("console errors = %q, want none", res.ConsoleErrors)
	}
	if res.Title != "Hello page" {
		t.Errorf("title = %q, want %q", res.Title, "Hello page")
	}
	if !strings.Contains(res.Text, "Hello") || !strings.Contains(res.Text, "All is well.") {
		t.Errorf("text = %q, want it to contain the heading and paragraph", res.Text)
	}
}

func TestLoadConsoleError(t *testing.T) {
	srv := serve(t, map[string]string{"/": head + `<body><script>console.error("boom", 42);</script></body></html>`})
	res := load(t, srv.URL+"/")
	wantOneError(t, res, "console.error", "boom 42", srv.URL+"/")
}

func TestLoadUncaughtException(t *testing.T) {
	srv := serve(t, map[string]string{"/": head + `<body><script>throw new Error("kaboom");</script></body></html>`})
	res := load(t, srv.URL+"/")
	wantOneError(t, res, "Uncaught", "kaboom", srv.URL+"/")
}

func TestLoadMissingResources(t *testing.T) {
	srv := serve(t, map[string]string{"/": head + `<body><p>Text</p>
<img src="/missing.png"><script src="/missing.js"></script></body></html>`})
	res := load(t, srv.URL+"/")
	// Expect one 404 report per resource. Chromium may add more (e.g. a
	// nosniff refusal of the text/plain 404 body as a script); that's fine.
	for _, missing := range []string{srv.URL + "/missing.png", srv.URL + "/missing.js"} {
		n := 0
		for _, e := range res.ConsoleErrors {
			if strings.Contains(e, "404") && strings.Contains(e, missing) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d 404 errors for %s in %q, want 1", n, missing, res.ConsoleErrors)
		}
	}
}

func TestLoadConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/"
	srv.Close() // nothing listens there any more
	path := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := Load(ctx, path, url)
	if err == nil || !strings.Contains(err.Error(), "ERR_CONNECTION_REFUSED") {
		t.Fatalf("Load of a closed port: err = %v, want ERR_CONNECTION_REFUSED", err)
	}
}

func TestLoadContextCancel(t *testing.T) {
	// The page never finishes loading, so only ctx can end Load.
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(head + "<body>"))
		w.(http.Flusher).Flush()
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	path := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Load(ctx, path, srv.URL+"/")
	if err == nil || !strings.Contains(err.Error(), context.DeadlineExceeded.Error()) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	// Soon after the deadline, in fact; the bound is wide for a busy machine, and catches a Load that ignores ctx.
	if d := time.Since(start); d > time.Minute {
		t.Errorf("Load returned after %v, want soon after the 3s deadline", d)
	}
}
