package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// maxJWKSBytes bounds an issuer's key set document.
const maxJWKSBytes = 1 << 20

// issuerKeys is one issuer's signing keys, as a go-oidc KeySet. go-oidc's own RemoteKeySet fetches the keys
// again for every token whose key id it does not know, or whose signature fails, so a stream of forged tokens
// would become a stream of requests to the issuer; this one fetches at most once every keyRefetchInterval
// (issuerRetryInterval after a failure). The signatures themselves are checked by go-jose.
type issuerKeys struct {
	issuer   string
	client   *http.Client
	now      func() time.Time
	verifier *oidc.IDTokenVerifier

	fetching sync.Mutex // one discovery and key fetch at a time

	mu         sync.Mutex // guards the fields below
	jwksURL    string     // from discovery, once it has succeeded
	keys       []jose.JSONWebKey
	generation int       // counts fetch attempts, to tell whether one happened while waiting for fetching
	attempted  time.Time // of the last fetch attempt
	failed     error     // of the last attempt; nil after a success
}

func newIssuerKeys(issuer string, client *http.Client, now func() time.Time) *issuerKeys {
	k := &issuerKeys{issuer: issuer, client: client, now: now}
	k.verifier = oidc.NewVerifier(issuer, k, &oidc.Config{
		SupportedSigningAlgs: []string{string(jose.RS256), string(jose.ES256)},
		SkipClientIDCheck:    true, // each rule's audience is checked by Verifier.match
		SkipExpiryCheck:      true, // exp, nbf and iat are checked by tokenTimes, with one clock allowance
	})
	return k
}

// VerifySignature checks the signature of a JWT with the issuer's keys, fetching them when none fits.
func (k *issuerKeys) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	jws, err := jose.ParseSigned(jwt, acceptedAlgs)
	if err != nil {
		return nil, err
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("want exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID

	k.mu.Lock()
	keys, generation := k.keys, k.generation
	k.mu.Unlock()
	if payload, ok := verifyWith(jws, keys, kid); ok {
		return payload, nil
	}
	keys, err = k.refresh(ctx, generation)
	if err != nil {
		var unavailable *IssuerUnavailableError
		if outcome, ok := ctx.Value(fetchOutcomeKey{}).(*fetchOutcome); ok && errors.As(err, &unavailable) {
			outcome.unavailable = unavailable
		}
		return nil, err
	}
	if payload, ok := verifyWith(jws, keys, kid); ok {
		return payload, nil
	}
	return nil, fmt.Errorf("no key of the issuer with key id %q verifies it (keys are fetched again at most every %s)", clip(kid), keyRefetchInterval)
}

func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey, kid string) ([]byte, bool) {
	for i := range keys {
		if kid != "" && keys[i].KeyID != kid {
			continue
		}
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// refresh fetches the keys (after discovery, the first time) unless another caller did since generation,
// or the last attempt was too recent; it returns the keys to try.
func (k *issuerKeys) refresh(ctx context.Context, generation int) ([]jose.JSONWebKey, error) {
	k.fetching.Lock()
	defer k.fetching.Unlock()

	k.mu.Lock()
	keys, jwksURL, attempted, failed := k.keys, k.jwksURL, k.attempted, k.failed
	fresh := k.generation != generation
	k.mu.Unlock()
	wait := keyRefetchInterval
	if failed != nil {
		wait = issuerRetryInterval
	}
	if since := k.now().Sub(attempted); fresh || (!attempted.IsZero() && since < wait) {
		if failed != nil {
			return nil, &IssuerUnavailableError{Issuer: k.issuer, RetryAfter: max(wait-since, time.Second), Err: failed}
		}
		return keys, nil
	}

	if jwksURL == "" {
		var err error
		if jwksURL, err = k.discover(ctx); err != nil {
			return nil, k.record(ctx, "", nil, err)
		}
	}
	keys, err := k.fetch(ctx, jwksURL)
	return keys, k.record(ctx, jwksURL, keys, err)
}

// record keeps the outcome of an attempt; one cut short by the caller's context is not held against the
// issuer.
func (k *issuerKeys) record(ctx context.Context, jwksURL string, keys []jose.JSONWebKey, err error) error {
	if err != nil && ctx.Err() != nil {
		return &IssuerUnavailableError{Issuer: k.issuer, RetryAfter: time.Second, Err: ctx.Err()}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.generation++
	k.attempted, k.failed = k.now(), err
	if err != nil {
		return &IssuerUnavailableError{Issuer: k.issuer, RetryAfter: issuerRetryInterval, Err: err}
	}
	k.jwksURL, k.keys = jwksURL, keys
	return nil
}

// discover reads the issuer's discovery document with go-oidc, which checks that it names the same issuer.
func (k *issuerKeys) discover(ctx context.Context) (string, error) {
	if !strings.HasPrefix(k.issuer, "https://") {
		return "", errors.New("discovery: the issuer is not an https URL")
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, k.client), k.issuer)
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	var doc struct {
		JWKSURL string `json:"jwks_uri"`
	}
	if err := provider.Claims(&doc); err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	if u, err := url.Parse(doc.JWKSURL); err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("discovery: jwks_uri %q is not an https URL", clip(doc.JWKSURL))
	}
	return doc.JWKSURL, nil
}

// fetch reads the key set, keeping the RSA and ECDSA signing keys and skipping any it does not understand.
func (k *issuerKeys) fetch(ctx context.Context, jwksURL string) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("keys: %s answered %s", jwksURL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("keys: not a key set: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if json.Unmarshal(raw, &key) != nil || (key.Use != "" && key.Use != "sig") {
			continue
		}
		switch key.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("keys: the key set holds no RSA or ECDSA signing key")
	}
	return keys, nil
}
