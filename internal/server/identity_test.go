package server

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/fakehub"
	"github.com/hf-micro/hf-micro/internal/metrics"
	"github.com/hf-micro/hf-micro/internal/metrics/metricstest"
	"github.com/hf-micro/hf-micro/internal/testissuer"
)

// identityFile is an access file with one workload identity: GitHub-style claims, write on acme/*.
func identityFile(t *testing.T, issuer string) *auth.AccessFile {
	t.Helper()
	f, err := auth.ParseAccessFile([]byte(fmt.Sprintf(`
[[identity]]
name     = "acme-models-main"
issuer   = %q
audience = "hf-micro"
claims   = { repository = "acme/models", ref = "refs/heads/*" }
write    = ["acme/*"]
`, issuer)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// identityHarness is hf-micro with that access file and a signing key, in front of the fake Hub.
func identityHarness(t *testing.T, iss *testissuer.Issuer, signingKey auth.SigningKey) (*harness, *auth.Access) {
	t.Helper()
	fake := fakehub.New()
	fake.AddUser("alice")
	fake.AddOrg("acme", map[string]string{"alice": "admin"})
	fake.AddRepo("model", "alice/existing", false)
	fake.AddRepo("model", "acme/existing", false)
	access := auth.NewAccess("access.toml", identityFile(t, iss.URL))
	hubServer := httptest.NewServer(fake)
	t.Cleanup(hubServer.Close)
	endpoint := hubServer.URL
	h := startServer(t, fake, endpoint, fake.IssueToken("alice", fakehub.RoleWrite), setup{opts: Options{Auth: auth.Options{
		Access: access, SigningKey: signingKey, IssuerClient: iss.Client(), CallerTokens: true}}})
	return h, access
}

func idToken(t *testing.T, iss *testissuer.Issuer, edit func(claims map[string]any)) string {
	t.Helper()
	claims := iss.Claims("repo:acme/models:ref:refs/heads/main", "hf-micro", time.Now())
	claims["repository"], claims["ref"] = "acme/models", "refs/heads/main"
	if edit != nil {
		edit(claims)
	}
	return iss.Sign(t, claims, testissuer.SignOptions{})
}

// A workload's ID token is a principal with its identity's scopes, audited with its subject.
func TestIdentityTokens(t *testing.T) {
	iss := testissuer.New(t)
	h, _ := identityHarness(t, iss, auth.SigningKey{})
	bearer := func(token string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
	}
	token := idToken(t, iss, nil)

	if r := h.sendFull(t, "POST", "/api/repos/create", bearer(token), `{"type":"model","name":"built","organization":"acme"}`); r.status != 200 {
		t.Fatalf("create in acme: %d %s", r.status, r.body)
	}
	h.logLines(t, 1, `"msg":"audit"`, `"caller":"identity:acme-models-main"`, `"subject":"repo:acme/models:ref:refs/heads/main"`)
	refusedBeforeTheHub(t, h, 403, "identity:acme-models-main", "POST", "/api/repo", bearer(token), `{"type":"model","name":"alice/nope"}`)

	for name, c := range map[string]struct {
		token  string
		status int
		says   string
	}{
		"wrong audience":   {idToken(t, iss, func(c map[string]any) { c["aud"] = "someone-else" }), 401, "audience"},
		"expired":          {idToken(t, iss, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), 401, "expired"},
		"claim mismatch":   {idToken(t, iss, func(c map[string]any) { c["repository"] = "evil/models" }), 401, "repository"},
		"alg none":         {iss.Sign(t, iss.Claims("s", "hf-micro", time.Now()), testissuer.SignOptions{Alg: testissuer.None}), 401, "RS256"},
		"HS256 public key": {iss.Sign(t, iss.Claims("s", "hf-micro", time.Now()), testissuer.SignOptions{Alg: testissuer.HS256PublicKey}), 401, "RS256"},
		"unknown issuer":   {idToken(t, iss, func(c map[string]any) { c["iss"] = "https://token.evil.example" }), 401, "not accepted"},
	} {
		t.Run(name, func(t *testing.T) {
			// Never forwarded to the Hub as the caller's own token, whatever its fate.
			refusedBeforeTheHub(t, h, c.status, c.says, "GET", "/api/models/acme/existing", bearer(c.token), "")
		})
	}

	fresh := testissuer.New(t) // an issuer the file does not name: never asked
	refusedBeforeTheHub(t, h, 401, "not accepted", "GET", "/api/account", bearer(idToken(t, fresh, nil)), "")
	if fresh.Requests() != 0 {
		t.Errorf("an issuer no identity names was contacted %d times", fresh.Requests())
	}

	// An issuer that cannot be reached is a 503 with Retry-After, never a way in.
	down := testissuer.New(t)
	down.Fail(testissuer.Down)
	behind, _ := identityHarness(t, down, auth.SigningKey{})
	r := behind.sendFull(t, "GET", "/api/account", bearer(idToken(t, down, nil)), "")
	checkError(t, r, 503, "cannot be reached")
	if r.header.Get("Retry-After") == "" || down.Requests() == 0 {
		t.Errorf("503 with Retry-After %q after %d requests to the issuer", r.header.Get("Retry-After"), down.Requests())
	}
	if n := len(behind.fake.Requests()); n != 0 {
		t.Errorf("the Hub was called %d times", n)
	}
}

// The exchange hands out a short-lived key with the identity's scopes, which works on every hf-micro with the
// same signing key, and stops working when the identity leaves the access file.
func TestIdentityExchange(t *testing.T) {
	iss := testissuer.New(t)
	signingKey, _ := auth.ParseSigningKey(auth.GenerateSigningKey())
	h, access := identityHarness(t, iss, signingKey)
	token := idToken(t, iss, nil)

	r := h.sendFull(t, "POST", "/api/identity/exchange", map[string]string{"Authorization": "Bearer " + token}, "")
	var got exchangeReply
	if r.status != 200 || json.Unmarshal(r.body, &got) != nil {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	if !strings.HasPrefix(got.Token, "hf_micro_x_") || got.Principal != "acme-models-main" ||
		got.ExpiresAt.After(time.Now().Add(time.Hour+time.Minute)) || got.ExpiresAt.Before(time.Now()) {
		t.Errorf("exchanged %+v", got)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Error("the key's reply may be cached")
	}
	key := map[string]string{"Authorization": "Bearer " + got.Token, "Content-Type": "application/json"}
	if r := h.sendFull(t, "POST", "/api/repo", key, `{"type":"model","name":"acme/through-simple-api"}`); r.status != 201 {
		t.Errorf("simple API with the exchanged key: %d %s", r.status, r.body)
	}
	if r := h.sendFull(t, "PUT", "/api/models/acme/existing/settings", key, `{"private":true}`); r.status != 200 {
		t.Errorf("drop-in with the exchanged key: %d %s", r.status, r.body)
	}
	refusedBeforeTheHub(t, h, 403, "identity:acme-models-main", "PUT", "/api/models/alice/existing/settings", key, `{"private":true}`)

	// A key cannot be exchanged, nor an exchanged key again.
	refusedBeforeTheHub(t, h, 401, "OIDC ID token", "POST", "/api/identity/exchange", map[string]string{"Authorization": "Bearer " + got.Token}, "")

	// On a second hf-micro with the same signing key it works; with another signing key it does not.
	twin, _ := identityHarness(t, iss, signingKey)
	if r := twin.sendFull(t, "GET", "/api/models/acme/existing", key, ""); r.status != 200 {
		t.Errorf("the same signing key elsewhere: %d %s", r.status, r.body)
	}
	otherKey, _ := auth.ParseSigningKey(auth.GenerateSigningKey())
	other, _ := identityHarness(t, iss, otherKey)
	refusedBeforeTheHub(t, other, 401, "invalid exchanged key", "GET", "/api/models/acme/existing", key, "")

	// Expired keys are refused.
	old, _, err := auth.MintExchangeKey(signingKey, "acme-models-main", "sub", time.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	refusedBeforeTheHub(t, h, 401, "expired", "GET", "/api/models/acme/existing", map[string]string{"Authorization": "Bearer " + old}, "")

	// Removing the identity revokes its keys from the next request.
	empty, err := auth.ParseAccessFile([]byte("# nobody\n"))
	if err != nil {
		t.Fatal(err)
	}
	access.Store(empty)
	refusedBeforeTheHub(t, h, 401, "no longer in the access file", "GET", "/api/models/acme/existing", key, "")
}

// Without a signing key, the exchange says it is off.
func TestIdentityExchangeOff(t *testing.T) {
	iss := testissuer.New(t)
	h, _ := identityHarness(t, iss, auth.SigningKey{})
	refusedBeforeTheHub(t, h, 404, "HF_MICRO_SIGNING_KEY", "POST", "/api/identity/exchange",
		map[string]string{"Authorization": "Bearer " + idToken(t, iss, nil)}, "")
}

// An exchange is an authentication too: hf_micro_auth_total counts it, by the identity's name from the access
// file when it is granted, with no principal when it is refused.
func TestIdentityExchangeIsCounted(t *testing.T) {
	iss := testissuer.New(t)
	signingKey, _ := auth.ParseSigningKey(auth.GenerateSigningKey())
	fake := fakehub.New()
	fake.AddUser("alice")
	hubServer := httptest.NewServer(fake)
	t.Cleanup(hubServer.Close)
	reg := metrics.New()
	h := startServer(t, fake, hubServer.URL, fake.IssueToken("alice", fakehub.RoleWrite), setup{opts: Options{Metrics: reg,
		Auth: auth.Options{Access: auth.NewAccess("access.toml", identityFile(t, iss.URL)), SigningKey: signingKey, IssuerClient: iss.Client()}}})

	exchange := func(token string, status int) exchangeReply {
		t.Helper()
		r := h.sendFull(t, "POST", "/api/identity/exchange", map[string]string{"Authorization": "Bearer " + token}, "")
		var got exchangeReply
		if r.status != status || status == 200 && json.Unmarshal(r.body, &got) != nil {
			t.Fatalf("exchange: %d %s; want %d", r.status, r.body, status)
		}
		return got
	}
	granted := exchange(idToken(t, iss, nil), 200)
	exchange(idToken(t, iss, nil), 200)
	exchange(granted.Token, 401)                                                             // a key, not an ID token
	exchange(idToken(t, iss, func(c map[string]any) { c["repository"] = "evil/fork" }), 401) // no identity matches

	got := metricstest.Scrape(t, reg)
	for series, want := range map[string]float64{
		`hf_micro_auth_total{result="ok",principal="identity:acme-models-main"}`: 2,
		`hf_micro_auth_total{result="refused",principal=""}`:                     2,
	} {
		if got[series] != want {
			t.Errorf("%s = %v; want %v", series, got[series], want)
		}
	}
}
