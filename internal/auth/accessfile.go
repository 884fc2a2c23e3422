package auth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/policy"
)

// AccessFile is a parsed HF_MICRO_ACCESS_FILE: named client keys, kept only as SHA-256 digests, and workload
// identities, each with its scopes and budgets. It holds no secret, so it can live in git.
type AccessFile struct {
	Keys       []AccessKey
	Identities []Identity
	// Defaults are the limits of every principal without limits of its own ([defaults] limits): each has
	// a budget of its own, not a share of one pool.
	Defaults budget.Limits

	digest [sha256.Size]byte // of the file's bytes, to tell a changed file from the one in force
}

// AccessKey is one [[key]] of the access file.
type AccessKey struct {
	Name    string
	Digest  [sha256.Size]byte // of the key string
	Expires time.Time         // zero: never
	Scopes  policy.Scopes
	Limits  budget.Limits // nil: the file's defaults
}

// Identity is one [[identity]] of the access file: who may present an OpenID Connect ID token instead of a key.
// It is checked here for form only; verifying tokens against it is the OIDC verifier's work.
type Identity struct {
	Name     string
	Issuer   string            // https URL (http only for a loopback host, for tests)
	Audience string            // the token's aud must contain it
	Claims   map[string]string // every claim must match; '*' globs allowed
	Scopes   policy.Scopes
	Limits   budget.Limits // nil: the file's defaults
}

// LimitsOf returns a principal's budgets: its own limits, else the file's defaults.
func (f *AccessFile) LimitsOf(own budget.Limits) budget.Limits {
	if own != nil {
		return own
	}
	return f.Defaults
}

// identity returns the [[identity]] named name.
func (f *AccessFile) identity(name string) (Identity, bool) {
	for _, id := range f.Identities {
		if id.Name == name {
			return id, true
		}
	}
	return Identity{}, false
}

// Expired reports whether the key has expired at now.
func (k AccessKey) Expired(now time.Time) bool { return !k.Expires.IsZero() && !now.Before(k.Expires) }

// match finds the key whose digest is candidate's, comparing with every key in constant time.
func (f *AccessFile) match(candidate string) (AccessKey, bool) {
	digest := sha256.Sum256([]byte(candidate))
	found := -1
	for i := range f.Keys {
		if subtle.ConstantTimeCompare(digest[:], f.Keys[i].Digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return AccessKey{}, false
	}
	return f.Keys[found], true
}

// AccessFileError lists every problem of an access file, each with its line when it is known.
type AccessFileError struct{ Problems []Problem }

// Problem is one thing wrong in an access file; Line is 0 when it could not be found.
type Problem struct {
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return p.Msg
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
}

func (e *AccessFileError) Error() string {
	texts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		texts[i] = p.String()
	}
	return "access file: " + strings.Join(texts, "; ")
}

// LoadAccessFile reads and parses the access file at path (following symlinks, as mounted volumes use them).
func LoadAccessFile(path string) (*AccessFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the access file: %w", err)
	}
	return ParseAccessFile(data)
}

// The file as TOML has it; fields are checked and turned into an AccessFile after decoding.
type rawAccessFile struct {
	Key      []rawKey      `toml:"key"`
	Identity []rawIdentity `toml:"identity"`
	Defaults struct {
		Limits map[string]string `toml:"limits"`
	} `toml:"defaults"`
}

type rawScopes struct {
	Read   []string `toml:"read"`
	Write  []string `toml:"write"`
	Delete []string `toml:"delete"`
}

type rawKey struct {
	Name    string            `toml:"name"`
	SHA256  string            `toml:"sha256"`
	Expires time.Time         `toml:"expires"`
	Limits  map[string]string `toml:"limits"`
	rawScopes
}

type rawIdentity struct {
	Name     string            `toml:"name"`
	Issuer   string            `toml:"issuer"`
	Audience string            `toml:"audience"`
	Claims   map[string]string `toml:"claims"`
	Limits   map[string]string `toml:"limits"`
	rawScopes
}

var decodeError = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

var validName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ValidName reports whether name may name a key or identity: 1 to 64 letters, digits, '-', '_' or '.'.
func ValidName(name string) bool { return validName.MatchString(name) }

