package fakehub

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// file is one file of a repository's head commit: a regular (git) file, served by the Hub itself, or an LFS
// file, which the Hub redirects to its CDN.
type file struct {
	content []byte
	lfs     bool
	oid     string // LFS: sha256 of the content; regular: the git blob sha1
}

// AddFile adds or replaces a file in a repository, as a new commit: the head sha changes, and earlier commits
// keep the files they had. lfs files are stored by their sha256 and served by the CDN (SetCDN). It panics on
// an unknown repository.
func (h *Hub) AddFile(repoType, id, path string, content []byte, lfs bool) {
	f := &file{content: bytes.Clone(content), lfs: lfs}
	if lfs {
		sum := sha256.Sum256(content)
		f.oid = hex.EncodeToString(sum[:])
	} else {
		f.oid = GitBlobID(content)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	rp := h.repos[repoKey(repoType, id)]
	if rp == nil {
		panic(fmt.Sprintf("fakehub: no %s %s", repoType, id))
	}
	files := map[string]*file{path: f}
	for p, old := range rp.commits[rp.sha] {
		if p != path {
			files[p] = old
		}
	}
	if rp.commits == nil {
		rp.commits = map[string]map[string]*file{}
	}
	rp.sha = randomHex(20)
	rp.commits[rp.sha] = files
	if lfs {
		h.cdn.put(f.oid, content)
	}
}

// CorruptCDNObject makes the CDN serve other bytes (of the same length) for an LFS object, as a broken
// storage node would: the Hub still announces the true hash.
func (h *Hub) CorruptCDNObject(sha256Hex string) {
	h.cdn.mu.Lock()
	defer h.cdn.mu.Unlock()
	b := bytes.Clone(h.cdn.objects[sha256Hex])
	if len(b) > 0 {
		b[len(b)-1] ^= 0xff
	}
	h.cdn.objects[sha256Hex] = b
}

// GitBlobID is git's id of a file's content: sha1 of "blob <size>\0" and the content, the ETag the Hub sends
// for regular files.
func GitBlobID(content []byte) string {
	s := sha1.New()
	fmt.Fprintf(s, "blob %d\x00", len(content))
	s.Write(content)
	return hex.EncodeToString(s.Sum(nil))
}

// resolveRoutes are the download routes, served apart from the mux: ServeMux cannot hold both the model
// pattern and the prefixed ones (/datasets/... fits both).
var resolveRoutes = []string{
	"GET /{ns}/{name}/resolve/{rev}/{path...}",
	"GET /datasets/{ns}/{name}/resolve/{rev}/{path...}",
	"GET /spaces/{ns}/{name}/resolve/{rev}/{path...}",
	"GET /api/resolve-cache/models/{ns}/{name}/{rev}/{path...}",
	"GET /api/resolve-cache/datasets/{ns}/{name}/{rev}/{path...}",
	"GET /api/resolve-cache/spaces/{ns}/{name}/{rev}/{path...}",
}

// resolveRequest is a download path taken apart.
type resolveRequest struct {
	repoType, id, rev, path string
	resolveCache            bool // /api/resolve-cache/..., where the Hub redirects regular files
}

// parseResolve reads /{p}{ns}/{name}/resolve/{rev}/{path...} and /api/resolve-cache/{t}/{ns}/{name}/{rev}/{path...}
// (GET or HEAD); rev is one escaped segment.
func parseResolve(r *http.Request) (resolveRequest, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return resolveRequest{}, false
	}
	segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	rq := resolveRequest{repoType: "model"}
	if len(segs) > 2 && segs[0] == "api" && segs[1] == "resolve-cache" {
		switch segs[2] {
		case "models", "datasets", "spaces":
		default:
			return resolveRequest{}, false
		}
		rq.repoType, rq.resolveCache = strings.TrimSuffix(segs[2], "s"), true
		if segs = segs[3:]; len(segs) < 4 {
			return resolveRequest{}, false
		}
		// ns, name, "resolve", rev, path...: read on as a resolve path.
		segs = slices.Concat(segs[:2], []string{"resolve"}, segs[2:])
	} else if len(segs) > 0 && (segs[0] == "datasets" || segs[0] == "spaces") {
		rq.repoType = strings.TrimSuffix(segs[0], "s")
		segs = segs[1:]
	}
	if len(segs) < 5 || segs[2] != "resolve" {
		return resolveRequest{}, false
	}
	rev, err := url.PathUnescape(segs[3])
	if err != nil {
		return resolveRequest{}, false
	}
	path, err := url.PathUnescape(strings.Join(segs[4:], "/"))
	if err != nil {
		return resolveRequest{}, false
	}
	rq.id, rq.rev, rq.path = segs[0]+"/"+segs[1], rev, path
	return rq, true
}

