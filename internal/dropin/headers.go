package dropin

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/hf-micro/hf-micro/internal/hub"
)

// forwardedRequestHeaders are the request headers that go to the Hub: what the Hub's clients send (content
// negotiation, ranges and conditions for downloads, the body's type and encoding, the user agent, the caller's
// trace id). The W3C trace context is not copied: reqctx.Transport sends the one hf-micro checked or started.
// Everything else stays behind: credentials and cookies, method overrides (X-HTTP-Method-Override and kin),
// URL rewrites (X-Original-URL, X-Rewrite-URL), client-IP claims (X-Real-IP, True-Client-IP, Via, ...),
// Origin, connection upgrades, and billing (X-HF-Bill-To: it would bill an organisation with our token).
var forwardedRequestHeaders = []string{
	"Accept", "Accept-Encoding", "Accept-Language", "Content-Type", "Content-Encoding",
	"Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since",
	"User-Agent", "X-Amzn-Trace-Id",
}

// forwardedHeaders copies the allowed headers of an incoming request.
func forwardedHeaders(in http.Header) http.Header {
	out := make(http.Header, len(forwardedRequestHeaders))
	for _, name := range forwardedRequestHeaders {
		if v, ok := in[name]; ok {
			out[name] = v
		}
	}
	return out
}

// dropBrowserGrants removes what the Hub grants browsers and sets for its own domain: hf-micro decides its own
// CORS answers, and the Hub's cookies mean nothing here.
func dropBrowserGrants(h http.Header) {
	for name := range h {
		if strings.HasPrefix(name, "Access-Control-") {
			delete(h, name)
		}
	}
	h.Del("Set-Cookie")
}

// redactHeaders removes the token the request was sent with from every header of the answer.
func redactHeaders(h http.Header, c *hub.Client) {
	for _, values := range h {
		for i, v := range values {
			values[i] = c.Redact(v)
		}
	}
}

// maxRedactedBody bounds the error body read to remove the token; the Hub's error bodies are a few hundred
// bytes, and a longer one is cut there.
const maxRedactedBody = 1 << 20

// redactBody removes the token from an error answer's body, which is read whole (up to maxRedactedBody) and
// sent uncompressed. A body in an encoding hf-micro cannot read is replaced by a message saying so.
func redactBody(resp *http.Response, c *hub.Client) error {
	defer resp.Body.Close()
	var reader io.Reader = resp.Body
	switch encoding := strings.ToLower(resp.Header.Get("Content-Encoding")); encoding {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			return err
		}
		reader = gz
	default:
		resp.Header.Set("Content-Type", "application/json")
		reader = strings.NewReader(`{"error":"the Hub's error answer came in a content encoding hf-micro does not read"}`)
	}
	body, err := io.ReadAll(io.LimitReader(reader, maxRedactedBody))
	if err != nil {
		return err
	}
	body = c.RedactBytes(body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.Header.Del("Content-Encoding")
	return nil
}
