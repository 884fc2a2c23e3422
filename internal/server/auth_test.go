package server

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/fakehub"
	"github.com/hf-micro/hf-micro/internal/policy"
)

// TestAuthMatrix checks every combination of credential, peer, route and policy: the status, and exactly which
// token reached the fake Hub (or that nothing did).
func TestAuthMatrix(t *testing.T) {
	key := auth.GenerateKey()
	keys, err := auth.ParseKeys([]string{key})
	if err != nil {
		t.Fatal(err)
	}
	const (
		loopback = "127.0.0.1:40000"
		remote   = "203.0.113.7:40000" // TEST-NET-3: only ever a string here
	)
	modes := map[string]auth.Options{
		"no keys":         {CallerTokens: true},
		"keys":            {Keys: keys, CallerTokens: true},
		"anonymous":       {CallerTokens: true, AllowAnonymous: true},
		"no caller token": {CallerTokens: false},
	}
	type cell struct {
		mode, credential, peer, route string
		readOnly                      bool
		status                        int
		hubGot                        string // "server", "bob", "bogus", or "" when the Hub was not called
	}
	// Every cell, its expectation from expect (the rules written plainly), which the spot checks below pin
	// to the issue's own words.
	var cells []cell
	for _, mode := range []string{"no keys", "keys", "anonymous", "no caller token"} {
		for _, credential := range []string{"none", "unknown key", "key", "caller token", "bogus token"} {
			for _, peer := range []string{loopback, remote} {
				for _, route := range []string{"read", "write"} {
					for _, readOnly := range []bool{false, true} {
						c := cell{mode: mode, credential: credential, peer: peer, route: route, readOnly: readOnly}
						c.status, c.hubGot = expect(c.mode, c.credential, c.peer == loopback, c.route, c.readOnly)
						cells = append(cells, c)
					}
				}
			}
		}
	}
	// Spot checks that the rules above are the ones the issue states.
	spot := map[[4]string][2]any{
		{"no keys", "none", "loopback", "write"}:                {201, "server"}, // the laptop case
		{"no keys", "none", "remote", "read"}:                   {401, ""},       // secure by default
		{"keys", "none", "loopback", "read"}:                    {401, ""},       // keys configured: loopback too
		{"keys", "key", "remote", "write"}:                      {201, "server"},
		{"keys", "unknown key", "loopback", "read"}:             {401, ""}, // never forwarded
		{"keys", "caller token", "remote", "write"}:             {201, "bob"},
		{"anonymous", "none", "remote", "read"}:                 {200, "server"},
		{"no caller token", "caller token", "loopback", "read"}: {401, ""},
		{"no keys", "bogus token", "remote", "read"}:            {401, "bogus"}, // the Hub judges it
	}
	for k, want := range spot {
		peer := map[string]bool{"loopback": true, "remote": false}[k[2]]
		status, hubGot := expect(k[0], k[1], peer, k[3], false)
		if status != want[0] || hubGot != want[1] {
			t.Errorf("rule for %v gives %d %q, want %v", k, status, hubGot, want)
		}
	}

	for i, c := range cells {
		name := fmt.Sprintf("%s/%s/%s/%s/readonly=%v", c.mode, c.credential, map[string]string{loopback: "loopback", remote: "remote"}[c.peer], c.route, c.readOnly)
		t.Run(name, func(t *testing.T) {
			fake := fakehub.New()
			fake.AddUser("alice")
			fake.AddUser("bob")
			serverToken := fake.IssueToken("alice", fakehub.RoleWrite)
			bobToken := fake.IssueToken("bob", fakehub.RoleWrite)
			hubServer := httptest.NewServer(fake)
			defer hubServer.Close()
			credentials := map[string]string{
				"none": "", "unknown key": auth.GenerateKey(), "key": key, "caller token": bobToken, "bogus token": "hf_bogusbogusbogusbogus",
			}
			opts := Options{Auth: modes[c.mode], Policy: policy.Policy{ReadOnly: c.readOnly}}
			h := startServer(t, fake, hubServer.URL, serverToken, setup{opts: opts, peer: c.peer,
				secrets: []string{key, bobToken, credentials["unknown key"]}})

			authorization := ""
			if cred := credentials[c.credential]; cred != "" {
				authorization = "Bearer " + cred
			}
			var r reply
			if c.route == "read" {
				r = h.send(t, "GET", "/api/account", "", authorization, "")
			} else {
				r = h.send(t, "POST", "/api/repo", "application/json", authorization, fmt.Sprintf(`{"name":"matrix-%d"}`, i))
			}
			if r.status != c.status {
				t.Errorf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if r.status >= 400 && r.json["error"] == "" {
				t.Errorf("error reply without a message: %s", r.body)
			}
			reqs := h.fake.Requests()
			tokenNames := map[string]string{"Bearer " + serverToken: "server", "Bearer " + bobToken: "bob", "Bearer hf_bogusbogusbogusbogus": "bogus"}
			switch {
			case c.hubGot == "" && len(reqs) != 0:
				t.Errorf("the Hub was called %d times (with %q)", len(reqs), tokenNames[reqs[0].Header.Get("Authorization")])
			case c.hubGot != "" && len(reqs) != 1:
				t.Errorf("the Hub got %d requests, want 1", len(reqs))
			case c.hubGot != "":
				if got := tokenNames[reqs[0].Header.Get("Authorization")]; got != c.hubGot {
					t.Errorf("the Hub received the %q token, want %q", got, c.hubGot)
				}
			}
		})
	}
	t.Logf("%d cells", len(cells))
}

// expect is the access rule of the issue, written plainly: which status a cell gets and which token the Hub
// sees.
func expect(mode, credential string, loopback bool, route string, readOnly bool) (int, string) {
	success := map[string]int{"read": 200, "write": 201}[route]
	useServer := func() (int, string) {
		if readOnly && route == "write" {
			return 403, ""
		}
		return success, "server"
	}
	switch credential {
	case "none":
		switch {
		case mode == "keys":
			return 401, ""
		case loopback || mode == "anonymous":
			return useServer()
		default:
			return 401, ""
		}
	case "unknown key":
		return 401, ""
	case "key":
		if mode == "keys" {
			return useServer()
		}
		return 401, "" // a key-shaped bearer that matches no configured key
	case "caller token", "bogus token":
		if mode == "no caller token" {
			return 401, ""
		}
		if credential == "bogus token" {
			return 401, "bogus"
		}
		return success, "bob"
	}
	panic("unknown credential " + credential)
}

func TestPolicy(t *testing.T) {
	cases := []struct {
		name   string
		policy policy.Policy
		method string
		body   string
		status int
		want   string
	}{
		{"namespace allowed", policy.Policy{AllowedNamespaces: []string{"ACME"}}, "POST", `{"name":"acme/ok"}`, 201, ""},
		{"namespace refused", policy.Policy{AllowedNamespaces: []string{"acme"}}, "POST", `{"name":"alice/no"}`, 403, "HF_MICRO_ALLOWED_NAMESPACES"},
		{"bare name with allow-list", policy.Policy{AllowedNamespaces: []string{"alice"}}, "POST", `{"name":"bare"}`, 403, "namespace/name"},
		{"organization field counts", policy.Policy{AllowedNamespaces: []string{"acme"}}, "POST", `{"name":"x","organization":"acme"}`, 201, ""},
		{"update refused", policy.Policy{AllowedNamespaces: []string{"acme"}}, "PUT", `{"name":"alice/existing","private":true}`, 403, "HF_MICRO_ALLOWED_NAMESPACES"},
		{"delete refused by allow-list", policy.Policy{AllowedNamespaces: []string{"acme"}}, "DELETE", `{"name":"alice/existing"}`, 403, "HF_MICRO_ALLOWED_NAMESPACES"},
		{"delete switched off", policy.Policy{DenyDelete: true}, "DELETE", `{"name":"alice/existing"}`, 403, "HF_MICRO_ALLOW_DELETE"},
		{"delete allowed", policy.Policy{}, "DELETE", `{"name":"alice/existing"}`, 200, ""},
		{"read-only refuses update", policy.Policy{ReadOnly: true}, "PUT", `{"name":"alice/existing","private":true}`, 403, "HF_MICRO_READ_ONLY"},
		{"read-only reads", policy.Policy{ReadOnly: true}, "GET", ``, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakehub.New()
			fake.AddUser("alice")
			fake.AddOrg("acme", map[string]string{"alice": "admin"})
			fake.AddRepo("model", "alice/existing", false)
			hubServer := httptest.NewServer(fake)
			defer hubServer.Close()
			h := startServer(t, fake, hubServer.URL, fake.IssueToken("alice", fakehub.RoleWrite),
				setup{opts: Options{Policy: tc.policy, Auth: auth.Options{CallerTokens: true}}})
			path := "/api/repo"
			if tc.method == "GET" {
				path += "?name=alice/existing"
			}
			r := h.json(t, tc.method, path, tc.body)
			if tc.status == 403 {
				checkError(t, r, 403, tc.want)
				if n := len(h.fake.Requests()); n != 0 {
					t.Errorf("a refused request reached the Hub %d times", n)
				}
			} else if r.status != tc.status {
				t.Errorf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			// A caller's own token is the Hub's to judge, not the policy's.
			if tc.status == 403 {
				fake.AddUser("bob")
				bob := fake.IssueToken("bob", fakehub.RoleWrite)
				r = h.send(t, tc.method, path, "application/json", "Bearer "+bob, tc.body)
				if msg, _ := r.json["error"].(string); strings.Contains(msg, "refused by policy") {
					t.Errorf("the policy judged a caller's own token: %s", r.body)
				}
			}
		})
	}
}

func TestAuditTrail(t *testing.T) {
	key := auth.GenerateKey()
	keys, _ := auth.ParseKeys([]string{key})
	fake := fakehub.New()
	fake.AddUser("alice")
	hubServer := httptest.NewServer(fake)
	defer hubServer.Close()
	h := startServer(t, fake, hubServer.URL, fake.IssueToken("alice", fakehub.RoleWrite),
		setup{opts: Options{Auth: auth.Options{Keys: keys, CallerTokens: true}, Policy: policy.Policy{DenyDelete: true}}, secrets: []string{key}})
	bearer := "Bearer " + key
	h.send(t, "POST", "/api/repo", "application/json", bearer, `{"type":"dataset","name":"alice/audited"}`)
	h.send(t, "PUT", "/api/repo", "application/json", bearer, `{"type":"dataset","name":"alice/audited","private":true}`)
	h.send(t, "DELETE", "/api/repo", "application/json", bearer, `{"type":"dataset","name":"alice/audited"}`)
	h.send(t, "GET", "/api/repo?type=dataset&name=alice/audited", "", bearer, "")
	h.send(t, "GET", "/api/account", "", bearer, "")
	h.send(t, "GET", "/healthz", "", "", "")
	h.send(t, "GET", "/api/account", "", "Bearer "+auth.GenerateKey(), "")

	keyID := "key:" + keyIDOf(t, keys, key)
	h.logLines(t, 5, `"msg":"request"`) // every request is logged, so the audit lines are there too
	audit := h.logLines(t, 3, `"msg":"audit"`)
	want := []string{
		`"caller":"` + keyID + `","action":"create","repo":"alice/audited","type":"dataset","status":201,"upstream_status":200`,
		`"caller":"` + keyID + `","action":"update","repo":"alice/audited","type":"dataset","status":200,"upstream_status":200`,
		`"caller":"` + keyID + `","action":"delete","repo":"alice/audited","type":"dataset","status":403,"upstream_status":0`,
	}
	if len(audit) != len(want) {
		t.Fatalf("want %d audit lines (reads are not audited), got %d:\n%s", len(want), len(audit), strings.Join(audit, "\n"))
	}
	for i := range want {
		if !strings.Contains(audit[i], want[i]) || !strings.Contains(audit[i], `"request_id":"`) {
			t.Errorf("audit line %d = %s\nwant it to contain %s", i, audit[i], want[i])
		}
	}
}

func keyIDOf(t *testing.T, keys *auth.Keys, key string) string {
	t.Helper()
	id, ok := keys.Match(key)
	if !ok {
		t.Fatal("key does not match")
	}
	return id
}
