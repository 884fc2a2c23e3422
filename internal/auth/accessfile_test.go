package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/hubroute"
)

func digestOf(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}

var goodAccessFile = `# the issue's example
[[key]]
name    = "release-ci"
sha256  = "` + strings.Repeat("ab", 32) + `"
expires = 2027-03-01T00:00:00Z
read    = ["*"]
write   = ["acme/ci-*", "dataset:acme/eval-*"]
delete  = []

[[key]]
name   = "contractor"
sha256 = "` + strings.Repeat("cd", 32) + `"
expires = 2026-05-08
read   = ["acme/shared"]

[[identity]]
name     = "acme-models-main"
issuer   = "https://token.actions.githubusercontent.com"
audience = "hf-micro"
claims   = { repository = "acme/models", ref = "refs/heads/main" }
write    = ["acme/*"]
`

func TestParseAccessFile(t *testing.T) {
	f, err := ParseAccessFile([]byte(goodAccessFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Keys) != 2 || len(f.Identities) != 1 {
		t.Fatalf("%d keys, %d identities", len(f.Keys), len(f.Identities))
	}
	k := f.Keys[0]
	if k.Name != "release-ci" || k.Digest[0] != 0xab || !k.Expires.Equal(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("key %+v", k)
	}
	if got := k.Scopes.Describe(); got != "read [*]; write [acme/ci-*, dataset:acme/eval-*]; delete (none)" {
		t.Errorf("scopes: %s", got)
	}
	if !f.Keys[1].Expires.Equal(time.Date(2026, 5, 8, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("a date alone: %v", f.Keys[1].Expires)
	}
	id := f.Identities[0]
	if id.Name != "acme-models-main" || id.Issuer != "https://token.actions.githubusercontent.com" || id.Audience != "hf-micro" ||
		id.Claims["repository"] != "acme/models" || id.Claims["ref"] != "refs/heads/main" || len(id.Scopes.Write) != 1 {
		t.Errorf("identity %+v", id)
	}
	if empty, err := ParseAccessFile(nil); err != nil || len(empty.Keys) != 0 {
		t.Errorf("an empty file: %v", err)
	}
}

func TestParseAccessFileRefuses(t *testing.T) {
	hex64 := strings.Repeat("0f", 32)
	cases := []struct {
		name, file string
		want       []string // each a problem that must be reported, with its line
	}{
		{"syntax", "[[key]]\nname = \"a\"\n[[key]\n", []string{"line 4: expected end of table array name"}}, // the parser blames the line break after it
		{"wrong type", "[[key]]\nname = 3\n", []string{"line 2: key.name: incompatible types"}},
		{"unknown field", "[[key]]\nname = \"a\"\nsha256 = \"" + hex64 + "\"\nwrites = [\"x/y\"]\n", []string{`line 4: unknown field "key.writes"`}},
		{"unknown table", "[[keys]]\nname = \"a\"\n", []string{`unknown field "keys"`}},
		{"bad name, short digest, bad pattern",
			"[[key]]\nname = \"a b\"\nsha256 = \"abc\"\nread = [\"acme\"]\n",
			[]string{`line 2: key #1 (name "a b"): name must be`, "line 3: key #1", "64 hex digits", `line 4: key #1 (name "a b"): read: pattern "acme"`}},
		{"missing name and digest", "\n\n[[key]]\nread = [\"*\"]\n", []string{"line 3: key #1 (name \"\"): name is missing", "line 3: key #1 (name \"\"): sha256 is missing"}},
		{"duplicate names across keys and identities",
			"[[key]]\nname = \"ci\"\nsha256 = \"" + hex64 + "\"\n[[identity]]\nname = \"CI\"\nissuer = \"https://i.example\"\naudience = \"a\"\nclaims = {sub = \"x\"}\n",
			[]string{`line 5: identity #1 (name "CI"): the name is already used by key #1`}},
		{"duplicate digest", "[[key]]\nname = \"a\"\nsha256 = \"" + hex64 + "\"\n[[key]]\nname = \"b\"\nsha256 = \"" + strings.ToUpper(hex64) + "\"\n",
			[]string{`line 6: key #2 (name "b"): the same sha256 as key #1`}},
		{"expires without a zone", "[[key]]\nname = \"a\"\nsha256 = \"" + hex64 + "\"\nexpires = 2027-03-01T00:00:00\n", []string{"line 4: ", "time zone"}},
		{"http issuer elsewhere", "[[identity]]\nname = \"i\"\nissuer = \"http://issuer.example\"\naudience = \"a\"\nclaims = {sub = \"x\"}\n",
			[]string{`line 3: identity #1 (name "i"): issuer "http://issuer.example" must be an https URL`}},
		{"no audience, no claims, no issuer", "[[identity]]\nname = \"i\"\n",
			[]string{"line 1: identity #1", "issuer is missing", "audience is missing", "claims are missing"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAccessFile([]byte(tc.file))
			var fe *AccessFileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want an *AccessFileError", err)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%v\nwant it to mention %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("a multi-line error: %q", err)
			}
		})
	}
}

func TestIssuerAllowsHTTPOnLoopback(t *testing.T) {
	for issuer, ok := range map[string]bool{
		"https://token.actions.githubusercontent.com": true, "http://127.0.0.1:5556/dex": true, "http://[::1]:8/x": true,
		"http://localhost:9": true, "http://10.0.0.1": false, "ftp://x.example": false, "https://": false,
		"https://u:p@x.example": false, "token.actions.githubusercontent.com": false,
	} {
		if err := checkIssuer(issuer); (err == nil) != ok {
			t.Errorf("checkIssuer(%q) = %v", issuer, err)
		}
	}
}

func TestAccessFileLimits(t *testing.T) {
	file := `[defaults]
limits = { api = "600/5m", resolvers = "3000/5m" }

[[key]]
name   = "ci"
sha256 = "` + strings.Repeat("ab", 32) + `"
limits = { api = "5/1m" }

[[key]]
name   = "notebook"
sha256 = "` + strings.Repeat("cd", 32) + `"

[[key]]
name   = "unmetered"
sha256 = "` + strings.Repeat("ef", 32) + `"
limits = {}

[[identity]]
name     = "release"
issuer   = "https://token.actions.githubusercontent.com"
audience = "hf-micro"
claims   = { repository = "acme/models" }
limits   = { resolvers = "10/10s" }
`
	f, err := ParseAccessFile([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		own  budget.Limits
		want string
	}{
		{"own limits replace the defaults", f.Keys[0].Limits, "api 5/1m"},
		{"no limits: the defaults", f.Keys[1].Limits, "api 600/5m, resolvers 3000/5m"},
		{"limits = {}: none", f.Keys[2].Limits, "none"},
		{"an identity's own", f.Identities[0].Limits, "resolvers 10/10s"},
	} {
		if got := f.LimitsOf(tc.own).String(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if l := f.LimitsOf(f.Keys[0].Limits).For(hubroute.API); l == nil || *l != (budget.Limit{Count: 5, Window: time.Minute}) {
		t.Errorf("ci's api limit: %v", l)
	}
	if l := f.LimitsOf(f.Keys[0].Limits).For(hubroute.Resolvers); l != nil {
		t.Errorf("ci's resolvers are not counted, got %v", l)
	}
	if none, err := ParseAccessFile(nil); err != nil || none.Defaults != nil {
		t.Errorf("no [defaults]: %v, %v", none.Defaults, err)
	}
}

func TestAccessFileLimitsRefused(t *testing.T) {
	hex64 := strings.Repeat("0f", 32)
	cases := []struct{ name, file, want string }{
		{"unknown bucket", "[[key]]\nname = \"a\"\nsha256 = \"" + hex64 + "\"\nlimits = { apis = \"5/1m\" }\n",
			`line 4: key #1 (name "a"): limits: unknown bucket "apis"`},
		{"bad quota", "[[key]]\nname = \"a\"\nsha256 = \"" + hex64 + "\"\nlimits = { api = \"5 per minute\" }\n",
			`line 4: key #1 (name "a"): limits: api: limit "5 per minute"`},
		{"bad window on an identity", "[[identity]]\nname = \"i\"\nissuer = \"https://i.example\"\naudience = \"a\"\nclaims = {sub = \"x\"}\nlimits = { pages = \"5/1d\" }\n",
			`line 6: identity #1 (name "i"): limits: pages: limit "5/1d"`},
		{"bad defaults", "# budgets\n\n[defaults]\nlimits = { api = \"0/5m\" }\n", `line 4: defaults: limits: api: limit "0/5m"`},
		{"unknown field in defaults", "[defaults]\nlimit = { api = \"5/5m\" }\n", `line 2: unknown field "defaults.limit"`},
		{"a quota that is not a string", "[defaults]\nlimits = { api = 5 }\n", "line 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAccessFile([]byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
