package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/hub"
)

// apiError is an error reply: a status and a message for the caller, apart from the cause, which is only logged.
type apiError struct {
	status     int
	msg        string
	cause      error
	fields     map[string]string // per-field problems of an invalid request
	url        string            // the existing repository of a 409
	retryAfter time.Duration
	hub        *hub.Error // the Hub's own answer, when there was one
	allow      []string   // the methods a 405 names
	shielded   bool       // a 429 of the shield: the Hub was not asked
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %v", e.status, e.msg, e.cause)
	}
	return fmt.Sprintf("%d %s", e.status, e.msg)
}

func (e *apiError) Unwrap() error { return e.cause }

// statusClientClosed is logged (never sent) when the caller went away before the answer: nginx's 499.
const statusClientClosed = 499

func badRequest(msg string) *apiError { return &apiError{status: http.StatusBadRequest, msg: msg} }

// invalid is a 400 that lists every problem of a request, field by field.
func invalid(fields map[string]string) *apiError {
	msg := "invalid request:"
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		msg += " " + name + ": " + fields[name] + ";"
	}
	return &apiError{status: http.StatusBadRequest, msg: msg[:len(msg)-1], fields: fields}
}

// toAPIError turns whatever a handler returned into the reply to send;
// whoseToken explains a 401 from the Hub.
func toAPIError(err error, whoseToken string) *apiError {
	var ae *apiError
	var he *hub.Error
	var ne *hub.NetworkError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, context.Canceled):
		return &apiError{status: statusClientClosed, msg: "the client closed the request", cause: err}
	case errors.As(err, &he):
		return fromHubError(he, whoseToken)
	case errors.As(err, &ne):
		return fromNetworkError(ne)
	case errors.Is(err, hub.ErrBadResponse):
		return &apiError{status: http.StatusBadGateway, msg: "the Hub sent an answer hf-micro cannot read", cause: err}
	default:
		return internalError(err)
	}
}

// internalError is a 500 that tells the caller nothing but where to look; the cause is only logged.
func internalError(cause error) *apiError {
	return &apiError{status: http.StatusInternalServerError, msg: "internal error; the request id is in the server log", cause: cause}
}

// fromHubError keeps the Hub's status class and message: 4xx stay as the Hub sent them (so 404, 409 and 429
// mean what the Hub meant), 5xx become 502, and 504 stays a timeout.
func fromHubError(he *hub.Error, whoseToken string) *apiError {
	msg := he.Message
	if msg == "" {
		msg = http.StatusText(he.Status)
	}
	e := &apiError{status: he.Status, msg: msg, cause: he, hub: he, url: he.URL, retryAfter: he.RetryAfter}
	switch {
	case he.Status == http.StatusUnauthorized:
		e.msg = msg + " (" + whoseToken + ")"
	case he.Status == http.StatusTooManyRequests && e.retryAfter == 0:
		e.retryAfter = time.Second
	case he.Status == http.StatusGatewayTimeout:
		e.msg = "the Hub timed out: " + msg
	case he.Status >= 500:
		e.status = http.StatusBadGateway
		e.msg = fmt.Sprintf("the Hub failed with %d: %s", he.Status, msg)
	case he.Status < 400:
		e.status = http.StatusBadGateway
		e.msg = fmt.Sprintf("the Hub answered %d, which hf-micro did not expect", he.Status)
	}
	return e
}

// fromNetworkError says what went wrong in words a caller can act on, without internal addresses; the log
// has the full cause.
func fromNetworkError(ne *hub.NetworkError) *apiError {
	if errors.Is(ne, errOffline) {
		return &apiError{status: http.StatusServiceUnavailable, msg: errOffline.Error(), cause: ne}
	}
	if ne.Timeout() {
		return &apiError{status: http.StatusGatewayTimeout, msg: "the Hub did not answer in time", cause: ne}
	}
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var certErr x509.CertificateInvalidError
	var hostErr x509.HostnameError
	msg := "the connection to the Hub failed"
	switch {
	case errors.As(ne, &dnsErr):
		msg = "cannot resolve the Hub's host name (check HF_ENDPOINT and DNS)"
	case errors.Is(ne, syscall.ECONNREFUSED):
		msg = "the Hub refused the connection (check HF_ENDPOINT)"
	case errors.As(ne, &unknownCA):
		msg = "cannot verify the Hub's TLS certificate: it is signed by an unknown authority (add the CA with SSL_CERT_FILE)"
	case errors.As(ne, &certErr), errors.As(ne, &hostErr):
		msg = "the Hub's TLS certificate is not valid for this endpoint"
	case errors.Is(ne, syscall.ECONNRESET):
		msg = "the Hub reset the connection"
	}
	return &apiError{status: http.StatusBadGateway, msg: msg, cause: ne}
}

// errorBody is the JSON of every error reply.
type errorBody struct {
	Error        string            `json:"error"`
	RequestID    string            `json:"request_id"`
	Fields       map[string]string `json:"fields,omitempty"`
	URL          string            `json:"url,omitempty"`
	HubStatus    int               `json:"hub_status,omitempty"`
	HubErrorCode string            `json:"hub_error_code,omitempty"`
	HubRequestID string            `json:"hub_request_id,omitempty"`
}

func writeError(w http.ResponseWriter, requestID string, e *apiError) {
	body := errorBody{Error: e.msg, RequestID: requestID, Fields: e.fields, URL: e.url}
	if e.hub != nil {
		body.HubStatus, body.HubErrorCode, body.HubRequestID = e.hub.Status, e.hub.Code, e.hub.RequestID
	}
	if e.hub != nil && e.hub.RateLimit != "" && w.Header().Get(budget.RateLimitHeader) == "" {
		// The Hub's quota, as huggingface_hub reads it to wait for the window's reset (unless the budget's,
		// or the tighter of the two, is already on the reply).
		w.Header().Set(budget.RateLimitHeader, e.hub.RateLimit)
	}
	if len(e.allow) > 0 {
		w.Header().Set("Allow", strings.Join(e.allow, ", "))
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.retryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, e.status, body)
}
