// Package hubroute is the one place that knows what a Hub request does: for a method and an escaped path it
// finds the row of the Hub's route table (table.go) and says which action it is (read, create, update,
// delete), on which repositories (named by the path or the JSON body) and in which rate-limit bucket. The
// policy, the audit trail and the drop-in endpoint all ask it, and the drop-in forwards exactly what it judged:
// paths a hop could read differently are refused, and a body it read is forwarded as it was decoded.
package hubroute

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/policy"
)

// Bucket is the Hub's rate-limit bucket a request counts against.
type Bucket string

const (
	API       Bucket = "api"
	Resolvers Bucket = "resolvers"
	Pages     Bucket = "pages"
)

// Target is one thing a request does: an action on a repository (Repo is zero when it names none).
type Target struct {
	Action policy.Action
	Type   hub.RepoType
	Repo   hub.RepoID
}

// Error is a request refused before it is judged, with the status to answer and a message for the caller.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func badRequest(msg string) *Error { return &Error{Status: http.StatusBadRequest, Msg: msg} }

// Methods are the methods the Hub's clients use; hf-micro forwards no other.
var Methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// byMethod is the action of the catch-all rows: it depends on the method.
const byMethod policy.Action = ""

// row is one line of the route table.
type row struct {
	methods string // space-separated, or "*"
	pattern string
	action  policy.Action
	bucket  Bucket
	body    bodyRule // nil when the path alone says what the request does
}

// tokens are the table's patterns split into segments, once.
var tokens = func() [][]string {
	t := make([][]string, len(table))
	for i, r := range table {
		t[i] = strings.Split(strings.TrimPrefix(r.pattern, "/"), "/")
	}
	return t
}()

// Match is a request found in the table, judged by its path; Judge finishes with the body.
type Match struct {
	Route  string // the row, e.g. "POST /api/{t}/{repo}/commit/{rev}", for logs and metrics
	Bucket Bucket
	row    *row
	method string
	query  string
	path   Target // the repository the path names, with the row's action
}

// Find judges a request by its method and escaped path (and its query, which some routes must not have). It
// returns nil and no error for a path that is not the Hub's, and an *Error for a request hf-micro refuses:
// a method the Hub's clients do not use, a path spelled in a way a hop could read differently, or a query that
// overrides the method.
func Find(method, escapedPath, rawQuery string) (*Match, error) {
	if !slices.Contains(Methods, method) {
		return nil, &Error{Status: http.StatusMethodNotAllowed,
			Msg: "hf-micro forwards only " + strings.Join(Methods, ", ") + " to the Hub, not " + method}
	}
	if strings.Contains(rawQuery, "_method") {
		if q, _ := url.ParseQuery(rawQuery); q.Has("_method") {
			return nil, badRequest("hf-micro does not take a method from the query (_method): send the method itself")
		}
	}
	raw, decoded, err := segments(escapedPath)
	if err != nil {
		if looksLikeTheHubs(escapedPath) {
			return nil, err
		}
		return nil, nil // nothing that is not the Hub's is ever forwarded: a plain 404 says enough
	}
	// Listed rows first; then a listed route spelled with other letter cases, which the Hub may read as the
	// listed one while hf-micro would judge it as something else; then the catch-all rows.
	for i := range table {
		if r := &table[i]; r.methods != "*" && r.allows(method) {
			if c, ok := match(tokens[i], raw, decoded, false); ok {
				return newMatch(r, method, rawQuery, c), nil
			}
		}
	}
	for i := range table {
		r := &table[i]
		if r.methods == "*" {
			continue
		}
		if _, exact := match(tokens[i], raw, decoded, false); exact {
			continue
		}
		if _, ok := match(tokens[i], raw, decoded, true); ok {
			return nil, badRequest("the path " + escapedPath + " is a Hub route spelled in other letter cases; use the Hub's spelling (" +
				strings.SplitN(r.pattern, "{", 2)[0] + "...)")
		}
	}
	for i := range table {
		if r := &table[i]; r.methods == "*" {
			if c, ok := match(tokens[i], raw, decoded, false); ok {
				return newMatch(r, method, rawQuery, c), nil
			}
		}
	}
	return nil, nil
}

func (r *row) allows(method string) bool {
	if r.methods == "*" {
		return true
	}
	for m := range strings.FieldsSeq(r.methods) {
		if m == method || m == http.MethodGet && method == http.MethodHead {
			return true
		}
	}
	return false
}

func newMatch(r *row, method, query string, c captures) *Match {
	action := r.action
	if action == byMethod {
		switch method {
		case http.MethodGet, http.MethodHead:
			action = policy.Read
		case http.MethodDelete:
			action = policy.Delete
		default:
			action = policy.Update
		}
	}
	return &Match{Route: r.methods + " " + r.pattern, Bucket: r.bucket, row: r, method: method, query: query,
		path: Target{Action: action, Type: c.repoType, Repo: c.repo}}
}

// ReadsBody reports whether Judge needs the request body: the route names its repositories, or its action,
// in the body.
func (m *Match) ReadsBody() bool { return m.row.body != nil }

// Judge finishes judging with the body (nil when ReadsBody is false). It returns every action the request
// takes, on which repository, and the body to forward: for a route that reads its body, the body re-encoded
// from what was judged, so the Hub reads exactly that; otherwise nil, and the body passes as it came.
func (m *Match) Judge(body []byte) (targets []Target, forward []byte, err error) {
	if m.row.body == nil {
		return []Target{m.path}, nil, nil
	}
	if m.query != "" {
		return nil, nil, badRequest(m.Route + " takes no query parameters; hf-micro judges its body alone")
	}
	obj, err := parseObject(body)
	if err != nil {
		return nil, nil, err
	}
	if targets, err = m.row.body(obj, m.path); err != nil {
		return nil, nil, err
	}
	forward, err = obj.encode()
	return targets, forward, err
}

// looksLikeTheHubs tells a badly spelled Hub path, which deserves to hear what is wrong with it, from a path
// that is no Hub path at all.
func looksLikeTheHubs(escapedPath string) bool {
	p := strings.ToLower(escapedPath)
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/api%") || strings.HasPrefix(p, "//api") ||
		strings.Contains(p, "/resolve/") || strings.Contains(p, "/raw/") || strings.Contains(p, ".git/")
}