// ParseAccessFile parses and checks an access file strictly: unknown fields, bad values and duplicate names are
// errors (an *AccessFileError) that name their line.
func ParseAccessFile(data []byte) (*AccessFile, error) {
	var raw rawAccessFile
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &AccessFileError{[]Problem{{pe.Position.Line, pe.Message}}}
		}
		// Type errors carry their line only in the text: "toml: line 5 (last key "key.name"): incompatible types...".
		if m := decodeError.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &AccessFileError{[]Problem{{line, m[2] + ": " + m[3]}}}
		}
		return nil, &AccessFileError{[]Problem{{0, strings.TrimPrefix(err.Error(), "toml: ")}}}
	}
	lines := newLineIndex(data)
	c := &checker{lines: lines, names: map[string]string{}, digests: map[[sha256.Size]byte]string{}}
	for _, key := range md.Undecoded() {
		c.add(lines.assignment(0, key[len(key)-1]), fmt.Sprintf("unknown field %q (the fields are name, sha256, expires, read, write, delete, limits for a [[key]]; "+
			"name, issuer, audience, claims, read, write, delete, limits for an [[identity]]; limits for [defaults])", key.String()))
	}
	f := &AccessFile{digest: sha256.Sum256(data)}
	if raw.Defaults.Limits != nil {
		limits, err := budget.ParseLimits(raw.Defaults.Limits)
		if err != nil {
			c.add(lines.assignment(lines.header("defaults"), "limits"), "defaults: limits: "+err.Error())
		}
		f.Defaults = limits
	}
	for i, k := range raw.Key {
		if key, ok := c.key(i, k); ok {
			f.Keys = append(f.Keys, key)
		}
	}
	for i, id := range raw.Identity {
		if identity, ok := c.identity(i, id); ok {
			f.Identities = append(f.Identities, identity)
		}
	}
	if len(c.problems) > 0 {
		return nil, &AccessFileError{c.problems}
	}
	return f, nil
}

// checker gathers the problems of one file.
type checker struct {
	lines    lineIndex
	problems []Problem
	names    map[string]string // lower-cased name -> what holds it, e.g. `key #1`
	digests  map[[sha256.Size]byte]string
}

func (c *checker) add(line int, msg string) { c.problems = append(c.problems, Problem{line, msg}) }

// entry reports a problem of the i-th table of kind ("key" or "identity"), at the line of field when it has one.
func (c *checker) entry(kind string, i int, name, field, msg string) {
	start := c.lines.table(kind, i)
	line := start
	if field != "" {
		if l := c.lines.assignment(start, field); l > 0 {
			line = l
		}
	}
	c.add(line, fmt.Sprintf("%s #%d (name %q): %s", kind, i+1, name, msg))
}

func (c *checker) name(kind string, i int, name string) {
	switch {
	case name == "":
		c.entry(kind, i, name, "", "name is missing")
	case !validName.MatchString(name):
		c.entry(kind, i, name, "name", "name must be 1 to 64 letters, digits, '-', '_' or '.'")
	default:
		holder := fmt.Sprintf("%s #%d", kind, i+1)
		if other, dup := c.names[strings.ToLower(name)]; dup {
			c.entry(kind, i, name, "name", "the name is already used by "+other+"; names are unique across keys and identities")
			return
		}
		c.names[strings.ToLower(name)] = holder
	}
}

func (c *checker) scopes(kind string, i int, name string, raw rawScopes) policy.Scopes {
	parse := func(field string, texts []string) []policy.Pattern {
		var out []policy.Pattern
		for _, text := range texts {
			p, err := policy.ParsePattern(text)
			if err != nil {
				c.entry(kind, i, name, field, field+": "+err.Error())
				continue
			}
			out = append(out, p)
		}
		return out
	}
	return policy.Scopes{Read: parse("read", raw.Read), Write: parse("write", raw.Write), Delete: parse("delete", raw.Delete)}
}

func (c *checker) key(i int, raw rawKey) (AccessKey, bool) {
	before := len(c.problems)
	c.name("key", i, raw.Name)
	key := AccessKey{Name: raw.Name, Expires: raw.Expires, Scopes: c.scopes("key", i, raw.Name, raw.rawScopes),
		Limits: c.limits("key", i, raw.Name, raw.Limits)}
	digest, err := hex.DecodeString(raw.SHA256)
	switch {
	case raw.SHA256 == "":
		c.entry("key", i, raw.Name, "", "sha256 is missing: `hf-micro keygen --name NAME` prints a key and its digest")
	case err != nil || len(digest) != sha256.Size:
		c.entry("key", i, raw.Name, "sha256", "sha256 must be 64 hex digits, the SHA-256 of the key (never the key itself)")
	default:
		copy(key.Digest[:], digest)
		if other, dup := c.digests[key.Digest]; dup {
			c.entry("key", i, raw.Name, "sha256", "the same sha256 as "+other)
		}
		c.digests[key.Digest] = fmt.Sprintf("key #%d", i+1)
	}
	if !raw.Expires.IsZero() {
		line := c.lines.assignment(c.lines.table("key", i), "expires")
		text := c.lines.value(line)
		switch {
		case line == 0: // written inline: no line to read the form from
		case len(text) == len("2006-01-02"):
			// A date alone: the key expires when that day begins, in UTC.
			key.Expires = time.Date(raw.Expires.Year(), raw.Expires.Month(), raw.Expires.Day(), 0, 0, 0, 0, time.UTC)
		case !zoned.MatchString(text):
			c.entry("key", i, raw.Name, "expires", "expires needs a time zone, e.g. 2027-03-01T00:00:00Z, or a date alone")
		}
	}
	return key, len(c.problems) == before
}

