package hub

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
)

// refusedRedirect is a redirect hf-micro does not follow: asking again would only be refused again, so it is
// not retried.
type refusedRedirect struct{ reason string }

func (e *refusedRedirect) Error() string { return e.reason }

// errDowngrade is a redirect from the Hub's https endpoint to plain http, which hf-micro does not follow.
var errDowngrade = &refusedRedirect{"the Hub redirected from https to plain http; hf-micro does not follow a downgrade"}

// maxRedirects is how many redirects one call follows, as net/http's client.
const maxRedirects = 10

// send sends a call through the transport and follows the Hub's redirects (it redirects renamed repositories
// on its own host), as net/http's client would, with two rules of hf-micro's: the token goes only back to the
// host it was meant for (net/http would still send it to subdomains), and a redirect from https to plain http
// is not followed at all. Going to the transport directly spares each call the copies of its headers and URL
// that http.Client makes for redirects that almost never come. body is the call's encoded body, for a 307 or
// 308 to send again.
func (c *Client) send(req *http.Request, body []byte) (*http.Response, error) {
	first := req.URL
	for redirects := 0; ; redirects++ {
		resp, err := c.transport.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		method, keepBody, follow := redirectMethod(req.Method, resp)
		if !follow {
			return resp, nil
		}
		// The rest of a redirect's body is not worth reading: the connection goes back to the pool anyway.
		_, _ = io.CopyN(io.Discard, resp.Body, 2<<10)
		resp.Body.Close()
		next, err := req.URL.Parse(resp.Header.Get("Location"))
		switch {
		case err != nil:
			return nil, &refusedRedirect{"the Hub redirected to an address that is not a URL"}
		case redirects == maxRedirects:
			return nil, &refusedRedirect{"stopped after 10 redirects"}
		case first.Scheme == "https" && next.Scheme != "https":
			return nil, errDowngrade
		case next.Scheme != "https" && next.Scheme != "http":
			return nil, &refusedRedirect{"the Hub redirected to an address that is not http(s)"}
		}
		req = redirected(req, next, method, keepBody, body, next.Host == first.Host && next.Scheme == first.Scheme)
	}
}

// redirectMethod says whether an answer is a redirect to follow, and with which method, as net/http decides:
// 301, 302 and 303 go on as GET (HEAD stays HEAD) without a body; 307 and 308 repeat the call, body included.
func redirectMethod(method string, resp *http.Response) (next string, keepBody, follow bool) {
	if resp.Header.Get("Location") == "" {
		return "", false, false
	}
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
		if method != http.MethodGet && method != http.MethodHead {
			method = http.MethodGet
		}
		return method, false, true
	case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return method, true, true
	}
	return "", false, false
}

// redirected is the next request of a redirect: the same headers, minus the token when it leaves the Hub's
// host, and minus the body's type when the body stays behind.
func redirected(prev *http.Request, to *url.URL, method string, keepBody bool, body []byte, sameHost bool) *http.Request {
	next := prev.Clone(prev.Context())
	next.Method, next.URL, next.Host = method, to, ""
	next.Body, next.GetBody, next.ContentLength = nil, nil, 0
	if keepBody && body != nil {
		next.Body, next.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	} else {
		next.Header.Del("Content-Type")
	}
	if !sameHost {
		next.Header.Del("Authorization")
	}
	return next
}
