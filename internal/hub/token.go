package hub

import "log/slog"

// Token is a Hub access token. It prints as REDACTED through fmt, slog and JSON, and it holds its value behind
// a pointer so that even a struct that embeds it, printed with %+v, shows an address and not the secret. Only
// this package reads the value, to put it in an Authorization header.
type Token struct{ value *string }

const redacted = "REDACTED"

// NewToken wraps a raw token. The empty string gives the zero Token (no token).
func NewToken(raw string) Token {
	if raw == "" {
		return Token{}
	}
	return Token{value: &raw}
}

// IsZero reports whether no token is set.
func (t Token) IsZero() bool { return t.value == nil }

func (t Token) reveal() string {
	if t.value == nil {
		return ""
	}
	return *t.value
}

func (t Token) String() string               { return redacted }
func (t Token) GoString() string             { return redacted }
func (t Token) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (t Token) MarshalText() ([]byte, error) { return []byte(redacted), nil }
