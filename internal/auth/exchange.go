package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// ExchangeKeyPrefix starts every exchanged key. It starts with KeyPrefix, so a mistyped or forged exchanged
// key is refused as an unknown client key and never forwarded to the Hub; a generated client key never
// starts with it (its random part is upper-case base32).
const ExchangeKeyPrefix = KeyPrefix + "x_"

// MaxExchangeTTL is the longest an exchanged key is valid.
const MaxExchangeTTL = time.Hour

// maxExchangeKeyLength refuses absurd input before any decoding.
const maxExchangeKeyLength = 2048

// exchangeEncoding is base64url without padding, strict so that each key has one spelling only.
var exchangeEncoding = base64.RawURLEncoding.Strict()

// SigningKey is the secret the replicas share to sign exchanged keys (HF_MICRO_SIGNING_KEY). It prints as
// REDACTED, and holds its bytes behind a pointer so that a struct printed with %+v shows no secret either.
type SigningKey struct{ value *[]byte }

// SigningKeyBytes is the length of a signing key; it is written as twice as many hex digits.
const SigningKeyBytes = 32

// GenerateSigningKey returns a new random signing key, as hex.
func GenerateSigningKey() string {
	b := make([]byte, SigningKeyBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return hex.EncodeToString(b)
}

// ParseSigningKey reads a key written as 64 hex digits. Its errors never quote the value.
func ParseSigningKey(text string) (SigningKey, error) {
	text = strings.TrimSpace(text)
	b, err := hex.DecodeString(text)
	switch {
	case err != nil || len(b) != SigningKeyBytes:
		return SigningKey{}, fmt.Errorf("want %d hex digits (%d random bytes); the value (not shown) is %d characters that are not; `hf-micro keygen --signing-key` makes one",
			2*SigningKeyBytes, SigningKeyBytes, len(text))
	case strings.Count(text, text[:1]) == len(text):
		return SigningKey{}, errors.New("is one digit repeated, not a random key; `hf-micro keygen --signing-key` makes one")
	}
	return SigningKey{value: &b}, nil
}

// IsZero reports whether no key is set.
func (k SigningKey) IsZero() bool { return k.value == nil }

func (k SigningKey) String() string               { return "REDACTED" }
func (k SigningKey) GoString() string             { return "REDACTED" }
func (k SigningKey) LogValue() slog.Value         { return slog.StringValue("REDACTED") }
func (k SigningKey) MarshalText() ([]byte, error) { return []byte("REDACTED"), nil }

// mac signs the key's text before the dot (prefix included, so that the signature means "an exchanged key").
func (k SigningKey) mac(signed string) []byte {
	m := hmac.New(sha256.New, *k.value)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// exchangePayload is what an exchanged key says. The identity's name ties it to the access file: removing the
// identity revokes every key exchanged for it.
type exchangePayload struct {
	Identity string `json:"identity"`
	Subject  string `json:"sub"`
	IssuedAt int64  `json:"iat"`
	Expires  int64  `json:"exp"`
	ID       string `json:"jti"` // random: two keys minted in the same second differ
}

// MintExchangeKey returns a key for identity and the token subject sub, valid from now for ttl (at most
// MaxExchangeTTL, to the second): "hf_micro_x_" + base64url(JSON payload) + "." + base64url(HMAC-SHA256).
// It is self-contained, so any replica with the same signing key accepts it.
func MintExchangeKey(signingKey SigningKey, identity, sub string, now time.Time, ttl time.Duration) (key string, expires time.Time, err error) {
	if signingKey.IsZero() {
		return "", time.Time{}, errors.New("no signing key is configured (HF_MICRO_SIGNING_KEY)")
	}
	if identity == "" {
		return "", time.Time{}, errors.New("an exchanged key needs an identity")
	}
	ttl = min(max(ttl, time.Second), MaxExchangeTTL)
	expires = now.Add(ttl).Truncate(time.Second)
	key, err = signExchangeKey(signingKey, exchangePayload{Identity: identity, Subject: sub, IssuedAt: now.Unix(), Expires: expires.Unix(), ID: rand.Text()[:10]})
	return key, expires, err
}

func signExchangeKey(signingKey SigningKey, p exchangePayload) (string, error) {
	payload, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	signed := ExchangeKeyPrefix + exchangeEncoding.EncodeToString(payload)
	return signed + "." + exchangeEncoding.EncodeToString(signingKey.mac(signed)), nil
}

// VerifyExchangeKey checks an exchanged key's signature (in constant time) and expiry, and returns what it
// says. A refusal is an *Error (401).
func VerifyExchangeKey(signingKey SigningKey, key string, now time.Time) (identity, sub string, expires time.Time, err error) {
	invalid := &Error{"invalid exchanged key"}
	if signingKey.IsZero() || len(key) > maxExchangeKeyLength || !strings.HasPrefix(key, ExchangeKeyPrefix) {
		return "", "", time.Time{}, invalid
	}
	signed, macText, ok := strings.Cut(key, ".")
	if !ok {
		return "", "", time.Time{}, invalid
	}
	mac, err := exchangeEncoding.DecodeString(macText)
	if err != nil || !hmac.Equal(mac, signingKey.mac(signed)) {
		return "", "", time.Time{}, invalid
	}
	// Signed by us: what follows only reads what we wrote.
	raw, err := exchangeEncoding.DecodeString(strings.TrimPrefix(signed, ExchangeKeyPrefix))
	var p exchangePayload
	if err != nil || json.Unmarshal(raw, &p) != nil || p.Identity == "" || p.Expires-p.IssuedAt > int64(MaxExchangeTTL/time.Second) {
		return "", "", time.Time{}, invalid
	}
	expires = time.Unix(p.Expires, 0)
	if !now.Before(expires) {
		return "", "", time.Time{}, &Error{"exchanged key expired: exchange a fresh ID token"}
	}
	return p.Identity, p.Subject, expires, nil
}
