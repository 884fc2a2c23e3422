package auth

import (
	"net/http"
	"strings"
	"testing"
)

func TestGenerateKey(t *testing.T) {
	a, b := GenerateKey(), GenerateKey()
	if a == b || !strings.HasPrefix(a, "hf_micro_") || len(a) < minKeyLength {
		t.Errorf("keys %q %q", a, b)
	}
	if _, err := ParseKeys([]string{a}); err != nil {
		t.Errorf("a generated key is refused: %v", err)
	}
}

func TestParseKeys(t *testing.T) {
	k, err := ParseKeys([]string{"", " " + GenerateKey() + " ", GenerateKey()})
	if err != nil || k.Len() != 2 {
		t.Fatalf("ParseKeys: %d keys, %v", k.Len(), err)
	}
	for _, bad := range []string{"tiny123", "hf_micro_has space inside it!", "hf_micro_control\x01characters_here"} {
		if _, err := ParseKeys([]string{bad}); err == nil {
			t.Errorf("accepted %q", bad)
		} else if strings.Contains(err.Error(), bad) {
			t.Errorf("the error quotes the key: %v", err)
		}
	}
}

func TestMatch(t *testing.T) {
	key1, key2 := GenerateKey(), GenerateKey()
	k, _ := ParseKeys([]string{key1, key2})
	id1, ok1 := k.Match(key1)
	id2, ok2 := k.Match(key2)
	if !ok1 || !ok2 || id1 == id2 || len(id1) != 8 {
		t.Errorf("ids %q %q", id1, id2)
	}
	if strings.Contains(key1, id1) {
		t.Error("the id is part of the key")
	}
	for _, wrong := range []string{"", key1[:len(key1)-1], key1 + "x", strings.ToUpper(key1), GenerateKey()} {
		if _, ok := k.Match(wrong); ok {
			t.Errorf("matched %q", wrong)
		}
	}
	var none *Keys
	if _, ok := none.Match(key1); ok || none.Len() != 0 {
		t.Error("no keys matched something")
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:1": true, "127.8.9.10:1": true, "[::1]:1": true, "[::ffff:127.0.0.1]:1": true,
		"10.0.0.1:1": false, "192.168.1.1:1": false, "203.0.113.7:1": false, "[::]:1": false, "0.0.0.0:1": false,
		"[fe80::1]:1": false, "localhost:1": false, "127.0.0.1": false, "": false, "@": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v", addr, got)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	key := GenerateKey()
	keys, _ := ParseKeys([]string{key})
	request := func(remote string, authorization ...string) *http.Request {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		for _, a := range authorization {
			r.Header.Add("Authorization", a)
		}
		r.Header.Set("X-Forwarded-For", "127.0.0.1")
		r.Header.Set("X-Real-Ip", "127.0.0.1")
		return r
	}
	const local, remote = "127.0.0.1:5", "198.51.100.1:5"
	cases := []struct {
		name     string
		opts     Options
		req      *http.Request
		want     Kind
		wantErr  string
		wantText string // what the caller's String() must be
	}{
		{"loopback, no keys", Options{}, request(local), Loopback, "", "loopback"},
		{"remote, no keys: X-Forwarded-For is ignored", Options{}, request(remote), "", "HF_MICRO_API_KEYS", ""},
		{"remote, anonymous allowed", Options{AllowAnonymous: true}, request(remote), Anonymous, "", "anonymous"},
		{"keys configured: loopback needs one too", Options{Keys: keys}, request(local), "", "client key is required", ""},
		{"keys configured: anonymous opt-out does not apply", Options{Keys: keys, AllowAnonymous: true}, request(remote), "", "client key is required", ""},
		{"right key", Options{Keys: keys}, request(remote, "Bearer "+key), ClientKey, "", "key:"},
		{"scheme is case-insensitive", Options{Keys: keys}, request(remote, "bearer "+key), ClientKey, "", "key:"},
		{"unknown key never forwarded", Options{Keys: keys, CallerTokens: true}, request(local, "Bearer "+GenerateKey()), "", "unknown client key", ""},
		{"caller token", Options{CallerTokens: true}, request(remote, "Bearer hf_callerstoken"), CallerToken, "", "caller-token"},
		{"caller tokens off", Options{}, request(local, "Bearer hf_callerstoken"), "", "HF_MICRO_CALLER_TOKENS", ""},
		{"Bearer undefined is no credential", Options{}, request(local, "Bearer undefined"), Loopback, "", "loopback"},
		{"basic auth refused", Options{CallerTokens: true}, request(local, "Basic dXNlcjpwdw=="), "", "Bearer", ""},
		{"two headers refused", Options{CallerTokens: true}, request(local, "Bearer hf_a", "Bearer hf_b"), "", "one Authorization", ""},
		{"odd characters refused", Options{CallerTokens: true}, request(local, "Bearer hf_a\tb"), "", "spaces", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			caller, err := New(tc.opts).Authenticate(tc.req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || caller.Kind != tc.want || !strings.HasPrefix(caller.String(), tc.wantText) {
				t.Errorf("caller = %+v (%s), %v", caller, caller, err)
			}
			if caller.Kind == CallerToken && (caller.UsesServerToken() || caller.Token.IsZero()) {
				t.Error("a caller token would use the server's token")
			}
			if strings.Contains(caller.String(), key) || strings.Contains(caller.String(), "hf_callerstoken") {
				t.Errorf("String() leaks: %s", caller)
			}
		})
	}
}
