// Package dropin is hf-micro's drop-in Hub endpoint: every Hub path the simple API does not own is passed to
// the Hub, so the standard clients (huggingface_hub with HF_ENDPOINT, @huggingface/hub with hubUrl) work
// through hf-micro without holding the Hub token. Who may do what is decided before a request gets here (by
// the route table, internal/hubroute); this package carries the judged request and the answer faithfully,
// with only the headers the Hub's clients use, and keeps them pointing at hf-micro.
package dropin

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hf-micro/hf-micro/internal/hub"
)

// Options configure the proxy.
type Options struct {
	Hub       *url.URL          // the Hub's base URL
	Transport http.RoundTripper // shared with the simple API's Hub client
	// ErrorHandler answers when the Hub could not be reached or did not answer.
	ErrorHandler func(http.ResponseWriter, *http.Request, error)
	// BodyIdleTimeout bounds the wait for each read of the Hub's answer body, so that a Hub that stalls
	// mid-body cuts the caller's stream instead of holding it open forever; 0 means no bound. It bounds the
	// gaps, not the whole body: a long download that keeps moving is never cut.
	BodyIdleTimeout time.Duration
	// BodyError is told when reading the Hub's answer body failed after the status was sent (the caller then
	// gets a cut-off stream); in is the incoming request. A caller that went away is not reported.
	BodyError func(in *http.Request, err error)
	// ErrorLog receives net/http/httputil's own messages; nil means the standard logger.
	ErrorLog *log.Logger
}

// Proxy passes requests to the Hub.
type Proxy struct {
	hubURL    *url.URL
	hub       string // base URL without a trailing slash
	rp        httputil.ReverseProxy
	idle      time.Duration
	bodyError func(*http.Request, error)
}

// New builds the proxy.
func New(o Options) *Proxy {
	p := &Proxy{hubURL: o.Hub, hub: strings.TrimSuffix(o.Hub.String(), "/"), idle: o.BodyIdleTimeout, bodyError: o.BodyError}
	p.rp = httputil.ReverseProxy{
		Transport:    o.Transport,
		ErrorHandler: o.ErrorHandler,
		// No timed flushing: ServeHTTP's writer flushes each piece of the body as it comes instead.
		FlushInterval: 0,
		ErrorLog:      o.ErrorLog,
		// Without a pool the proxy allocates a 32 KiB copy buffer per request: most of its garbage.
		BufferPool: &bufferPool{},
	}
	return p
}

// bufferPool reuses the proxy's copy buffers.
type bufferPool struct{ pool sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.pool.Get().(*[]byte); ok {
		return *buf
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.pool.Put(&buf) }

// Forward is how one judged request goes to the Hub.
type Forward struct {
	Client     *hub.Client // whose token goes with it: the caller's own, or the server's
	PublicBase string      // hf-micro's base URL as its callers reach it; Hub URLs in Link and Location become it
	// Body, when not nil, is sent instead of the request's body: the body as it was judged.
	Body []byte
	// ModifyResponse, when set, changes the Hub's answer last, after the proxy's own changes.
	ModifyResponse func(*http.Response) error
}

// ServeHTTP passes r to the Hub as f says. Only the request headers the Hub's clients use go with it
// (headers.go), and the caller's credentials never do: f.Client puts back the one that may.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request, f Forward) {
	f.PublicBase = strings.TrimSuffix(f.PublicBase, "/")
	rp := p.rp
	rp.Rewrite = func(pr *httputil.ProxyRequest) {
		// SetURL keeps the request's escaped path (refs%2Fpr%2F1 stays one segment) under the Hub's base.
		pr.SetURL(p.hubURL)
		pr.Out.Header = forwardedHeaders(pr.In.Header)
		f.Client.Authorize(pr.Out.Header)
		if f.Body != nil {
			pr.Out.Body = io.NopCloser(bytes.NewReader(f.Body))
			pr.Out.ContentLength = int64(len(f.Body))
			pr.Out.Header.Set("Content-Length", strconv.Itoa(len(f.Body)))
		}
	}
	rp.ModifyResponse = func(resp *http.Response) error { return p.modifyResponse(resp, f) }
	rp.ServeHTTP(flushEachWrite{w, http.NewResponseController(w)}, r)
}

