package main

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// bare is the floor under every Go proxy of this shape (-bare): the same net/http server and pooled transport,
// and nothing else — one RoundTrip per request with the token, the answer read into one buffer and written
// back with its status and Content-Type; no header copying, no access log, no timeout, no checks. What a proxy
// costs above it is the cost of what it does.
func bare(target *url.URL, transport http.RoundTripper, bearer string) http.Handler {
	authorization := []string{bearer}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := http.NewRequestWithContext(r.Context(), r.Method, "", nil)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		u := *target // the upstream's own path first, as the ReverseProxy's SetURL joins them
		u.Path, u.RawPath = target.Path+r.URL.Path, ""
		out.URL, out.Host = &u, target.Host
		out.Header["Authorization"] = authorization
		resp, err := transport.RoundTrip(out)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		h := w.Header()
		h["Content-Type"] = resp.Header["Content-Type"]
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
	})
}
