package server

import (
	"strings"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/fakehub"
)

// TestBogusCallerToken: a 401 from the Hub for a caller's own token says the Hub refused the caller's token,
// not the server's, on every route and with the account cache on or off.
func TestBogusCallerToken(t *testing.T) {
	for _, ttl := range []string{"cache off", "cache on"} {
		t.Run(ttl, func(t *testing.T) {
			fake, endpoint := newFakeHub(t)
			opts := Options{Auth: auth.Options{CallerTokens: true}}
			if ttl == "cache on" {
				opts.AccountCacheTTL = time.Minute
			}
			h := startServer(t, fake, endpoint, fake.IssueToken("alice", fakehub.RoleWrite), setup{opts: opts})
			const bogus = "Bearer hf_bogus"
			for _, r := range []reply{
				h.send(t, "GET", "/api/account", "", bogus, ""),
				h.send(t, "GET", "/api/repo?name=alice/x", "", bogus, ""),
				h.send(t, "POST", "/api/repo", "application/json", bogus, `{"name":"alice/x"}`),
				h.send(t, "PUT", "/api/repo", "application/json", bogus, `{"name":"alice/x","private":true}`),
				h.send(t, "DELETE", "/api/repo", "application/json", bogus, `{"name":"alice/x"}`),
			} {
				checkError(t, r, 401, "the Hub refused your token")
				if msg, _ := r.json["error"].(string); strings.Contains(msg, "HF_TOKEN") {
					t.Errorf("a refused caller's token blames the server's: %q", msg)
				}
			}
		})
	}
}
