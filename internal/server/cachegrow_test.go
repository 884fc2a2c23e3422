package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hf-micro/hf-micro/internal/cache"
	"github.com/hf-micro/hf-micro/internal/fakehub"
)

const growChunk = 256 << 10 // the cache's fill buffer and held-back piece

// pausedCDN serves one file: the first at bytes, then it blocks until release closes (paused closes when it
// does), then the rest. It counts its requests.
type pausedCDN struct {
	body     []byte
	at       int
	paused   chan struct{}
	release  chan struct{}
	requests atomic.Int32
	once     sync.Once
}

func (c *pausedCDN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.requests.Add(1)
	w.Header().Set("Content-Length", strconv.Itoa(len(c.body)))
	w.WriteHeader(http.StatusOK)
	w.Write(c.body[:c.at])
	http.NewResponseController(w).Flush()
	c.once.Do(func() { close(c.paused) })
	<-c.release
	w.Write(c.body[c.at:])
}

// growWorld is hf-micro with a cache in front of a fake Hub whose LFS file acme/m/model.bin (good, as the Hub
// names it) is served by cdn (which may send other bytes).
type growWorld struct {
	h       *harness
	store   *cache.Store
	good    []byte
	cdn     *pausedCDN
	release func()
}

func newGrowWorld(t *testing.T, good, served []byte, pauseAt int) *growWorld {
	t.Helper()
	fake, hubURL := newFakeHub(t)
	fake.AddOrg("acme", map[string]string{"alice": "write"})
	fake.AddRepo("model", "acme/m", false)
	fake.AddFile("model", "acme/m", "model.bin", good, true)
	cdn := &pausedCDN{body: served, at: pauseAt, paused: make(chan struct{}), release: make(chan struct{})}
	cdnSrv := httptest.NewServer(cdn)
	t.Cleanup(cdnSrv.Close)
	var once sync.Once
	release := func() { once.Do(func() { close(cdn.release) }) }
	t.Cleanup(release) // before the CDN server closes, so its handler can end
	fake.SetCDN(cdnSrv.URL)
	store, err := cache.Open(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	h := startServer(t, fake, hubURL, fake.IssueToken("alice", fakehub.RoleRead), setup{opts: Options{Cache: store}})
	return &growWorld{h: h, store: store, good: good, cdn: cdn, release: release}
}

// get sends a GET for the file, with a Range when given, and returns the reply with its body unread.
func (g *growWorld) get(t *testing.T, rangeHeader string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.h.url+"/acme/m/resolve/main/model.bin", nil)
	if rangeHeader != "" {
		req.Header.Set("Range", rangeHeader)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (g *growWorld) content() cache.Content {
	sum := sha256.Sum256(g.good)
	c, _ := cache.ContentFromETags(hex.EncodeToString(sum[:]), "")
	return c
}

// TestCacheJoinerServedFromTheGrowingFile: while the CDN is blocked mid-file, a second caller gets its 200
// and the bytes already on disk, and a Range 0-0 (as @huggingface/hub sends first) gets its 206; after the
// release both callers get the whole file, from one CDN request, and it is stored.
func TestCacheJoinerServedFromTheGrowingFile(t *testing.T) {
	file := patternedBytes(4*growChunk + 123)
	g := newGrowWorld(t, file, file, 2*growChunk+17) // two whole buffers on disk, then the CDN blocks
	first := g.get(t, "")
	<-g.cdn.paused
	second := g.get(t, "")
	if second.StatusCode != 200 || second.Header.Get("Content-Length") != strconv.Itoa(len(file)) || second.Header.Get("X-Repo-Commit") == "" {
		t.Fatalf("the second caller: %d %v", second.StatusCode, second.Header)
	}
	early := make([]byte, 2*growChunk)
	if _, err := io.ReadFull(second.Body, early); err != nil || !bytes.Equal(early, file[:len(early)]) {
		t.Fatalf("the second caller did not get the bytes on disk while the CDN was blocked: %v", err)
	}
	probe := g.get(t, "bytes=0-0")
	body, err := io.ReadAll(probe.Body)
	if probe.StatusCode != http.StatusPartialContent || err != nil || !bytes.Equal(body, file[:1]) ||
		probe.Header.Get("Content-Range") != fmt.Sprintf("bytes 0-0/%d", len(file)) || probe.Header.Get("Content-Length") != "1" {
		t.Fatalf("Range 0-0 while the CDN is blocked: %d %v %q %v", probe.StatusCode, probe.Header, body, err)
	}
	if g.store.Has(g.content()) {
		t.Fatal("the file was stored while the CDN was blocked")
	}
	g.release()
	rest, err := io.ReadAll(second.Body)
	if err != nil || !bytes.Equal(append(early, rest...), file) {
		t.Fatalf("the second caller's whole file: %v", err)
	}
	if all, err := io.ReadAll(first.Body); first.StatusCode != 200 || err != nil || !bytes.Equal(all, file) {
		t.Fatalf("the first caller: %d, %v", first.StatusCode, err)
	}
	if n := g.cdn.requests.Load(); n != 1 || !g.store.Has(g.content()) {
		t.Fatalf("%d CDN requests, stored %v", n, g.store.Has(g.content()))
	}
}

// TestCacheManyColdCallers: 32 callers at once on a cold file: one CDN request, and each gets the whole file.
func TestCacheManyColdCallers(t *testing.T) {
	file := patternedBytes(3*growChunk + 99)
	g := newGrowWorld(t, file, file, growChunk+1)
	var wg sync.WaitGroup
	for range 32 {
		resp := g.get(t, "") // each reply's header waits for the first bytes it may have, not the CDN's end
		wg.Go(func() {
			body, err := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || err != nil || !bytes.Equal(body, file) {
				t.Errorf("a caller: %d, %d bytes, %v", resp.StatusCode, len(body), err)
			}
		})
	}
	g.release()
	wg.Wait()
	if n := g.cdn.requests.Load(); n != 1 {
		t.Fatalf("%d CDN requests for 32 callers", n)
	}
}

// TestCacheMismatchCutsEveryCaller: corrupt bytes from the CDN cut every caller's download short of the file's
// end (never a complete-looking file), and nothing is cached.
func TestCacheMismatchCutsEveryCaller(t *testing.T) {
	good := patternedBytes(3*growChunk + 7)
	bad := bytes.Clone(good)
	bad[len(bad)-3] ^= 0xff
	g := newGrowWorld(t, good, bad, 2*growChunk)
	var replies []*http.Response
	replies = append(replies, g.get(t, ""))
	<-g.cdn.paused
	replies = append(replies, g.get(t, ""), g.get(t, "bytes=100-"))
	g.release()
	for i, resp := range replies {
		body, err := io.ReadAll(resp.Body)
		if err == nil || len(body) > len(good)-growChunk {
			t.Errorf("caller %d of a corrupt download: %d, %d bytes, %v", i, resp.StatusCode, len(body), err)
		}
	}
	if g.store.Has(g.content()) {
		t.Fatal("the corrupt file was cached")
	}
}

// TestCacheFirstCallerLeaves: the caller whose request started the download goes away mid-file; another
// caller still gets the whole file, and it is stored.
func TestCacheFirstCallerLeaves(t *testing.T) {
	file := patternedBytes(4*growChunk + 1)
	g := newGrowWorld(t, file, file, 2*growChunk)
	first := g.get(t, "")
	<-g.cdn.paused
	if _, err := io.ReadFull(first.Body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	first.Body.Close()
	second := g.get(t, "bytes=10-")
	g.release()
	body, err := io.ReadAll(second.Body)
	if second.StatusCode != http.StatusPartialContent || err != nil || !bytes.Equal(body, file[10:]) {
		t.Fatalf("the second caller: %d, %d bytes, %v", second.StatusCode, len(body), err)
	}
	// The reply ends with the hash checked, the file renamed into place.
	if n := g.cdn.requests.Load(); n != 1 || !g.store.Has(g.content()) {
		t.Fatalf("%d CDN requests, stored %v", n, g.store.Has(g.content()))
	}
}

// TestCacheColdRangesAnswerAsServeContent: a Range on a cold file is answered as the stored file is (by
// http.ServeContent): the same status, Content-Range, Content-Length and bytes, refusals and several ranges
// included.
func TestCacheColdRangesAnswerAsServeContent(t *testing.T) {
	file := patternedBytes(2*growChunk + 10)
	size := len(file)
	for _, header := range []string{
		"bytes=0-0", "bytes=10-", "bytes=-5", "bytes=-0", "bytes=100-99999999", "bytes= 3 - 7 ", "bytes=0-1,5-6",
		"bytes=0-0,0-", "bytes=5-2", "bytes=" + strconv.Itoa(size) + "-", "items=0-1", "bytes=", "bytes=x-1", "bytes=-",
	} {
		t.Run(header, func(t *testing.T) {
			g := newGrowWorld(t, file, file, size)
			g.release()
			cold := g.get(t, header)
			coldBody, _ := io.ReadAll(cold.Body)
			if whole := g.get(t, ""); whole.StatusCode != 200 {
				t.Fatalf("GET: %d", whole.StatusCode)
			} else if _, err := io.ReadAll(whole.Body); err != nil {
				t.Fatal(err)
			}
			if !g.store.Has(g.content()) {
				t.Fatal("not stored")
			}
			hit := g.get(t, header)
			hitBody, _ := io.ReadAll(hit.Body)
			sameBody := bytes.Equal(coldBody, hitBody) || isMultipart(hit) // a multipart body has its own boundary
			if cold.StatusCode != hit.StatusCode || !sameBody {
				t.Errorf("cold %d %q, stored %d %q", cold.StatusCode, clip(coldBody), hit.StatusCode, clip(hitBody))
			}
			for _, name := range []string{"Content-Range", "Content-Length", "Etag", "Accept-Ranges"} {
				if cold.Header.Get(name) != hit.Header.Get(name) {
					t.Errorf("%s: cold %q, stored %q", name, cold.Header.Get(name), hit.Header.Get(name))
				}
			}
			if isMultipart(hit) != isMultipart(cold) {
				t.Errorf("Content-Type: cold %q, stored %q", cold.Header.Get("Content-Type"), hit.Header.Get("Content-Type"))
			}
		})
	}
}

func isMultipart(resp *http.Response) bool {
	return bytes.HasPrefix([]byte(resp.Header.Get("Content-Type")), []byte("multipart/byteranges"))
}

func clip(b []byte) []byte { return b[:min(len(b), 40)] }

func patternedBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*13 + i/4096)
	}
	return b
}
