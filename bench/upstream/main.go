// Command upstream is a lean fake Hub for the benchmarks: HTTPS on loopback with a certificate from a throwaway CA, one
// route (GET /api/whoami-v2, a realistic ~600-byte answer for the right bearer token, 401 otherwise, 404 for the
// rest), an optional delay per answer to emulate a remote Hub, and counters on a plain-HTTP stats endpoint.
// With -files and -cdn it also serves the files of a directory as LFS files: /{repo}/resolve/{rev}/{file}
// redirects to a CDN listener of its own (files.go), which counts the bytes it sends.
//
// It does as little as possible per request, so that what the benchmarks measure is the proxy in front of it.
//
//	upstream -listen 127.0.0.1:9443 -stats 127.0.0.1:9444 -ca-out ca.pem   (token in BENCH_HUB_TOKEN)
//	upstream ... -files ./files -cdn 127.0.0.1:9445
//	curl 127.0.0.1:9444/stats                  counters as JSON
//	curl -X POST '127.0.0.1:9444/delay?d=50ms' delay every answer from now on
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hf-micro/hf-micro/bench/upstream/stats"
	"github.com/hf-micro/hf-micro/internal/testcert"
)

// whoami is a whoami-v2 answer shaped like the Hub's for a classic write token (docs/hub-contract.md §2): every
// required field, the optional ones a real user has, and one organisation.
const whoami = `{"type":"user","id":"65a1f0c2e4b0d1a2b3c4d5e6","name":"alice","fullname":"Alice Martin",` +
	`"email":"alice@example.com","emailVerified":true,"canPay":false,"isPro":false,"periodEnd":null,` +
	`"avatarUrl":"/avatars/3f1c2a9b8e7d6c5b4a3f2e1d0c9b8a7f.svg","billingMode":"postpaid",` +
	`"orgs":[{"type":"org","id":"65a1f0c2e4b0d1a2b3c4d5e7","name":"acme-research","fullname":"ACME Research",` +
	`"email":null,"canPay":false,"avatarUrl":"/avatars/9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b.svg",` +
	`"roleInOrg":"write","periodEnd":null,"billingMode":"postpaid"}],` +
	`"auth":{"type":"access_token","accessToken":{"displayName":"bench-write","role":"write",` +
	`"createdAt":"2025-01-15T09:30:00.000Z"}}}`

const unauthorized = `{"error":"Invalid credentials in Authorization header"}`

// counters are what the stats endpoint reports.
type counters struct {
	Conns         atomic.Int64 // TCP connections accepted
	Handshakes    atomic.Int64 // TLS handshakes completed (full or resumed)
	Resumed       atomic.Int64 // of which resumed a session
	HandshakesH2  atomic.Int64 // of which negotiated h2
	Requests      atomic.Int64 // every request
	Whoami        atomic.Int64 // GET /api/whoami-v2 answered 200
	Unauthorized  atomic.Int64 // 401s
	NotFound      atomic.Int64 // 404s
	Resolves      atomic.Int64 // HEAD and GET on /{repo}/resolve/...
	CDNRequests   atomic.Int64
	CDNBytes      atomic.Int64 // file bytes the CDN sent
	InFlight      atomic.Int64
	MaxInFlight   atomic.Int64
	DelayNanosecs atomic.Int64
}

func main() {
	listen := flag.String("listen", "127.0.0.1:9443", "HTTPS address of the fake Hub")
	statsAddr := flag.String("stats", "127.0.0.1:9444", "plain-HTTP address of the stats endpoint")
	caOut := flag.String("ca-out", "upstream-ca.pem", "where to write the CA certificate (PEM) clients must trust")
	h2 := flag.Bool("h2", true, "offer HTTP/2 by ALPN as well as HTTP/1.1 (the real Hub offers both)")
	delay := flag.Duration("delay", 0, "delay before every answer, to emulate a remote Hub")
	filesDir := flag.String("files", "", "serve every file in this directory as an LFS file (needs -cdn)")
	cdnAddr := flag.String("cdn", "", "HTTPS address of the CDN the files' resolve answers redirect to")
	flag.Parse()
	token := os.Getenv("BENCH_HUB_TOKEN")
	if token == "" {
		log.Fatal("set BENCH_HUB_TOKEN")
	}
	if (*filesDir == "") != (*cdnAddr == "") {
		log.Fatal("-files and -cdn go together")
	}
	if err := serve(*listen, *statsAddr, *caOut, token, *h2, *delay, *filesDir, *cdnAddr); err != nil {
		log.Fatal(err)
	}
}

