// Package auth decides who a caller is and whose Hub token their request may use: a client key (of
// HF_MICRO_API_KEYS or the access file) or a loopback caller uses the server's token within its scopes, a
// caller's own Hub token is forwarded as theirs, anyone else is refused.
package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/policy"
)

// Kind is how a caller was recognised.
type Kind string

const (
	ClientKey   Kind = "key"          // presented a configured client key
	CallerToken Kind = "caller-token" // presented their own Hub token
	Loopback    Kind = "loopback"     // no credential, from this machine, with no keys configured
	Anonymous   Kind = "anonymous"    // no credential, let in by HF_MICRO_ALLOW_ANONYMOUS
	Workload    Kind = "identity"     // a workload's OIDC ID token, or a key exchanged for one
)

// Caller is the authenticated caller of one request: a principal with its scopes, or a caller with its own
// Hub token.
type Caller struct {
	Kind Kind
	// Name is, for ClientKey, the key's name in the access file, or for an HF_MICRO_API_KEYS key a short,
	// non-reversible id of it.
	Name    string
	Scopes  policy.Scopes // what it may do with the server's token (within the global policy)
	Expires time.Time     // when its key expires; zero for never
	Token   hub.Token     // for CallerToken: the caller's own Hub token, forwarded as it is
	Subject string        // for Workload: the ID token's "sub" (e.g. a GitHub repository and ref), for the audit trail
	// Limits are its budgets with the server's token (the access file's); nil or empty: not counted.
	Limits budget.Limits

	tokenDigest [sha256.Size]byte // of Token, to tell callers' tokens apart without keeping them around
}

// TokenDigest is the SHA-256 of a caller's own token (zero for other callers): a key for per-credential state
// that holds no secret.
func (c Caller) TokenDigest() [sha256.Size]byte { return c.tokenDigest }

// UsesServerToken reports whether the request acts with the server's Hub token, and so falls under the policy.
func (c Caller) UsesServerToken() bool { return c.Kind != CallerToken }

// String names the caller in logs; it never contains a credential.
func (c Caller) String() string {
	switch c.Kind {
	case ClientKey:
		return "key:" + c.Name
	case Workload:
		return "identity:" + c.Name
	}
	return string(c.Kind)
}

// Options are the authentication settings.
type Options struct {
	Keys           *Keys   // HF_MICRO_API_KEYS: principals with full scopes
	Access         *Access // HF_MICRO_ACCESS_FILE: named keys with their own scopes; nil without one
	CallerTokens   bool    // forward callers' own Hub tokens
	AllowAnonymous bool    // let unauthenticated callers from anywhere use the server's token
	// SigningKey signs and checks the keys POST /api/identity/exchange hands out; zero turns exchange off.
	SigningKey SigningKey
	// IssuerClient fetches OIDC issuers' discovery documents and keys; nil means the system CAs, 10 s timeout.
	IssuerClient *http.Client
}

// Authenticator recognises callers.
type Authenticator struct {
	opts     Options
	verifier atomic.Pointer[fileVerifier] // for the access file in force
}

// fileVerifier is the OIDC verifier made from one version of the access file's identities.
type fileVerifier struct {
	file     *AccessFile
	verifier *Verifier
}

func New(opts Options) *Authenticator { return &Authenticator{opts: opts} }

// Error is a refusal: always 401, with a message that says what to send instead.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Authenticate recognises the caller of r. The peer address is the socket's: X-Forwarded-For and the like are
// ignored, as any caller can write them.
func (a *Authenticator) Authenticate(r *http.Request) (Caller, error) {
	credential, err := bearer(r.Header)
	if err != nil {
		return Caller{}, err
	}
	if credential != "" {
		return a.recognise(r.Context(), credential)
	}
	switch {
	case a.opts.Keys.Len() > 0 || a.opts.Access != nil:
		return Caller{}, &Error{"a client key is required: send Authorization: Bearer <key>"}
	case IsLoopback(r.RemoteAddr):
		return Caller{Kind: Loopback, Scopes: policy.FullScopes()}, nil
	case a.opts.AllowAnonymous:
		return Caller{Kind: Anonymous, Scopes: policy.FullScopes()}, nil
	default:
		return Caller{}, &Error{"hf-micro only serves unauthenticated callers on its own machine: send a client key " +
			"(the server sets HF_MICRO_API_KEYS; `hf-micro keygen` makes one) or your own Hub token as Authorization: Bearer"}
	}
}

