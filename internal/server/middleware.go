package server

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/metrics"
	"github.com/hf-micro/hf-micro/internal/policy"
	"github.com/hf-micro/hf-micro/internal/reqctx"
)

// withRequestID gives every request an id: the caller's X-Request-Id when it is sane, else a new one; and a W3C
// trace context: the caller's traceparent and tracestate when valid, else a fresh one, for the Hub. The id
// is echoed in the reply header and in error bodies; the caller's own is also sent on to the Hub, which echoes
// it in its request id. (Not hf-micro's own ids: a new header value on every request costs the HTTP/2 client
// its header compression, about a tenth of a request's CPU.)
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state := &requestState{info: reqctx.Info{RequestID: r.Header.Get("X-Request-Id"), Trace: reqctx.TraceFrom(r.Header)}}
		info := &state.info
		if saneRequestID(info.RequestID) {
			info.CallerRequestID = info.RequestID
		} else {
			info.RequestID = newRequestID()
		}
		w.Header().Set("X-Request-Id", info.RequestID)
		next.ServeHTTP(w, r.WithContext(reqctx.With(r.Context(), state)))
	})
}

// newRequestID is 26 characters of the base32 alphabet, 130 random bits, as crypto/rand.Text makes them. An id
// must be unique, not secret, so the bits come from math/rand/v2, as the trace's do (reqctx.NewTrace).
func newRequestID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var id [26]byte
	var bits uint64
	for i := range id {
		if i%12 == 0 { // 12 characters of 5 bits from each 64
			bits = rand.Uint64()
		}
		id[i] = alphabet[bits&31]
		bits >>= 5
	}
	return string(id[:])
}

// saneRequestID accepts ids that are safe to put in headers and logs as they are.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(hub.IsWordByte(c) || c == '-' || c == '.' || c == ':' || c == ';' || c == '=' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// statusRecorder remembers what was written, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

// ReadFrom keeps a file's answer (the download cache) on net/http's sendfile path, which a plain Write would
// leave for a copy through a userspace buffer.
func (s *statusRecorder) ReadFrom(r io.Reader) (int64, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := io.Copy(s.ResponseWriter, r)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection underneath.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// withAccessLog writes one line per request, and an audit line for each request that asked to change something
// on the Hub (whether it was allowed or not), and gives the same facts to the metrics. It runs inside
// withRequestID, so the id is known.
func withAccessLog(logger *slog.Logger, jsonOut io.Writer, m *metrics.Registry, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.RequestStarted()
		rec := &statusRecorder{ResponseWriter: w}
		// Deferred, so that a reply cut off on purpose (http.ErrAbortHandler, as the drop-in proxy does when the
		// Hub's answer breaks off mid-body) still has its line; the panic then goes on to net/http.
		defer func() {
			aborted := recover()
			status, duration := logAccess(logger, jsonOut, r, rec, start)
			m.RequestDone(reqctx.From(r.Context()).Route, r.Method, status, duration)
			if aborted != nil {
				panic(aborted)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// logAccess writes the access line of a request, and its audit line when it asked to change something. It
// returns the status and duration it logged. With jsonOut, the writer of logger's JSON handler, the access line
// is encoded straight to it (accessline.go).
func logAccess(logger *slog.Logger, jsonOut io.Writer, r *http.Request, rec *statusRecorder, start time.Time) (int, time.Duration) {
	info := reqctx.From(r.Context())
	status := rec.status
	if r.Context().Err() != nil && status == 0 {
		status = statusClientClosed
	}
	now := time.Now()
	duration := now.Sub(start)
	line := accessLine{method: r.Method, route: info.Route, path: r.URL.EscapedPath(), status: status, bytes: rec.bytes,
		duration: duration, upstreamStatus: info.UpstreamStatus, caller: info.Caller, requestID: info.RequestID,
		traceID: info.Trace.TraceID()}
	switch {
	case !logger.Enabled(r.Context(), slog.LevelInfo):
	case jsonOut != nil:
		buf := lineBuffers.Get().(*[]byte)
		*buf = line.appendJSON((*buf)[:0], now)
		_, _ = jsonOut.Write(*buf)
		if cap(*buf) <= 4<<10 {
			lineBuffers.Put(buf)
		}
	default:
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request", line.attrs()...)
	}
	if policy.Action(info.Action).Mutates() {
		logger.LogAttrs(r.Context(), slog.LevelInfo, "audit",
			slog.String("request_id", info.RequestID),
			slog.String("trace_id", info.Trace.TraceID()),
			slog.String("caller", info.Caller),
			slog.String("action", info.Action),
			slog.String("repo", info.Repo),
			slog.String("type", info.RepoType),
			slog.Int("status", status),
			slog.Int("upstream_status", info.UpstreamStatus),
			slog.String("subject", info.Subject), // an identity's ID token "sub", "" for others
		)
	}
	return status, duration
}

// withRecover turns a panic into a 500 JSON reply and a logged stack, except http.ErrAbortHandler, which
// net/http uses on purpose to abort a reply.
func withRecover(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			info := reqctx.From(r.Context())
			logger.LogAttrs(r.Context(), slog.LevelError, "panic",
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())),
				slog.String("request_id", info.RequestID))
			writeError(w, info.RequestID, internalError(nil))
		}()
		next.ServeHTTP(w, r)
	})
}
