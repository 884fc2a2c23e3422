package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// benchCommit is the one commit every file is at: downloads name it in full, as a pinned revision does.
const benchCommit = "be7c4c0ffee0be7c4c0ffee0be7c4c0ffee0be7c"

// file is one file the fake Hub serves as an LFS file: its bytes on disk and its sha256.
type file struct {
	path   string
	size   int64
	sha256 string
}

// loadFiles hashes every regular file in dir once at start-up, so a resolve answer costs nothing.
func loadFiles(dir string) (map[string]file, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string]file{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, err
		}
		files[e.Name()] = file{path: p, size: n, sha256: hex.EncodeToString(h.Sum(nil))}
	}
	return files, nil
}

// resolveHandler answers HEAD and GET /{namespace}/{name}/resolve/{revision}/{file} as the Hub does for an LFS
// file: a 302 to the CDN with the naming headers huggingface_hub and hf-micro read. The revision is not checked:
// every file is at benchCommit.
func resolveHandler(c *counters, files map[string]file, wantAuth, cdnBase string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.Resolves.Add(1)
		h := w.Header()
		name := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		f, ok := files[name]
		switch {
		case r.Header.Get("Authorization") != wantAuth:
			c.Unauthorized.Add(1)
			h.Set("X-Error-Message", "Invalid credentials in Authorization header")
			http.Error(w, unauthorized, http.StatusUnauthorized)
		case !ok || r.Method != http.MethodGet && r.Method != http.MethodHead:
			c.NotFound.Add(1)
			h.Set("X-Error-Code", "EntryNotFound")
			http.Error(w, `{"error":"Entry not found"}`, http.StatusNotFound)
		default:
			h.Set("X-Repo-Commit", benchCommit)
			h.Set("X-Linked-Etag", `"`+f.sha256+`"`)
			h.Set("X-Linked-Size", strconv.FormatInt(f.size, 10))
			h.Set("Etag", `"`+f.sha256+`"`)
			h.Set("Location", cdnBase+"/files/"+name)
			w.WriteHeader(http.StatusFound)
		}
	})
}

// cdnHandler serves the files' bytes (Range included) with no credential, and counts what it sends.
func cdnHandler(c *counters, files map[string]file) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.CDNRequests.Add(1)
		name, ok := strings.CutPrefix(r.URL.Path, "/files/")
		f, found := files[name]
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		fh, err := os.Open(f.path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer fh.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Etag", `"`+f.sha256+`"`)
		http.ServeContent(w, r, "", time.Time{}, countingFile{fh, &c.CDNBytes})
	})
}

// countingFile counts the bytes read from a file (over TLS there is no sendfile to lose).
type countingFile struct {
	*os.File
	n *atomic.Int64
}

func (f countingFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.n.Add(int64(n))
	return n, err
}
