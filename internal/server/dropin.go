package server

import (
	"io"
	"log/slog"
	"net/http"

	"github.com/hf-micro/hf-micro/internal/dropin"
	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/hubroute"
	"github.com/hf-micro/hf-micro/internal/reqctx"
)

// newDropIn builds the proxy that carries drop-in requests to the Hub, on the simple API's transport with a
// bound on the wait for the Hub's headers.
func newDropIn(d *deps) *dropin.Proxy {
	return dropin.New(dropin.Options{
		Hub:       d.hub.Base(),
		Transport: d.streamTransport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			d.answerError(w, r, &hub.NetworkError{Method: r.Method, Path: r.URL.Path, Err: err})
		},
		// A Hub that stalls mid-answer cuts the caller's stream after the Hub timeout without data, instead
		// of holding the connection forever; the status has been sent, so the cause can only be logged.
		BodyIdleTimeout: d.hub.Timeout(),
		BodyError: func(in *http.Request, err error) {
			d.logger.LogAttrs(in.Context(), slog.LevelError, "Hub answer cut off",
				slog.String("error", "the Hub's answer broke off after its status was sent; the caller got a cut-off stream"),
				slog.Any("cause", &hub.NetworkError{Method: in.Method, Path: in.URL.Path, Err: err}),
				slog.String("request_id", reqctx.From(in.Context()).RequestID))
		},
		// httputil's own lines repeat BodyError's, without the request id: debug level.
		ErrorLog: slog.NewLogLogger(d.logger.Handler(), slog.LevelDebug),
	})
}

// methodOverrides are headers some servers and hops read as the request's real method. hf-micro judges the
// method that was sent, so a request that asks for another one is refused rather than judged as one thing and
// read as another.
var methodOverrides = []string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override"}

// handleDropIn passes every Hub path the simple API does not own to the Hub, judged by the route table
// (internal/hubroute): each action it takes, on each repository it names in its path or body, must pass the
// policy with the token hubFor chooses; the Hub then gets exactly the request that was judged.
func handleDropIn(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		for _, name := range methodOverrides {
			if _, ok := r.Header[name]; ok {
				return badRequest("hf-micro does not take a method from " + http.CanonicalHeaderKey(name) + ": send the method itself")
			}
		}
		match, err := hubroute.Find(r.Method, r.URL.EscapedPath(), r.URL.RawQuery)
		if err != nil {
			return routeError(err)
		}
		if match == nil {
			return &apiError{status: http.StatusNotFound, msg: "no such endpoint: " + r.URL.Path + "; GET / lists them"}
		}
		// The route table's row, not the catch-all "/", names the route in the access log and the metrics.
		reqctx.From(r.Context()).Route = match.Route
		var body []byte
		if match.ReadsBody() {
			if body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, d.opts.MaxBodyBytes)); err != nil {
				return decodeError(err, nil)
			}
		}
		targets, forward, err := match.Judge(body)
		if err != nil {
			return routeError(err)
		}
		noteFrom(r.Context()).proxied = true
		client, err := d.hubForAll(r, match.Bucket, targets...)
		if err != nil {
			return err
		}
		// Clients read the Hub's request id; ours is in the log (and the caller's own inside the Hub's).
		w.Header().Del("X-Request-Id")
		if handled, err := d.serveCached(w, r, match, targets, client); handled || err != nil {
			return err
		}
		f := dropin.Forward{Client: client, PublicBase: d.publicBase(r), Body: forward}
		if d.opts.Cache != nil && xetListingRoutes[match.Route] {
			f.ModifyResponse = stripXetHashes // downloads then come through the cache (xet.go)
		}
		d.dropIn.ServeHTTP(w, r, f)
		return nil
	}
}

// routeError answers a request the route table refused.
func routeError(err error) error {
	e, ok := err.(*hubroute.Error)
	if !ok {
		return err
	}
	ae := &apiError{status: e.Status, msg: e.Msg, cause: err}
	if e.Status == http.StatusMethodNotAllowed {
		ae.allow = hubroute.Methods
	}
	return ae
}

// publicBase is hf-micro's base URL as callers reach it: HF_MICRO_PUBLIC_URL, else what the request says.
func (d *deps) publicBase(r *http.Request) string {
	if d.opts.PublicURL != "" {
		return d.opts.PublicURL
	}
	return baseURL(r)
}
