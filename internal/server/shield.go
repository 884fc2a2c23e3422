package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/hubroute"
)

// shieldTransport is the one place that sees every Hub answer, the simple API's and the drop-in's: a 429
// raises the shield for that credential and bucket until the reset the Hub gave (budget.ShieldReset), and
// the Hub's RateLimit is weighed against the request's budget for the reply.
type shieldTransport struct {
	base  http.RoundTripper
	store budget.Store
}

func (t shieldTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	note := noteFrom(req.Context())
	if resp.StatusCode == http.StatusTooManyRequests {
		bucket := hubroute.API // a Hub call made apart from a request: the account cache's whoami-v2
		if note != nil && note.bucket != "" {
			bucket = note.bucket
		}
		// Raised even if the caller has gone away: the Hub's no holds for everyone.
		t.store.Shield(context.WithoutCancel(req.Context()), requestShieldKey(req), bucket, budget.ShieldReset(resp.Header, time.Now()))
	}
	if note != nil {
		note.passRateLimit(resp.Header)
	}
	return resp, nil
}

// requestShieldKey names the credential a Hub request carries, as shieldKey does: the digest of its token.
func requestShieldKey(req *http.Request) string {
	token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return anonymousKey
	}
	return budget.CredentialKey(token)
}
