package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hf-micro/hf-micro/internal/cache"
	"github.com/hf-micro/hf-micro/internal/dropin"
	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/hubroute"
)

// resolveRoute is the route table's row of file downloads, the one the cache answers.
const resolveRoute = "GET HEAD /{p}{repo}/resolve/{rev}/{path...}"

// cachedHeaders are the Hub's answer headers a cached file is served with: what clients read to name and
// size a file. Xet hints are not among them, so a client served from the cache downloads over HTTP.
var cachedHeaders = []string{"X-Repo-Commit", "Etag", "X-Linked-Etag", "X-Linked-Size", "Content-Type"}

// serveCached answers a judged download from the cache (docs/cache.md); handled is false when the request is
// for the proxy instead: no cache, another route, or an answer of the Hub's that is not a file (an error, which
// the proxy passes on as the Hub gives it). A full commit sha the cache knows is answered without the Hub,
// except for callers with their own Hub token, whose access the Hub confirms first (a HEAD with their token); so
// is a branch or tag resolved within HF_MICRO_CACHE_REF_TTL (refcache.go).
func (d *deps) serveCached(w http.ResponseWriter, r *http.Request, match *hubroute.Match, targets []hubroute.Target, client *hub.Client) (handled bool, err error) {
	store := d.opts.Cache
	if store == nil || match.Route != resolveRoute || len(targets) != 1 {
		return false, nil
	}
	key, ok := resolveKey(r.URL.EscapedPath(), targets[0])
	if !ok {
		d.opts.Metrics.CacheRequest("bypass")
		return false, nil
	}
	caller, _ := callerFrom(r.Context())
	if caller.UsesServerToken() {
		known := key
		if commit, ok := d.refs.commit(key); ok {
			known.Commit = commit
		}
		if isCommit(known.Commit) {
			if e, ok := store.Lookup(known); ok && d.serveStored(w, r, e) {
				d.opts.Metrics.CacheRequest("hit")
				return true, nil
			}
		}
	}
	answer, err := d.headResolve(r, client)
	if err != nil {
		if r.Context().Err() != nil {
			return true, r.Context().Err()
		}
		return true, hubUnreachable(err)
	}
	e, source, ok := entryFrom(answer, key)
	if !ok {
		d.opts.Metrics.CacheRequest("bypass") // not a file: the proxy passes the Hub's answer on
		return false, nil
	}
	if caller.UsesServerToken() {
		d.refs.learn(key, e.Key.Commit)
	}
	if store.Has(e.Content) {
		if known, ok := store.Lookup(e.Key); !ok || known.Content != e.Content {
			_ = store.Remember(e) // a failed write only costs a Hub question next time
		}
		if d.serveStored(w, r, e) {
			d.opts.Metrics.CacheRequest("hit")
			return true, nil
		}
	}
	if r.Method == http.MethodHead {
		d.opts.Metrics.CacheRequest("miss") // answered from the Hub's HEAD: nothing downloaded, no byte sent
		setCachedHeaders(w.Header(), e)
		w.Header().Set("Content-Length", strconv.FormatInt(e.Size, 10))
		w.WriteHeader(http.StatusOK)
		return true, nil
	}
	return true, d.fillAndServe(w, r, e, source, client)
}

// fillAndServe answers a cold GET from the file as it downloads into the cache: every caller of a content,
// the first included, reads the one download's growing file (cache.Download.Stream). The answer (200, or 206
// for one range) is sent with the first byte the caller may have, so a download that fails before it is still
// answered with an error, or, when the cache cannot store the file, by the proxy.
func (d *deps) fillAndServe(w http.ResponseWriter, r *http.Request, e cache.Entry, source *url.URL, client *hub.Client) error {
	open := func(ctx context.Context) (io.ReadCloser, error) { return d.openSource(ctx, source, client) }
	result := "miss"
	defer func() { d.opts.Metrics.CacheRequest(result) }()
	served := servedCounter{w, d.opts.Metrics.CacheServed}
	start, end, status, ok := d.coldSpan(served, r, e)
	if status == 0 {
		return nil // answered (a range not satisfiable)
	}
	dl, err := d.opts.Cache.Fill(r.Context(), e, open)
	if err != nil {
		result, err = d.notFilled(w, r, e, client, err)
		return err
	}
	if !ok {
		// Several ranges or a conditional request: http.ServeContent answers it, from the stored file.
		if werr := dl.Wait(r.Context()); werr != nil {
			result, err = d.notFilled(w, r, e, client, werr)
			return err
		}
		if !d.serveStored(w, r, e) {
			result, err = d.notFilled(w, r, e, client, cache.ErrGone)
			return err
		}
		return nil
	}
	sent := false
	_, err = dl.Stream(r.Context(), served, start, end, func() {
		sent = true
		setCachedHeaders(w.Header(), e)
		if status == http.StatusPartialContent {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, e.Size))
		}
		w.Header().Set("Content-Length", strconv.FormatInt(end-start, 10))
		w.WriteHeader(status)
	})
	switch {
	case err == nil:
		return nil
	case !sent:
		result, err = d.notFilled(w, r, e, client, err)
		return err
	default:
		// The status and part of the file are out: cut the stream, so the caller sees a broken download rather
		// than a complete-looking corrupt one.
		if done, ferr := dl.Done(); done && ferr != nil {
			d.logger.ErrorContext(r.Context(), "download cut off", "error", ferr.Error(), "content", e.Content.String())
		}
		panic(http.ErrAbortHandler)
	}
}

