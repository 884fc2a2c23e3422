package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// IdentityRule is what verifying a workload's ID token needs of an [[identity]] in the access file.
type IdentityRule struct {
	Name     string
	Issuer   string            // exactly as the tokens' "iss" claim spells it
	Audience string            // must be one of the token's "aud"
	Claims   map[string]string // every one must match a string claim of the token; "*" matches any run of characters, "/" included
}

// IdentityMatch is a verified ID token and the first rule it matched.
type IdentityMatch struct {
	Rule    string // the IdentityRule's name
	Subject string // the token's "sub", for the audit trail
	Issuer  string
	Expiry  time.Time
}

// IssuerUnavailableError means a token could not be checked because its issuer's discovery document or keys
// could not be fetched: the server answers 503 with Retry-After, never lets the caller in.
type IssuerUnavailableError struct {
	Issuer     string
	RetryAfter time.Duration
	Err        error
}

func (e *IssuerUnavailableError) Error() string {
	return fmt.Sprintf("the identity issuer %s cannot be reached to check the token, try again later: %v", e.Issuer, e.Err)
}

func (e *IssuerUnavailableError) Unwrap() error { return e.Err }

const (
	// maxClockSkew is how far the issuer's clock and ours may disagree on exp, nbf and iat.
	maxClockSkew = 60 * time.Second
	// keyRefetchInterval bounds how often a token with an unknown key id makes us fetch an issuer's keys.
	keyRefetchInterval = 30 * time.Second
	// issuerRetryInterval bounds how often a failing issuer is tried again.
	issuerRetryInterval = 5 * time.Second
)

// acceptedAlgs are the only signature algorithms accepted: never "none", never HMAC.
var acceptedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// Verifier checks OpenID Connect ID tokens against identity rules. It contacts only the issuers the rules
// name, each lazily on its first token, and keeps their keys. It is safe for concurrent use.
type Verifier struct {
	rules  []IdentityRule
	client *http.Client
	now    func() time.Time // tests replace it right after NewVerifier

	mu      sync.Mutex
	issuers map[string]*issuerKeys
}

// NewVerifier returns a verifier for rules; client fetches discovery documents and keys (it should trust the
// system CAs, and have a timeout).
func NewVerifier(rules []IdentityRule, client *http.Client) *Verifier {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Verifier{rules: slices.Clone(rules), client: client, now: time.Now, issuers: map[string]*issuerKeys{}}
}

// Verify checks rawToken and returns the first rule, in order, whose issuer, audience and claims it matches.
// A token that is invalid, expired or matches no rule is an *Error (401); an issuer that cannot be reached is
// an *IssuerUnavailableError (503).
func (v *Verifier) Verify(ctx context.Context, rawToken string) (IdentityMatch, error) {
	// The issuer is read before the token is verified only to choose whom to ask for keys: an issuer no rule
	// names is never contacted.
	issuer, err := unverifiedIssuer(rawToken)
	if err != nil {
		return IdentityMatch{}, &Error{"the bearer token is not a valid ID token: " + err.Error()}
	}
	keys := v.keysFor(issuer)
	if keys == nil {
		return IdentityMatch{}, &Error{fmt.Sprintf("ID tokens from the issuer %q are not accepted here: no [[identity]] names it", clip(issuer))}
	}
	// The algorithm is checked before any network call, so that an unsigned or HMAC token costs nothing.
	if _, err := jose.ParseSigned(rawToken, acceptedAlgs); err != nil {
		return IdentityMatch{}, &Error{"the ID token must be signed with RS256 or ES256"}
	}

	outcome := &fetchOutcome{}
	token, err := keys.verifier.Verify(context.WithValue(ctx, fetchOutcomeKey{}, outcome), rawToken)
	if outcome.unavailable != nil {
		return IdentityMatch{}, outcome.unavailable
	}
	if err != nil {
		return IdentityMatch{}, &Error{"invalid ID token: " + strings.TrimPrefix(err.Error(), "oidc: ")}
	}
	var times tokenTimes
	if err := token.Claims(&times); err != nil {
		return IdentityMatch{}, &Error{"invalid ID token: " + err.Error()}
	}
	if err := times.check(v.now()); err != nil {
		return IdentityMatch{}, err
	}
	var claims map[string]any
	if err := token.Claims(&claims); err != nil {
		return IdentityMatch{}, &Error{"invalid ID token: " + err.Error()}
	}
	rule, err := v.match(issuer, token.Audience, claims)
	if err != nil {
		return IdentityMatch{}, err
	}
	return IdentityMatch{Rule: rule.Name, Subject: token.Subject, Issuer: issuer, Expiry: token.Expiry}, nil
}