// RedirectRegularFiles makes downloads of regular files answer as the Hub sometimes does: a relative 307 to
// /api/resolve-cache/{t}/{repo}/{commit}/{path}, whose 200 carries the bytes, X-Repo-Commit and ETag.
func (h *Hub) RedirectRegularFiles(on bool) {
	h.mu.Lock()
	h.redirectRegular = on
	h.mu.Unlock()
}

// resolve answers a download as the Hub does: a regular file with its bytes (Range honoured), an LFS file
// with a 302 to the CDN; both with X-Repo-Commit, ETag and, for LFS, X-Linked-Etag and X-Linked-Size.
func (h *Hub) resolve(w http.ResponseWriter, r *http.Request, c call, rq resolveRequest) error {
	h.mu.Lock()
	rp := h.repos[repoKey(rq.repoType, rq.id)]
	if rp == nil || !h.canSee(c, rp) {
		h.mu.Unlock()
		return errRepoHidden(c)
	}
	commit := rq.rev
	if rq.rev == "main" {
		commit = rp.sha
	}
	files, ok := rp.commits[commit]
	if !ok && commit == rp.sha {
		files, ok = map[string]*file{}, true // a repository without files
	}
	f := files[rq.path]
	cdn, redirectRegular := h.cdn.base, h.redirectRegular && !rq.resolveCache
	h.mu.Unlock()
	if !ok {
		return &hubError{status: http.StatusNotFound, code: "RevisionNotFound", msg: "Invalid rev id: " + rq.rev}
	}
	w.Header().Set("X-Repo-Commit", commit)
	if f == nil {
		return &hubError{status: http.StatusNotFound, code: "EntryNotFound", msg: "Entry not found"}
	}
	w.Header().Set("ETag", `"`+f.oid+`"`)
	w.Header().Set("Accept-Ranges", "bytes")
	if !f.lfs && redirectRegular {
		w.Header().Set("Location", "/api/resolve-cache/"+rq.repoType+"s/"+rq.id+"/"+commit+"/"+(&url.URL{Path: rq.path}).EscapedPath()+"?etag=%22"+f.oid+"%22")
		w.WriteHeader(http.StatusTemporaryRedirect)
		return nil
	}
	if !f.lfs {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.content))
		return nil
	}
	w.Header().Set("X-Linked-Etag", `"`+f.oid+`"`)
	w.Header().Set("X-Linked-Size", strconv.Itoa(len(f.content)))
	w.Header().Set("Location", cdn+"/repos/"+f.oid+"?X-Amz-Signature="+randomHex(16))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusFound)
	return nil
}

// SetCDN tells the Hub where its CDN (CDN()) is served, for the redirects of LFS downloads.
func (h *Hub) SetCDN(baseURL string) {
	h.mu.Lock()
	h.cdn.base = strings.TrimSuffix(baseURL, "/")
	h.mu.Unlock()
}

// CDN is the Hub's file CDN, to serve on its own address (another host, as on the Hub): GET and HEAD
// /repos/{sha256} with Range. It counts the body bytes it sends and records every request's headers, so tests
// can prove that a file was fetched once and that no credential ever reached it.
func (h *Hub) CDN() http.Handler { return &h.cdn }

// CDNBytes is how many body bytes the CDN has sent.
func (h *Hub) CDNBytes() int64 {
	h.cdn.mu.Lock()
	defer h.cdn.mu.Unlock()
	return h.cdn.sent
}

// CDNRequests returns a copy of the requests the CDN received.
func (h *Hub) CDNRequests() []Request {
	h.cdn.mu.Lock()
	defer h.cdn.mu.Unlock()
	out := make([]Request, len(h.cdn.requests))
	for i, r := range h.cdn.requests {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

type cdn struct {
	base     string // guarded by the Hub's mu
	mu       sync.Mutex
	objects  map[string][]byte
	requests []Request
	sent     int64
}

func (c *cdn) put(oid string, content []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.objects == nil {
		c.objects = map[string][]byte{}
	}
	c.objects[oid] = bytes.Clone(content)
}

func (c *cdn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.requests = append(c.requests, Request{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header.Clone()})
	content, ok := c.objects[strings.TrimPrefix(r.URL.Path, "/repos/")]
	c.mu.Unlock()
	if !ok || r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return
	}
	http.ServeContent(countingWriter{w, c}, r, "", time.Time{}, bytes.NewReader(content))
}

// countingWriter counts the body bytes the CDN sends.
type countingWriter struct {
	http.ResponseWriter
	c *cdn
}

func (w countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.c.mu.Lock()
	w.c.sent += int64(n)
	w.c.mu.Unlock()
	return n, err
}