// coldSpan decides a cold GET's answer as http.ServeContent decides it for a stored file: the whole file
// (200) or one range of it (206, bytes [start, end)). A range that cannot be satisfied is answered here, by
// http.ServeContent itself (status 0: nothing more to do); ok is false for what needs the stored file first
// (several ranges, a conditional request).
func (d *deps) coldSpan(w http.ResponseWriter, r *http.Request, e cache.Entry) (start, end int64, status int, ok bool) {
	if r.Header.Get("If-Match") != "" || r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Range") != "" {
		return 0, 0, http.StatusOK, false
	}
	ranges, err := parseRange(r.Header.Get("Range"), e.Size)
	switch {
	case err == errNoOverlap && e.Size == 0:
		ranges = nil // ServeContent answers an empty file's range with the whole (empty) file
	case err != nil:
		// ServeContent reads no byte to refuse a range, so it answers as it would for the stored file.
		setCachedHeaders(w.Header(), e)
		http.ServeContent(w, r, "", time.Time{}, io.NewSectionReader(unreadable{}, 0, e.Size))
		return 0, 0, 0, false
	}
	var sum int64
	for _, ra := range ranges {
		sum += ra.length
	}
	switch {
	case sum > e.Size || len(ranges) == 0:
		return 0, e.Size, http.StatusOK, true // ServeContent ignores ranges longer than the file
	case len(ranges) == 1:
		return ranges[0].start, ranges[0].start + ranges[0].length, http.StatusPartialContent, true
	default:
		return 0, 0, http.StatusPartialContent, false
	}
}

// unreadable is the content behind a refused range, which is never read.
type unreadable struct{}

func (unreadable) ReadAt([]byte, int64) (int, error) { return 0, io.ErrUnexpectedEOF }

// notFilled answers a cold GET the cache could not serve, before any byte of it was sent: a file too large for
// the cache, or one the cache cannot store (a full disk), gets the Hub's own answer through the proxy (the
// metrics' result "bypass"); a failed download is a 502.
func (d *deps) notFilled(w http.ResponseWriter, r *http.Request, e cache.Entry, client *hub.Client, err error) (result string, _ error) {
	switch {
	case r.Context().Err() != nil:
		return "miss", r.Context().Err()
	case errors.Is(err, cache.ErrTooLarge) || errors.As(err, new(*cache.NotStoredError)):
		if !errors.Is(err, cache.ErrTooLarge) {
			d.logger.WarnContext(r.Context(), "download not cached: passed to the proxy", "error", err.Error(), "content", e.Content.String())
		}
		d.dropIn.ServeHTTP(w, r, dropin.Forward{Client: client, PublicBase: d.publicBase(r)})
		return "bypass", nil
	case errors.Is(err, cache.ErrGone):
		return "miss", &apiError{status: http.StatusBadGateway, msg: "the file was evicted from the cache as it was stored; retry"}
	default:
		return "miss", &apiError{status: http.StatusBadGateway, msg: "hf-micro could not download the file from the Hub", cause: err}
	}
}

// serveStored answers from a stored file (Range and conditional requests included); false when the file is
// gone (evicted since it was looked up).
func (d *deps) serveStored(w http.ResponseWriter, r *http.Request, e cache.Entry) bool {
	f, ok := d.opts.Cache.OpenContent(e.Content)
	if !ok {
		return false
	}
	defer f.Close()
	setCachedHeaders(w.Header(), e)
	http.ServeContent(servedCounter{w, d.opts.Metrics.CacheServed}, r, "", time.Time{}, f)
	return true
}