func serve(listen, statsAddr, caOut, token string, h2 bool, delay time.Duration, filesDir, cdnAddr string) error {
	cert, caPEM, err := testcert.New("hf-micro bench upstream CA")
	if err == nil {
		// For the clients to trust: SSL_CERT_FILE for hf-micro, proxy_ssl_trusted_certificate for nginx.
		err = os.WriteFile(caOut, caPEM, 0o644)
	}
	if err != nil {
		return err
	}
	var c counters
	c.DelayNanosecs.Store(int64(delay))

	tlsConfig := &tls.Config{
		Certificates: []tls.Certificate{cert},
		// Called once per completed handshake, full or resumed: the count a proxy's connection pool should
		// keep flat.
		VerifyConnection: func(cs tls.ConnectionState) error {
			c.Handshakes.Add(1)
			if cs.DidResume {
				c.Resumed.Add(1)
			}
			if cs.NegotiatedProtocol == "h2" {
				c.HandshakesH2.Add(1)
			}
			return nil
		},
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(h2)
	handler := whoamiHandler(&c, "Bearer "+token)
	if filesDir != "" {
		files, err := loadFiles(filesDir)
		if err != nil {
			return err
		}
		cdnLn, err := net.Listen("tcp", cdnAddr)
		if err != nil {
			return err
		}
		cdn := &http.Server{Handler: cdnHandler(&c, files), TLSConfig: tlsConfig.Clone(), Protocols: &protocols,
			ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(os.Stderr, "cdn: ", 0)}
		go func() { log.Fatal(cdn.ServeTLS(cdnLn, "", "")) }()
		plain, resolve := handler, resolveHandler(&c, files, "Bearer "+token, "https://"+cdnLn.Addr().String())
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/resolve/") {
				resolve.ServeHTTP(w, r)
				return
			}
			plain.ServeHTTP(w, r)
		})
	}
	hub := &http.Server{
		Handler:           handler,
		TLSConfig:         tlsConfig,
		Protocols:         &protocols,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				c.Conns.Add(1)
			}
		},
		ErrorLog: log.New(os.Stderr, "upstream: ", 0),
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	statsLn, err := net.Listen("tcp", statsAddr)
	if err != nil {
		return err
	}
	go func() { log.Fatal(http.Serve(statsLn, statsHandler(&c))) }()
	fmt.Fprintf(os.Stderr, "upstream: https://%s (h2=%v, delay=%s), stats http://%s/stats\n", ln.Addr(), h2, delay, statsLn.Addr())
	return hub.ServeTLS(ln, "", "")
}

// whoamiHandler answers with fixed, pre-built headers and body: no routing table, no JSON encoding.
func whoamiHandler(c *counters, wantAuth string) http.Handler {
	body := []byte(whoami)
	okHeaders := map[string][]string{
		"Content-Type":                  {"application/json; charset=utf-8"},
		"Content-Length":                {strconv.Itoa(len(body))},
		"Etag":                          {`W/"` + strconv.FormatInt(int64(len(body)), 16) + `-bench0whoami0v2"`},
		"Vary":                          {"Origin"},
		"Access-Control-Expose-Headers": {"X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,Accept-Ranges,Content-Range"},
		"Referrer-Policy":               {"strict-origin-when-cross-origin"},
		"X-Powered-By":                  {"huggingface-moon"},
		"Via":                           {"1.1 bench-upstream (CloudFront)"},
		"X-Cache":                       {"Miss from cloudfront"},
		"Cross-Origin-Opener-Policy":    {"same-origin"},
	}
	denied := []byte(unauthorized)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.Requests.Add(1)
		if n := c.InFlight.Add(1); n > c.MaxInFlight.Load() {
			c.MaxInFlight.Store(n) // racy max, good enough for a report
		}
		defer c.InFlight.Add(-1)
		if d := time.Duration(c.DelayNanosecs.Load()); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		h := w.Header()
		// The Hub echoes the caller's trace id inside its request id.
		h["X-Request-Id"] = []string{"Root=1-bench;" + r.Header.Get("X-Amzn-Trace-Id")}
		switch {
		case r.Method != http.MethodGet || r.URL.Path != "/api/whoami-v2":
			c.NotFound.Add(1)
			h["Content-Type"] = []string{"application/json; charset=utf-8"}
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"Sorry, we can't find the page you are looking for."}`))
		case r.Header.Get("Authorization") != wantAuth:
			c.Unauthorized.Add(1)
			h["Content-Type"] = []string{"application/json; charset=utf-8"}
			h["X-Error-Message"] = []string{"Invalid credentials in Authorization header"}
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write(denied)
		default:
			c.Whoami.Add(1)
			for k, v := range okHeaders {
				h[k] = v
			}
			_, _ = w.Write(body)
		}
	})
}

func statsHandler(c *counters) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(stats.Stats{
			Conns: c.Conns.Load(), Handshakes: c.Handshakes.Load(), Resumed: c.Resumed.Load(),
			HandshakesH2: c.HandshakesH2.Load(), Requests: c.Requests.Load(), Whoami: c.Whoami.Load(),
			Unauthorized: c.Unauthorized.Load(), NotFound: c.NotFound.Load(), MaxInFlight: c.MaxInFlight.Load(),
			Delay: time.Duration(c.DelayNanosecs.Load()).String(), BodyBytes: len(whoami),
			Resolves: c.Resolves.Load(), CDNRequests: c.CDNRequests.Load(), CDNBytes: c.CDNBytes.Load(),
		})
	})
	mux.HandleFunc("POST /delay", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil || d < 0 {
			http.Error(w, "want ?d=<duration>", http.StatusBadRequest)
			return
		}
		c.DelayNanosecs.Store(int64(d))
		c.MaxInFlight.Store(0)
		fmt.Fprintln(w, d)
	})
	return mux
}
