// Package testissuer is an OpenID Connect issuer for tests: discovery and a key set (JWKS) over HTTPS on
// loopback, throwaway RSA and ECDSA keys, key rotation, a switch that makes it fail, a count of the requests
// it received, and a signer that can also make the bad tokens an attacker would send.
package testissuer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Failure is how the issuer answers while it is failing.
type Failure int

const (
	Healthy     Failure = iota
	ServerError         // every request gets 500
	Down                // every connection is closed without an answer
)

// Alg is how Sign signs a token.
type Alg string

const (
	RS256 Alg = "RS256" // the default
	ES256 Alg = "ES256"
	// None is an unsigned token ("alg": "none", empty signature).
	None Alg = "none"
	// HS256PublicKey is the key-confusion attack: HMAC-SHA256 keyed with the RSA public key's PEM bytes,
	// which a verifier that lets the token choose its algorithm would accept.
	HS256PublicKey Alg = "HS256-public-key"
)

// SignOptions change how Sign signs; the zero value signs with the current RSA key, RS256.
type SignOptions struct {
	Alg Alg
	KID string // overrides the key id in the header (e.g. one the issuer never published)
}

// Issuer is a running test issuer. URL is its issuer identifier (what tokens carry as "iss").
type Issuer struct {
	URL string

	srv *httptest.Server

	mu       sync.Mutex
	rsaKey   *rsa.PrivateKey
	rsaKID   string
	ecKey    *ecdsa.PrivateKey
	ecKID    string
	rotation int
	failure  Failure
	requests map[string]int // by path
}

// New starts an issuer; it stops when the test ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	iss := &Issuer{requests: map[string]int{}}
	iss.newRSAKey(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss.ecKey, iss.ecKID = ecKey, "ec-1"

	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", iss.discovery)
	mux.HandleFunc("GET /jwks", iss.jwks)
	iss.srv = httptest.NewTLSServer(iss.counting(mux))
	t.Cleanup(iss.srv.Close)
	iss.URL = iss.srv.URL
	return iss
}

func (iss *Issuer) newRSAKey(t testing.TB) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss.rotation++
	iss.rsaKey, iss.rsaKID = key, fmt.Sprintf("rsa-%d", iss.rotation)
}

// Client is an HTTP client that trusts the issuer's certificate (and nothing else).
func (iss *Issuer) Client() *http.Client { return iss.srv.Client() }

// CertificatePEM is the issuer's TLS certificate, for a process that trusts it through SSL_CERT_FILE.
func (iss *Issuer) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: iss.srv.Certificate().Raw})
}

// Requests is the number of requests the issuer has received, of any kind.
func (iss *Issuer) Requests() int {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	n := 0
	for _, count := range iss.requests {
		n += count
	}
	return n
}

// JWKSRequests is the number of requests for the key set.
func (iss *Issuer) JWKSRequests() int {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.requests["/jwks"]
}

// DiscoveryRequests is the number of requests for the discovery document.
func (iss *Issuer) DiscoveryRequests() int {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.requests["/.well-known/openid-configuration"]
}

// Fail makes the issuer fail as f from now on; Fail(Healthy) heals it.
func (iss *Issuer) Fail(f Failure) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.failure = f
}

// Rotate replaces the RSA key with a new one under a new key id; the old key leaves the key set.
func (iss *Issuer) Rotate(t testing.TB) {
	t.Helper()
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.newRSAKey(t)
}

// KID is the key id of the current RSA key.
func (iss *Issuer) KID() string {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.rsaKID
}

// Claims are the claims of a valid token for audience, issued now and valid for an hour.
func (iss *Issuer) Claims(sub, audience string, now time.Time) map[string]any {
	return map[string]any{
		"iss": iss.URL,
		"sub": sub,
		"aud": audience,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
}

// Sign makes a compact JWT of claims.
func (iss *Issuer) Sign(t testing.TB, claims map[string]any, opts SignOptions) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	iss.mu.Lock()
	rsaKey, rsaKID, ecKey, ecKID := iss.rsaKey, iss.rsaKID, iss.ecKey, iss.ecKID
	iss.mu.Unlock()

	var key jose.SigningKey
	kid := opts.KID
	switch opts.Alg {
	case "", RS256:
		key = jose.SigningKey{Algorithm: jose.RS256, Key: rsaKey}
		kid = or(kid, rsaKID)
	case ES256:
		key = jose.SigningKey{Algorithm: jose.ES256, Key: ecKey}
		kid = or(kid, ecKID)
	case HS256PublicKey:
		der, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		key = jose.SigningKey{Algorithm: jose.HS256, Key: secret}
		kid = or(kid, rsaKID)
	case None:
		header := map[string]string{"alg": "none", "typ": "JWT"}
		if kid != "" {
			header["kid"] = kid
		}
		h, _ := json.Marshal(header)
		return segment(h) + "." + segment(payload) + "."
	default:
		t.Fatalf("testissuer: unknown alg %q", opts.Alg)
	}
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func segment(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func or(s, fallback string) string {
	if s != "" {
		return s
	}
	return fallback
}

// counting counts every request and applies the failure switch before the real handlers.
func (iss *Issuer) counting(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iss.mu.Lock()
		iss.requests[r.URL.Path]++
		failure := iss.failure
		iss.mu.Unlock()
		switch failure {
		case ServerError:
			http.Error(w, "the issuer is broken", http.StatusInternalServerError)
		case Down:
			panic(http.ErrAbortHandler) // closes the connection without an answer
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (iss *Issuer) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                iss.URL,
		"jwks_uri":                              iss.URL + "/jwks",
		"authorization_endpoint":                iss.URL + "/authorize",
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
	})
}

func (iss *Issuer) jwks(w http.ResponseWriter, r *http.Request) {
	iss.mu.Lock()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &iss.rsaKey.PublicKey, KeyID: iss.rsaKID, Algorithm: "RS256", Use: "sig"},
		{Key: &iss.ecKey.PublicKey, KeyID: iss.ecKID, Algorithm: "ES256", Use: "sig"},
	}}
	iss.mu.Unlock()
	writeJSON(w, set)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
