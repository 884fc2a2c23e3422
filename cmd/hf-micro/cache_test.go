package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/fakehub"
)

// cacheWorld is the fake Hub and its CDN, each on its own loopback address, with acme/m holding an LFS file
// (model.bin) and a regular one (config.json).
type cacheWorld struct {
	hub      *fakehub.Hub
	hubSrv   *httptest.Server
	hubURL   string
	token    string // alice's, the server's token
	weights  []byte
	config   []byte
	commit   string // acme/m's head after both files
	cacheDir string
}

func newCacheWorld(t *testing.T) *cacheWorld {
	t.Helper()
	fake, token := newWorld()
	hubSrv := httptest.NewServer(fake)
	t.Cleanup(hubSrv.Close)
	cdn := httptest.NewServer(fake.CDN())
	t.Cleanup(cdn.Close)
	fake.SetCDN(cdn.URL)
	fake.AddRepo("model", "acme/m", false)
	w := &cacheWorld{hub: fake, hubSrv: hubSrv, hubURL: hubSrv.URL, token: token, cacheDir: t.TempDir(),
		weights: patterned(3<<20+12345, 7), config: []byte(`{"model_type":"bert"}`)}
	fake.AddFile("model", "acme/m", "config.json", w.config, false)
	fake.AddFile("model", "acme/m", "model.bin", w.weights, true)
	w.commit = w.head(t, "acme/m", "config.json")
	return w
}

// patterned is n bytes that differ from file to file (by seed) and along the file.
func patterned(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*seed + i/4096)
	}
	return b
}

// head is a repository's head commit, as the Hub names it on a download of path.
func (w *cacheWorld) head(t *testing.T, id, path string) string {
	t.Helper()
	req, _ := http.NewRequest("HEAD", w.hubURL+"/"+id+"/resolve/main/"+path, nil)
	req.Header.Set("Authorization", "Bearer "+w.token)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("X-Repo-Commit")
}

func (w *cacheWorld) start(t *testing.T, env ...string) *process {
	t.Helper()
	return startBinary(t, nil, append([]string{"HF_TOKEN=" + w.token, "HF_ENDPOINT=" + w.hubURL, "HF_MICRO_CACHE_DIR=" + w.cacheDir}, env...)...)
}

