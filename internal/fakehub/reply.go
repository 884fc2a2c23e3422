package fakehub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

const jsonContentType = "application/json; charset=utf-8"

// hubError is an error reply: JSON {"error": msg}, the same text in X-Error-Message, and
// X-Error-Code when clients key on it.
type hubError struct {
	status int
	code   string // X-Error-Code: RepoNotFound, RevisionNotFound
	msg    string
	url    string // a 409 names the existing repo; Python's exist_ok reads it
	allow  string // Allow header of a 405
}

func (e *hubError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *hubError {
	return &hubError{status: status, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *hubError {
	return errorf(http.StatusBadRequest, format, args...)
}

// errInvalidCredentials is the Hub's answer to a token it does not know; Python tells it from
// a missing repo by this exact X-Error-Message.
func errInvalidCredentials() *hubError {
	return errorf(http.StatusUnauthorized, "Invalid credentials in Authorization header")
}

func errRepoNotFound() *hubError {
	return &hubError{status: http.StatusNotFound, code: "RepoNotFound", msg: "Repository not found"}
}

// errRepoHidden is a missing or invisible repo as reads report it: anonymous callers get a
// 401 without X-Error-Code, signed-in ones a 404 RepoNotFound.
func errRepoHidden(c call) *hubError {
	if c.tok == nil {
		return errorf(http.StatusUnauthorized, "Invalid username or password.")
	}
	return errRepoNotFound()
}

func errForbidden(format string, args ...any) *hubError {
	return errorf(http.StatusForbidden, format, args...)
}

func writeError(w http.ResponseWriter, err error) {
	var e *hubError
	if !errors.As(err, &e) {
		e = errorf(http.StatusInternalServerError, "Internal error: %v", err)
	}
	w.Header().Set("X-Error-Message", headerSafe(e.msg))
	if e.code != "" {
		w.Header().Set("X-Error-Code", e.code)
	}
	if e.allow != "" {
		w.Header().Set("Allow", e.allow)
	}
	writeJSON(w, e.status, struct {
		Error string `json:"error"`
		URL   string `json:"url,omitempty"`
	}{e.msg, e.url})
}

// headerSafe drops control characters, which messages quoting user input may carry.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the Hub writes < > & as they are
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("fakehub: encoding a reply: %v", err)) // only our own values get here
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(status)
	w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// writeOK is the Hub's plain-text success reply of delete and move.
func writeOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("OK"))
}

// object is a JSON object that keeps its keys in the order given, as the Hub writes them.
type object []field

type field struct {
	key   string
	value any
}

func (o object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
