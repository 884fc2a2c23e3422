package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/fakeclock"
	"github.com/hf-micro/hf-micro/internal/testissuer"
)

// newTestVerifier returns a verifier for rules that fetches through client, on a fake clock.
func newTestVerifier(client *http.Client, rules ...IdentityRule) (*Verifier, *fakeclock.Clock) {
	c := fakeclock.New(time.Unix(1_800_000_000, 0))
	v := NewVerifier(rules, client)
	v.now = c.Now
	return v, c
}

func mainRule(iss *testissuer.Issuer) IdentityRule {
	return IdentityRule{Name: "acme-models-main", Issuer: iss.URL, Audience: "hf-micro",
		Claims: map[string]string{"repository": "acme/models", "ref": "refs/heads/main"}}
}

// ciClaims are the claims of a valid token from the acme/models main branch.
func ciClaims(iss *testissuer.Issuer, now time.Time) map[string]any {
	claims := iss.Claims("repo:acme/models:ref:refs/heads/main", "hf-micro", now)
	claims["repository"], claims["ref"] = "acme/models", "refs/heads/main"
	return claims
}

func TestVerifyAcceptsValidTokens(t *testing.T) {
	iss := testissuer.New(t)
	v, clk := newTestVerifier(iss.Client(), mainRule(iss))
	for _, alg := range []testissuer.Alg{testissuer.RS256, testissuer.ES256} {
		claims := ciClaims(iss, clk.Now())
		match, err := v.Verify(context.Background(), iss.Sign(t, claims, testissuer.SignOptions{Alg: alg}))
		want := IdentityMatch{Rule: "acme-models-main", Subject: "repo:acme/models:ref:refs/heads/main", Issuer: iss.URL,
			Expiry: clk.Now().Add(time.Hour)}
		if err != nil || match != want {
			t.Errorf("%s: got %+v, %v; want %+v", alg, match, err, want)
		}
	}
	if d, k := iss.DiscoveryRequests(), iss.JWKSRequests(); d != 1 || k != 1 {
		t.Errorf("discovery fetched %d times, keys %d times; want once each (then cached)", d, k)
	}
}

func TestVerifyFirstMatchingRuleDecides(t *testing.T) {
	iss := testissuer.New(t)
	otherAudience := IdentityRule{Name: "other-audience", Issuer: iss.URL, Audience: "someone-else"}
	anyBranch := IdentityRule{Name: "any-branch", Issuer: iss.URL, Audience: "hf-micro", Claims: map[string]string{"repository": "acme/*"}}
	v, clk := newTestVerifier(iss.Client(), otherAudience, anyBranch, mainRule(iss))
	match, err := v.Verify(context.Background(), iss.Sign(t, ciClaims(iss, clk.Now()), testissuer.SignOptions{}))
	if err != nil || match.Rule != "any-branch" {
		t.Errorf("got %+v, %v; want the rule any-branch, the first whose audience and claims match", match, err)
	}
}