// zoned is a TOML datetime with its offset.
var zoned = regexp.MustCompile(`(?i)(z|[+-]\d\d:\d\d)$`)

func (c *checker) identity(i int, raw rawIdentity) (Identity, bool) {
	before := len(c.problems)
	c.name("identity", i, raw.Name)
	if err := checkIssuer(raw.Issuer); err != nil {
		c.entry("identity", i, raw.Name, "issuer", err.Error())
	}
	if strings.TrimSpace(raw.Audience) == "" {
		c.entry("identity", i, raw.Name, "audience", "audience is missing: the token's aud must name this server (e.g. \"hf-micro\")")
	}
	if len(raw.Claims) == 0 {
		// Without claims, every workload of the issuer (every GitHub repository in the world) would match.
		c.entry("identity", i, raw.Name, "claims", "claims are missing: name at least one (e.g. repository), or every workload of the issuer matches")
	}
	for claim := range raw.Claims {
		if claim == "" {
			c.entry("identity", i, raw.Name, "claims", "a claim has an empty name")
		}
	}
	return Identity{Name: raw.Name, Issuer: raw.Issuer, Audience: raw.Audience, Claims: raw.Claims,
		Scopes: c.scopes("identity", i, raw.Name, raw.rawScopes), Limits: c.limits("identity", i, raw.Name, raw.Limits)}, len(c.problems) == before
}

// limits reads a principal's own limits; nil (none written) means the file's defaults.
func (c *checker) limits(kind string, i int, name string, raw map[string]string) budget.Limits {
	if raw == nil {
		return nil
	}
	limits, err := budget.ParseLimits(raw)
	if err != nil {
		c.entry(kind, i, name, "limits", "limits: "+err.Error())
	}
	return limits
}

// checkIssuer wants an https URL with a host; http only for a loopback host (a test issuer).
func checkIssuer(issuer string) error {
	if issuer == "" {
		return errors.New("issuer is missing: the URL the tokens name as iss")
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("issuer %q is not a URL such as https://token.actions.githubusercontent.com", issuer)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("issuer %q must be an https URL (http only for a loopback host)", issuer)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// lineIndex finds lines in the file's text, for errors: TOML's decoder keeps no positions of decoded values.
type lineIndex []string

func newLineIndex(data []byte) lineIndex { return strings.Split(string(data), "\n") }

var tableHeader = regexp.MustCompile(`^\s*\[\[\s*(\w+)\s*\]\]`)

// table is the line (from 1) of the i-th [[kind]] header, or 0 when the table has none (an inline array).
func (l lineIndex) table(kind string, i int) int {
	n := 0
	for j, line := range l {
		if m := tableHeader.FindStringSubmatch(line); m != nil && m[1] == kind {
			if n == i {
				return j + 1
			}
			n++
		}
	}
	return 0
}

var singleHeader = regexp.MustCompile(`^\s*\[\s*(\w+)\s*\]`)

// header is the line (from 1) of the [name] header, or 0.
func (l lineIndex) header(name string) int {
	for j, line := range l {
		if m := singleHeader.FindStringSubmatch(line); m != nil && m[1] == name {
			return j + 1
		}
	}
	return 0
}

// assignment is the line of "field = ..." in the table that starts at line start (anywhere when start is 0),
// or 0.
func (l lineIndex) assignment(start int, field string) int {
	from := max(start-1, 0)
	for j := from; j < len(l); j++ {
		trimmed := strings.TrimSpace(l[j])
		if j > from && start > 0 && strings.HasPrefix(trimmed, "[") {
			return 0
		}
		if k, _, ok := strings.Cut(trimmed, "="); ok && strings.Trim(strings.TrimSpace(k), `"'`) == field {
			return j + 1
		}
	}
	return 0
}

// value is the text after '=' on a line (from 1), without a trailing comment.
func (l lineIndex) value(line int) string {
	if line < 1 || line > len(l) {
		return ""
	}
	_, v, _ := strings.Cut(l[line-1], "=")
	v, _, _ = strings.Cut(v, "#")
	return strings.TrimSpace(v)
}
