// Package hub is a typed client for the parts of the Hugging Face Hub API that hf-micro serves itself. Its wire
// behaviour follows docs/hub-contract.md: singular types in bodies, plural types in paths, escaped path segments,
// bounded reads, and a typed *Error for every non-2xx answer.
package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hf-micro/hf-micro/internal/reqctx"
)

// Options configure a Client.
type Options struct {
	Endpoint  string        // Hub base URL, e.g. https://huggingface.co; a path prefix is kept
	Token     Token         // sent as "Authorization: Bearer"; zero means anonymous
	UserAgent string        // e.g. hf-micro/1.2.3
	Timeout   time.Duration // bound on one whole call, body included; 0 means 30 s
	// MaxConns bounds the connections to the Hub being opened at once, and over HTTP/1.1 the ones open at
	// once (0 = no limit), when Transport is nil. Without it, a burst of more concurrent requests than an
	// HTTP/2 connection's stream limit makes Go's transport dial a connection for nearly every request over
	// the limit: hundreds of TLS handshakes against the Hub.
	MaxConns  int
	Transport http.RoundTripper
	// OnRetry, when set, is told of each retry and why: the status that failed ("503") or "network".
	OnRetry func(reason string)
}

// Client calls the Hub. It is safe for concurrent use and shares one pooled transport across calls.
type Client struct {
	base      *url.URL
	token     Token
	userAgent []string // shared header value, never written into; nil sends Go's default
	transport http.RoundTripper
	watch     *watchdog    // bounds one attempt, body included, by the timeout; shared by every copy of the client
	retries   *retryBudget // shared by every copy of the client (WithToken)
	onRetry   func(reason string)
}

// DefaultTimeout bounds one Hub call when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// maxBody bounds a success body: a large model's info with every file listed stays well below it.
const maxBody = 32 << 20

// New checks the endpoint and builds a client.
func New(opts Options) (*Client, error) {
	base, err := ParseEndpoint(opts.Endpoint)
	if err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	transport := opts.Transport
	if transport == nil {
		// No header timeout: each call has a deadline of its own; streams add one with AwaitHeaders.
		t := NewTransport(0)
		t.MaxConnsPerHost = opts.MaxConns
		transport = t
	}
	return &Client{
		base:      base,
		token:     opts.Token,
		userAgent: headerValue(opts.UserAgent),
		transport: transport,
		watch:     newWatchdog(timeout),
		retries:   newRetryBudget(),
		onRetry:   opts.OnRetry,
	}, nil
}

// WithTransport returns a client that sends its calls through t, with every other setting shared.
func (c *Client) WithTransport(t http.RoundTripper) *Client {
	clone := *c
	clone.transport = t
	return &clone
}

// WithToken returns a client that calls the Hub with another token (a caller's own), sharing the connection
// pool and every other setting.
func (c *Client) WithToken(t Token) *Client {
	clone := *c
	clone.token = t
	return &clone
}

// ParseEndpoint accepts an absolute http(s) URL with no query, fragment or credentials, and drops a trailing
// slash as huggingface_hub does.
func ParseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("must start with https:// or http://, got %q", raw)
	case u.Host == "":
		return nil, fmt.Errorf("has no host: %q", raw)
	case u.User != nil:
		return nil, errors.New("must not contain credentials; set the token with HF_TOKEN")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("must not have a query or fragment: %q", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// NewTransport is a pooled transport with explicit bounds on every phase of a call (responseHeaderTimeout 0:
// none on the wait for headers). Proxies are taken from HTTPS_PROXY/NO_PROXY, for networks that only reach
// the Hub through one.
func NewTransport(responseHeaderTimeout time.Duration) *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		// Every call carries a traceparent of its own, which HPACK would add to the connection's header table
		// and so evict an older entry on every call: in the profiles about 7% of a proxied request's CPU
		// (the table's upkeep, and the stack growth it causes in the goroutine that writes the request).
		// Without a table each header is sent as a literal, a few dozen bytes more per call.
		HTTP2: &http.HTTP2Config{MaxEncoderHeaderTableSize: noHeaderTable},
	}
}

// noHeaderTable is the smallest HPACK table net/http accepts (0 means its default, 4096): too small for any
// header, so none is indexed.
const noHeaderTable = 1

// Timeout is the bound on one Hub call (HF_MICRO_HUB_TIMEOUT).
func (c *Client) Timeout() time.Duration { return c.watch.timeout.limit }

// Endpoint returns the Hub base URL the client calls.
func (c *Client) Endpoint() string { return c.base.String() }

// TokenDigest is the SHA-256 of the client's token; ok is false without one.
func (c *Client) TokenDigest() (digest [32]byte, ok bool) { return c.token.Digest() }

// HasToken reports whether calls carry a token.
func (c *Client) HasToken() bool { return !c.token.IsZero() }

// apiURL joins escaped path segments under the endpoint's /api. When no segment needs escaping (nearly every
// call), the path is built in one string and the URL escapes it as it is, as the joined escaped form would.
func (c *Client) apiURL(segments ...string) *url.URL {
	u := *c.base
	size, plainIsEscaped := len(u.Path)+len("/api"), true
	for _, s := range segments {
		size += 1 + len(s)
		plainIsEscaped = plainIsEscaped && url.PathEscape(s) == s
	}
	if plainIsEscaped {
		var path strings.Builder
		path.Grow(size)
		path.WriteString(u.Path)
		path.WriteString("/api")
		for _, s := range segments {
			path.WriteByte('/')
			path.WriteString(s)
		}
		u.Path = path.String()
		return &u
	}
	raw := u.EscapedPath() + "/api"
	plain := u.Path + "/api"
	for _, s := range segments {
		raw += "/" + url.PathEscape(s)
		plain += "/" + s
	}
	u.Path, u.RawPath = plain, raw
	return &u
}