func (a *Authenticator) recognise(ctx context.Context, credential string) (Caller, error) {
	if id, ok := a.opts.Keys.Match(credential); ok {
		// A key of HF_MICRO_API_KEYS has the access file's default limits, when there is a file.
		var limits budget.Limits
		if a.opts.Access != nil {
			limits = a.opts.Access.Load().Defaults
		}
		return Caller{Kind: ClientKey, Name: id, Scopes: policy.FullScopes(), Limits: limits}, nil
	}
	if a.opts.Access != nil {
		file := a.opts.Access.Load()
		if key, ok := file.match(credential); ok {
			if key.Expired(time.Now()) {
				return Caller{}, &Error{fmt.Sprintf("key expired: the key %q expired at %s", key.Name, key.Expires.UTC().Format(time.RFC3339))}
			}
			return Caller{Kind: ClientKey, Name: key.Name, Scopes: key.Scopes, Expires: key.Expires, Limits: file.LimitsOf(key.Limits)}, nil
		}
	}
	switch {
	case strings.HasPrefix(credential, ExchangeKeyPrefix):
		return a.exchanged(credential)
	case len(credential) >= len(KeyPrefix) && strings.EqualFold(credential[:len(KeyPrefix)], KeyPrefix):
		// Never forwarded: a mistyped or revoked key (in any letter case) must not reach the Hub as a token.
		return Caller{}, &Error{"unknown client key"}
	case LooksLikeJWT(credential):
		// Never forwarded either, whatever its fate: an ID token proves a workload's identity to hf-micro.
		return a.VerifyIdentity(ctx, credential)
	case !a.opts.CallerTokens:
		return Caller{}, &Error{"this hf-micro does not forward callers' own Hub tokens (HF_MICRO_CALLER_TOKENS=false): send a client key"}
	}
	return Caller{Kind: CallerToken, Token: hub.NewToken(credential), tokenDigest: sha256.Sum256([]byte(credential))}, nil
}

// VerifyIdentity recognises a workload by its OIDC ID token: the first [[identity]] of the access file whose
// issuer, audience and claims it matches. An invalid token is an *Error (401); an issuer that cannot be
// reached is an *IssuerUnavailableError (503).
func (a *Authenticator) VerifyIdentity(ctx context.Context, idToken string) (Caller, error) {
	file, verifier := a.identities()
	if verifier == nil {
		return Caller{}, &Error{"OIDC identities are not configured on this hf-micro (no [[identity]] in HF_MICRO_ACCESS_FILE): send a client key"}
	}
	match, err := verifier.Verify(ctx, idToken)
	if err != nil {
		return Caller{}, err
	}
	identity, ok := file.identity(match.Rule)
	if !ok {
		return Caller{}, &Error{"identity " + match.Rule + " is no longer in the access file"}
	}
	return Caller{Kind: Workload, Name: identity.Name, Scopes: identity.Scopes, Expires: match.Expiry, Subject: match.Subject,
		Limits: file.LimitsOf(identity.Limits)}, nil
}

// identities returns the access file in force and a verifier for its identities (nil when it has none),
// made again when the file has changed. Each new verifier discovers its issuers afresh, once.
func (a *Authenticator) identities() (*AccessFile, *Verifier) {
	if a.opts.Access == nil {
		return nil, nil
	}
	file := a.opts.Access.Load()
	if current := a.verifier.Load(); current != nil && current.file == file {
		return file, current.verifier
	}
	fv := &fileVerifier{file: file}
	if len(file.Identities) > 0 {
		rules := make([]IdentityRule, len(file.Identities))
		for i, id := range file.Identities {
			rules[i] = IdentityRule{Name: id.Name, Issuer: id.Issuer, Audience: id.Audience, Claims: id.Claims}
		}
		fv.verifier = NewVerifier(rules, a.opts.IssuerClient)
	}
	a.verifier.Store(fv)
	return file, fv.verifier
}