// download sends a GET or HEAD (with a Range and a bearer when given) and reads the whole reply; readErr is
// the error reading the body ended with.
func download(t *testing.T, method, url, rangeHeader, bearer string) (resp *http.Response, body []byte, readErr error) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if rangeHeader != "" {
		req.Header.Set("Range", rangeHeader)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // redirects are answers here, not followed
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, readErr = io.ReadAll(resp.Body)
	return resp, body, readErr
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// noCredentialReachedTheCDN fails when any CDN request carried a credential.
func noCredentialReachedTheCDN(t *testing.T, fake *fakehub.Hub) {
	t.Helper()
	for _, r := range fake.CDNRequests() {
		for _, name := range []string{"Authorization", "Cookie", "X-Api-Key"} {
			if r.Header.Get(name) != "" {
				t.Errorf("the CDN got %s on %s", name, r.Path)
			}
		}
	}
}

// TestCacheMissThenHit: a cold download streams from the CDN (which never sees a credential) and is stored; at
// the full commit sha it is then served with the Hub's headers, Range and HEAD included, with no Hub and no CDN
// request. A regular (non-LFS) file is cached by its git blob id the same way.
func TestCacheMissThenHit(t *testing.T) {
	w := newCacheWorld(t)
	p := w.start(t)
	size := strconv.Itoa(len(w.weights))

	// HEAD on a cold file: the Hub's facts, no redirect, no download.
	resp, _, _ := download(t, "HEAD", p.base+"/acme/m/resolve/main/model.bin", "", "")
	if resp.StatusCode != 200 || resp.Header.Get("X-Repo-Commit") != w.commit || resp.Header.Get("X-Linked-Etag") != `"`+sha256Hex(w.weights)+`"` ||
		resp.Header.Get("X-Linked-Size") != size || resp.Header.Get("Content-Length") != size || resp.Header.Get("Accept-Ranges") != "bytes" ||
		resp.Header.Get("Location") != "" || w.hub.CDNBytes() != 0 {
		t.Fatalf("HEAD, cold: %d %v; CDN bytes %d", resp.StatusCode, resp.Header, w.hub.CDNBytes())
	}

	resp, body, err := download(t, "GET", p.base+"/acme/m/resolve/main/model.bin", "", "")
	if resp.StatusCode != 200 || err != nil || !bytes.Equal(body, w.weights) || w.hub.CDNBytes() != int64(len(w.weights)) {
		t.Fatalf("GET, cold: %d, %d bytes, %v, equal %v; CDN sent %d", resp.StatusCode, len(body), err, bytes.Equal(body, w.weights), w.hub.CDNBytes())
	}
	noCredentialReachedTheCDN(t, w.hub)
	if _, err := os.Stat(filepath.Join(w.cacheDir, "sha256", sha256Hex(w.weights))); err != nil {
		t.Fatalf("the file is not in the cache: %v", err)
	}

	w.hub.ResetRequests()
	cdnBefore := len(w.hub.CDNRequests())
	atCommit := p.base + "/acme/m/resolve/" + w.commit + "/model.bin"
	resp, body, err = download(t, "GET", atCommit, "", "")
	if resp.StatusCode != 200 || err != nil || !bytes.Equal(body, w.weights) || resp.Header.Get("X-Repo-Commit") != w.commit ||
		resp.Header.Get("Etag") == "" || resp.Header.Get("X-Linked-Size") != size {
		t.Fatalf("GET, hit: %d %v %v", resp.StatusCode, err, resp.Header)
	}
	resp, body, _ = download(t, "GET", atCommit, "bytes=1000-1999", "")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, w.weights[1000:2000]) ||
		resp.Header.Get("Content-Range") != "bytes 1000-1999/"+size {
		t.Fatalf("Range, hit: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body, _ = download(t, "HEAD", atCommit, "", "")
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Length") != size || resp.Header.Get("X-Linked-Etag") != `"`+sha256Hex(w.weights)+`"` {
		t.Fatalf("HEAD, hit: %d %v", resp.StatusCode, resp.Header)
	}
	if n := len(w.hub.Requests()); n != 0 || len(w.hub.CDNRequests()) != cdnBefore {
		t.Fatalf("hits at a full sha asked the Hub %d times and the CDN %d times", n, len(w.hub.CDNRequests())-cdnBefore)
	}

	// A regular file: its bytes come from the Hub itself, checked by the git blob id.
	resp, body, err = download(t, "GET", p.base+"/acme/m/resolve/main/config.json", "", "")
	if resp.StatusCode != 200 || err != nil || !bytes.Equal(body, w.config) {
		t.Fatalf("regular file, cold: %d %q", resp.StatusCode, body)
	}
	w.hub.ResetRequests()
	resp, body, _ = download(t, "GET", p.base+"/acme/m/resolve/"+w.commit+"/config.json", "", "")
	if resp.StatusCode != 200 || !bytes.Equal(body, w.config) || resp.Header.Get("Etag") != `"`+fakehub.GitBlobID(w.config)+`"` || len(w.hub.Requests()) != 0 {
		t.Fatalf("regular file, hit: %d %q %v; %d Hub requests", resp.StatusCode, body, resp.Header, len(w.hub.Requests()))
	}

	// A missing file is the Hub's own answer, passed on.
	if resp, _, _ := download(t, "GET", p.base+"/acme/m/resolve/main/nope.bin", "", ""); resp.StatusCode != 404 || resp.Header.Get("X-Error-Code") != "EntryNotFound" {
		t.Errorf("missing file: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestCacheConcurrentColdRequests: callers asking for one cold file at once share one CDN download.
func TestCacheConcurrentColdRequests(t *testing.T) {
	w := newCacheWorld(t)
	p := w.start(t)
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for range 16 {
		wg.Go(func() {
			resp, body, err := download(t, "GET", p.base+"/acme/m/resolve/main/model.bin", "", "")
			if resp.StatusCode != 200 || err != nil || !bytes.Equal(body, w.weights) {
				errs <- fmt.Sprintf("%d, %d bytes, %v", resp.StatusCode, len(body), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if sent := w.hub.CDNBytes(); float64(sent) > 1.05*float64(len(w.weights)) {
		t.Errorf("the CDN sent %d bytes for a %d-byte file", sent, len(w.weights))
	}
	noCredentialReachedTheCDN(t, w.hub)
}

// TestCacheHashMismatch: a CDN that sends corrupt bytes gets the caller a cut-off stream, never the whole
// file, and nothing is cached: the next request downloads again.
func TestCacheHashMismatch(t *testing.T) {
	w := newCacheWorld(t)
	w.hub.CorruptCDNObject(sha256Hex(w.weights))
	p := w.start(t)
	for i := range 2 {
		resp, body, err := download(t, "GET", p.base+"/acme/m/resolve/main/model.bin", "", "")
		if err == nil || len(body) >= len(w.weights) {
			t.Fatalf("try %d: a corrupt download was delivered whole: %d, %d bytes, %v", i, resp.StatusCode, len(body), err)
		}
		if !bytes.Equal(body, w.weights[:len(body)]) {
			t.Fatalf("try %d: the bytes delivered differ from the file's", i)
		}
	}
	if len(w.hub.CDNRequests()) != 2 {
		t.Errorf("CDN requests: %d, want 2 (nothing cached)", len(w.hub.CDNRequests()))
	}
	if _, err := os.Stat(filepath.Join(w.cacheDir, "sha256", sha256Hex(w.weights))); err == nil {
		t.Error("the corrupt file was cached")
	}
}

// TestCacheEvictionAndRestart: over the size bound the least recently used file goes; a new process on the
// same directory serves what is left at a full sha without asking the Hub.
func TestCacheEvictionAndRestart(t *testing.T) {
	w := newCacheWorld(t)
	second, third := patterned(len(w.weights), 11), patterned(len(w.weights), 13)
	w.hub.AddFile("model", "acme/m", "second.bin", second, true)
	w.hub.AddFile("model", "acme/m", "third.bin", third, true)
	commit := w.head(t, "acme/m", "config.json")
	bound := strconv.Itoa(len(w.weights)*2 + len(w.config) + 1000)
	p := w.start(t, "HF_MICRO_CACHE_MAX_BYTES="+bound)
	for _, f := range []string{"model.bin", "second.bin", "third.bin"} {
		if resp, _, err := download(t, "GET", p.base+"/acme/m/resolve/"+commit+"/"+f, "", ""); resp.StatusCode != 200 || err != nil {
			t.Fatalf("%s: %d %v", f, resp.StatusCode, err)
		}
	}
	stored := func(b []byte) bool {
		_, err := os.Stat(filepath.Join(w.cacheDir, "sha256", sha256Hex(b)))
		return err == nil
	}
	if stored(w.weights) || !stored(second) || !stored(third) {
		t.Fatalf("after three files under a bound of two: first %v second %v third %v", stored(w.weights), stored(second), stored(third))
	}

	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.done <- nil // for the first process's cleanup
	p2 := w.start(t, "HF_MICRO_CACHE_MAX_BYTES="+bound)
	w.hub.ResetRequests()
	cdnBefore := len(w.hub.CDNRequests())
	resp, body, err := download(t, "GET", p2.base+"/acme/m/resolve/"+commit+"/third.bin", "", "")
	if resp.StatusCode != 200 || err != nil || !bytes.Equal(body, third) || len(w.hub.Requests()) != 0 || len(w.hub.CDNRequests()) != cdnBefore {
		t.Fatalf("after a restart: %d %v, %d Hub requests, %d CDN", resp.StatusCode, err, len(w.hub.Requests()), len(w.hub.CDNRequests())-cdnBefore)
	}
}

// TestCacheAccessIsJudgedOnHits: a principal whose scopes do not cover the repository gets 403 and no bytes
// for a cached file; a caller's own Hub token the Hub refuses gets the Hub's refusal, not the cached file.
func TestCacheAccessIsJudgedOnHits(t *testing.T) {
	w := newCacheWorld(t)
	w.hub.AddRepo("model", "acme/private", true)
	secret := patterned(5000, 17)
	w.hub.AddFile("model", "acme/private", "secret.bin", secret, true)
	privateCommit := w.head(t, "acme/private", "secret.bin")
	w.hub.AddUser("mallory")
	mallory := w.hub.IssueToken("mallory", fakehub.RoleRead)

	reader, outsider := auth.GenerateKey(), auth.GenerateKey()
	access := filepath.Join(t.TempDir(), "access.toml")
	writeText(t, access, "[[key]]\nname = \"reader\"\nsha256 = \""+auth.KeyDigest(reader)+"\"\nread = [\"*\"]\n"+
		"[[key]]\nname = \"outsider\"\nsha256 = \""+auth.KeyDigest(outsider)+"\"\nread = [\"other/*\"]\n")
	p := w.start(t, "HF_MICRO_ACCESS_FILE="+access)

	for _, u := range []string{"/acme/m/resolve/" + w.commit + "/model.bin", "/acme/private/resolve/" + privateCommit + "/secret.bin"} {
		if resp, _, err := download(t, "GET", p.base+u, "", reader); resp.StatusCode != 200 || err != nil {
			t.Fatalf("filling %s: %d %v", u, resp.StatusCode, err)
		}
	}
	w.hub.ResetRequests()
	resp, body, _ := download(t, "GET", p.base+"/acme/m/resolve/"+w.commit+"/model.bin", "", outsider)
	if resp.StatusCode != 403 || bytes.Contains(body, w.weights[:64]) || len(w.hub.Requests()) != 0 {
		t.Errorf("outsider on a hit: %d, %d bytes, %d Hub requests", resp.StatusCode, len(body), len(w.hub.Requests()))
	}
	resp, body, _ = download(t, "GET", p.base+"/acme/private/resolve/"+privateCommit+"/secret.bin", "", mallory)
	if resp.StatusCode == 200 || bytes.Contains(body, secret[:64]) {
		t.Errorf("a Hub token the Hub refuses got the cached private file: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, body, _ := download(t, "GET", p.base+"/acme/private/resolve/"+privateCommit+"/secret.bin", "", w.token); resp.StatusCode != 200 || !bytes.Equal(body, secret) {
		t.Errorf("the owner's own token: %d", resp.StatusCode)
	}
}

// TestCacheRefs: by default a branch is resolved by the Hub on every download, so a new commit is seen at
// once; with HF_MICRO_CACHE_REF_TTL the commit a branch named is reused, and the download asks nothing.
func TestCacheRefs(t *testing.T) {
	w := newCacheWorld(t)
	p := w.start(t)
	main := p.base + "/acme/m/resolve/main/config.json"
	if resp, body, _ := download(t, "GET", main, "", ""); resp.StatusCode != 200 || !bytes.Equal(body, w.config) {
		t.Fatalf("first download: %d %q", resp.StatusCode, body)
	}
	changed := []byte(`{"model_type":"gpt2"}`)
	w.hub.AddFile("model", "acme/m", "config.json", changed, false)
	resp, body, _ := download(t, "GET", main, "", "")
	if resp.StatusCode != 200 || !bytes.Equal(body, changed) || resp.Header.Get("X-Repo-Commit") == w.commit {
		t.Fatalf("after a new commit, TTL 0: %d %q %s", resp.StatusCode, body, resp.Header.Get("X-Repo-Commit"))
	}

	w2 := newCacheWorld(t)
	p2 := w2.start(t, "HF_MICRO_CACHE_REF_TTL=1h")
	main2 := p2.base + "/acme/m/resolve/main/config.json"
	if resp, _, _ := download(t, "GET", main2, "", ""); resp.StatusCode != 200 {
		t.Fatalf("first download: %d", resp.StatusCode)
	}
	w2.hub.ResetRequests()
	resp, body, _ = download(t, "GET", main2, "", "")
	if resp.StatusCode != 200 || !bytes.Equal(body, w2.config) || resp.Header.Get("X-Repo-Commit") != w2.commit || len(w2.hub.Requests()) != 0 {
		t.Fatalf("within the ref TTL: %d %q, %d Hub requests", resp.StatusCode, body, len(w2.hub.Requests()))
	}
	// A caller's own token is confirmed by the Hub even within the TTL.
	if resp, _, _ := download(t, "GET", main2, "", w2.token); resp.StatusCode != 200 || len(w2.hub.Requests()) != 1 {
		t.Fatalf("own token within the TTL: %d, %d Hub requests", resp.StatusCode, len(w2.hub.Requests()))
	}
}

// TestCacheRegularFileRedirected: a regular file the Hub sends to /api/resolve-cache/ with a relative 307 is
// followed on the Hub's host, cached by its git blob id, and then served at the commit without the Hub.
func TestCacheRegularFileRedirected(t *testing.T) {
	w := newCacheWorld(t)
	w.hub.RedirectRegularFiles(true)
	p := w.start(t)
	resp, body, err := download(t, "GET", p.base+"/acme/m/resolve/main/config.json", "", "")
	if resp.StatusCode != 200 || err != nil || !bytes.Equal(body, w.config) || resp.Header.Get("Location") != "" {
		t.Fatalf("cold: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if _, err := os.Stat(filepath.Join(w.cacheDir, "git-sha1", fakehub.GitBlobID(w.config))); err != nil {
		t.Fatalf("not cached: %v", err)
	}
	w.hub.ResetRequests()
	resp, body, _ = download(t, "GET", p.base+"/acme/m/resolve/"+w.commit+"/config.json", "", "")
	if resp.StatusCode != 200 || !bytes.Equal(body, w.config) || len(w.hub.Requests()) != 0 {
		t.Fatalf("hit: %d %q, %d Hub requests", resp.StatusCode, body, len(w.hub.Requests()))
	}
}

// TestCacheTwoProcessesOneDirectory: two hf-micro processes on one cache directory, asked for one cold file
// at once, download it from the CDN once, and each serves what the other stored.
func TestCacheTwoProcessesOneDirectory(t *testing.T) {
	w := newCacheWorld(t)
	p1, p2 := w.start(t), w.start(t)
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := range 16 {
		base := []string{p1.base, p2.base}[i%2]
		wg.Go(func() {
			resp, body, err := download(t, "GET", base+"/acme/m/resolve/main/model.bin", "", "")
			if resp.StatusCode != 200 || err != nil || !bytes.Equal(body, w.weights) {
				errs <- fmt.Sprintf("%s: %d, %d bytes, %v", base, resp.StatusCode, len(body), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if sent := w.hub.CDNBytes(); float64(sent) > 1.05*float64(len(w.weights)) {
		t.Errorf("the CDN sent %d bytes for a %d-byte file to two processes", sent, len(w.weights))
	}
	w.hub.ResetRequests()
	for _, p := range []*process{p1, p2} {
		resp, body, _ := download(t, "GET", p.base+"/acme/m/resolve/"+w.commit+"/model.bin", "", "")
		if resp.StatusCode != 200 || !bytes.Equal(body, w.weights) {
			t.Errorf("%s, hit: %d", p.base, resp.StatusCode)
		}
	}
	if len(w.hub.Requests()) != 0 {
		t.Errorf("hits asked the Hub %d times", len(w.hub.Requests()))
	}
}

// TestRealClientDownloadThroughCache runs @huggingface/hub's downloadFile through the cache twice: the file
// arrives whole both times, the CDN is asked once, never with a credential, and only by hf-micro.
func TestRealClientDownloadThroughCache(t *testing.T) {
	node := requireJSClient(t)
	w := newCacheWorld(t)
	key := auth.GenerateKey()
	p := w.start(t, "HF_MICRO_API_KEYS="+key)
	for run := 1; run <= 2; run++ {
		runJSTest(t, node, p, "download.test.mjs", "HF_MICRO_KEY="+key, "HF_MICRO_REPO=acme/m",
			"HF_MICRO_PATH=model.bin", "HF_MICRO_SHA256="+sha256Hex(w.weights))
		if n := len(w.hub.CDNRequests()); n != 1 {
			t.Fatalf("after run %d the CDN had %d requests, want 1", run, n)
		}
	}
	noCredentialReachedTheCDN(t, w.hub)
}

// TestCacheOffline: with HF_MICRO_OFFLINE, and when the Hub cannot be reached, files cached at a full commit
// sha are still served; everything else is a 503 JSON error that says why, and offline asks the Hub nothing.
func TestCacheOffline(t *testing.T) {
	w := newCacheWorld(t)
	online := w.start(t)
	if resp, _, err := download(t, "GET", online.base+"/acme/m/resolve/main/model.bin", "", ""); resp.StatusCode != 200 || err != nil {
		t.Fatalf("filling: %d %v", resp.StatusCode, err)
	}
	atCommit := "/acme/m/resolve/" + w.commit + "/model.bin"
	unavailable := func(p *process, path, want string) {
		t.Helper()
		status, reply := call(t, "GET", p.base+path, "")
		if msg, _ := reply["error"].(string); status != 503 || !strings.Contains(msg, want) {
			t.Errorf("GET %s: %d %v, want 503 saying %q", path, status, reply, want)
		}
	}

	offline := w.start(t, "HF_MICRO_OFFLINE=true")
	w.hub.ResetRequests()
	if resp, body, _ := download(t, "GET", offline.base+atCommit, "", ""); resp.StatusCode != 200 || !bytes.Equal(body, w.weights) {
		t.Fatalf("offline, cached at a full sha: %d", resp.StatusCode)
	}
	unavailable(offline, "/acme/m/resolve/main/model.bin", "offline")
	unavailable(offline, "/api/models/acme/m", "offline")
	unavailable(offline, "/api/account", "offline")
	if n := len(w.hub.Requests()); n != 0 {
		t.Errorf("offline, the Hub got %d requests", n)
	}

	w.hubSrv.Close()
	if resp, body, _ := download(t, "GET", online.base+atCommit, "", ""); resp.StatusCode != 200 || !bytes.Equal(body, w.weights) {
		t.Fatalf("Hub down, cached at a full sha: %d", resp.StatusCode)
	}
	unavailable(online, "/acme/m/resolve/main/model.bin", "cannot be reached")
}

// TestCacheStripsXetHashes: with the cache on, tree and paths-info listings lose xetHash, so huggingface_hub
// downloads through /resolve/ and the cache rather than from Xet storage; without the cache they keep it.
func TestCacheStripsXetHashes(t *testing.T) {
	w := newCacheWorld(t)
	cached := w.start(t)
	plain := startBinary(t, nil, "HF_TOKEN="+w.token, "HF_ENDPOINT="+w.hubURL)
	listing := func(p *process, method, path, body string) string {
		t.Helper()
		req, _ := http.NewRequest(method, p.base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(out), `"path":"model.bin"`) {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
		}
		return string(out)
	}
	for _, q := range [][3]string{
		{"GET", "/api/models/acme/m/tree/main?recursive=true", ""},
		{"POST", "/api/models/acme/m/paths-info/" + w.commit, "paths=model.bin&paths=config.json"},
	} {
		if got := listing(cached, q[0], q[1], q[2]); strings.Contains(got, "xetHash") || !strings.Contains(got, `"lfs":`) {
			t.Errorf("with the cache, %s %s: %s", q[0], q[1], got)
		}
		if got := listing(plain, q[0], q[1], q[2]); !strings.Contains(got, `"xetHash"`) {
			t.Errorf("without the cache, %s %s lost xetHash: %s", q[0], q[1], got)
		}
	}
}

// TestCacheCannotStore: when the cache cannot write files (here its tmp folder is gone, as good as a full
// disk), a cold download, whole or a range, gets the Hub's own answer through the proxy (the redirect to the
// CDN), nothing is cached, and a warning says why.
func TestCacheCannotStore(t *testing.T) {
	w := newCacheWorld(t)
	p := w.start(t)
	tmp := filepath.Join(w.cacheDir, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	writeText(t, tmp, "not a folder")
	for _, rangeHeader := range []string{"", "bytes=0-9"} {
		resp, _, _ := download(t, "GET", p.base+"/acme/m/resolve/main/model.bin", rangeHeader, "")
		if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/repos/"+sha256Hex(w.weights)) {
			t.Errorf("GET %q on a file that cannot be stored: %d %v", rangeHeader, resp.StatusCode, resp.Header)
		}
	}
	if _, err := os.Stat(filepath.Join(w.cacheDir, "sha256", sha256Hex(w.weights))); err == nil {
		t.Error("the file was cached")
	}
	if w.hub.CDNBytes() != 0 {
		t.Errorf("hf-micro downloaded %d bytes it could not store", w.hub.CDNBytes())
	}
	waitFor(t, func() bool { return strings.Contains(p.stderr.String(), "download not cached: passed to the proxy") })
}