// keysFor returns the issuer's keys, made on its first token; nil when no rule names the issuer.
func (v *Verifier) keysFor(issuer string) *issuerKeys {
	if !slices.ContainsFunc(v.rules, func(r IdentityRule) bool { return r.Issuer == issuer }) {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	keys := v.issuers[issuer]
	if keys == nil {
		keys = newIssuerKeys(issuer, v.client, v.now)
		v.issuers[issuer] = keys
	}
	return keys
}

// match returns the first rule of issuer whose audience and claims the verified token matches; when none
// does, the error says what differed for the first rule that accepts the audience.
func (v *Verifier) match(issuer string, audience []string, claims map[string]any) (IdentityRule, error) {
	var mismatch error
	for _, rule := range v.rules {
		if rule.Issuer != issuer || !slices.Contains(audience, rule.Audience) {
			continue
		}
		err := matchClaims(rule, claims)
		if err == nil {
			return rule, nil
		}
		if mismatch == nil {
			mismatch = err
		}
	}
	if mismatch == nil {
		mismatch = &Error{fmt.Sprintf("the ID token's audience %q is not one an [[identity]] of %s accepts", clip(strings.Join(audience, ",")), issuer)}
	}
	return IdentityRule{}, mismatch
}

func matchClaims(rule IdentityRule, claims map[string]any) error {
	names := make([]string, 0, len(rule.Claims))
	for name := range rule.Claims {
		names = append(names, name)
	}
	slices.Sort(names) // the same claim is named every time
	for _, name := range names {
		value, ok := claims[name].(string)
		if !ok {
			return &Error{fmt.Sprintf("the ID token matches no [[identity]]: %s wants the claim %q, which the token lacks or is not a string", rule.Name, name)}
		}
		if !globMatch(rule.Claims[name], value) {
			return &Error{fmt.Sprintf("the ID token matches no [[identity]]: %s wants %s = %q, the token has %q", rule.Name, name, rule.Claims[name], clip(value))}
		}
	}
	return nil
}

// globMatch reports whether s matches pattern, where "*" matches any run of characters ("/" included, so that
// "refs/heads/*" matches "refs/heads/release/1.0") and every other character matches itself.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, starI := -1, 0 // the last "*" seen, and where in s its run ends so far
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, starI = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0: // let the last "*" take one more character
			starI++
			p, i = star+1, starI
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// tokenTimes are the claims checked against the clock. go-oidc checks exp with no allowance, nbf with five
// minutes and ignores iat; these are checked here instead, all with maxClockSkew.
type tokenTimes struct {
	Exp *json.Number `json:"exp"`
	Nbf *json.Number `json:"nbf"`
	Iat *json.Number `json:"iat"`
}

func (t tokenTimes) check(now time.Time) error {
	exp, err := unixTime("exp", t.Exp, true)
	if err != nil {
		return err
	}
	if now.After(exp.Add(maxClockSkew)) {
		return &Error{"the ID token has expired"}
	}
	iat, err := unixTime("iat", t.Iat, true)
	if err != nil {
		return err
	}
	if iat.After(now.Add(maxClockSkew)) {
		return &Error{"the ID token was issued in the future: check the clocks"}
	}
	nbf, err := unixTime("nbf", t.Nbf, false)
	if err != nil {
		return err
	}
	if nbf.After(now.Add(maxClockSkew)) {
		return &Error{"the ID token is not valid yet (nbf)"}
	}
	return nil
}

func unixTime(name string, n *json.Number, required bool) (time.Time, error) {
	if n == nil {
		if required {
			return time.Time{}, &Error{"the ID token has no " + name + " claim"}
		}
		return time.Time{}, nil
	}
	secs, err := n.Float64()
	if err != nil {
		return time.Time{}, &Error{"the ID token's " + name + " claim is not a number"}
	}
	return time.Unix(int64(secs), 0), nil
}

// unverifiedIssuer reads a JWT's "iss" claim without checking anything else.
func unverifiedIssuer(raw string) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", errors.New("a JWT has three parts separated by dots")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", errors.New("its payload is not base64url")
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", errors.New("its payload is not a JSON object")
	}
	if claims.Iss == "" {
		return "", errors.New("it names no issuer (iss)")
	}
	return claims.Iss, nil
}

// clip shortens text from an unverified token before it goes into an error message.
func clip(s string) string {
	const most = 100
	if len(s) > most {
		return s[:most] + "..."
	}
	return s
}

// fetchOutcome carries a failure to reach the issuer out of the key set, through go-oidc, which keeps only
// the text of the errors its key set returns.
type fetchOutcome struct{ unavailable *IssuerUnavailableError }

type fetchOutcomeKey struct{}

var _ oidc.KeySet = (*issuerKeys)(nil)