// do sends one call and returns the response of a 2xx answer, or an *Error. The caller closes the body.
// Reads that fail in a way worth retrying are tried again (retry.go).
func (c *Client) do(ctx context.Context, method string, u *url.URL, body any) (*http.Response, error) {
	var encoded []byte
	if body != nil {
		var err error
		if encoded, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("hub: encoding %s %s: %w", method, u.Path, err)
		}
	}
	c.retries.deposit()
	for attempt := 1; ; attempt++ {
		resp, err := c.attempt(ctx, method, u, encoded)
		if err == nil || attempt == maxAttempts || !retryable(method, err) || !c.retries.withdraw() || !backoff(ctx, attempt) {
			return resp, err
		}
		if c.onRetry != nil {
			c.onRetry(retryReason(err))
		}
	}
}

// attempt sends one request.
func (c *Client) attempt(ctx context.Context, method string, u *url.URL, body []byte) (*http.Response, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	b := &boundBody{watch: c.watch}
	c.watch.start(ctx, &b.call)
	req, err := http.NewRequestWithContext(b.call.ctx, method, "", reader)
	if err != nil {
		c.watch.end(&b.call)
		return nil, fmt.Errorf("hub: %s %s: %w", method, u.Path, err)
	}
	// The call's own URL, set rather than printed and parsed again; nothing below changes it.
	req.URL, req.Host = u, u.Host
	// The values are shared slices, set once: a call's headers cost one map.
	if body != nil {
		req.Header["Content-Type"] = jsonValue
	}
	req.Header["Accept"] = jsonValue
	if c.userAgent != nil {
		req.Header["User-Agent"] = c.userAgent
	}
	c.Authorize(req.Header)
	if info := reqctx.From(ctx); info != nil {
		info.SetHubHeaders(req.Header) // spares reqctx.Transport a copy of the request
	}
	resp, err := c.send(req, body)
	if err != nil {
		c.watch.end(&b.call)
		return nil, &NetworkError{Method: method, Path: u.Path, Err: b.call.timedOut(err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer c.watch.end(&b.call)
		defer resp.Body.Close()
		return nil, newError(resp, c.token)
	}
	b.ReadCloser = resp.Body
	resp.Body = b
	return resp, nil
}

// jsonValue is the value of Accept and Content-Type headers: shared, so never written into.
var jsonValue = []string{"application/json"}

// headerValue is a header's value as a slice to share, or nil for "".
func headerValue(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}

// boundBody is an answer body read within its attempt's time; closing it ends the attempt.
type boundBody struct {
	io.ReadCloser
	call  watchedCall
	watch *watchdog
}

func (b *boundBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.call.timedOut(err)
	}
	return n, err
}

func (b *boundBody) Close() error {
	err := b.ReadCloser.Close()
	b.watch.end(&b.call)
	return err
}

// doJSON sends a call and returns its body, checked to be framed as one JSON object: a body cut short, an error
// page from a hop in between or anything but an object is refused. The inside is not parsed: a Hub answer that
// arrived whole is passed on as it came (as the drop-in does), and the calls that need its fields decode it;
// a full json.Valid was about 3% of GET /api/account's CPU.
func (c *Client) doJSON(ctx context.Context, method string, u *url.URL, body any) (json.RawMessage, error) {
	resp, err := c.do(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := readBody(resp, maxBody+1)
	if err != nil {
		return nil, &NetworkError{Method: method, Path: u.Path, Err: err}
	}
	if len(raw) > maxBody {
		return nil, fmt.Errorf("hub: %s %s: answer larger than %d bytes: %w", method, u.Path, maxBody, ErrBadResponse)
	}
	if trimmed := bytes.TrimSpace(raw); len(trimmed) < 2 || trimmed[0] != '{' || trimmed[len(trimmed)-1] != '}' {
		return nil, fmt.Errorf("hub: %s %s: answer is not a JSON object: %w", method, u.Path, ErrBadResponse)
	}
	return raw, nil
}

// readBody reads at most limit bytes of an answer's body, into one buffer of the size the answer announced.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	size := resp.ContentLength
	if size < 0 || size >= limit {
		size = 512
	}
	// One byte more than announced, so that reading the end needs no larger buffer.
	buf := make([]byte, 0, size+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		free := buf[len(buf):cap(buf)]
		if left := limit - int64(len(buf)); int64(len(free)) > left {
			free = free[:left] // no byte past the limit is read
		}
		n, err := resp.Body.Read(free)
		buf = buf[:len(buf)+n]
		if err == io.EOF || int64(len(buf)) == limit {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// Base returns a copy of the Hub's base URL.
func (c *Client) Base() *url.URL {
	u := *c.base
	return &u
}

// Transport is the pooled transport every call to the Hub shares, the drop-in endpoint's included. It does not
// bound the wait for an answer's headers: a call that streams its answer goes through AwaitHeaders.
func (c *Client) Transport() http.RoundTripper { return c.transport }

// Redact removes the client's token from text the Hub sent back.
func (c *Client) Redact(s string) string { return c.token.Redact(s) }

// RedactBytes removes the client's token from a body the Hub sent back.
func (c *Client) RedactBytes(b []byte) []byte { return c.token.RedactBytes(b) }

// Authorize puts the client's token in h as the Hub expects it, or removes any Authorization when the client
// has none. It is how a request that does not go through Client's own methods gets the token.
func (c *Client) Authorize(h http.Header) {
	if c.token.IsZero() {
		h.Del("Authorization")
		return
	}
	h["Authorization"] = c.token.authorization()
}
