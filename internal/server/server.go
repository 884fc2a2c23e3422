// Package server is hf-micro's HTTP API: the simple JSON API over the Hub, health probes, the index page and
// the OpenAPI description. routes.go lists every route.
package server

import (
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/cache"
	"github.com/hf-micro/hf-micro/internal/dropin"
	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/metrics"
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
	PublicURL   string // hf-micro's base URL for its callers, for rewritten Hub links; "" derives it per request
	// AccountCacheTTL is how long a credential's whoami-v2 answer is reused; 0 calls the Hub every time.
	AccountCacheTTL time.Duration
	Demo            bool // serving `hf-micro demo`'s fake Hub, which the index page says
	// Budgets counts principals' requests and holds the Hub shield; nil is a store in memory.
	Budgets budget.Store
	// Metrics receives the facts of requests, Hub calls and refusals; nil turns metrics off.
	Metrics *metrics.Registry
	// Cache keeps downloaded files (docs/cache.md); nil downloads through the proxy, uncached.
	Cache *cache.Store
	// CacheRefTTL is how long a branch or tag's commit is reused for cached downloads; 0 asks the Hub every time.
	CacheRefTTL time.Duration
	// Offline never calls the Hub (offline.go).
	Offline bool
	// AccessLogJSON, when set, is the writer the logger's JSON handler (slog's, with no options but the level)
	// writes to: access lines are then encoded straight to it, the same bytes at a fraction of the cost
	// (accessline.go). Nil logs them through the logger.
	AccessLogJSON io.Writer
}

// deps is what handlers are made from.
type deps struct {
	logger   *slog.Logger
	hub      *hub.Client // holds the server's token
	auth     *auth.Authenticator
	dropIn   *dropin.Proxy
	accounts *accountCache
	budgets  budget.Store
	// serverShieldKey is the server token's key in the shield: its digest, the same in every replica.
	serverShieldKey string
	opts            Options
	docs            *apiDocs
	openAPI         []byte
	// streamTransport is the Hub's transport for calls that stream their answer (the drop-in, the cache's
	// downloads from the Hub): bounded on the wait for headers only.
	streamTransport http.RoundTripper
	// cdnTransport fetches files from the Hub's CDN for the cache: another host, which gets no credential.
	cdnTransport http.RoundTripper
	refs         *refCache
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
	if opts.Budgets == nil {
		opts.Budgets = budget.NewMemory(nil)
	}
	// Every call to the Hub, the simple API's and the drop-in's, goes through one transport that sends the
	// caller's trace id and records the Hub's answer for the logs, and raises the shield on a 429.
	if opts.Offline {
		hubClient = hubClient.WithTransport(offlineTransport{})
	}
	hubClient = hubClient.WithTransport(shieldTransport{base: reqctx.Transport{Base: hubClient.Transport()}, store: opts.Budgets,
		metrics: opts.Metrics})
	serverShieldKey := anonymousKey
	if digest, ok := hubClient.TokenDigest(); ok {
		serverShieldKey = hex.EncodeToString(digest[:])
	}
	d := &deps{logger: logger, hub: hubClient, auth: auth.New(opts.Auth), opts: opts, docs: docs, openAPI: openAPI,
		budgets: opts.Budgets, serverShieldKey: serverShieldKey, cdnTransport: hub.NewTransport(hubClient.Timeout()), refs: newRefCache(opts.CacheRefTTL)}
	if opts.Cache != nil && opts.Metrics != nil {
		opts.Cache.OnEvict(func(int64) { opts.Metrics.CacheEvicted() })
		opts.Metrics.CacheStore(opts.Cache.Used, opts.Cache.MaxBytes())
	}
	d.streamTransport = hub.AwaitHeaders(hubClient.Transport(), hubClient.Timeout())
	d.dropIn = newDropIn(d)
	d.accounts = newAccountCache(opts.AccountCacheTTL)

	mux := http.NewServeMux()
	for _, rt := range routes(d) {
		mux.Handle(rt.pattern, d.adapt(rt.handler))
	}
	var h http.Handler = mux
	h, err = withBrowserRules(opts, hubClient.HasToken(), h)
	if err != nil {
		return nil, err
	}
	h = withSecurityHeaders(h)
	h = withRecover(logger, h)
	h = withAccessLog(logger, opts.AccessLogJSON, opts.Metrics, h)
	h = withRequestID(h)
	h = withLingeringClose(h)
	return h, nil
}

// handlerFunc is a handler that returns its error for adapt to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// adapt notes the route for the access log, and answers a handler's error as JSON with the right status,
// logging its cause: 5xx as errors, 4xx at debug level, a caller that went away as 499 without a reply.
func (d *deps) adapt(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqctx.From(r.Context()).Route = r.Pattern
		if err := h(w, r); err != nil {
			d.answerError(w, r, err)
		}
	})
}

// answerError logs an error's cause (5xx as errors, the rest at debug level) and answers it as JSON; a caller
// that went away gets no answer, and is logged as 499.
func (d *deps) answerError(w http.ResponseWriter, r *http.Request, err error) {
	info := reqctx.From(r.Context())
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
	w.Header().Set("X-Request-Id", info.RequestID)
	writeError(w, info.RequestID, e)
}

// whoseToken says, for a 401 from the Hub, which token it refused.
func (d *deps) whoseToken(r *http.Request) string {
	caller, _ := callerFrom(r.Context())
	switch {
	case caller.Kind == auth.CallerToken:
		return "the Hub refused your token"
	case d.hub.HasToken():
		return "the Hub refused hf-micro's token: check HF_TOKEN on the server"
	default:
		return "hf-micro has no Hub token: set HF_TOKEN on the server, or send your own Hub token"
	}
}
