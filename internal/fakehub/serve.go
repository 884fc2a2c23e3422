package fakehub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

const (
	maxBodyBytes = 10 << 20
	rateQuota    = 1000 // requests per window, the free-user "api" quota
	rateWindow   = 300 * time.Second
)

// call is what ServeHTTP learned about a request before routing it.
type call struct {
	tok  *token // nil when anonymous
	body []byte
	base string // scheme://host, for the absolute URLs in replies
}

type callKey struct{}

// user is the caller's username, "" when anonymous.
func (c call) user() string {
	if c.tok == nil {
		return ""
	}
	return c.tok.user
}

func (c call) canWrite() bool { return c.tok != nil && c.tok.role == RoleWrite }

// handlerFunc is an endpoint. A returned error is a *hubError and becomes the reply.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c call) error

// endpoints lists every endpoint the fake Hub serves, by ServeMux pattern.
func (h *Hub) endpoints() map[string]handlerFunc {
	e := map[string]handlerFunc{
		"GET /api/whoami-v2":       h.whoami,
		"POST /api/repos/create":   h.createRepo,
		"DELETE /api/repos/delete": h.deleteRepo,
		"POST /api/repos/move":     h.moveRepo,
	}
	for _, t := range [...]string{"model", "dataset", "space", "kernel"} {
		base := "/api/" + t + "s"
		if t != "kernel" {
			e["GET "+base] = h.listRepos(t)
		}
		e["GET "+base+"/{ns}/{name}"] = h.repoInfo(t)
		// {rev} is one escaped segment, so refs%2Fpr%2F1 matches and refs/pr/1 does not:
		// clients always encode the revision, and a proxy that decodes it should be caught.
		e["GET "+base+"/{ns}/{name}/revision/{rev}"] = h.repoInfo(t)
		e["PUT "+base+"/{ns}/{name}/settings"] = h.updateSettings(t)
		if t != "kernel" {
			e["GET "+base+"/{ns}/{name}/tree/{rev}"] = h.tree(t)
			e["GET "+base+"/{ns}/{name}/tree/{rev}/{path...}"] = h.tree(t)
			e["POST "+base+"/{ns}/{name}/paths-info/{rev}"] = h.pathsInfo(t)
		}
	}
	return e
}

// Routes lists the patterns of every endpoint the fake Hub serves, sorted: what a route table in front of it
// must know.
func Routes() []string {
	return slices.Sorted(slices.Values(append(slices.Collect(maps.Keys(New().endpoints())), resolveRoutes...)))
}

func (h *Hub) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for pattern, fn := range h.endpoints() {
		mux.Handle(pattern, h.handle(fn))
	}
	return mux
}

func (h *Hub) handle(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(callKey{}).(call)
		if err := fn(w, r, c); err != nil {
			writeError(w, err)
		}
	})
}

// ServeHTTP records the request, sets the headers every Hub reply carries, authenticates,
// rate-limits and routes.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, bodyErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	h.record(r, body)
	w.Header().Set("X-Powered-By", "huggingface-moon")
	w.Header().Set("X-Request-Id", requestID(r))

	value, sent := bearer(r)
	h.mu.Lock()
	tok := h.tokens[value]
	h.mu.Unlock()
	limitKey := "ip:" + remoteIP(r)
	if tok != nil {
		limitKey = "token:" + tok.value
	}
	if err := h.rateLimit(w, limitKey); err != nil {
		writeError(w, err)
		return
	}

	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(bodyErr, &tooLarge):
		writeError(w, errorf(http.StatusRequestEntityTooLarge, "Request body is larger than %d bytes", maxBodyBytes))
		return
	case bodyErr != nil:
		writeError(w, errorf(http.StatusBadRequest, "Could not read the request body"))
		return
	case sent && tok == nil:
		writeError(w, errInvalidCredentials())
		return
	}

	c := call{tok: tok, body: body, base: baseURL(r)}
	if rq, ok := parseResolve(r); ok {
		if err := h.resolve(w, r, c, rq); err != nil {
			writeError(w, err)
		}
		return
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		writeError(w, h.unrouted(r))
		return
	}
	h.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
}

// unrouted tells a wrong method on a known path (405) from an unknown path (404), in JSON:
// the mux's own replies are plain text, which JS clients cannot read a message from.
func (h *Hub) unrouted(r *http.Request) error {
	var allow []string
	for _, m := range [...]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.WithContext(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		return errorf(http.StatusNotFound, "Sorry, we can't find the page you are looking for.")
	}
	return &hubError{status: http.StatusMethodNotAllowed, msg: "Method not allowed",
		allow: strings.Join(allow, ", ")}
}

// bearer returns the credential in the Authorization header and whether one was sent at all.
// JS sends "Bearer undefined" when it has no token; that counts as anonymous.
func bearer(r *http.Request) (value string, sent bool) {
	v := strings.TrimSpace(r.Header.Get("Authorization"))
	if v == "" {
		return "", false
	}
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return v, true // a credential the API does not take: refuse it rather than ignore it
	}
	rest = strings.TrimSpace(rest)
	if rest == "" || rest == "undefined" {
		return "", false
	}
	return rest, true
}

// window is one fixed rate-limit window of one caller.
type window struct {
	start time.Time
	used  int
}

// rateLimit counts the request against the caller's window and sets the RateLimit headers that
// the Hub puts on every reply. It returns a 429 error when the window is used up.
func (h *Hub) rateLimit(w http.ResponseWriter, key string) error {
	t := time.Now()
	h.mu.Lock()
	win := h.windows[key]
	if win == nil || t.Sub(win.start) >= rateWindow {
		win = &window{start: t}
		h.windows[key] = win
	}
	allowed := win.used < h.quota
	if allowed {
		win.used++
	}
	remaining, quota := h.quota-win.used, h.quota
	reset := int(math.Ceil(win.start.Add(rateWindow).Sub(t).Seconds()))
	h.mu.Unlock()

	w.Header().Set("RateLimit", fmt.Sprintf(`"api";r=%d;t=%d`, remaining, reset))
	w.Header().Set("RateLimit-Policy", fmt.Sprintf(`"fixed window";"api";q=%d;w=%d`, quota, int(rateWindow.Seconds())))
	if allowed {
		return nil
	}
	w.Header().Set("Retry-After", fmt.Sprint(reset))
	return errorf(http.StatusTooManyRequests,
		`You have exceeded the rate limit for the "api" bucket (%d requests per %d seconds). Retry after %d seconds.`,
		quota, int(rateWindow.Seconds()), reset)
}

// requestID mimics the Hub's X-Request-Id, which echoes the client's X-Amzn-Trace-Id.
func requestID(r *http.Request) string {
	id := fmt.Sprintf("Root=1-%08x-%s", uint32(time.Now().Unix()), randomHex(12))
	if trace := r.Header.Get("X-Amzn-Trace-Id"); trace != "" {
		id += ";" + trace
	}
	return id
}

func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
