package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// writeJSON writes v as the reply. Encoding errors cannot happen for the types this package sends.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeRawJSON passes on a JSON document the Hub sent, unchanged.
func writeRawJSON(w http.ResponseWriter, status int, raw json.RawMessage) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(raw)
}

// jsonContentType is the Content-Type of JSON replies, shared by all of them (never written into).
var jsonContentType = []string{"application/json"}

// bodyReadTimeout bounds how long a client may take to send a request body, so a slow sender cannot hold a
// connection open without end.
const bodyReadTimeout = 30 * time.Second

// decode reads one JSON object into v, strictly: the Content-Type must be JSON (a missing one is taken as
// JSON, as curl users forget it), unknown fields are refused by name, and anything after the object is an
// error. maxBytes bounds the body, maxJSONDepth its nesting.
func decode[T any](w http.ResponseWriter, r *http.Request, maxBytes int64) (T, error) {
	var v T
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mediaType, _, err := mime.ParseMediaType(ct)
		if err != nil || mediaType != "application/json" && !strings.HasSuffix(mediaType, "+json") {
			return v, &apiError{status: http.StatusUnsupportedMediaType,
				msg: fmt.Sprintf("Content-Type %q is not JSON: send Content-Type: application/json", ct)}
		}
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyReadTimeout))

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		return v, decodeError(err, &v)
	}
	if nestingDepth(body) > maxJSONDepth {
		return v, badRequest(fmt.Sprintf("the body nests objects or arrays deeper than %d levels", maxJSONDepth))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			return v, notJSON(body, syntaxErr.Offset)
		}
		return v, decodeError(err, &v)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return v, badRequest("the body has more after the JSON object; send exactly one object")
	}
	return v, nil
}

// validator is a request that checks itself: it gives the checked, normalised request it stands for, and what
// is wrong with it field by field.
type validator[T any] interface {
	validate() (T, problems)
}

// decodeValid reads a request, from the query of a GET or else from the JSON body, and checks it: the one way
// the repository routes take their input.
func decodeValid[R validator[T], T any](w http.ResponseWriter, r *http.Request, maxBytes int64) (T, error) {
	var req R
	var err error
	if r.Method == http.MethodGet {
		req, err = decodeQuery[R](r.URL.Query())
	} else {
		req, err = decode[R](w, r, maxBytes)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	valid, p := req.validate()
	return valid, p.err()
}

// decodeQuery reads a query into the fields of R named by their json tags: strings, or *string to tell an
// empty parameter from a missing one. Unknown parameters are refused by name.
func decodeQuery[R any](q url.Values) (R, error) {
	var req R
	accepted := jsonFields(req)
	p := problems{}
	for key := range q {
		if !slices.Contains(accepted, key) {
			p[key] = "unknown query parameter; accepted: " + strings.Join(accepted, ", ")
		}
	}
	v := reflect.ValueOf(&req).Elem()
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if !q.Has(name) {
			continue
		}
		switch field := v.Field(i); field.Interface().(type) {
		case string:
			field.SetString(q.Get(name))
		case *string:
			field.Set(reflect.ValueOf(ptr(q.Get(name))))
		}
	}
	return req, p.err()
}

// maxJSONDepth is far more than any request needs; deeper input is refused before it is parsed.
const maxJSONDepth = 8

// nestingDepth is the deepest nesting of objects and arrays in a JSON text, strings skipped.
func nestingDepth(body []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range body {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// decodeError says what is wrong with a body and where.
func decodeError(err error, v any) error {
	var typeErr *json.UnmarshalTypeError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("the request body is empty; send a JSON object")
	case errors.As(err, &tooLarge):
		return &apiError{status: http.StatusRequestEntityTooLarge,
			msg: fmt.Sprintf("the request body is larger than %d bytes", tooLarge.Limit)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the body is not valid JSON: it ends before the object is complete")
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return invalid(map[string]string{typeErr.Field: fmt.Sprintf("must be %s, got %s", jsonKind(typeErr.Type), typeErr.Value)})
	case errors.As(err, &typeErr):
		return badRequest(fmt.Sprintf("the body must be a JSON object, got %s", typeErr.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		quoted := strings.TrimPrefix(err.Error(), "json: unknown field ")
		field, _ := strconv.Unquote(quoted)
		accepted := strings.Join(jsonFields(v), ", ")
		return &apiError{status: http.StatusBadRequest,
			msg:    fmt.Sprintf("unknown field %s; accepted fields are: %s", quoted, accepted),
			fields: map[string]string{field: "unknown field; accepted fields are: " + accepted}}
	default:
		return badRequest("the body cannot be read: " + err.Error())
	}
}

// notJSON says where a body stops being JSON: the character the parser did not expect, and its place
// counted in bytes from 1, as an editor's column would on a one-line body.
func notJSON(body []byte, offset int64) error {
	if offset < 1 || offset > int64(len(body)) {
		return badRequest("the body is not valid JSON")
	}
	c, _ := utf8.DecodeRune(body[offset-1:])
	hint := ""
	if c == '\'' {
		hint = " (JSON strings take double quotes)"
	}
	return badRequest(fmt.Sprintf("the body is not valid JSON: unexpected %q at byte %d%s", c, offset, hint))
}

// jsonKind names a Go type as a JSON user knows it.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return t.Kind().String()
	}
}

// jsonFields lists the JSON names of a request type, for the message about an unknown field.
func jsonFields(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for field := range t.Fields() {
		if name, _, _ := strings.Cut(field.Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}
