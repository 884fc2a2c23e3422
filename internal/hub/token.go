package hub

import (
	"bytes"
	"crypto/sha256"
	"log/slog"
	"strings"
)

// Token is a Hub access token. It prints as REDACTED through fmt, slog and JSON, and it holds its value behind
// a pointer so that even a struct that embeds it, printed with %+v, shows an address and not the secret. Only
// this package reads the value, to put it in an Authorization header.
type Token struct{ value *secret }

// secret is a token and its Authorization header value, spelled once rather than on every call.
type secret struct {
	raw           string
	authorization []string // {"Bearer " + raw}: shared, so never written into
}

const redacted = "REDACTED"

// NewToken wraps a raw token. The empty string gives the zero Token (no token).
func NewToken(raw string) Token {
	if raw == "" {
		return Token{}
	}
	return Token{value: &secret{raw: raw, authorization: []string{"Bearer " + raw}}}
}

// IsZero reports whether no token is set.
func (t Token) IsZero() bool { return t.value == nil }

// authorization is the Authorization header's value, for a token that is set.
func (t Token) authorization() []string { return t.value.authorization }

// Digest is the token's SHA-256, a key for per-credential state that holds no secret; ok is false without a
// token.
func (t Token) Digest() (digest [sha256.Size]byte, ok bool) {
	if t.value == nil {
		return digest, false
	}
	return sha256.Sum256([]byte(t.value.raw)), true
}

func (t Token) String() string               { return redacted }
func (t Token) GoString() string             { return redacted }
func (t Token) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (t Token) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Redact removes the token from text the Hub sent back, so that hf-micro never repeats a token it sent,
// whatever the Hub says.
func (t Token) Redact(s string) string {
	if t.value == nil || !strings.Contains(s, t.value.raw) {
		return s
	}
	return strings.ReplaceAll(s, t.value.raw, redacted)
}

// RedactBytes is Redact for a body.
func (t Token) RedactBytes(b []byte) []byte {
	if t.value == nil || !bytes.Contains(b, []byte(t.value.raw)) {
		return b
	}
	return bytes.ReplaceAll(b, []byte(t.value.raw), []byte(redacted))
}
