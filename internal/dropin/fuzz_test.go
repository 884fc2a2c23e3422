package dropin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hf-micro/hf-micro/internal/hub"
)

// FuzzRewrite feeds arbitrary Link and Location headers through the drop-in's rewriting of the Hub's answer:
// no panic; a Hub URL is rewritten to hf-micro's base and nothing else is; no other host is ever made to look
// like hf-micro's; no header gains a line break. (Request paths are fuzzed in internal/hubroute.)
func FuzzRewrite(f *testing.F) {
	const hubBase = "https://hub.example/prefix"
	for _, seed := range []struct{ link, location, path, method string }{
		{`<https://hub.example/prefix/api/models?cursor=abc>; rel="next"`, "https://hub.example/prefix/api/models/gpt2", "/api/models", "GET"},
		{`<https://cdn.example/x>; rel="next"`, "https://cdn.example/blob?sig=1", "/alice/m/resolve/main/model.bin", "GET"},
		{`<https://hub.example/prefixx/api>; rel="next", <https://hub.example/prefix/>; rel="prev"`, "https://hub.example/prefix", "/datasets/a/b/resolve/refs%2Fpr%2F1/x", "HEAD"},
		{"", "/relative/path", "/alice/m.git/info/lfs/objects/batch", "POST"},
		{"<https://hub.example/prefix/\r\nSet-Cookie: x>", "https://hub.example/prefix/../../etc", "/api/repos/create", "POST"},
		{"<>", "https://hub.example.evil/prefix/x", "/spaces/a/b/resolve/main/app.py", "GET"},
		{"", "", "/", "DELETE"}, {"<https://hub.example/prefix/%2e%2e/x>", "//hub.example/prefix/x", "/api/../../x", "PUT"},
	} {
		f.Add(seed.link, seed.location, seed.path, seed.method)
	}
	hubURL, _ := url.Parse(hubBase)
	p := New(Options{Hub: hubURL, Transport: http.DefaultTransport})
	client, err := hub.New(hub.Options{Endpoint: hubBase})
	if err != nil {
		f.Fatal(err)
	}
	const public = "http://hf-micro.local:8080"

	f.Fuzz(func(t *testing.T, link, location, _, _ string) {
		// Header values as net/http would let them arrive: no line breaks or NULs.
		if strings.ContainsAny(link+location, "\r\n\x00") || !utf8.ValidString(link+location) {
			return
		}
		req, err := http.NewRequest("GET", hubBase+"/api/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp := &http.Response{StatusCode: 200, Header: http.Header{}, Request: req, Body: http.NoBody}
		if link != "" {
			resp.Header.Set("Link", link)
		}
		if location != "" {
			resp.Header.Set("Location", location)
		}
		resp.Header.Set("Set-Cookie", "a=b")
		if err := p.modifyResponse(resp, Forward{Client: client, PublicBase: public}); err != nil {
			t.Fatal(err)
		}

		gotLoc := resp.Header.Get("Location")
		switch {
		case location == hubBase || strings.HasPrefix(location, hubBase+"/"):
			if want := public + strings.TrimPrefix(location, hubBase); gotLoc != want {
				t.Fatalf("Location %q became %q, want %q", location, gotLoc, want)
			}
		case gotLoc != location:
			t.Fatalf("Location %q, not the Hub's, was changed to %q", location, gotLoc)
		}
		gotLink := resp.Header.Get("Link")
		if want := strings.ReplaceAll(link, "<"+hubBase+"/", "<"+public+"/"); gotLink != want {
			t.Fatalf("Link %q became %q, want %q", link, gotLink, want)
		}
		// Only what was the Hub's may now point at hf-micro.
		if strings.Count(gotLink, "<"+public) > strings.Count(link, "<"+hubBase+"/")+strings.Count(link, "<"+public) {
			t.Fatalf("Link %q gained a pointer to hf-micro: %q", link, gotLink)
		}
		for _, v := range []string{gotLink, gotLoc} {
			if strings.ContainsAny(v, "\r\n") {
				t.Fatalf("a header gained a line break: %q", v)
			}
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Fatal("the Hub's cookie was kept")
		}
	})
}
