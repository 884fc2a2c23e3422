package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is a non-2xx answer from the Hub, with everything the Hub said about it.
type Error struct {
	Method, Path string        // the call, without query or credentials
	Status       int           // HTTP status
	Code         string        // X-Error-Code, e.g. RepoNotFound
	Message      string        // X-Error-Message, else the body's "error"
	RequestID    string        // X-Request-Id
	RetryAfter   time.Duration // from Retry-After, else from RateLimit's t= when r=0
	RateLimit    string        // the RateLimit header as sent
	URL          string        // the "url" of a 409 body: the repository that already exists
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("hub: %s %s: %d: %s", e.Method, e.Path, e.Status, msg)
}

// NetworkError is a call that got no complete answer: the Hub could not be reached, the connection broke, or
// the call ran out of time.
type NetworkError struct {
	Method, Path string
	Err          error
}

func (e *NetworkError) Error() string { return fmt.Sprintf("hub: %s %s: %v", e.Method, e.Path, e.Err) }
func (e *NetworkError) Unwrap() error { return e.Err }

// Timeout reports whether the call ran out of time rather than failed.
func (e *NetworkError) Timeout() bool {
	var ne net.Error
	return errors.Is(e.Err, context.DeadlineExceeded) || errors.As(e.Err, &ne) && ne.Timeout()
}

// ErrBadResponse is wrapped by errors for 2xx answers that do not have the shape the Hub documents.
var ErrBadResponse = errors.New("the Hub sent a response hf-micro cannot read")

// IsRepoNotFound reports whether err is the Hub saying that a repository does not exist or is not visible to
// the token. Like huggingface_hub, it trusts only X-Error-Code: a bare 404 may be a wrong path.
func IsRepoNotFound(err error) bool {
	var he *Error
	return errors.As(err, &he) && he.Code == "RepoNotFound"
}

// maxErrorBody bounds how much of an error body is read: the Hub's are a few hundred bytes.
const maxErrorBody = 64 << 10

// newError reads a non-2xx answer. The token the call was made with is removed from everything kept, in case
// the Hub (or a hop before it) echoes it.
func newError(resp *http.Response, token Token) *Error {
	e := &Error{
		Method:    resp.Request.Method,
		Path:      resp.Request.URL.Path,
		Status:    resp.StatusCode,
		Code:      resp.Header.Get("X-Error-Code"),
		Message:   resp.Header.Get("X-Error-Message"),
		RequestID: resp.Header.Get("X-Request-Id"),
		RateLimit: resp.Header.Get("RateLimit"),
	}
	e.RetryAfter = retryAfter(resp.Header)

	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Error            any    `json:"error"`
		ErrorDescription string `json:"error_description"`
		Message          string `json:"message"`
		URL              string `json:"url"`
	}
	if json.Unmarshal(raw, &body) == nil {
		e.URL = body.URL
		if e.Message == "" {
			e.Message = bodyMessage(body.Error, body.Message, body.ErrorDescription)
		}
	} else if e.Message == "" && !strings.Contains(resp.Header.Get("Content-Type"), "html") {
		e.Message = strings.TrimSpace(string(raw))
	}
	for _, field := range []*string{&e.Code, &e.Message, &e.RequestID, &e.RateLimit, &e.URL} {
		*field = token.Redact(*field)
	}
	return e
}

// bodyMessage reads "error" as a string or a list of strings, as the Hub sends both.
func bodyMessage(errField any, message, description string) string {
	var parts []string
	switch v := errField.(type) {
	case string:
		parts = append(parts, v)
	case []any:
		for _, item := range v {
			if s, ok := item.(string); ok {
				parts = append(parts, s)
			}
		}
	}
	if len(parts) == 0 && message != "" {
		parts = append(parts, message)
	}
	if description != "" {
		parts = append(parts, description)
	}
	return strings.Join(parts, ": ")
}

// retryAfter reads Retry-After (seconds or an HTTP date); without it, a RateLimit header that says nothing is
// left (r=0) gives the seconds until the window resets (t=).
func retryAfter(h http.Header) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second
		}
		if when, err := http.ParseTime(v); err == nil {
			return max(time.Until(when).Round(time.Second), 0)
		}
	}
	remaining, reset := -1, -1
	for _, param := range strings.Split(h.Get("RateLimit"), ";") {
		key, value, _ := strings.Cut(strings.TrimSpace(param), "=")
		n, err := strconv.Atoi(value)
		if err != nil {
			continue
		}
		switch key {
		case "r":
			remaining = n
		case "t":
			reset = n
		}
	}
	if remaining == 0 && reset >= 0 {
		return time.Duration(reset) * time.Second
	}
	return 0
}