func setCachedHeaders(h http.Header, e cache.Entry) {
	for _, name := range cachedHeaders {
		if v := e.Header.Values(name); len(v) > 0 {
			h[name] = v
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/octet-stream")
	}
	h.Set("Accept-Ranges", "bytes")
}

// headResolve asks the Hub about a download as the proxy would (the same credential): the answer names the
// commit, the content and where the bytes are. A redirect to another host (the CDN) is not followed; one on
// the Hub's own host without X-Linked-Size (a regular file sent to /api/resolve-cache/...) is, once, as
// huggingface_hub does, so the answer is the file's 200.
func (d *deps) headResolve(r *http.Request, client *hub.Client) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(r.Context(), d.hub.Timeout())
	defer cancel()
	target, err := url.Parse(strings.TrimSuffix(d.hub.Base().String(), "/") + r.URL.EscapedPath())
	if err != nil {
		return nil, err
	}
	for hop := 0; ; hop++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, target.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept-Encoding", "identity")
		if ua := r.Header.Get("User-Agent"); ua != "" {
			req.Header.Set("User-Agent", ua)
		}
		client.Authorize(req.Header)
		resp, err := d.noRedirects(d.hub.Transport()).Do(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		loc, lerr := resp.Location()
		if hop > 0 || lerr != nil || resp.Header.Get("X-Linked-Size") != "" || !d.onHubHost(loc) {
			return resp, nil
		}
		target = loc
	}
}

// onHubHost reports whether u is on the Hub's own host, the only one that gets a credential.
func (d *deps) onHubHost(u *url.URL) bool {
	base := d.hub.Base()
	return u.Scheme == base.Scheme && u.Host == base.Host
}

// entryFrom reads a Hub HEAD answer: the commit, the content, the size, and where to download the bytes
// (the Hub URL itself for a 200, the redirect's target otherwise).
func entryFrom(resp *http.Response, key cache.Key) (cache.Entry, *url.URL, bool) {
	h := resp.Header
	commit := h.Get("X-Repo-Commit")
	content, ok := cache.ContentFromETags(h.Get("X-Linked-Etag"), h.Get("Etag"))
	if !ok || !isCommit(commit) {
		return cache.Entry{}, nil, false
	}
	key.Commit = commit
	e := cache.Entry{Key: key, Content: content, Header: http.Header{}}
	for _, name := range cachedHeaders {
		if v := h.Values(name); len(v) > 0 {
			e.Header[name] = v
		}
	}
	source := resp.Request.URL
	switch resp.StatusCode {
	case http.StatusOK:
		if h.Get("X-Linked-Size") != "" {
			return cache.Entry{}, nil, false // a Xet file-info answer, not the file's bytes
		}
		e.Size = resp.ContentLength
	case http.StatusFound, http.StatusTemporaryRedirect, http.StatusSeeOther, http.StatusMovedPermanently, http.StatusPermanentRedirect:
		loc, err := resp.Location()
		size, perr := strconv.ParseInt(h.Get("X-Linked-Size"), 10, 64)
		if err != nil || perr != nil {
			return cache.Entry{}, nil, false
		}
		source, e.Size = loc, size
		e.Header.Del("Content-Type") // the redirect's own type, not the file's
	default:
		return cache.Entry{}, nil, false
	}
	return e, source, e.Size >= 0
}

// openSource downloads a file's bytes. The credential goes only to the Hub's own host: a CDN gets none.
func (d *deps) openSource(ctx context.Context, source *url.URL, client *hub.Client) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept-Encoding", "identity")
	transport := d.cdnTransport
	if d.onHubHost(source) {
		client.Authorize(req.Header)
		transport = d.streamTransport
	}
	resp, err := d.noRedirects(transport).Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("the file's download answered %s", resp.Status)
	}
	return cache.IdleBounded(fetchedCounter{resp.Body, d.opts.Metrics.CacheFetched}, d.hub.Timeout()), nil
}

func (d *deps) noRedirects(t http.RoundTripper) *http.Client {
	return &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// resolveKey takes a download path apart: /{p}{ns}/{name}/resolve/{rev}/{path...}; the route table has
// checked its spelling and found the repository.
func resolveKey(escapedPath string, target hubroute.Target) (cache.Key, bool) {
	segs := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	if target.Type != hub.Model {
		segs = segs[1:]
	}
	if len(segs) < 5 || segs[2] != "resolve" {
		return cache.Key{}, false
	}
	rev, err1 := url.PathUnescape(segs[3])
	path, err2 := url.PathUnescape(strings.Join(segs[4:], "/"))
	if err1 != nil || err2 != nil {
		return cache.Key{}, false
	}
	return cache.Key{Type: string(target.Type), Repo: target.Repo.String(), Commit: rev, Path: path}, true
}

// isCommit reports whether a revision is a full commit sha, which never moves.
func isCommit(rev string) bool { return len(rev) == 40 && cache.IsHex(rev) }