func TestVerifyRefusesBadTokens(t *testing.T) {
	iss := testissuer.New(t)
	v, clk := newTestVerifier(iss.Client(), mainRule(iss))
	now := clk.Now()
	with := func(changes map[string]any) map[string]any {
		claims := ciClaims(iss, now)
		for name, value := range changes {
			if value == nil {
				delete(claims, name)
			} else {
				claims[name] = value
			}
		}
		return claims
	}
	for _, tc := range []struct {
		name   string
		claims map[string]any
		opts   testissuer.SignOptions
		want   string // in the error; "" means accepted
	}{
		{"wrong audience", with(map[string]any{"aud": "another-service"}), testissuer.SignOptions{}, "audience"},
		{"audience among others", with(map[string]any{"aud": []string{"another-service", "hf-micro"}}), testissuer.SignOptions{}, ""},
		{"expired", with(map[string]any{"exp": now.Add(-2 * time.Minute).Unix()}), testissuer.SignOptions{}, "expired"},
		{"expired within the clock allowance", with(map[string]any{"exp": now.Add(-30 * time.Second).Unix()}), testissuer.SignOptions{}, ""},
		{"no exp", with(map[string]any{"exp": nil}), testissuer.SignOptions{}, "exp"},
		{"nbf in the future", with(map[string]any{"nbf": now.Add(2 * time.Minute).Unix()}), testissuer.SignOptions{}, "not valid yet"},
		{"nbf within the clock allowance", with(map[string]any{"nbf": now.Add(30 * time.Second).Unix()}), testissuer.SignOptions{}, ""},
		{"no nbf", with(map[string]any{"nbf": nil}), testissuer.SignOptions{}, ""},
		{"iat in the future", with(map[string]any{"iat": now.Add(2 * time.Minute).Unix()}), testissuer.SignOptions{}, "issued in the future"},
		{"no iat", with(map[string]any{"iat": nil}), testissuer.SignOptions{}, "iat"},
		{"claim mismatch", with(map[string]any{"ref": "refs/heads/feature"}), testissuer.SignOptions{}, `ref = "refs/heads/main"`},
		{"claim missing", with(map[string]any{"repository": nil}), testissuer.SignOptions{}, `"repository"`},
		{"claim not a string", with(map[string]any{"repository": []string{"acme/models"}}), testissuer.SignOptions{}, `"repository"`},
		{"no sub is fine, the claims decide", with(map[string]any{"sub": nil}), testissuer.SignOptions{}, ""},
		{"iss spelled otherwise (trailing slash)", with(map[string]any{"iss": iss.URL + "/"}), testissuer.SignOptions{}, "not accepted here"},
		{"alg none", ciClaims(iss, now), testissuer.SignOptions{Alg: testissuer.None}, "RS256 or ES256"},
		{"HS256 keyed with the public key", ciClaims(iss, now), testissuer.SignOptions{Alg: testissuer.HS256PublicKey}, "RS256 or ES256"},
		{"RSA signature under the ECDSA key's id", ciClaims(iss, now), testissuer.SignOptions{KID: "ec-1"}, "verif"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			match, err := v.Verify(context.Background(), iss.Sign(t, tc.claims, tc.opts))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var refusal *Error
			if !errors.As(err, &refusal) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %+v, %v; want an *Error (401) mentioning %q", match, err, tc.want)
			}
		})
	}
}

func TestBadAlgorithmsAreRefusedBeforeAnyRequest(t *testing.T) {
	iss := testissuer.New(t)
	v, clk := newTestVerifier(iss.Client(), mainRule(iss))
	for _, alg := range []testissuer.Alg{testissuer.None, testissuer.HS256PublicKey} {
		_, err := v.Verify(context.Background(), iss.Sign(t, ciClaims(iss, clk.Now()), testissuer.SignOptions{Alg: alg}))
		var refusal *Error
		if !errors.As(err, &refusal) {
			t.Errorf("%s: got %v, want an *Error", alg, err)
		}
	}
	if n := iss.Requests(); n != 0 {
		t.Errorf("the issuer received %d requests for unsigned and HMAC tokens; want none", n)
	}
}

// countingTransport counts the requests a client sends, wherever they go.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestUnknownIssuerIsRefusedWithoutAnyRequest(t *testing.T) {
	known, unknown := testissuer.New(t), testissuer.New(t)
	transport := &countingTransport{next: known.Client().Transport}
	v, clk := newTestVerifier(&http.Client{Transport: transport}, mainRule(known))

	_, err := v.Verify(context.Background(), unknown.Sign(t, ciClaims(unknown, clk.Now()), testissuer.SignOptions{}))
	var refusal *Error
	if !errors.As(err, &refusal) || !strings.Contains(err.Error(), "not accepted here") {
		t.Fatalf("got %v, want an *Error naming the issuer as not accepted", err)
	}
	if n, k, u := transport.n.Load(), known.Requests(), unknown.Requests(); n != 0 || k != 0 || u != 0 {
		t.Errorf("requests sent %d, received by the known issuer %d, by the unknown one %d; want none at all", n, k, u)
	}
}

func TestTokenSignedByAnotherIssuerIsRefused(t *testing.T) {
	iss, impostor := testissuer.New(t), testissuer.New(t)
	v, clk := newTestVerifier(iss.Client(), mainRule(iss))
	// The impostor signs claims that name iss as the issuer, with its own key under iss's key id.
	forged := impostor.Sign(t, ciClaims(iss, clk.Now()), testissuer.SignOptions{KID: iss.KID()})
	_, err := v.Verify(context.Background(), forged)
	var refusal *Error
	if !errors.As(err, &refusal) || !strings.Contains(err.Error(), "signature") {
		t.Errorf("got %v, want an *Error about the signature", err)
	}
	if n := impostor.Requests(); n != 0 {
		t.Errorf("the impostor received %d requests; want none", n)
	}
}

