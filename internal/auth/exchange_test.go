package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func testSigningKey(t testing.TB) SigningKey {
	t.Helper()
	key, err := ParseSigningKey(GenerateSigningKey())
	if err != nil {
		t.Fatal(err)
	}
	return key
}

var mintTime = time.Unix(1_800_000_000, 0)

func mint(t testing.TB, signingKey SigningKey, ttl time.Duration) (string, time.Time) {
	t.Helper()
	key, expires, err := MintExchangeKey(signingKey, "acme-models-main", "repo:acme/models:ref:refs/heads/main", mintTime, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return key, expires
}

func TestExchangeKeyRoundTrip(t *testing.T) {
	signingKey := testSigningKey(t)
	key, expires := mint(t, signingKey, 15*time.Minute)
	if !strings.HasPrefix(key, "hf_micro_x_") || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		t.Errorf("key %q: want hf_micro_x_ and only printable ASCII, usable as a Bearer token", key)
	}
	if LooksLikeJWT(key) {
		t.Error("an exchanged key looks like a JWT")
	}
	if want := mintTime.Add(15 * time.Minute); !expires.Equal(want) {
		t.Errorf("expires %v, want %v", expires, want)
	}
	identity, sub, gotExpires, err := VerifyExchangeKey(signingKey, key, mintTime.Add(14*time.Minute))
	if err != nil || identity != "acme-models-main" || sub != "repo:acme/models:ref:refs/heads/main" || !gotExpires.Equal(expires) {
		t.Errorf("got %q %q %v %v; want the identity, subject and expiry it was minted with", identity, sub, gotExpires, err)
	}
	other, _ := mint(t, signingKey, 15*time.Minute)
	if other == key {
		t.Error("two keys minted in the same second are the same")
	}
}

func TestExchangeKeyLifetimeIsAtMostAnHour(t *testing.T) {
	signingKey := testSigningKey(t)
	key, expires := mint(t, signingKey, 24*time.Hour)
	if want := mintTime.Add(MaxExchangeTTL); !expires.Equal(want) {
		t.Errorf("asked for a day, expires %v; want %v", expires, want)
	}
	if _, _, _, err := VerifyExchangeKey(signingKey, key, mintTime.Add(MaxExchangeTTL-time.Second)); err != nil {
		t.Errorf("a second before it expires: %v", err)
	}
}

func TestExchangeKeyRefusals(t *testing.T) {
	signingKey := testSigningKey(t)
	key, _ := mint(t, signingKey, 10*time.Minute)
	signed, mac, _ := strings.Cut(key, ".")

	forgedPayload, _ := json.Marshal(exchangePayload{Identity: "admin", Subject: "me", IssuedAt: mintTime.Unix(), Expires: mintTime.Add(time.Hour).Unix()})

	for _, tc := range []struct {
		name, key string
		now       time.Time
		key2      SigningKey
		want      string
	}{
		{"expired", key, mintTime.Add(10 * time.Minute), signingKey, "expired"},
		{"long expired", key, mintTime.Add(48 * time.Hour), signingKey, "expired"},
		{"tampered payload", ExchangeKeyPrefix + exchangeEncoding.EncodeToString(forgedPayload) + "." + mac, mintTime, signingKey, "invalid"},
		{"payload one character changed", changeChar(signed, len(signed)-2) + "." + mac, mintTime, signingKey, "invalid"},
		{"tampered MAC", signed + "." + changeChar(mac, 3), mintTime, signingKey, "invalid"},
		{"MAC cut short", signed + "." + mac[:20], mintTime, signingKey, "invalid"},
		{"no MAC", signed, mintTime, signingKey, "invalid"},
		{"MAC of an empty key", signed + ".", mintTime, signingKey, "invalid"},
		{"another signing key", key, mintTime, testSigningKey(t), "invalid"},
		{"no signing key configured", key, mintTime, SigningKey{}, "invalid"},
		{"upper-case prefix", strings.ToUpper(key[:11]) + key[11:], mintTime, signingKey, "invalid"},
		{"a client key", GenerateKey(), mintTime, signingKey, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			identity, _, _, err := VerifyExchangeKey(tc.key2, tc.key, tc.now)
			var refusal *Error
			if !errors.As(err, &refusal) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, %v; want an *Error saying %q", identity, err, tc.want)
			}
		})
	}
}

