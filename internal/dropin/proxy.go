// Package dropin is hf-micro's drop-in Hub endpoint: every Hub path the simple API does not own is passed to
// the Hub as it is, so the standard clients (huggingface_hub with HF_ENDPOINT, @huggingface/hub with hubUrl)
// work through hf-micro without holding the Hub token. Who may do what is decided before a request gets here;
// this package carries the request and the answer faithfully, and keeps them pointing at hf-micro.
package dropin

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/hf-micro/hf-micro/internal/reqctx"
)

// Options configure the proxy.
type Options struct {
	Hub       *url.URL          // the Hub's base URL
	Transport http.RoundTripper // shared with the simple API's Hub client
	// Authorize sets the credential of the outgoing request in h; in is the incoming request, whose context
	// says whose token to use.
	Authorize func(in *http.Request, h http.Header)
	// ErrorHandler answers when the Hub could not be reached or did not answer.
	ErrorHandler func(http.ResponseWriter, *http.Request, error)
}

// Proxy passes requests to the Hub.
type Proxy struct {
	hub string // base URL without a trailing slash
	rp  *httputil.ReverseProxy
}

// New builds the proxy.
func New(o Options) *Proxy {
	p := &Proxy{hub: strings.TrimSuffix(o.Hub.String(), "/")}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// SetURL keeps the request's escaped path (refs%2Fpr%2F1 stays one segment) under the Hub's base.
			pr.SetURL(o.Hub)
			// The caller's credentials never travel as they are: Authorize puts back the one that may.
			pr.Out.Header.Del("Authorization")
			pr.Out.Header.Del("Cookie")
			pr.Out.Header.Del("Proxy-Authorization")
			o.Authorize(pr.In, pr.Out.Header)
		},
		Transport:      o.Transport,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   o.ErrorHandler,
		// A negative interval flushes every write: downloads and streamed answers go out as they come.
		FlushInterval: -1,
	}
	return p
}

type publicBaseKey struct{}

// ServeHTTP passes r to the Hub. publicBase is hf-micro's own base URL as its callers reach it; Hub URLs in
// Link and Location headers are rewritten to it.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request, publicBase string) {
	ctx := context.WithValue(r.Context(), publicBaseKey{}, strings.TrimSuffix(publicBase, "/"))
	p.rp.ServeHTTP(w, r.WithContext(ctx))
}

// modifyResponse keeps the caller talking to hf-micro: pagination links and same-host redirects that point at
// the Hub are rewritten to hf-micro's base. Redirects elsewhere (a CDN download) pass as they are: the client
// follows them itself, and our token never goes with them. Cookies for the Hub's domain mean nothing here.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	if info := reqctx.From(resp.Request.Context()); info != nil {
		info.UpstreamStatus = resp.StatusCode
	}
	public, _ := resp.Request.Context().Value(publicBaseKey{}).(string)
	if public == "" {
		return nil
	}
	h := resp.Header
	if links := h.Values("Link"); len(links) > 0 {
		h.Del("Link")
		for _, link := range links {
			h.Add("Link", strings.ReplaceAll(link, "<"+p.hub+"/", "<"+public+"/"))
		}
	}
	if loc := h.Get("Location"); strings.HasPrefix(loc, p.hub+"/") || loc == p.hub {
		h.Set("Location", public+strings.TrimPrefix(loc, p.hub))
	}
	h.Del("Set-Cookie")
	return nil
}