func TestNotAJWTIsRefusedWithoutAnyRequest(t *testing.T) {
	iss := testissuer.New(t)
	v, _ := newTestVerifier(iss.Client(), mainRule(iss))
	for _, raw := range []string{"", "hf_abc", "a.b.c", "a.!!!.c", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c", "eyJhbGciOiJSUzI1NiJ9.e30.c"} {
		_, err := v.Verify(context.Background(), raw)
		var refusal *Error
		if !errors.As(err, &refusal) {
			t.Errorf("%q: got %v, want an *Error", raw, err)
		}
	}
	if n := iss.Requests(); n != 0 {
		t.Errorf("the issuer received %d requests; want none", n)
	}
}

func TestUnknownKeyIDsFetchKeysAtMostEvery30Seconds(t *testing.T) {
	iss := testissuer.New(t)
	v, clk := newTestVerifier(iss.Client(), mainRule(iss))
	ctx := context.Background()
	valid := func() string { return iss.Sign(t, ciClaims(iss, clk.Now()), testissuer.SignOptions{}) }
	unknownKID := func(i int) string {
		return iss.Sign(t, ciClaims(iss, clk.Now()), testissuer.SignOptions{KID: "forged-" + string(rune('a'+i%26))})
	}
	floodOfUnknownKIDs := func() {
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				var refusal *Error
				if _, err := v.Verify(ctx, unknownKID(i)); !errors.As(err, &refusal) {
					t.Errorf("unknown kid: got %v, want an *Error", err)
				}
			})
		}
		wg.Wait()
	}

	if _, err := v.Verify(ctx, valid()); err != nil {
		t.Fatal(err)
	}
	floodOfUnknownKIDs()
	if n := iss.JWKSRequests(); n != 1 {
		t.Fatalf("keys fetched %d times for a flood of unknown key ids right after the first fetch; want 1", n)
	}

	clk.Advance(keyRefetchInterval + time.Second)
	floodOfUnknownKIDs()
	if n := iss.JWKSRequests(); n != 2 {
		t.Fatalf("keys fetched %d times after 31 s and a second flood; want 2 (one refetch)", n)
	}

	oldToken := valid()
	iss.Rotate(t)
	rotated := valid()
	if _, err := v.Verify(ctx, rotated); err == nil {
		t.Fatal("a token under the new key id was accepted before the keys could be fetched again")
	}
	clk.Advance(keyRefetchInterval + time.Second)
	if _, err := v.Verify(ctx, rotated); err != nil {
		t.Fatalf("after the rotation and 31 s, a token under the new key id: %v", err)
	}
	if n := iss.JWKSRequests(); n != 3 {
		t.Errorf("keys fetched %d times; want 3", n)
	}
	if _, err := v.Verify(ctx, oldToken); err == nil {
		t.Error("a token under the key that left the key set was accepted")
	}
	if n := iss.DiscoveryRequests(); n != 1 {
		t.Errorf("discovery fetched %d times; want once", n)
	}
}

func TestConcurrentFirstTokensDiscoverOnce(t *testing.T) {
	iss := testissuer.New(t)
	v, clk := newTestVerifier(iss.Client(), mainRule(iss))
	token := iss.Sign(t, ciClaims(iss, clk.Now()), testissuer.SignOptions{})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), token); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if d, k := iss.DiscoveryRequests(), iss.JWKSRequests(); d != 1 || k != 1 {
		t.Errorf("discovery fetched %d times, keys %d times by 10 concurrent first tokens; want once each", d, k)
	}
}

func TestIssuerThatCannotBeReachedIsUnavailable(t *testing.T) {
	for _, failure := range []testissuer.Failure{testissuer.Down, testissuer.ServerError} {
		iss := testissuer.New(t)
		v, clk := newTestVerifier(iss.Client(), mainRule(iss))
		ctx := context.Background()
		iss.Fail(failure)
		token := iss.Sign(t, ciClaims(iss, clk.Now()), testissuer.SignOptions{})

		_, err := v.Verify(ctx, token)
		var unavailable *IssuerUnavailableError
		if !errors.As(err, &unavailable) || unavailable.RetryAfter <= 0 || unavailable.Issuer != iss.URL {
			t.Fatalf("failure %d: got %v, want an *IssuerUnavailableError with a Retry-After", failure, err)
		}
		before := iss.Requests()
		if _, err := v.Verify(ctx, token); !errors.As(err, &unavailable) {
			t.Fatalf("failure %d, at once again: got %v, want an *IssuerUnavailableError", failure, err)
		}
		if n := iss.Requests(); n != before {
			t.Errorf("failure %d: a second token at once sent %d more requests to the failing issuer; want none", failure, n-before)
		}

		iss.Fail(testissuer.Healthy)
		clk.Advance(issuerRetryInterval)
		if _, err := v.Verify(ctx, token); err != nil {
			t.Fatalf("failure %d: once the issuer is back and the retry interval has passed: %v", failure, err)
		}
	}
}