// changeChar replaces the character at i with another base64url character.
func changeChar(s string, i int) string {
	replacement := "A"
	if s[i] == 'A' {
		replacement = "B"
	}
	return s[:i] + replacement + s[i+1:]
}

func TestMintRefusesWithoutSigningKeyOrIdentity(t *testing.T) {
	if _, _, err := MintExchangeKey(SigningKey{}, "ci", "sub", mintTime, time.Minute); err == nil {
		t.Error("minted a key with no signing key")
	}
	if _, _, err := MintExchangeKey(testSigningKey(t), "", "sub", mintTime, time.Minute); err == nil {
		t.Error("minted a key for no identity")
	}
}

func TestParseSigningKey(t *testing.T) {
	good := GenerateSigningKey()
	if len(good) != 64 {
		t.Fatalf("generated key %d characters long, want 64", len(good))
	}
	if _, err := ParseSigningKey(" " + good + "\n"); err != nil {
		t.Errorf("a generated key with surrounding space: %v", err)
	}
	for _, bad := range []string{"", "abc", good[:63], good + "00", strings.Repeat("z", 64), strings.Repeat("0", 64), strings.Repeat("a", 64)} {
		_, err := ParseSigningKey(bad)
		if err == nil {
			t.Errorf("%q was accepted", bad)
			continue
		}
		if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("the error %q quotes the value", err)
		}
	}
}

func TestSigningKeyNeverPrints(t *testing.T) {
	text := GenerateSigningKey()
	key, err := ParseSigningKey(text)
	if err != nil {
		t.Fatal(err)
	}
	holder := struct{ Key SigningKey }{key}
	var log strings.Builder
	slog.New(slog.NewJSONHandler(&log, nil)).Info("start", "key", key, "holder", holder)
	encoded, _ := json.Marshal(holder)
	for _, out := range []string{fmt.Sprint(key), fmt.Sprintf("%v %+v %#v %s", holder, holder, holder, key), log.String(), string(encoded)} {
		if !strings.Contains(out, "REDACTED") || strings.Contains(out, text) || strings.Contains(out, fmt.Sprint(*key.value)) {
			t.Errorf("printed %q: want REDACTED and no key", out)
		}
	}
}

// FuzzVerifyExchangeKey feeds arbitrary text to VerifyExchangeKey: it must never panic, and it must accept
// nothing but the keys that were really minted (the fuzzer cannot forge an HMAC, nor find a second spelling).
func FuzzVerifyExchangeKey(f *testing.F) {
	signingKey, err := ParseSigningKey("8c1f0e5bd2a4a7c36f0e9d1b2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e")
	if err != nil {
		f.Fatal(err)
	}
	// The keys are made without randomness: every fuzzing process must see the same ones.
	minted := map[string]bool{}
	for _, ttl := range []time.Duration{time.Minute, time.Hour} {
		key, err := signExchangeKey(signingKey, exchangePayload{Identity: "ci", Subject: "sub", IssuedAt: mintTime.Unix(), Expires: mintTime.Add(ttl).Unix(), ID: "fixed"})
		if err != nil {
			f.Fatal(err)
		}
		minted[key] = true
		f.Add(key)
		signed, mac, _ := strings.Cut(key, ".")
		f.Add(signed + "." + mac[1:])
		f.Add(signed + "x." + mac)
	}
	for _, seed := range []string{"", ".", "hf_micro_x_", "hf_micro_x_.", "hf_micro_x_e30.", "hf_micro_x_e30.AAAA", "hf_micro_x_" + strings.Repeat("A", 3000), "hf_micro_x_\xff.\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		identity, _, expires, err := VerifyExchangeKey(signingKey, key, mintTime)
		if err == nil && (!minted[key] || identity == "" || !expires.After(mintTime)) {
			t.Errorf("accepted %q (identity %q, expires %v), which was never minted", key, identity, expires)
		}
		var refusal *Error
		if err != nil && !errors.As(err, &refusal) {
			t.Errorf("%q: error %v is not an *Error", key, err)
		}
	})
}
