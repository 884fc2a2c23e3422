// Package server is hf-micro's HTTP API: the simple JSON API over the Hub, health probes, the index page and
// the OpenAPI description. routes.go lists every route.
package server

import (
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/policy"
	"github.com/hf-micro/hf-micro/internal/reqctx"
)

// Options are the server's settings.
type Options struct {
	Version      string
	MaxBodyBytes int64
	// Draining is set when shutdown begins; /readyz then answers 503.
	Draining    *atomic.Bool
	Auth        auth.Options
	Policy      policy.Policy
	CORSOrigins []string
}

// deps is what handlers are made from.
type deps struct {
	logger  *slog.Logger
	hub     *hub.Client // holds the server's token
	auth    *auth.Authenticator
	policy  policy.Policy
	opts    Options
	docs    *apiDocs
	openAPI []byte
}

// NewServer builds the whole HTTP handler: middleware around the routes.
func NewServer(logger *slog.Logger, hubClient *hub.Client, opts Options) (http.Handler, error) {
	if opts.Draining == nil {
		opts.Draining = new(atomic.Bool)
	}
	openAPI, docs, err := loadOpenAPI(opts.Version)
	if err != nil {
		return nil, err
	}
	d := &deps{logger: logger, hub: hubClient, auth: auth.New(opts.Auth), policy: opts.Policy, opts: opts, docs: docs, openAPI: openAPI}

	mux := http.NewServeMux()
	for _, rt := range routes(d) {
		mux.Handle(rt.pattern, d.adapt(rt.handler))
	}
	var h http.Handler = jsonMuxErrors(mux)
	h = withCORS(opts.CORSOrigins, h)
	h = withSecurityHeaders(h)
	h = withRecover(logger, h)
	h = withAccessLog(logger, h)
	h = withRequestID(h)
	return h, nil
}

// handlerFunc is a handler that returns its error for adapt to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// adapt notes the route for the access log, and answers a handler's error as JSON with the right status,
// logging its cause: 5xx as errors, 4xx at debug level, a caller that went away as 499 without a reply.
func (d *deps) adapt(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := reqctx.From(r.Context())
		info.Route = r.Pattern
		err := h(w, r)
		if err == nil {
			return
		}
		e := toAPIError(err, d.whoseToken(r))
		level := slog.LevelDebug
		if e.status >= 500 {
			level = slog.LevelError
		}
		d.logger.LogAttrs(r.Context(), level, "request failed",
			slog.Int("status", e.status),
			slog.String("error", e.msg),
			slog.Any("cause", e.cause),
			slog.String("request_id", info.RequestID))
		if e.status == statusClientClosed {
			return
		}
		writeError(w, info.RequestID, e)
	})
}

// whoseToken says, for a 401 from the Hub, which token it refused.
func (d *deps) whoseToken(r *http.Request) string {
	caller, _ := auth.From(r.Context())
	switch {
	case caller.Kind == auth.CallerToken:
		return "the Hub refused your token"
	case d.hub.HasToken():
		return "the Hub refused hf-micro's token: check HF_TOKEN on the server"
	default:
		return "hf-micro has no Hub token: set HF_TOKEN on the server, or send your own Hub token"
	}
}

// jsonMuxErrors answers the mux's own 404 and 405 in JSON, as every other error, keeping the Allow header.
func jsonMuxErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// The mux's fallback handler only sets headers and writes plain text: let it set them, then answer.
		probe := &headerOnly{header: http.Header{}}
		h.ServeHTTP(probe, r)
		id := reqctx.From(r.Context()).RequestID
		switch probe.status {
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", probe.header.Get("Allow"))
			writeError(w, id, &apiError{status: http.StatusMethodNotAllowed,
				msg: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + probe.header.Get("Allow")})
		case http.StatusNotFound:
			writeError(w, id, &apiError{status: http.StatusNotFound, msg: "no such endpoint: " + r.URL.Path + "; GET / lists them"})
		default:
			// A redirect to the canonical path, for example: let the mux answer.
			mux.ServeHTTP(w, r)
		}
	})
}

// headerOnly is a ResponseWriter that keeps the status and headers and drops the body.
type headerOnly struct {
	header http.Header
	status int
}

func (h *headerOnly) Header() http.Header         { return h.header }
func (h *headerOnly) Write(p []byte) (int, error) { return len(p), nil }
func (h *headerOnly) WriteHeader(status int)      { h.status = status }
