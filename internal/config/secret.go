package config

import "log/slog"

// Secret is a setting that holds a password, such as the Redis URL: it prints as REDACTED through fmt, slog
// and JSON, and holds its value behind a pointer so that a Config printed with %+v shows no secret.
type Secret struct{ value *string }

func newSecret(v string) Secret { return Secret{value: &v} }

// Value is the secret itself, for the one place that uses it.
func (s Secret) Value() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

// IsZero reports whether the setting is unset.
func (s Secret) IsZero() bool { return s.value == nil }

func (s Secret) String() string               { return "REDACTED" }
func (s Secret) GoString() string             { return "REDACTED" }
func (s Secret) LogValue() slog.Value         { return slog.StringValue("REDACTED") }
func (s Secret) MarshalText() ([]byte, error) { return []byte("REDACTED"), nil }
