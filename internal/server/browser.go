package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/reqctx"
)

// withBrowserRules keeps the web pages a user visits from acting through hf-micro. A browser sends requests to
// any address a page names, this machine included, and with no client keys hf-micro serves this machine's
// callers with its own Hub token; so, before anyone is authenticated:
//   - when this machine's callers use the server's token (no keys, and a token to use) and anonymous access is
//     off, a Host that is not a name of this machine (nor HF_MICRO_PUBLIC_URL's) is a page on another name that
//     resolves here (DNS rebinding): 421;
//   - preflights are answered here, never by the Hub (withCORS);
//   - a cross-origin browser request that may change something (not GET, HEAD or OPTIONS) is refused unless its
//     origin is in HF_MICRO_CORS_ORIGINS: 403;
//   - when this machine's callers use the server's token, a cross-site read is refused too: it would spend the
//     user's token and quota (403).
//
// Clients that are not browsers send neither Origin nor Sec-Fetch-Site, and are not affected. With no server
// token (a pure gateway for callers' own tokens) a browser has no credential to lend, and only the rules on
// preflights and cross-origin writes apply.
func withBrowserRules(opts Options, hasServerToken bool, next http.Handler) (http.Handler, error) {
	loopbackUsesToken := opts.Auth.Keys.Len() == 0 && hasServerToken
	if loopbackUsesToken {
		next = refuseCrossSiteReads(opts.CORSOrigins, next)
	}
	csrf := http.NewCrossOriginProtection()
	for _, origin := range opts.CORSOrigins {
		if err := csrf.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("HF_MICRO_CORS_ORIGINS: %w", err)
		}
	}
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse(w, r, http.StatusForbidden, fmt.Sprintf("cross-origin request refused: a web page from %s may not "+
			"change anything through hf-micro; to let a browser app call it, add the app's origin to "+
			"HF_MICRO_CORS_ORIGINS on the server", pageOrigin(r)))
	}))
	h := withCORS(opts.CORSOrigins, csrf.Handler(next))
	if loopbackUsesToken && !opts.Auth.AllowAnonymous {
		h = requireLocalHost(opts.PublicURL, h)
	}
	return h, nil
}

// requireLocalHost refuses requests addressed to a name that is not this machine's: with DNS rebinding, a page
// on an attacker's domain that resolves to 127.0.0.1 is same-origin with its requests to hf-micro. Health
// probes are exempt, as orchestrators probe by the pod's address; so are requests with a credential of their
// own (a caller's Hub token from another machine), which do not use this machine's trust.
func requireLocalHost(publicURL string, next http.Handler) http.Handler {
	var publicHost string
	if u, err := url.Parse(publicURL); err == nil {
		publicHost = strings.ToLower(u.Hostname())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := hostname(r.Host)
		if host == "" || isLocalName(host) || host == publicHost || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" ||
			auth.SendsCredential(r.Header) {
			next.ServeHTTP(w, r)
			return
		}
		refuse(w, r, http.StatusMisdirectedRequest, fmt.Sprintf("hf-micro with no client keys serves only requests "+
			"addressed to this machine, and this one is addressed to %q (a web page on another name that resolves "+
			"here is refused): use http://127.0.0.1:PORT or http://localhost:PORT, or, to serve other names, set "+
			"HF_MICRO_PUBLIC_URL to hf-micro's URL or configure client keys (HF_MICRO_API_KEYS)", r.Host))
	})
}

// hostname is the lower-case host of a Host header, without port, brackets or a final dot.
func hostname(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	return strings.ToLower(host)
}

// isLocalName reports whether a host name always means this machine: localhost, *.localhost (which browsers
// resolve to loopback themselves), and loopback addresses.
func isLocalName(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// refuseCrossSiteReads refuses GET, HEAD and OPTIONS requests that a browser makes for a page on another site
// (its origin not configured), on every path that can reach the Hub. Such a page cannot read the answer
// without CORS, but the request would still spend the server's token, and the user's quota.
func refuseCrossSiteReads(origins []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isOwnPage(r.URL.Path) || !isCrossSite(r, origins) {
			next.ServeHTTP(w, r)
			return
		}
		refuse(w, r, http.StatusForbidden, fmt.Sprintf("cross-site request refused: hf-micro with no client keys "+
			"uses its own Hub token, which a web page from %s may not use; to let a browser app call it, add "+
			"the app's origin to HF_MICRO_CORS_ORIGINS on the server", pageOrigin(r)))
	})
}

// isOwnPage reports whether a path is one of hf-micro's own pages, which never use the Hub token.
func isOwnPage(path string) bool {
	return path == "/" || path == "/openapi.json" || path == "/healthz" || path == "/readyz"
}

// isCrossSite reports whether a browser made r for a page on another site or origin that is not configured.
func isCrossSite(r *http.Request, origins []string) bool {
	origin := r.Header.Get("Origin")
	if origin != "" && slices.Contains(origins, origin) {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host != r.Host
}

// pageOrigin names the page a browser request came from, for an error message.
func pageOrigin(r *http.Request) string {
	if origin := r.Header.Get("Origin"); origin != "" {
		return fmt.Sprintf("origin %.100q", origin)
	}
	return fmt.Sprintf("another site (Sec-Fetch-Site: %.20q)", r.Header.Get("Sec-Fetch-Site"))
}

// refuse answers a request the browser rules refuse, in hf-micro's error shape.
func refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeError(w, reqctx.From(r.Context()).RequestID, &apiError{status: status, msg: msg})
}
