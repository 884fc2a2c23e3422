// Command baseline is the plain reverse proxy hf-micro is measured against: net/http/httputil.ReverseProxy with
// one pooled transport (a clone of http.DefaultTransport, so HTTP/2 to the upstream when it offers it, as
// hf-micro's), the server's token injected as Authorization, and one slog JSON access line per request on
// stderr (hf-micro and nginx write one too). It is what a developer writes in twenty lines. With -bare it is
// the floor instead (bare.go): the same server and transport doing nothing but the call.
//
//	baseline -listen 127.0.0.1:9081 -upstream https://127.0.0.1:9443 -ca upstream-ca.pem  (token in BENCH_HUB_TOKEN)
//	baseline -bare ...
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9081", "address to serve on")
	upstream := flag.String("upstream", "https://127.0.0.1:9443", "upstream base URL")
	caFile := flag.String("ca", "", "PEM file of the CA to trust for the upstream")
	accessLog := flag.Bool("access-log", true, "write one JSON access line per request to stderr")
	bareProxy := flag.Bool("bare", false, "serve the floor (bare.go) instead: one RoundTrip per request, no ReverseProxy, no access log")
	flag.Parse()
	token := os.Getenv("BENCH_HUB_TOKEN")
	if token == "" {
		log.Fatal("set BENCH_HUB_TOKEN")
	}
	target, err := url.Parse(*upstream)
	if err != nil {
		log.Fatal(err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 512
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			log.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			log.Fatalf("no certificate in %s", *caFile)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	bearer := "Bearer " + token
	var handler http.Handler = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header.Set("Authorization", bearer)
		},
		Transport: transport,
	}
	if *bareProxy {
		handler = bare(target, transport, bearer)
	} else if *accessLog {
		handler = withAccessLog(slog.New(slog.NewJSONHandler(os.Stderr, nil)), handler)
	}
	log.Fatal((&http.Server{Addr: *listen, Handler: handler, ReadHeaderTimeout: 10 * time.Second}).ListenAndServe())
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func withAccessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.EscapedPath()),
			slog.Int("status", rec.status),
			slog.Int("bytes", rec.bytes),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000))
	})
}
