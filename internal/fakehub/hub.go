// Package fakehub is an in-memory emulator of the Hugging Face Hub HTTP API, faithful to the wire
// contract in docs/hub-contract.md and to real recorded exchanges. It backs tests and the demo mode, so it
// depends on nothing but the standard library: our own Hub client is tested against it.
package fakehub

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Role is the role of an access token.
type Role string

// Token roles. The Hub also knows fineGrained and god tokens; the fake only needs these two.
const (
	RoleRead  Role = "read"
	RoleWrite Role = "write"
)

// Repo is the state of one repository.
type Repo struct {
	Type                string // singular: model, dataset, space, kernel
	ID                  string // "ns/name", in the case it was created with
	ObjectID            string // 24 lowercase hex
	SDK                 string // spaces only
	Private             bool
	Gated               any // false, "auto" or "manual"
	DiscussionsDisabled bool
	CreatedAt           time.Time
}

// Request is one request as the Hub received it.
type Request struct {
	Method   string
	Path     string // r.URL.EscapedPath(): percent-encoding kept as sent
	RawQuery string
	Header   http.Header // a clone
	Body     []byte
}

// Hub is an in-memory Hugging Face Hub. It is an http.Handler; safe for concurrent use.
type Hub struct {
	mux *http.ServeMux

	mu       sync.Mutex
	users    map[string]*user   // by lower-case name
	orgs     map[string]*org    // by lower-case name
	tokens   map[string]*token  // by token value
	repos    map[string]*repo   // by repoKey
	windows  map[string]*window // rate-limit windows by caller
	requests []Request
	quota    int    // requests per rate-limit window; a field so tests can lower it
	seq      uint32 // counts everything created: makes ObjectIds unique and orders listings
	cdn      cdn    // LFS objects, served by CDN() on another address
	// redirectRegular answers regular files with a 307 to /api/resolve-cache/... (RedirectRegularFiles).
	redirectRegular bool
}

type user struct {
	name, fullname, email, objectID, avatarURL string
}

type org struct {
	name, fullname, objectID, avatarURL string
	members                             map[string]string // lower-case username -> roleInOrg
}

type token struct {
	value, user, displayName string
	role                     Role
	createdAt                time.Time
}

type repo struct {
	Repo
	protected bool                        // Space visibility "protected": public repo, private app
	sha       string                      // head commit; AddFile makes a new one
	commits   map[string]map[string]*file // commit sha -> path -> file; nil until a file is added
	creator   string                      // lets an org contributor manage the repos they created
	seq       uint32                      // creation order: listings sort by it, exact where createdAt ties
}

// New returns an empty Hub.
func New() *Hub {
	h := &Hub{
		users:   map[string]*user{},
		orgs:    map[string]*org{},
		tokens:  map[string]*token{},
		repos:   map[string]*repo{},
		windows: map[string]*window{},
		quota:   rateQuota,
	}
	h.mux = h.routes()
	return h
}

// AddUser creates a user account. It panics on an invalid or taken name.
func (h *Hub) AddUser(name string) { h.addUser(name, name) }

// SetRateQuota sets the requests each caller may make per rate-limit window (1000 by default, as on the Hub),
// for load tests that would otherwise only measure the fake's 429s.
func (h *Hub) SetRateQuota(n int) {
	h.mu.Lock()
	h.quota = n
	h.mu.Unlock()
}

func (h *Hub) addUser(name, fullname string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.claimNamespace(name)
	h.users[strings.ToLower(name)] = &user{
		name:      name,
		fullname:  fullname,
		email:     name + "@example.com",
		objectID:  h.objectID(),
		avatarURL: "/avatars/" + randomHex(16) + ".svg",
	}
}

// AddOrg creates an organization with members (username -> roleInOrg: admin, write, contributor,
// read). It panics on an invalid or taken name, an unknown user or an unknown role.
func (h *Hub) AddOrg(name string, members map[string]string) { h.addOrg(name, name, members) }

func (h *Hub) addOrg(name, fullname string, members map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.claimNamespace(name)
	o := &org{name: name, fullname: fullname, objectID: h.objectID(),
		avatarURL: "/avatars/" + randomHex(16) + ".svg", members: map[string]string{}}
	for u, role := range members {
		if h.users[strings.ToLower(u)] == nil {
			panic(fmt.Sprintf("fakehub: org %s: unknown user %q", name, u))
		}
		switch role {
		case "admin", "write", "contributor", "read":
		default:
			panic(fmt.Sprintf("fakehub: org %s: unknown role %q", name, role))
		}
		o.members[strings.ToLower(u)] = role
	}
	h.orgs[strings.ToLower(name)] = o
}

// claimNamespace panics unless name is a valid, free user or org name. Callers hold h.mu.
func (h *Hub) claimNamespace(name string) {
	if !validName(name) {
		panic(fmt.Sprintf("fakehub: invalid name %q", name))
	}
	if h.namespace(name) != "" {
		panic(fmt.Sprintf("fakehub: name %q is taken", name))
	}
}

