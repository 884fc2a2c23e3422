package fakehub

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestResolve: a regular file answers 200 with its bytes and git blob ETag; an LFS file a 302 to the CDN with
// X-Linked-Etag and X-Linked-Size; the CDN serves ranges and counts bytes; an old commit keeps its files; a
// private repository's file is hidden from others.
func TestResolve(t *testing.T) {
	w := newWorld(t)
	cdn := httptest.NewServer(w.h.CDN())
	defer cdn.Close()
	w.h.SetCDN(cdn.URL)
	w.h.AddFile("model", "alice/public-model", "config.json", []byte(`{"a":1}`), false)
	big := []byte(strings.Repeat("weights!", 100))
	w.h.AddFile("model", "alice/public-model", "model.bin", big, true)
	w.h.AddFile("model", "alice/private-model", "secret.txt", []byte("s"), false)

	r := w.do(t, "GET", "/alice/public-model/resolve/main/config.json", "", nil)
	if r.status != 200 || string(r.body) != `{"a":1}` || r.header.Get("ETag") != `"`+GitBlobID([]byte(`{"a":1}`))+`"` ||
		len(r.header.Get("X-Repo-Commit")) != 40 {
		t.Fatalf("regular file: %d %q %v", r.status, r.body, r.header)
	}
	commit := r.header.Get("X-Repo-Commit")

	sum := sha256.Sum256(big)
	oid := hex.EncodeToString(sum[:])
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Head(w.srv.URL + "/alice/public-model/resolve/" + commit + "/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("X-Linked-Etag") != `"`+oid+`"` ||
		resp.Header.Get("X-Linked-Size") != "800" || !strings.HasPrefix(loc, cdn.URL+"/repos/"+oid) {
		t.Fatalf("LFS file: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ := http.NewRequest("GET", loc, nil)
	req.Header.Set("Range", "bytes=0-7")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(body) != "weights!" || w.h.CDNBytes() != 8 || len(w.h.CDNRequests()) != 1 {
		t.Fatalf("CDN range: %d %q, %d bytes counted", resp.StatusCode, body, w.h.CDNBytes())
	}

	if r := w.do(t, "GET", "/alice/private-model/resolve/main/secret.txt", w.bob, nil); r.status != 404 {
		t.Errorf("private file for bob: %d", r.status)
	}
	if r := w.do(t, "GET", "/alice/private-model/resolve/main/secret.txt", w.alice, nil); r.status != 200 {
		t.Errorf("private file for alice: %d", r.status)
	}
	if r := w.do(t, "GET", "/alice/public-model/resolve/main/nope", "", nil); r.status != 404 || r.header.Get("X-Error-Code") != "EntryNotFound" {
		t.Errorf("missing file: %d %v", r.status, r.header)
	}
}

// TestResolveRegularFileRedirect: with RedirectRegularFiles, a regular file answers a relative 307 to
// /api/resolve-cache/..., which serves the bytes with X-Repo-Commit and ETag.
func TestResolveRegularFileRedirect(t *testing.T) {
	w := newWorld(t)
	w.h.AddFile("dataset", "alice/data", "dir/a b.txt", []byte("hello\n"), false)
	w.h.RedirectRegularFiles(true)
	req, _ := http.NewRequest("HEAD", w.srv.URL+"/datasets/alice/data/resolve/main/dir/a%20b.txt", nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	commit := resp.Header.Get("X-Repo-Commit")
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.HasPrefix(loc, "/api/resolve-cache/datasets/alice/data/"+commit+"/dir/a%20b.txt?") {
		t.Fatalf("regular file, redirected: %d %v", resp.StatusCode, resp.Header)
	}
	r := w.do(t, "GET", loc, "", nil)
	if r.status != 200 || string(r.body) != "hello\n" || r.header.Get("X-Repo-Commit") != commit ||
		r.header.Get("ETag") != `"ce013625030ba8dba906f756967f9e9ca394464a"` {
		t.Fatalf("resolve-cache: %d %q %v", r.status, r.body, r.header)
	}
}

// TestTreeAndPathsInfo: listings show files with lfs and xetHash for LFS files, folders as directories unless
// recursive; paths-info answers the paths asked for (form or JSON) that exist.
func TestTreeAndPathsInfo(t *testing.T) {
	w := newWorld(t)
	w.h.AddFile("model", "alice/public-model", "config.json", []byte("{}"), false)
	w.h.AddFile("model", "alice/public-model", "sub/model.bin", []byte("weights"), true)
	r := w.do(t, "GET", "/api/models/alice/public-model/tree/main", "", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"path":"config.json"`) || !strings.Contains(string(r.body), `{"type":"directory"`) ||
		strings.Contains(string(r.body), "xetHash") {
		t.Fatalf("tree: %d %s", r.status, r.body)
	}
	r = w.do(t, "GET", "/api/models/alice/public-model/tree/main?recursive=true", "", nil)
	if !strings.Contains(string(r.body), `"path":"sub/model.bin","lfs":{"oid":"`) || !strings.Contains(string(r.body), `"xetHash":"`) {
		t.Fatalf("recursive tree: %s", r.body)
	}
	r = w.do(t, "POST", "/api/models/alice/public-model/paths-info/main", "", map[string]any{"paths": []string{"sub/model.bin", "nope"}})
	if r.status != 200 || strings.Count(string(r.body), `"path"`) != 1 || !strings.Contains(string(r.body), `"xetHash"`) {
		t.Fatalf("paths-info: %d %s", r.status, r.body)
	}
}