// exchanged recognises a key handed out by POST /api/identity/exchange: signed with the signing key, not
// expired, and for an identity the access file in force still has (removing it revokes its keys).
func (a *Authenticator) exchanged(key string) (Caller, error) {
	if a.opts.SigningKey.IsZero() || a.opts.Access == nil {
		return Caller{}, &Error{"exchanged keys are not accepted here (no HF_MICRO_SIGNING_KEY or access file)"}
	}
	name, sub, expires, err := VerifyExchangeKey(a.opts.SigningKey, key, time.Now())
	if err != nil {
		return Caller{}, err
	}
	file := a.opts.Access.Load()
	identity, ok := file.identity(name)
	if !ok {
		return Caller{}, &Error{"exchanged key refused: identity " + name + " is no longer in the access file"}
	}
	return Caller{Kind: Workload, Name: identity.Name, Scopes: identity.Scopes, Expires: expires, Subject: sub,
		Limits: file.LimitsOf(identity.Limits)}, nil
}

// Exchange mints a short-lived key for a workload that proved its identity with an ID token.
func (a *Authenticator) Exchange(caller Caller, now time.Time) (key string, expires time.Time, err error) {
	if caller.Kind != Workload {
		return "", time.Time{}, &Error{"only an OIDC ID token can be exchanged for a key"}
	}
	return MintExchangeKey(a.opts.SigningKey, caller.Name, caller.Subject, now, MaxExchangeTTL)
}

// CanExchange reports whether keys can be handed out: a signing key and an access file are configured.
func (a *Authenticator) CanExchange() bool {
	return !a.opts.SigningKey.IsZero() && a.opts.Access != nil
}

// LooksLikeJWT reports whether a credential is shaped like a JSON Web Token (such as an OIDC ID token): three
// parts separated by dots, the first a base64url JSON object ("eyJ" is how `{"` begins, and any header with an
// "alg" counts too). The test is broad on purpose: whatever fails it may be forwarded to the Hub as the
// caller's own token.
func LooksLikeJWT(credential string) bool {
	header, _, _ := strings.Cut(credential, ".")
	if strings.Count(credential, ".") != 2 {
		return false
	}
	if strings.HasPrefix(header, "eyJ") {
		return true
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(header, "="))
	var fields map[string]json.RawMessage
	if err != nil || json.Unmarshal(raw, &fields) != nil {
		return false
	}
	_, hasAlg := fields["alg"]
	return hasAlg
}

// SendsCredential reports whether a request brings a credential of its own (a key or a Hub token), and so
// would not be served as this machine's (Loopback) caller.
func SendsCredential(h http.Header) bool {
	credential, err := bearer(h)
	return credential != "" || err != nil
}

// bearer reads "Authorization: Bearer <credential>". No header, and the literal "undefined" that
// @huggingface/hub sends when it has no token, mean no credential.
func bearer(h http.Header) (string, error) {
	values := h.Values("Authorization")
	if len(values) == 0 {
		return "", nil
	}
	scheme, credential, _ := strings.Cut(values[0], " ")
	credential = strings.TrimSpace(credential)
	switch {
	case len(values) > 1:
		return "", &Error{"send one Authorization header"}
	case !strings.EqualFold(scheme, "Bearer"):
		return "", &Error{"send the credential as Authorization: Bearer <key or Hub token>"}
	case credential == "" || credential == "undefined":
		return "", nil
	case strings.ContainsFunc(credential, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
		return "", &Error{"the bearer credential contains spaces or characters no key or token has"}
	}
	return credential, nil
}

// IsLoopback reports whether a socket address ("host:port") is on this machine.
func IsLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}
