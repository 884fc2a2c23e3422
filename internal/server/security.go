package server

import (
	"fmt"
	"net/http"
	"slices"
)

// withSecurityHeaders sets what every reply should carry: no MIME sniffing, no framing, no referrer.
func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = nosniff
		h["X-Frame-Options"] = denyFraming
		h["Referrer-Policy"] = noReferrer
		next.ServeHTTP(w, r)
	})
}

// The security headers' values, shared by every reply (never written into), so that setting them allocates
// nothing.
var (
	nosniff     = []string{"nosniff"}
	denyFraming = []string{"DENY"}
	noReferrer  = []string{"no-referrer"}
)

// withCORS lets browsers on the configured origins call the API; with none configured (the default) it grants
// nothing, and browsers keep other sites from reading replies. Preflights are answered here on every path, the
// Hub's own included, and never reach the Hub: 204 for a configured origin, 403 for any other. Credentials
// travel in the Authorization header, never in cookies, so no Allow-Credentials.
func withCORS(origins []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := origin != "" && slices.Contains(origins, origin)
		h := w.Header()
		if len(origins) > 0 {
			h.Add("Vary", "Origin")
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", corsExposedHeaders)
		}
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !allowed {
			refuse(w, r, http.StatusForbidden, fmt.Sprintf("CORS preflight refused: %s is not allowed to call "+
				"hf-micro from a browser; the server's HF_MICRO_CORS_ORIGINS lists the origins that are", pageOrigin(r)))
			return
		}
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE")
		h.Set("Access-Control-Allow-Headers", corsAllowedHeaders)
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	})
}

// corsAllowedHeaders are the request headers Hub clients set beyond the ones browsers always allow.
const corsAllowedHeaders = "Authorization, Content-Type, Range, X-Request-Id, X-Amzn-Trace-Id, traceparent, tracestate"

// corsExposedHeaders are the reply headers Hub clients read (errors, pagination, rate limits, file metadata).
const corsExposedHeaders = "X-Request-Id, Retry-After, Location, Link, ETag, X-Repo-Commit, X-Linked-Etag, " +
	"X-Linked-Size, X-Error-Code, X-Error-Message, RateLimit, RateLimit-Policy, Content-Range, Accept-Ranges, X-Xet-Hash"
