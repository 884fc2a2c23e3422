package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/hf-micro/hf-micro/internal/dropin"
	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/reqctx"
)

// newDropIn builds the proxy that carries drop-in requests to the Hub, on the simple API's transport.
func newDropIn(d *deps) *dropin.Proxy {
	return dropin.New(dropin.Options{
		Hub:       d.hub.Base(),
		Transport: d.hub.Transport(),
		Authorize: func(in *http.Request, h http.Header) {
			hubClientFrom(in.Context()).Authorize(h)
			if trace := reqctx.From(in.Context()).TraceID; trace != "" && h.Get("X-Amzn-Trace-Id") == "" {
				h.Set("X-Amzn-Trace-Id", trace)
			}
		},
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

// handleDropIn passes every Hub path the simple API does not own to the Hub: authenticated like every API
// route, judged by the same policy (by method, and the repository the path or body names), with the token
// hubFor chooses.
func handleDropIn(d *deps) handlerFunc {
	authenticated := d.withCaller(func(w http.ResponseWriter, r *http.Request) error {
		var body []byte
		if dropin.NeedsBody(r) {
			var err error
			if body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, d.opts.MaxBodyBytes)); err != nil {
				return decodeError(err, nil)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		var client *hub.Client
		for _, target := range dropin.Classify(r, body) {
			c, err := d.hubFor(r, target.Action, target.Type, target.Repo)
			if err != nil {
				return err
			}
			client = c
		}
		// Clients read the Hub's request id; ours is in the log (and the caller's own inside the Hub's).
		w.Header().Del("X-Request-Id")
		d.dropIn.ServeHTTP(w, r.WithContext(withHubClient(r.Context(), client)), d.publicBase(r))
		return nil
	})
	return func(w http.ResponseWriter, r *http.Request) error {
		if !dropin.IsHubPath(r.URL.Path) {
			return &apiError{status: http.StatusNotFound, msg: "no such endpoint: " + r.URL.Path + "; GET / lists them"}
		}
		return authenticated(w, r)
	}
}

// publicBase is hf-micro's base URL as callers reach it: HF_MICRO_PUBLIC_URL, else what the request says.
func (d *deps) publicBase(r *http.Request) string {
	if d.opts.PublicURL != "" {
		return d.opts.PublicURL
	}
	return baseURL(r)
}

type hubClientKey struct{}

func withHubClient(ctx context.Context, c *hub.Client) context.Context {
	return context.WithValue(ctx, hubClientKey{}, c)
}

func hubClientFrom(ctx context.Context) *hub.Client {
	return ctx.Value(hubClientKey{}).(*hub.Client)
}