// namespace returns the canonical spelling of a user or org name, or "" if there is none.
func (h *Hub) namespace(name string) string {
	key := strings.ToLower(name)
	if u := h.users[key]; u != nil {
		return u.name
	}
	if o := h.orgs[key]; o != nil {
		return o.name
	}
	return ""
}

// IssueToken returns a new access token for user: "hf_" and 34 random alphanumerics, the form
// the JS client insists on. It panics on an unknown user or role.
func (h *Hub) IssueToken(username string, role Role) string {
	if role != RoleRead && role != RoleWrite {
		panic(fmt.Sprintf("fakehub: unknown token role %q", role))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[strings.ToLower(username)]
	if u == nil {
		panic(fmt.Sprintf("fakehub: unknown user %q", username))
	}
	t := &token{value: "hf_" + randomAlnum(34), user: u.name, role: role,
		displayName: fmt.Sprintf("fakehub-%s-%d", role, len(h.tokens)+1), createdAt: now()}
	h.tokens[t.value] = t
	return t.value
}

// AddRepo seeds a repository. repoType is singular; id is "ns/name" (the namespace need not be a
// known user or org). Spaces get sdk "static". It panics on a bad type or id, or a duplicate.
func (h *Hub) AddRepo(repoType, id string, private bool) {
	ns, name, ok := strings.Cut(id, "/")
	if !validType(repoType) || !ok || !validName(ns) || !validName(name) {
		panic(fmt.Sprintf("fakehub: invalid repo %s %q", repoType, id))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.repos[repoKey(repoType, id)] != nil {
		panic(fmt.Sprintf("fakehub: %s %s exists", repoType, id))
	}
	rp := h.newRepo(repoType, id, ns)
	rp.Private = private
	if repoType == "space" {
		rp.SDK = "static"
	}
}

// Repo returns a copy of a repository's current state; the id is matched case-insensitively.
func (h *Hub) Repo(repoType, id string) (Repo, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rp := h.repos[repoKey(repoType, id)]
	if rp == nil {
		return Repo{}, false
	}
	return rp.Repo, true
}

// newRepo stores a new public repository. Callers hold h.mu and have checked id is free.
func (h *Hub) newRepo(repoType, id, creator string) *repo {
	rp := &repo{
		Repo:    Repo{Type: repoType, ID: id, ObjectID: h.objectID(), Gated: false, CreatedAt: now()},
		sha:     randomHex(20),
		creator: creator,
		seq:     h.seq,
	}
	h.repos[repoKey(repoType, id)] = rp
	return rp
}

// Requests returns a copy of every request received so far, in order.
func (h *Hub) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Request, len(h.requests))
	for i, r := range h.requests {
		r.Header = r.Header.Clone()
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// ResetRequests forgets the requests received so far.
func (h *Hub) ResetRequests() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = nil
}

func (h *Hub) record(r *http.Request, body []byte) {
	req := Request{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = append(h.requests, req)
}

func (rp *repo) namespace() string { ns, _, _ := strings.Cut(rp.ID, "/"); return ns }

func (rp *repo) visibility() string {
	switch {
	case rp.Private:
		return "private"
	case rp.protected:
		return "protected"
	}
	return "public"
}

func (rp *repo) setVisibility(v string) {
	rp.Private = v == "private"
	rp.protected = v == "protected"
}

func repoKey(repoType, id string) string { return repoType + ":" + strings.ToLower(id) }

func validType(t string) bool {
	switch t {
	case "model", "dataset", "space", "kernel":
		return true
	}
	return false
}

// webPrefix is the path prefix of a repo's web URL: models have none.
func webPrefix(repoType string) string {
	if repoType == "model" {
		return ""
	}
	return repoType + "s/"
}

// validName applies the Hub's rules for a user, org or repo name (see nameRule).
func validName(s string) bool {
	if len(s) < 1 || len(s) > 96 || strings.Contains(s, "--") || strings.Contains(s, "..") ||
		strings.HasSuffix(strings.ToLower(s), ".git") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return !strings.ContainsAny(s[:1]+s[len(s)-1:], "-.")
}

// objectID returns a new Mongo-style ObjectId: 4 bytes of time, 5 random, 3 of a counter, so ids
// are unique within a Hub and look like the real ones. Callers hold h.mu.
func (h *Hub) objectID() string {
	h.seq++
	return fmt.Sprintf("%08x%s%06x", uint32(time.Now().Unix()), randomHex(5), h.seq&0xffffff)
}

// now is the time as the Hub stores it: UTC, millisecond precision.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// iso formats a time as the Hub does: ISO 8601 with milliseconds and Z.
func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func randomHex(nbytes int) string {
	b := make([]byte, nbytes)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func randomAlnum(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 0, n)
	buf := make([]byte, 1)
	for len(out) < n {
		rand.Read(buf)
		if buf[0] < 248 { // 248 = 4*62: rejecting the rest keeps every letter equally likely
			out = append(out, alphabet[int(buf[0])%len(alphabet)])
		}
	}
	return string(out)
}
