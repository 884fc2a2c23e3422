package hub

import (
	"context"
	"io"
	"net/http"
	"time"
)

// AwaitHeaders bounds, for each call through base, the wait for the answer's headers and nothing after them:
// a download may take as long as it keeps moving. It is for the calls that stream (the drop-in endpoint, the
// cache's downloads). The Hub's pooled transport has no ResponseHeaderTimeout of its own: the Client's calls
// are bounded whole by their own deadline, and net/http's header timer cost each of them a timer and a
// goroutine wake-up more.
func AwaitHeaders(base http.RoundTripper, limit time.Duration) http.RoundTripper {
	return awaitHeaders{base: base, limit: limit}
}

type awaitHeaders struct {
	base  http.RoundTripper
	limit time.Duration
}

func (t awaitHeaders) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(t.limit, func() { cancel(errHeaderTimeout) })
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() {
		// The limit passed: whatever came back came too late, and its body is already cut.
		if err == nil {
			resp.Body.Close()
		}
		cancel(nil)
		return nil, errHeaderTimeout
	}
	if err != nil {
		cancel(nil)
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols { // a 101's body is the connection itself
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	}
	// The answer is to the caller's request, whose context says whether the caller is still there; the
	// bounded one ends when the body is closed.
	resp.Request = req
	return resp, nil
}

// cancelOnClose ends a call's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// errHeaderTimeout is a call that waited longer than its limit for the answer's headers, in net/http's words.
// It is a timeout to errors.As(err, *net.Error).
var errHeaderTimeout error = headerTimeout{}

type headerTimeout struct{}

func (headerTimeout) Error() string   { return "timeout awaiting response headers" }
func (headerTimeout) Timeout() bool   { return true }
func (headerTimeout) Temporary() bool { return true }