// flushEachWrite sends every piece of the body to the caller as soon as the Hub sends it, so downloads and
// streamed answers flow, and a cut-off answer reaches the caller as far as it came. Unlike ReverseProxy's
// FlushInterval -1, which sends the headers alone first, the headers go out with the first piece: a small
// JSON answer costs one write to the caller instead of two. (ReverseProxy still sends the headers at once for
// answers of unknown length, event streams among them.)
type flushEachWrite struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (f flushEachWrite) Write(p []byte) (int, error) {
	n, err := f.ResponseWriter.Write(p)
	if err == nil {
		err = f.rc.Flush()
	}
	return n, err
}

func (f flushEachWrite) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// modifyResponse keeps the caller talking to hf-micro, and keeps the Hub's grants and our token out of the
// answer: pagination links and same-host redirects that point at the Hub are rewritten to hf-micro's base
// (redirects elsewhere, a CDN download, pass as they are: the client follows them itself, and our token never
// goes with them); the Hub's CORS grants and cookies are dropped (hf-micro answers for browsers itself); and
// the token the request was sent with is removed from every header and from error bodies.
func (p *Proxy) modifyResponse(resp *http.Response, f Forward) error {
	h := resp.Header
	dropBrowserGrants(h)
	redactHeaders(h, f.Client)
	if resp.StatusCode >= 400 && resp.Body != nil && resp.Body != http.NoBody {
		if err := redactBody(resp, f.Client); err != nil {
			return err
		}
	}
	if resp.Body != nil && resp.Body != http.NoBody && (p.idle > 0 || p.bodyError != nil) {
		resp.Body = newWatchedBody(resp.Request, resp.Body, p.idle, p.bodyError)
	}
	if f.ModifyResponse != nil {
		if err := f.ModifyResponse(resp); err != nil {
			return err
		}
	}
	if f.PublicBase == "" {
		return nil
	}
	if links := h.Values("Link"); len(links) > 0 {
		h.Del("Link")
		for _, link := range links {
			h.Add("Link", strings.ReplaceAll(link, "<"+p.hub+"/", "<"+f.PublicBase+"/"))
		}
	}
	if loc := h.Get("Location"); strings.HasPrefix(loc, p.hub+"/") || loc == p.hub {
		h.Set("Location", f.PublicBase+strings.TrimPrefix(loc, p.hub))
	}
	return nil
}

// errBodyStalled is the read error of an answer body that sent nothing for the idle timeout.
var errBodyStalled = errors.New("the Hub sent nothing more of its answer within the timeout")

// watchedBody is the Hub's answer body with a bound on each read: when one waits longer than the idle
// timeout, the body is closed, which ends the read and so the copy to the caller. Only the time spent waiting
// on the Hub counts; time spent writing to a slow caller does not.
type watchedBody struct {
	body    io.ReadCloser
	req     *http.Request // the outgoing request, whose context tells a caller that went away
	idle    time.Duration
	report  func(*http.Request, error)
	timer   *time.Timer
	mu      sync.Mutex
	stalled bool
	failed  bool // the first failure was reported
}

func newWatchedBody(req *http.Request, body io.ReadCloser, idle time.Duration, report func(*http.Request, error)) *watchedBody {
	b := &watchedBody{body: body, req: req, idle: idle, report: report}
	if idle > 0 {
		b.timer = time.AfterFunc(time.Hour, b.expire)
		b.timer.Stop()
	}
	return b
}

func (b *watchedBody) expire() {
	b.mu.Lock()
	b.stalled = true
	b.mu.Unlock()
	_ = b.body.Close()
}

func (b *watchedBody) Read(p []byte) (int, error) {
	if b.timer != nil {
		b.timer.Reset(b.idle)
	}
	n, err := b.body.Read(p)
	if b.timer != nil {
		b.timer.Stop()
	}
	if err == nil || err == io.EOF {
		return n, err
	}
	b.mu.Lock()
	if b.stalled {
		err = errBodyStalled
	}
	first := !b.failed
	b.failed = true
	b.mu.Unlock()
	if first && b.report != nil && b.req.Context().Err() == nil {
		b.report(b.req, err)
	}
	return n, err
}

func (b *watchedBody) Close() error {
	if b.timer != nil {
		b.timer.Stop()
	}
	return b.body.Close()
}