func TestPlainHTTPIssuerIsNeverContacted(t *testing.T) {
	transport := &countingTransport{next: http.DefaultTransport}
	rule := IdentityRule{Name: "plain", Issuer: "http://127.0.0.1:1", Audience: "hf-micro"}
	v, clk := newTestVerifier(&http.Client{Transport: transport}, rule)
	iss := testissuer.New(t)
	claims := iss.Claims("sub", "hf-micro", clk.Now())
	claims["iss"] = rule.Issuer
	_, err := v.Verify(context.Background(), iss.Sign(t, claims, testissuer.SignOptions{}))
	var unavailable *IssuerUnavailableError
	if !errors.As(err, &unavailable) || !strings.Contains(err.Error(), "https") {
		t.Errorf("got %v, want an *IssuerUnavailableError about https", err)
	}
	if n := transport.n.Load(); n != 0 {
		t.Errorf("%d requests sent to a plain-HTTP issuer; want none", n)
	}
}

func TestKnownKeysOutliveTheIssuer(t *testing.T) {
	iss := testissuer.New(t)
	v, clk := newTestVerifier(iss.Client(), mainRule(iss))
	ctx := context.Background()
	if _, err := v.Verify(ctx, iss.Sign(t, ciClaims(iss, clk.Now()), testissuer.SignOptions{})); err != nil {
		t.Fatal(err)
	}
	iss.Fail(testissuer.Down)
	clk.Advance(keyRefetchInterval + time.Second)
	if _, err := v.Verify(ctx, iss.Sign(t, ciClaims(iss, clk.Now()), testissuer.SignOptions{})); err != nil {
		t.Errorf("a token under a cached key while the issuer is down: %v", err)
	}
	_, err := v.Verify(ctx, iss.Sign(t, ciClaims(iss, clk.Now()), testissuer.SignOptions{KID: "new-key"}))
	var unavailable *IssuerUnavailableError
	if !errors.As(err, &unavailable) {
		t.Errorf("a token under an unknown key id while the issuer is down: got %v, want an *IssuerUnavailableError", err)
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"refs/heads/main", "refs/heads/main", true},
		{"refs/heads/main", "refs/heads/mainline", false},
		{"refs/heads/*", "refs/heads/main", true},
		{"refs/heads/*", "refs/heads/release/1.0", true}, // "*" crosses "/"
		{"refs/heads/*", "refs/tags/v1", false},
		{"refs/*/v*", "refs/tags/v1.2", true},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"", "", true},
		{"", "x", false},
		{"acme/*-ci", "acme/models-ci", true},
		{"acme/*-ci", "acme/models-ci-extra", false},
		{"a*b*c", "abxbc", true},
		{"a*b*c", "acb", false},
		{"?", "x", false}, // only "*" is special
		{"Acme/*", "acme/models", false},
	} {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestLooksLikeJWTWithSignedTokens(t *testing.T) {
	iss := testissuer.New(t)
	claims := iss.Claims("sub", "aud", time.Now())
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{iss.Sign(t, claims, testissuer.SignOptions{}), true},
		{iss.Sign(t, claims, testissuer.SignOptions{Alg: testissuer.None}), true}, // empty signature
		{iss.Sign(t, claims, testissuer.SignOptions{Alg: testissuer.HS256PublicKey}), true},
		{"eyJhbGciOiJub25lIn0.garbage.", true}, // {"alg":"none"}: its fate is not our concern, only its shape
		{"hf_abcdefghijklmnopqrstuvwxyz", false},
		{"hf_micro_x_eyJhbGciOiJub25lIn0.abc", false},
		{"a.b.c", false},
		{"e30.e30.e30", false},               // {} has no alg
		{"eyJhbGciOiJub25lIn0.a.b.c", false}, // four parts
		{"eyJhbGciOiJub25lIn0", false},       // one part
		{"W10.e30.e30", false},               // [] is not an object
		{"", false},
	} {
		if got := LooksLikeJWT(tc.s); got != tc.want {
			t.Errorf("LooksLikeJWT(%.40q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
